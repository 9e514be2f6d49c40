"""Device cookies (OWASP): a browser that signed in to an account before says so when it
signs in again, so the limits that stop guessing from strangers do not lock its owner out.

The cookie is signed with the secret key and names the account (lower-cased e-mail) and a
random id of the device; it grants nothing but a rate limit of its own, never a session.
"""

from __future__ import annotations

import secrets

from flask import current_app, g, request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.wrappers import Response

#: How long a browser is remembered as one that signed in before.
DEVICE_DAYS = 180
_SALT = "servicedesk-device-cookie"


def cookie_name() -> str:
    return (
        "__Host-servicedesk-device"
        if current_app.config.get("SESSION_COOKIE_SECURE")
        else ("servicedesk-device")
    )


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def vouched() -> tuple[str, str] | None:
    """(account e-mail, device id) this browser's valid device cookie names, or None."""
    if "device_vouched" not in g:
        value = request.cookies.get(cookie_name())
        found = None
        if value:
            try:
                data = _serializer().loads(value, max_age=DEVICE_DAYS * 86_400)
                found = (str(data["e"]), str(data["d"]))
            except (BadSignature, KeyError, TypeError):
                found = None
        g.device_vouched = found
    vouched: tuple[str, str] | None = g.device_vouched
    return vouched


def remember(response: Response, email: str) -> None:
    """Mark this browser as one that signed in to ``email``."""
    value = _serializer().dumps({"e": email.strip().lower(), "d": secrets.token_urlsafe(12)})
    response.set_cookie(
        cookie_name(),
        value,
        max_age=DEVICE_DAYS * 86_400,
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        httponly=True,
        samesite="Lax",
        path="/",
    )
