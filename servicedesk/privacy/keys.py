"""Pseudonym key rotation: rows move to the current key when their person shows up again.

A keyed hash cannot be re-keyed without the number it hides, so a rotation is lazy: ingest moves a
returning caller's older rows to the current key on arrival (``rekey_callers``), and the rows of
people who never return age out through retention. ``key_usage`` tells when a previous key has no
rows left and can be retired (docs/privacy.md, "Rotating the pseudonymisation key").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import sqlalchemy as sa
from sqlmodel import Session, col

from servicedesk.contacts.models import Contact
from servicedesk.db import table_of
from servicedesk.ingest.models import Event
from servicedesk.orgs.models import Organisation
from servicedesk.privacy.pseudonyms import pseudonymise
from servicedesk.surveys.models import SurveyInvitation, SurveyOptOut


def rekey_callers(
    session: Session,
    org: Organisation,
    callers: Iterable[str],
    key: bytes,
    previous_keys: Sequence[bytes],
) -> int:
    """Move returning callers' older rows to the current key; returns the rows changed."""
    if not previous_keys:
        return 0
    params = [
        {"org": org.id, "old": pseudonymise(caller, old, org.country), "new": new}
        for caller in set(callers)
        for new in [pseudonymise(caller, key, org.country)]
        for old in previous_keys
    ]
    if not params:
        return 0
    changed = 0
    tables = (table_of(Event), table_of(Contact), table_of(SurveyInvitation))
    for table in tables:
        statement = (
            sa.update(table)
            .where(table.c.organisation_id == sa.bindparam("org"))
            .where(table.c.caller_hash == sa.bindparam("old"))
            .values(caller_hash=sa.bindparam("new"))
        )
        result = session.connection().execute(statement, params)
        changed += int(result.rowcount or 0)
    # An opt-out follows its person to the new key (unless one under the new key exists).
    out = table_of(SurveyOptOut)
    twin = out.alias("twin")
    session.connection().execute(
        sa.update(out)
        .where(out.c.organisation_id == sa.bindparam("org"))
        .where(out.c.caller_hash == sa.bindparam("old"))
        .where(
            ~sa.exists().where(
                twin.c.organisation_id == out.c.organisation_id,
                twin.c.caller_hash == sa.bindparam("new"),
            )
        )
        .values(caller_hash=sa.bindparam("new")),
        params,
    )
    return changed


def key_usage(session: Session, org: Organisation | None = None) -> Mapping[str, int]:
    """How many events and contacts each pseudonymisation key id still has."""
    usage: dict[str, int] = {}
    for column, org_column in (
        (col(Event.caller_hash), col(Event.organisation_id)),
        (col(Contact.caller_hash), col(Contact.organisation_id)),
    ):
        prefix = sa.func.substr(column, 1, 6)
        query = sa.select(prefix, sa.func.count()).where(column.is_not(None)).group_by(prefix)
        if org is not None:
            query = query.where(org_column == org.id)
        for kid, count in session.execute(query):
            usage[kid] = usage.get(kid, 0) + int(count)
    return usage
