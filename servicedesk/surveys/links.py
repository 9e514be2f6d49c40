"""The survey link: signed (itsdangerous), expiring, and single-use by the invitation's state.

The token names the invitation and its random nonce and carries the time it was made; the
signature uses the app's secret key. Nothing in it is personal.
"""

from __future__ import annotations

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from servicedesk.surveys.rules import LINK_DAYS

SALT = "servicedesk.survey-link.v1"
#: Delivery reports are signed with a salt of their own, and accepted for longer.
STATUS_SALT = "servicedesk.survey-status.v1"
STATUS_DAYS = 14


class LinkError(Exception):
    """The link is forged, damaged or too old; ``expired`` tells the last apart."""

    def __init__(self, expired: bool) -> None:
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


def _serializer(secret_key: str | bytes, salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=salt)


def make_token(secret_key: str | bytes, invitation_id: int, nonce: str, salt: str = SALT) -> str:
    return _serializer(secret_key, salt).dumps([invitation_id, nonce])


def read_token(
    secret_key: str | bytes, token: str, *, salt: str = SALT, max_days: int = LINK_DAYS
) -> tuple[int, str]:
    """(invitation id, nonce) of a valid token; LinkError otherwise."""
    if len(token) > 300:
        raise LinkError(expired=False)
    try:
        value = _serializer(secret_key, salt).loads(token, max_age=max_days * 86_400)
    except SignatureExpired:
        raise LinkError(expired=True) from None
    except BadSignature:
        raise LinkError(expired=False) from None
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not isinstance(value[0], int)
        or not isinstance(value[1], str)
    ):
        raise LinkError(expired=False)
    return value[0], value[1]
