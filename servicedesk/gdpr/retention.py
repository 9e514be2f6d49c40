"""Retention: how long each organisation keeps personal data, and the purge that applies it.

Domain functions: they flush, never commit (docs/privacy.md, "Retention"). The frozen monthly
reports (aggregates) are never purged.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col

from servicedesk.audit import record
from servicedesk.contacts.models import Contact, SurveyResponse
from servicedesk.gdpr.models import DEFAULT_CONTACT_MONTHS, DEFAULT_RAW_DAYS, RetentionPolicy
from servicedesk.gdpr.removed import Removed, deleted
from servicedesk.ingest.models import Delivery, Event, RefusedDay
from servicedesk.metrics.definitions import RECHECK_MONTHS
from servicedesk.metrics.models import drop_all
from servicedesk.orgs.models import Organisation
from servicedesk.surveys.models import SurveyInvitation
from servicedesk.timeutil import to_utc, utcnow

#: The scheduler re-checks reported months this far back and would re-version a month whose
#: contacts were purged; contact-level rows are kept at least one month longer than that.
MIN_CONTACT_MONTHS = RECHECK_MONTHS + 1


def policy(session: Session, org: Organisation) -> RetentionPolicy:
    """The organisation's retention settings (the defaults when it never set any)."""
    found = session.get(RetentionPolicy, org.id)
    return found or RetentionPolicy(
        organisation_id=org.id,
        raw_days=DEFAULT_RAW_DAYS,
        contact_months=DEFAULT_CONTACT_MONTHS,
    )


def set_policy(
    session: Session,
    org: Organisation,
    *,
    raw_days: int | None = None,
    contact_months: int | None = None,
    actor: str,
) -> RetentionPolicy:
    """Change how long the organisation keeps raw deliveries and contact-level rows."""
    if raw_days is not None and raw_days < 1:
        raise ValueError("raw_days must be at least 1")
    if contact_months is not None and contact_months < MIN_CONTACT_MONTHS:
        raise ValueError(f"contact_months must be at least {MIN_CONTACT_MONTHS}")
    row = session.get(RetentionPolicy, org.id)
    if row is None:
        row = RetentionPolicy(organisation_id=org.id)
        session.add(row)
    before = {"raw_days": row.raw_days, "contact_months": row.contact_months}
    if raw_days is not None:
        row.raw_days = raw_days
    if contact_months is not None:
        row.contact_months = contact_months
    row.updated_at = utcnow()
    session.flush()
    after = {"raw_days": row.raw_days, "contact_months": row.contact_months}
    record(session, org.id, actor, "gdpr.retention", {"before": before, "after": after})
    return row


def contact_cutoff(org: Organisation, months: int, now: datetime) -> datetime:
    """The start of the local month ``months`` before this one: whole months are kept or purged."""
    local = to_utc(now).astimezone(ZoneInfo(org.timezone))
    index = local.year * 12 + (local.month - 1) - months
    start = datetime(index // 12, index % 12 + 1, 1, tzinfo=ZoneInfo(org.timezone))
    return to_utc(start)


def purge(session: Session, org: Organisation, *, now: datetime | None = None) -> Removed:
    """Apply the organisation's retention: old raw deliveries, old contact-level rows.

    Idempotent, so the scheduler may run it as often as it likes and catch up after a pause.
    Frozen monthly reports (the aggregates) are not touched.
    """
    now = now or utcnow()
    settings = policy(session, org)
    raw_before = now - timedelta(days=settings.raw_days)
    deliveries = deleted(
        session,
        sa.delete(Delivery).where(
            col(Delivery.organisation_id) == org.id, col(Delivery.received_at) < raw_before
        ),
    )
    cutoff = contact_cutoff(org, settings.contact_months, now)
    old = sa.select(col(Contact.id)).where(
        col(Contact.organisation_id) == org.id, col(Contact.started_at) < cutoff
    )
    # Events of an old contact go with it even when some of them came after the cut-off.
    same_contact = (
        sa.select(col(Contact.id))
        .where(
            col(Contact.organisation_id) == col(Event.organisation_id),
            col(Contact.channel) == col(Event.channel),
            col(Contact.contact_id) == col(Event.contact_id),
            col(Contact.started_at) < cutoff,
        )
        .exists()
    )
    events = deleted(
        session,
        sa.delete(Event).where(
            col(Event.organisation_id) == org.id,
            sa.or_(col(Event.occurred_at) < cutoff, same_contact),
        ),
    )
    responses = deleted(
        session,
        sa.delete(SurveyResponse).where(
            col(SurveyResponse.organisation_id) == org.id, col(SurveyResponse.occurred_at) < cutoff
        ),
    )
    contacts = deleted(session, sa.delete(Contact).where(col(Contact.id).in_(old)))
    if contacts or responses:
        # The closed months' stored aggregates counted what is gone.
        drop_all(session, org.id)
    # The dispatch log goes with the contacts; a sealed recipient past its 48 hours goes at once
    # (the dispatch deletes it too: this is the second guard, should the dispatch not run).
    deleted(
        session,
        sa.delete(SurveyInvitation).where(
            col(SurveyInvitation.organisation_id) == org.id,
            col(SurveyInvitation.captured_at) < cutoff,
        ),
    )
    session.execute(
        sa.update(SurveyInvitation)
        .where(
            col(SurveyInvitation.organisation_id) == org.id,
            col(SurveyInvitation.recipient).is_not(None),
            col(SurveyInvitation.expires_at) <= now,
        )
        .values(recipient=None)
    )
    # Later responses about a contact that is gone count as unmatched again.
    session.execute(
        sa.update(SurveyResponse)
        .where(
            col(SurveyResponse.organisation_id) == org.id,
            col(SurveyResponse.matched).is_(True),
            ~sa.exists().where(
                col(Contact.organisation_id) == col(SurveyResponse.organisation_id),
                col(Contact.contact_id) == col(SurveyResponse.contact_id),
            ),
        )
        .values(matched=False)
    )
    removed = Removed(deliveries, events, contacts, responses)
    if any(asdict(removed).values()):
        record(
            session,
            org.id,
            "scheduler",
            "gdpr.purge",
            {
                **asdict(removed),
                "raw_before": raw_before.isoformat(),
                "contacts_before": cutoff.isoformat(),
            },
        )
    return removed


#: Days a refused delivery that named no organisation (a wrong token, an unknown hook URL) is
#: kept: long enough to investigate a probe, short since nobody's figures depend on it.
UNOWNED_DAYS = 14


def purge_unowned(session: Session, *, now: datetime | None = None) -> int:
    """Refused deliveries that named no organisation go after UNOWNED_DAYS; the counts of the
    daily cap on refusals after the default period."""
    now = now or utcnow()
    before = now - timedelta(days=UNOWNED_DAYS)
    session.execute(
        sa.delete(RefusedDay).where(
            col(RefusedDay.day) < (now - timedelta(days=DEFAULT_RAW_DAYS)).date()
        )
    )
    return deleted(
        session,
        sa.delete(Delivery).where(
            col(Delivery.organisation_id).is_(None), col(Delivery.received_at) < before
        ),
    )


def apply_retention(session: Session, *, now: datetime | None = None) -> dict[str, Removed]:
    """Purge every organisation by its own settings: the scheduler's daily job (idempotent)."""
    now = now or utcnow()
    done = {
        org.slug: purge(session, org, now=now)
        for org in session.scalars(sa.select(Organisation).order_by(col(Organisation.slug)))
    }
    done[""] = Removed(deliveries=purge_unowned(session, now=now))
    return done
