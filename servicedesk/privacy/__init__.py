"""Privacy: personal data pseudonymised on arrival, and the keys it is pseudonymised with.

The lowest feature layer: ingest, the GDPR operations and the provider adapters' storage import
it; it imports no feature above it (docs/architecture.md). ``pseudonyms`` turns a number or
address into its stored stand-in; ``keys`` moves rows to a new key during a rotation and counts
what each key still holds (docs/privacy.md).
"""

from servicedesk.privacy.pseudonyms import (
    CALLING_CODES,
    key_id,
    keyed_digest,
    normalise_caller,
    pseudonymise,
)

__all__ = ["CALLING_CODES", "key_id", "keyed_digest", "normalise_caller", "pseudonymise"]
