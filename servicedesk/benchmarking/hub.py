"""The hub's side: registered members, their participants, and the messages they publish
(domain functions: they flush, never commit).

A member is another installation; it publishes only for the participants registered to it
(``add_participant``), so it cannot publish another member's figures. Every version it
publishes is kept; the comparison reads the newest version of each month, so a late version
replaces an earlier one there while the history keeps both. A message is refused, with the
field at fault, when its figures do not follow from their own counts, when its definitions are
not the hub's, or when it says something different about a version the hub already has.
"""

from __future__ import annotations

import base64
import re
import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from servicedesk.benchmarking.figures import InconsistentFigure, check_counts
from servicedesk.benchmarking.models import (
    BenchmarkMember,
    BenchmarkParticipant,
    BenchmarkPublication,
)
from servicedesk.benchmarking.sharing import GROUP_MAX, next_alias
from servicedesk.db import advisory_lock
from servicedesk.metrics.definitions import DEFINITIONS_VERSION
from servicedesk.metrics.periods import Month
from servicedesk.sealing import seal, unseal
from servicedesk.timeutil import utcnow

#: Members' signing secrets get a sealing key of their own.
SEALING_PURPOSE = b"servicedesk benchmarking v1"
PUBLISHED, WITHDRAWN = "benchmark.published", "benchmark.withdrawn"
ALREADY_RECEIVED = "already_received"
_KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class HubError(ValueError):
    """A registration that cannot be made; the message names the option."""


class Refused(Exception):
    """A message the hub does not keep: the HTTP status, a title and the field at fault."""

    def __init__(self, status: int, title: str, detail: str, field: str, code: str = "") -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.field, self.code = (
            status,
            title,
            detail,
            field,
            code,
        )


@dataclass(frozen=True, slots=True)
class Received:
    kind: str
    participant: str
    #: The publication kept (None for a withdrawal).
    publication: BenchmarkPublication | None = None
    #: The version it replaces in the comparison, if any.
    replaces: int | None = None


def register_member(
    session: Session, key: str, name: str, *, secret_key: str | bytes
) -> tuple[BenchmarkMember, str]:
    """A new member and its ``whsec_`` signing secret (shown once, given to the member)."""
    if not _KEY.match(key):
        raise HubError("--key: lower-case letters, digits and hyphens, at most 63")
    if session.scalars(sa.select(BenchmarkMember).where(col(BenchmarkMember.key) == key)).first():
        raise HubError(f"--key: a member {key} exists")
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    member = BenchmarkMember(
        key=key, name=name.strip() or key, secret_sealed=seal(secret, secret_key, SEALING_PURPOSE)
    )
    session.add(member)
    session.flush()
    return member, secret


def member_secret(member: BenchmarkMember, secret_key: str | bytes) -> str:
    return unseal(member.secret_sealed, secret_key, SEALING_PURPOSE)


def find_member(session: Session, key: str) -> BenchmarkMember | None:
    """A member that may publish (not revoked)."""
    return session.scalars(
        sa.select(BenchmarkMember).where(
            col(BenchmarkMember.key) == key, col(BenchmarkMember.revoked_at).is_(None)
        )
    ).first()


def participant_code(member: BenchmarkMember, code: str) -> str:
    """A member's participant's code on the hub: its own code under the member's key, so no
    two members' codes (nor the hub's own organisations' slugs) can meet."""
    return f"{member.key}/{code}"


def add_participant(
    session: Session, member: BenchmarkMember, code: str, *, group: str = ""
) -> BenchmarkParticipant:
    """Allow the member to publish for ``code`` (the organisation's slug on its installation)."""
    advisory_lock(session, "benchmark:participants")
    if not _KEY.match(code):
        raise HubError("--participant: lower-case letters, digits and hyphens, at most 63")
    if len(group) > GROUP_MAX:
        raise HubError(f"--group: at most {GROUP_MAX} characters")
    full = participant_code(member, code)
    exists = session.scalars(
        sa.select(BenchmarkParticipant).where(col(BenchmarkParticipant.code) == full)
    ).first()
    if exists is not None:
        raise HubError(f"--participant: {code} is registered for {member.key} already")
    row = BenchmarkParticipant(
        code=full, member_id=member.id, alias=next_alias(session), name=code, group=group
    )
    session.add(row)
    session.flush()
    return row


# ---------------------------------------------------------------------------------------------
# receiving


def _invalid(field: str, detail: str) -> Refused:
    return Refused(422, "Invalid publication", detail, field)


def _text(
    data: dict[str, Any], name: str, limit: int, *, required: bool = True, where: str = "data"
) -> str:
    """Text a sender wrote: shown to people later, so no control characters (and no NUL, which
    PostgreSQL cannot store)."""
    value = data.get(name, "" if not required else None)
    if (
        not isinstance(value, str)
        or (required and not value.strip())
        or len(value) > limit
        or _CONTROL.search(value)
    ):
        raise _invalid(
            f"{where}.{name}", f"expected text of at most {limit} characters, no control characters"
        )
    return value.strip()


def _participant(
    session: Session, member: BenchmarkMember, data: dict[str, Any]
) -> BenchmarkParticipant:
    code = data.get("participant")
    if not isinstance(code, str) or not _KEY.match(code):
        raise _invalid("data.participant", "expected the participant's code")
    row = session.scalars(
        sa.select(BenchmarkParticipant).where(
            col(BenchmarkParticipant.code) == participant_code(member, code),
            col(BenchmarkParticipant.member_id) == member.id,
        )
    ).first()
    if row is None:
        raise Refused(
            403,
            "Forbidden",
            f"{code} is not one of the participants registered for member {member.key}",
            "data.participant",
        )
    return row


def receive(session: Session, member: BenchmarkMember, message_id: str, message: Any) -> Received:
    """Keep a verified message (the signature is checked before); Refused says why not."""
    if not isinstance(message, dict):
        raise _invalid("", "expected a JSON object")
    kind = message.get("type")
    data = message.get("data")
    if kind not in (PUBLISHED, WITHDRAWN):
        raise _invalid("type", f"expected {PUBLISHED} or {WITHDRAWN}")
    if not isinstance(data, dict):
        raise _invalid("data", "expected an object")
    replayed = session.scalars(
        sa.select(col(BenchmarkPublication.id)).where(
            col(BenchmarkPublication.member_id) == member.id,
            col(BenchmarkPublication.message_id) == message_id,
        )
    ).first()
    if replayed is not None:
        raise Refused(
            409,
            "Conflict",
            f"message {message_id} was received already",
            "webhook-id",
            ALREADY_RECEIVED,
        )
    participant = _participant(session, member, data)
    # One message of a participant at a time: versions are compared with what is kept.
    advisory_lock(session, f"benchmark:participant:{participant.id}")
    if kind == WITHDRAWN:
        participant.sharing = False
        participant.withdrawn_at = participant.updated_at = utcnow()
        session.flush()
        return Received(kind, participant.code)
    return _publication(session, member, participant, message_id, data)


def _publication(
    session: Session,
    member: BenchmarkMember,
    participant: BenchmarkParticipant,
    message_id: str,
    data: dict[str, Any],
) -> Received:
    month_text = data.get("month")
    try:
        month = Month.parse(month_text) if isinstance(month_text, str) else None
    except ValueError:
        month = None
    if month is None:
        raise _invalid("data.month", "expected YYYY-MM")
    report = data.get("report")
    if not isinstance(report, dict):
        raise _invalid("data.report", "expected the report's version, sha256 and definitions")
    version = report.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version < 10**9:
        raise _invalid("data.report.version", "expected a version number")
    sha = report.get("sha256")
    if not isinstance(sha, str) or not _SHA256.match(sha):
        raise _invalid("data.report.sha256", "expected 64 lower-case hex digits")
    if report.get("definitions_version") != DEFINITIONS_VERSION:
        raise _invalid(
            "data.report.definitions_version",
            f"this hub compares figures of {DEFINITIONS_VERSION} only",
        )
    generated_at = _text(report, "generated_at", 32, where="data.report")
    figures = data.get("figures")
    if not isinstance(figures, dict) or not figures:
        raise _invalid("data.figures", "expected at least one figure")
    try:
        check_counts(figures)
    except InconsistentFigure as exc:
        field = str(exc).split(":", 1)[0]
        raise _invalid(f"data.figures.{field}", str(exc)) from None
    name = _text(data, "name", 200)
    group = _text(data, "group", GROUP_MAX, required=False)
    country = _text(data, "country", 2, required=False)
    anonymous = data.get("anonymous", False)
    if not isinstance(anonymous, bool):
        raise _invalid("data.anonymous", "expected true or false")

    versions = {
        row.report_version: row
        for row in session.scalars(
            sa.select(BenchmarkPublication).where(
                col(BenchmarkPublication.participant_id) == participant.id,
                col(BenchmarkPublication.month) == str(month),
            )
        )
    }
    same = versions.get(version)
    if same is not None and (same.report_sha256 != sha or same.figures != figures):
        raise Refused(
            409,
            "Conflict",
            f"version {version} of {participant.code} {month} was published with other figures",
            "data.report.sha256",
        )
    participant.name, participant.group, participant.country = name, group, country
    participant.anonymous = anonymous
    participant.figures = sorted(figures)
    participant.sharing, participant.withdrawn_at = True, None
    participant.updated_at = utcnow()
    if same is not None:  # the same version again (its name or sharing changed): nothing to keep
        session.flush()
        return Received(PUBLISHED, participant.code, same)
    publication = BenchmarkPublication(
        participant_id=participant.id,
        member_id=member.id,
        month=str(month),
        report_version=version,
        report_sha256=sha,
        definitions_version=DEFINITIONS_VERSION,
        generated_at=generated_at,
        figures=figures,
        message_id=message_id,
    )
    session.add(publication)
    session.flush()
    older = [v for v in versions if v < version]
    return Received(PUBLISHED, participant.code, publication, max(older) if older else None)


def publications(session: Session, month: Month) -> list[tuple[BenchmarkPublication, str]]:
    """Every version received for the month, with its participant's code: the history."""
    return [
        (pub, str(code))
        for pub, code in session.execute(
            sa.select(BenchmarkPublication, col(BenchmarkParticipant.code))
            .join(
                BenchmarkParticipant,
                col(BenchmarkParticipant.id) == col(BenchmarkPublication.participant_id),
            )
            .where(col(BenchmarkPublication.month) == str(month))
            .order_by(col(BenchmarkParticipant.code), col(BenchmarkPublication.report_version))
        )
    ]
