"""Retention, erasure and pseudonym key rotation; they flush, never commit (docs/privacy.md)."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session

from servicedesk.audit import record
from servicedesk.contacts.models import Contact, SurveyResponse
from servicedesk.contacts.surveys import link_surveys
from servicedesk.gdpr.models import DEFAULT_CONTACT_MONTHS, DEFAULT_RAW_DAYS, RetentionPolicy
from servicedesk.ingest.models import Delivery, Event, RefusedDay
from servicedesk.orgs.models import Organisation
from servicedesk.privacy import CALLING_CODES, key_id, normalise_caller, pseudonymise
from servicedesk.reports.scheduler import RECHECK_MONTHS
from servicedesk.surveys.models import SurveyInvitation, SurveyOptOut
from servicedesk.timeutil import to_utc, utcnow

#: The scheduler re-checks reported months this far back and would re-version a month whose
#: contacts were purged; contact-level rows are kept at least one month longer than that.
MIN_CONTACT_MONTHS = RECHECK_MONTHS + 1

#: Deliveries are read in pages of this many rows when searched for a person's number.
_SCAN_PAGE = 500


@dataclass(frozen=True)
class Removed:
    """How many rows of each kind an operation deleted."""

    deliveries: int = 0
    events: int = 0
    contacts: int = 0
    survey_responses: int = 0


# Retention -------------------------------------------------------------------------------------


def policy(session: Session, org: Organisation) -> RetentionPolicy:
    """The organisation's retention settings (the defaults when it never set any)."""
    found = session.get(RetentionPolicy, org.id)
    return found or RetentionPolicy(
        organisation_id=org.id,  # type: ignore[arg-type]
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
        row = RetentionPolicy(organisation_id=org.id)  # type: ignore[arg-type]
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


def _count(session: Session, statement: sa.Delete) -> int:
    return int(session.execute(statement).rowcount or 0)  # type: ignore[attr-defined]


def _of_contact(model: Any, org_id: int, channel: str, contact_id: str) -> list[Any]:
    """Rows of one contact; a row without a channel (a survey that did not say) matches any."""
    return [
        model.organisation_id == org_id,
        model.contact_id == contact_id,
        sa.or_(model.channel == channel, model.channel.is_(None)),
    ]


def _delete_contact_rows(
    session: Session, org_id: int, contact_keys: Iterable[tuple[str, str]]
) -> tuple[int, int, int]:
    """Delete contacts with their events and survey responses; returns the three counts."""
    contact_keys = list(contact_keys)
    events = contacts = responses = 0
    for channel, contact_id in contact_keys:
        events += _count(
            session, sa.delete(Event).where(*_of_contact(Event, org_id, channel, contact_id))
        )
        responses += _count(
            session,
            sa.delete(SurveyResponse).where(
                *_of_contact(SurveyResponse, org_id, channel, contact_id)
            ),
        )
        contacts += _count(
            session,
            sa.delete(Contact).where(
                Contact.organisation_id == org_id,
                Contact.channel == channel,
                Contact.contact_id == contact_id,
            ),
        )
    # A twin contact with the same id may have lost a response: its scores follow the rows left.
    link_surveys(session, org_id, {contact_id for _, contact_id in contact_keys})
    return events, contacts, responses


def purge(session: Session, org: Organisation, *, now: datetime | None = None) -> Removed:
    """Apply the organisation's retention: old raw deliveries, old contact-level rows.

    Idempotent, so the scheduler may run it as often as it likes and catch up after a pause.
    Frozen monthly reports (the aggregates) are not touched.
    """
    now = now or utcnow()
    settings = policy(session, org)
    raw_before = now - timedelta(days=settings.raw_days)
    deliveries = _count(
        session,
        sa.delete(Delivery).where(
            Delivery.organisation_id == org.id, Delivery.received_at < raw_before
        ),
    )
    cutoff = contact_cutoff(org, settings.contact_months, now)
    old = sa.select(Contact.id).where(
        Contact.organisation_id == org.id, Contact.started_at < cutoff
    )
    # Events of an old contact go with it even when some of them came after the cut-off.
    same_contact = (
        sa.select(Contact.id)
        .where(
            Contact.organisation_id == Event.organisation_id,
            Contact.channel == Event.channel,
            Contact.contact_id == Event.contact_id,
            Contact.started_at < cutoff,
        )
        .exists()
    )
    events = _count(
        session,
        sa.delete(Event).where(
            Event.organisation_id == org.id, sa.or_(Event.occurred_at < cutoff, same_contact)
        ),
    )
    responses = _count(
        session,
        sa.delete(SurveyResponse).where(
            SurveyResponse.organisation_id == org.id, SurveyResponse.occurred_at < cutoff
        ),
    )
    contacts = _count(session, sa.delete(Contact).where(Contact.id.in_(old)))
    # The dispatch log goes with the contacts; a sealed recipient past its 48 hours goes at once
    # (the dispatch deletes it too: this is the second guard, should the dispatch not run).
    _count(
        session,
        sa.delete(SurveyInvitation).where(
            SurveyInvitation.organisation_id == org.id, SurveyInvitation.captured_at < cutoff
        ),
    )
    session.execute(
        sa.update(SurveyInvitation)
        .where(
            SurveyInvitation.organisation_id == org.id,
            SurveyInvitation.recipient.is_not(None),  # type: ignore[union-attr]
            SurveyInvitation.expires_at <= now,
        )
        .values(recipient=None)
    )
    # Later responses about a contact that is gone count as unmatched again.
    session.execute(
        sa.update(SurveyResponse)
        .where(
            SurveyResponse.organisation_id == org.id,
            SurveyResponse.matched.is_(True),
            ~sa.exists().where(
                Contact.organisation_id == SurveyResponse.organisation_id,
                Contact.contact_id == SurveyResponse.contact_id,
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
            RefusedDay.day < (now - timedelta(days=DEFAULT_RAW_DAYS)).date()
        )
    )
    return _count(
        session,
        sa.delete(Delivery).where(
            Delivery.organisation_id.is_(None), Delivery.received_at < before
        ),
    )


def apply_retention(session: Session, *, now: datetime | None = None) -> dict[str, Removed]:
    """Purge every organisation by its own settings: the scheduler's daily job (idempotent)."""
    now = now or utcnow()
    done = {
        org.slug: purge(session, org, now=now)
        for org in session.scalars(sa.select(Organisation).order_by(Organisation.slug))
    }
    done[""] = Removed(deliveries=purge_unowned(session, now=now))
    from servicedesk.callimport.service import drop_stale_previews

    drop_stale_previews(session, now=now)
    return done


# Erasure ---------------------------------------------------------------------------------------


def caller_forms(caller: str, country: str | None) -> set[bytes]:
    """The ways a number or address may be written in a raw delivery (JSON, form-encoded)."""
    norm = normalise_caller(caller, country)
    forms = {caller.strip().lower(), norm}
    if norm.startswith("+"):
        digits = norm[1:]
        forms |= {digits, "00" + digits}
        code = CALLING_CODES.get((country or "").upper())
        if code and digits.startswith(code):
            forms.add("0" + digits[len(code) :])
    encoded = set()
    for form in forms:
        encoded |= {form, urllib.parse.quote(form, safe=""), urllib.parse.quote_plus(form)}
    # Short fragments would match unrelated text; a real number or address is longer.
    return {form.encode() for form in encoded if len(form) >= 6}


def _deliveries_mentioning(session: Session, org_id: int, forms: set[bytes]) -> set[int]:
    """Ids of the organisation's (and unowned) raw deliveries whose body contains the person."""
    found: set[int] = set()
    last = 0
    while True:
        page = session.execute(
            sa.select(Delivery.id, Delivery.body)
            .where(
                sa.or_(Delivery.organisation_id == org_id, Delivery.organisation_id.is_(None)),
                Delivery.id > last,
            )
            .order_by(Delivery.id)
            .limit(_SCAN_PAGE)
        ).all()
        if not page:
            return found
        for delivery_id, body in page:
            text = bytes(body).lower()
            if any(form in text for form in forms):
                found.add(delivery_id)
        last = page[-1][0]


def erase(
    session: Session,
    org: Organisation,
    caller: str,
    keys: Sequence[bytes],
    *,
    actor: str,
) -> Removed:
    """Remove one person's contacts, events, survey responses and raw deliveries; log that it did.

    ``keys`` are the current pseudonymisation key and every previous one still in use, so rows
    hashed before a rotation are found too. Frozen monthly reports keep their aggregates.
    """
    assert org.id is not None
    hashes = {pseudonymise(caller, key, org.country) for key in keys}
    contact_keys = set(
        session.execute(
            sa.select(Contact.channel, Contact.contact_id).where(
                Contact.organisation_id == org.id, Contact.caller_hash.in_(hashes)
            )
        )
    )
    contact_keys |= {
        (channel, contact_id)
        for channel, contact_id in session.execute(
            sa.select(Event.channel, Event.contact_id).where(
                Event.organisation_id == org.id, Event.caller_hash.in_(hashes)
            )
        )
        if channel is not None
    }
    delivery_ids = _deliveries_mentioning(session, org.id, caller_forms(caller, org.country))
    # The deliveries that brought the person's events, however the number was written in them.
    for channel, contact_id in contact_keys:
        delivery_ids |= set(
            session.scalars(
                sa.select(Event.delivery_id).where(
                    *_of_contact(Event, org.id, channel, contact_id),
                    Event.delivery_id.is_not(None),
                )
            )
        )
    delivery_ids |= set(
        session.scalars(
            sa.select(Event.delivery_id).where(
                Event.organisation_id == org.id,
                Event.caller_hash.in_(hashes),
                Event.delivery_id.is_not(None),
            )
        )
    )
    events, contacts, responses = _delete_contact_rows(session, org.id, sorted(contact_keys))
    # The person's survey invitations (a sealed number among them) go too. An opt-out stays:
    # it is the person's own objection, kept as a pseudonym so that it can be honoured.
    session.execute(
        sa.delete(SurveyInvitation).where(
            SurveyInvitation.organisation_id == org.id,
            SurveyInvitation.caller_hash.in_(hashes),  # type: ignore[attr-defined]
        )
    )
    events += _count(
        session,
        sa.delete(Event).where(Event.organisation_id == org.id, Event.caller_hash.in_(hashes)),
    )
    deliveries = 0
    ids = sorted(delivery_ids)
    for start in range(0, len(ids), _SCAN_PAGE):
        deliveries += _count(
            session, sa.delete(Delivery).where(Delivery.id.in_(ids[start : start + _SCAN_PAGE]))
        )
    removed = Removed(deliveries, events, contacts, responses)
    # The log names the person only by the pseudonym under the current key.
    record(
        session,
        org.id,
        actor,
        "gdpr.erase",
        {"pseudonym": pseudonymise(caller, keys[0], org.country), **asdict(removed)},
    )
    return removed


# Key rotation ----------------------------------------------------------------------------------


def rekey_callers(
    session: Session,
    org: Organisation,
    callers: Iterable[str],
    key: bytes,
    previous_keys: Sequence[bytes],
) -> int:
    """Move a returning caller's older rows to the current key (lazy re-keying on arrival).

    A keyed hash cannot be re-keyed without the number, so rows are moved when the person shows
    up again; the rest age out through retention. Returns the number of rows changed.
    """
    if not previous_keys:
        return 0
    params = [
        {"org": org.id, "old": pseudonymise(caller, old, org.country), "new": new}
        for caller in set(callers)
        for new in [pseudonymise(caller, key, org.country)]
        for old in previous_keys
    ]
    if not params:
        return 0
    changed = 0
    tables = (Event.__table__, Contact.__table__, SurveyInvitation.__table__)  # type: ignore[attr-defined]
    for table in tables:
        statement = (
            sa.update(table)
            .where(table.c.organisation_id == sa.bindparam("org"))
            .where(table.c.caller_hash == sa.bindparam("old"))
            .values(caller_hash=sa.bindparam("new"))
        )
        result = session.connection().execute(statement, params)
        changed += int(result.rowcount or 0)
    # An opt-out follows its person to the new key (unless one under the new key exists).
    out = SurveyOptOut.__table__  # type: ignore[attr-defined]
    twin = out.alias("twin")
    session.connection().execute(
        sa.update(out)
        .where(out.c.organisation_id == sa.bindparam("org"))
        .where(out.c.caller_hash == sa.bindparam("old"))
        .where(
            ~sa.exists().where(
                twin.c.organisation_id == out.c.organisation_id,
                twin.c.caller_hash == sa.bindparam("new"),
            )
        )
        .values(caller_hash=sa.bindparam("new")),
        params,
    )
    return changed


def key_usage(session: Session, org: Organisation | None = None) -> Mapping[str, int]:
    """How many events and contacts each pseudonymisation key id still has."""
    usage: dict[str, int] = {}
    for column, org_column in (
        (Event.caller_hash, Event.organisation_id),
        (Contact.caller_hash, Contact.organisation_id),
    ):
        prefix = sa.func.substr(column, 1, 6)
        query = sa.select(prefix, sa.func.count()).where(column.is_not(None)).group_by(prefix)
        if org is not None:
            query = query.where(org_column == org.id)
        for kid, count in session.execute(query):
            usage[kid] = usage.get(kid, 0) + int(count)
    return usage


def known_key_ids(keys: Sequence[bytes]) -> list[str]:
    return [key_id(key) for key in keys]
