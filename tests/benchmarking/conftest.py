from tests.web.conftest import make_user  # noqa: F401  (the web tests' fixture)
