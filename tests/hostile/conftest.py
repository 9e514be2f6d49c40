"""Fixtures of the hostile-input tests: the providers' webhook fixtures of tests/test_hooks.py."""

from tests.test_hooks import connect, public_app  # noqa: F401
