"""Sign-in limits: shared by every worker, keyed on the client behind the trusted proxies, and
an attack on one account locks out neither its owner nor everyone behind the same address."""

from __future__ import annotations

import pytest

from servicedesk import create_app
from tests.conftest import PSEUDONYM_KEY
from tests.web.conftest import login

WRONG = "wrong password!!"


def _client(app, address: str, forwarded: str | None = None):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    if forwarded:
        client.environ_base["HTTP_X_FORWARDED_FOR"] = forwarded
    return client


@pytest.fixture
def workers(database_url):
    """Two processes' apps on one database, without Redis, behind one trusted proxy."""
    config = {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "PSEUDONYM_KEY": PSEUDONYM_KEY,
        "SECRET_KEY": "test-secret-key-0123456789",
        "LOGIN_RATE_LIMIT": "3 per minute",
        "TRUSTED_PROXIES": 1,
    }
    apps = [create_app(dict(config)), create_app(dict(config))]
    yield apps
    for app in apps:
        app.extensions["servicedesk.engine"].dispose()


def test_limits_are_shared_between_workers_without_redis(workers, org, make_user):
    user = make_user(org)
    assert workers[0].config["RATELIMIT_STORAGE_URI"] == "servicedesk+sql://"
    proxy = "127.0.0.1"
    for n in range(3):
        client = _client(workers[n % 2], proxy, "198.51.100.20")
        assert login(client, user.email, WRONG).status_code == 401
    assert login(_client(workers[1], proxy, "198.51.100.20"), user.email, WRONG).status_code == 429


def test_the_client_is_the_address_the_trusted_proxy_saw(workers, org, make_user):
    user = make_user(org)
    proxy = "127.0.0.1"
    for _ in range(3):
        attacker = _client(workers[0], proxy, "198.51.100.66")
        assert login(attacker, user.email, WRONG).status_code == 401
    assert login(_client(workers[0], proxy, "198.51.100.66"), user.email).status_code == 429
    # A forged X-Forwarded-For in front of the proxy's own entry changes nothing.
    spoofed = _client(workers[0], proxy, "203.0.113.1, 198.51.100.66")
    assert login(spoofed, user.email, WRONG).status_code == 429
    # The owner, elsewhere, signs in although the account is under attack.
    assert login(_client(workers[1], proxy, "192.0.2.44"), user.email).status_code == 303


def test_an_attack_on_one_account_does_not_lock_out_the_same_address(workers, org, make_user):
    victim, colleague = make_user(org), make_user(org)
    office = "198.51.100.77"  # everyone behind one municipal NAT address
    for _ in range(3):
        assert (
            login(_client(workers[0], "127.0.0.1", office), victim.email, WRONG).status_code == 401
        )
    assert login(_client(workers[0], "127.0.0.1", office), victim.email).status_code == 429
    colleague_client = _client(workers[1], "127.0.0.1", office)
    assert login(colleague_client, colleague.email).status_code == 303


def test_the_owners_browser_signs_in_during_an_attack_on_its_account(workers, org, make_user):
    user = make_user(org)
    office = "198.51.100.88"
    owner = _client(workers[0], "127.0.0.1", office)
    assert login(owner, user.email).status_code == 303  # signed in here before
    device = owner.get_cookie("servicedesk-device").value
    owner = _client(workers[0], "127.0.0.1", office)  # signed out: only the device cookie left
    owner.set_cookie("servicedesk-device", device)
    for n in range(3):
        attacker = _client(workers[1], "127.0.0.1", office)
        assert login(attacker, user.email, WRONG).status_code == 401, n
    assert login(_client(workers[1], "127.0.0.1", office), user.email).status_code == 429
    assert login(owner, user.email).status_code == 303, "the owner's browser is not locked out"
