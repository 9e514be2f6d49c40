"""Domain actions on organisations; they flush, the caller commits."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlmodel import Session, col

from servicedesk.cache import forget_org_after_commit
from servicedesk.calendars.service import ensure_calendar
from servicedesk.orgs.models import DEFAULT_TIMEZONES, Organisation

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}[a-z0-9]$|^[a-z0-9]$")


class OrganisationError(ValueError):
    """Input that cannot make a valid organisation; the message names the field."""


def validate_timezone(tz: str) -> str:
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise OrganisationError(f"timezone: unknown time zone {tz!r}") from None
    return tz


def create_organisation(
    session: Session,
    *,
    slug: str,
    name: str,
    country: str,
    timezone: str | None = None,
    service_level_seconds: int = 60,
) -> Organisation:
    """A new organisation; refuses a taken slug, an unknown country or time zone."""
    country = country.upper()
    if country not in DEFAULT_TIMEZONES:
        raise OrganisationError(f"country: must be one of {', '.join(DEFAULT_TIMEZONES)}")
    if not SLUG_RE.match(slug):
        raise OrganisationError("slug: lower-case letters, digits and '-', at most 64")
    if not name.strip():
        raise OrganisationError("name: must not be empty")
    if service_level_seconds < 1:
        raise OrganisationError("service_level_seconds: must be at least 1")
    tz = validate_timezone(timezone or DEFAULT_TIMEZONES[country])
    if get_organisation(session, slug) is not None:
        raise OrganisationError(f"slug: an organisation {slug!r} exists already")
    org = Organisation(
        slug=slug,
        name=name.strip(),
        country=country,
        timezone=tz,
        service_level_seconds=service_level_seconds,
    )
    session.add(org)
    session.flush()
    # Its working days exist from the start: the fold stores e-mails' working times by them.
    ensure_calendar(session, org)
    return org


def update_organisation(
    session: Session, org: Organisation, *, name: str, service_level_seconds: int
) -> Organisation:
    """Rename the organisation or change its service level; the figures kept follow at once."""
    if not name.strip():
        raise OrganisationError("name: must not be empty")
    if service_level_seconds < 1:
        raise OrganisationError("service_level_seconds: must be at least 1")
    org.name = name.strip()
    org.service_level_seconds = service_level_seconds
    session.flush()
    forget_org_after_commit(session, org.id)
    return org


def get_organisation(session: Session, slug: str) -> Organisation | None:
    return session.scalars(sa.select(Organisation).where(col(Organisation.slug) == slug)).first()
