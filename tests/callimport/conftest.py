"""The signed-in page fixtures of tests/web, for the Settings → Call lists tests."""

from tests.web.conftest import cheap_hashes, make_user, signed_in  # noqa: F401
