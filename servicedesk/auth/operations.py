"""Domain actions on users; they flush, the caller commits."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, col

from servicedesk.auth.models import ROLES, User, UserQueue
from servicedesk.orgs.models import Organisation, Queue

#: argon2id with the library's defaults (RFC 9106 "low memory" profile).
_hasher = PasswordHasher()
#: Verified against when the e-mail is unknown, so both failures take the same time.
_DUMMY_HASH = _hasher.hash("servicedesk-no-such-user")
MIN_PASSWORD = 12
LOCALES = ("sv", "nb", "en")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class UserError(ValueError):
    """Input that cannot make a valid user; the message names the field."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def validate_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"password: at least {MIN_PASSWORD} characters")
    if len(password) > 1024:
        raise UserError("password: at most 1024 characters")
    return password


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    if not _EMAIL_RE.match(email) or len(email) > 254:
        raise UserError("email: not an e-mail address")
    return email


def create_user(
    session: Session,
    org: Organisation,
    *,
    email: str,
    password: str,
    role: str,
    queue_names: Iterable[str] = (),
    locale: str | None = None,
) -> User:
    """A new user; refuses a taken address, an unknown role or a short password."""
    email = normalise_email(email)
    if role not in ROLES:
        raise UserError(f"role: must be one of {', '.join(ROLES)}")
    if locale is not None and locale not in LOCALES:
        raise UserError(f"locale: must be one of {', '.join(LOCALES)}")
    validate_password(password)
    if session.scalars(sa.select(col(User.id)).where(col(User.email) == email)).first() is not None:
        raise UserError(f"email: a user {email!r} exists already")
    user = User(
        organisation_id=org.id,
        email=email,
        password_hash=hash_password(password),
        role=role,
        locale=locale,
        session_token=secrets.token_hex(16),
    )
    session.add(user)
    session.flush()
    names = [n for n in queue_names if n.strip()]
    if names:
        set_user_queues(session, user, queue_ids_by_name(session, org, names))
    return user


def queue_ids_by_name(session: Session, org: Organisation, names: Iterable[str]) -> list[int]:
    """The ids of the organisation's queues with these names; an unknown name is an error."""
    wanted = [n.strip() for n in names]
    rows = dict(
        session.execute(
            sa.select(col(Queue.name), col(Queue.id)).where(
                col(Queue.organisation_id) == org.id, col(Queue.name).in_(wanted)
            )
        ).all()
    )
    missing = [n for n in wanted if n not in rows]
    if missing:
        raise UserError(f"queue: no queue {missing[0]!r} in {org.slug}")
    return [rows[n] for n in wanted]


def set_user_queues(session: Session, user: User, queue_ids: Iterable[int]) -> None:
    """Limit a team leader to these queues (none: every queue of the organisation)."""
    ids = set(queue_ids)
    if ids and user.role != "team_leader":
        raise UserError("queues: only a team leader can be limited to queues")
    own = set(
        session.scalars(
            sa.select(col(Queue.id)).where(
                col(Queue.organisation_id) == user.organisation_id, col(Queue.id).in_(ids)
            )
        )
    )
    if own != ids:
        raise UserError("queues: not a queue of the user's organisation")
    session.execute(sa.delete(UserQueue).where(col(UserQueue.user_id) == user.id))
    for queue_id in sorted(ids):
        session.add(UserQueue(user_id=user.id, queue_id=queue_id))
    session.flush()


def user_queue_ids(session: Session, user: User) -> list[int] | None:
    """The queues a user is limited to, or None when they see every queue."""
    if user.role != "team_leader":
        return None
    ids = list(
        session.scalars(
            sa.select(col(UserQueue.queue_id))
            .where(col(UserQueue.user_id) == user.id)
            .order_by(col(UserQueue.queue_id))
        )
    )
    return ids or None


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this address and password, or None (in the same time either way)."""
    try:
        email = normalise_email(email)
    except UserError:
        email = ""
    user = (
        session.scalars(sa.select(User).where(col(User.email) == email, col(User.active))).first()
        if email
        else None
    )
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        session.flush()
    return user


def end_sessions(session: Session, user: User) -> None:
    """End every session of the user at once (the token is part of each session's identity)."""
    user.session_token = secrets.token_hex(16)
    session.flush()


def set_password(session: Session, user: User, password: str) -> None:
    """A new password; every session of the user ends."""
    user.password_hash = hash_password(validate_password(password))
    end_sessions(session, user)


def set_active(session: Session, user: User, active: bool) -> None:
    """Switch a user on or off; switching off ends every session of the user."""
    user.active = active
    if not active:
        end_sessions(session, user)
    session.flush()


def set_role(session: Session, user: User, role: str) -> None:
    if role not in ROLES:
        raise UserError(f"role: must be one of {', '.join(ROLES)}")
    user.role = role
    if role != "team_leader":
        session.execute(sa.delete(UserQueue).where(col(UserQueue.user_id) == user.id))
    session.flush()


def org_users(session: Session, org: Organisation) -> list[User]:
    return list(
        session.scalars(
            sa.select(User).where(col(User.organisation_id) == org.id).order_by(col(User.email))
        )
    )


def user_details(user: User) -> dict[str, object]:
    """What the audit log keeps of a new account (never the password or its hash)."""
    return {"user_id": user.id, "email": user.email, "role": user.role}
