"""An organisation's choice to take part: which frozen figures it shares, under what name, its
municipality group; and withdrawing (domain functions: they flush, never commit)."""

from __future__ import annotations

import string
from collections.abc import Iterable

import sqlalchemy as sa
from sqlmodel import Session, col

from servicedesk.benchmarking.figures import BY_KEY, DEFAULT_KEYS
from servicedesk.benchmarking.models import BenchmarkParticipant
from servicedesk.db import advisory_lock
from servicedesk.orgs.models import Organisation
from servicedesk.timeutil import utcnow

GROUP_MAX = 64


class SharingError(ValueError):
    """A sharing choice that cannot be kept; the message names the field."""


def participant_of(session: Session, org: Organisation) -> BenchmarkParticipant | None:
    return session.execute(
        sa.select(BenchmarkParticipant).where(col(BenchmarkParticipant.organisation_id) == org.id)
    ).scalar_one_or_none()


def _letters(n: int) -> str:
    """0 -> "A", 25 -> "Z", 26 -> "AA": spreadsheet column names."""
    out = ""
    n += 1
    while n:
        n, rest = divmod(n - 1, 26)
        out = string.ascii_uppercase[rest] + out
    return out


def next_alias(session: Session) -> str:
    """The first letters no participant has had: an alias is never given twice, so "Kommun C"
    of last year's comparison is never someone else this year."""
    # One participant at a time gets its letter (PostgreSQL: writers are not queued otherwise).
    advisory_lock(session, "benchmark:participants")
    taken = set(session.scalars(sa.select(col(BenchmarkParticipant.alias))))
    n = 0
    while _letters(n) in taken:
        n += 1
    return _letters(n)


def _checked_keys(figures: Iterable[str] | None) -> list[str]:
    keys = list(DEFAULT_KEYS if figures is None else figures)
    unknown = [k for k in keys if k not in BY_KEY]
    if unknown:
        raise SharingError(f"figures: not a shareable figure: {', '.join(unknown)}")
    # In the catalogue's order, each once.
    return [k for k in BY_KEY if k in keys]


def share(
    session: Session,
    org: Organisation,
    *,
    figures: Iterable[str] | None = None,
    anonymous: bool = False,
    group: str = "",
) -> BenchmarkParticipant:
    """Take part (or change what is shared): ``figures`` None means the default ones."""
    keys = _checked_keys(figures)
    if not keys:
        raise SharingError("figures: choose at least one figure to share")
    group = group.strip()
    if len(group) > GROUP_MAX:
        raise SharingError(f"group: at most {GROUP_MAX} characters")
    advisory_lock(session, "benchmark:participants")
    row = participant_of(session, org)
    if row is None:
        row = BenchmarkParticipant(code=org.slug, organisation_id=org.id, alias=next_alias(session))
        session.add(row)
    row.name = org.name
    row.country = org.country
    row.anonymous = anonymous
    row.group = group
    row.figures = keys
    row.sharing = True
    row.withdrawn_at = None
    row.updated_at = utcnow()
    session.flush()
    return row


def withdraw(session: Session, org: Organisation) -> BenchmarkParticipant | None:
    """Stop taking part: the organisation's figures leave every comparison from now on (and a
    withdrawal goes to the hub). None when it never took part."""
    row = participant_of(session, org)
    if row is None or not row.sharing:
        return row
    row.sharing = False
    row.withdrawn_at = row.updated_at = utcnow()
    session.flush()
    return row
