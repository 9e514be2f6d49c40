"""The two keys the service needs, from the environment or, outside production, the instance folder.

Outside production a random key is made once and kept in ``instance/secrets.json``, so a restart
keeps sessions and (more important) pseudonyms stable. Production refuses to start without both
keys set in the environment.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from servicedesk.settings import Settings

_PLACEHOLDERS = {"", "dev", "change-me", "changeme", "secret"}


@dataclass(frozen=True)
class InstanceSecrets:
    secret_key: str | None
    pseudonym_key: str | None


def _real(value: str) -> bool:
    return value.strip().lower() not in _PLACEHOLDERS and len(value) >= 16


class MissingSecrets(RuntimeError):
    """Production was asked to run without its keys."""


MISSING_MESSAGE = (
    "SERVICEDESK_SECRET_KEY and SERVICEDESK_PSEUDONYM_KEY must each be set to a random value of "
    "at least 16 characters in production (or set SERVICEDESK_ENV=development)"
)


def instance_secrets(
    settings: Settings, instance_path: str, *, required: bool = True
) -> InstanceSecrets:
    """The keys; in production without them, refuse (or, for admin commands, leave them unset)."""
    secret = settings.servicedesk_secret_key
    pseudonym = settings.servicedesk_pseudonym_key
    if _real(secret) and _real(pseudonym):
        return InstanceSecrets(secret, pseudonym)
    if settings.is_production:
        if required:
            raise MissingSecrets(MISSING_MESSAGE)
        return InstanceSecrets(None, None)
    if settings.servicedesk_env == "test":
        return InstanceSecrets(
            secret if _real(secret) else secrets.token_urlsafe(32),
            pseudonym if _real(pseudonym) else "test-pseudonym-key-not-secret",
        )
    path = Path(instance_path) / "secrets.json"
    stored: dict[str, str] = {}
    if path.exists():
        stored = json.loads(path.read_text())
    changed = False
    for name in ("secret_key", "pseudonym_key"):
        if not _real(stored.get(name, "")):
            stored[name] = secrets.token_urlsafe(32)
            changed = True
    if changed:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(stored, fh)
    return InstanceSecrets(
        secret if _real(secret) else stored["secret_key"],
        pseudonym if _real(pseudonym) else stored["pseudonym_key"],
    )


def require_keys() -> None:
    """Stop a command that needs the secret and pseudonymisation keys when they are not set."""
    import click
    from flask import current_app

    if not current_app.config.get("SECRET_KEY") or not current_app.config.get("PSEUDONYM_KEY"):
        raise click.ClickException(MISSING_MESSAGE)
