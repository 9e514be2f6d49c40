"""Erasure: one person's contacts, events, survey responses and raw deliveries removed on request.

Domain functions: they flush, never commit (docs/privacy.md, "Erasure").
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from servicedesk.audit import record
from servicedesk.contacts.models import Contact, SurveyResponse
from servicedesk.contacts.surveys import link_surveys
from servicedesk.gdpr.removed import Removed, deleted
from servicedesk.ingest.models import Delivery, Event
from servicedesk.metrics.models import drop_all
from servicedesk.orgs.models import Organisation
from servicedesk.privacy import CALLING_CODES, normalise_caller, pseudonymise
from servicedesk.surveys.models import SurveyInvitation

#: Deliveries are read in pages of this many rows when searched for a person's number.
_SCAN_PAGE = 500


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
        events += deleted(
            session, sa.delete(Event).where(*_of_contact(Event, org_id, channel, contact_id))
        )
        responses += deleted(
            session,
            sa.delete(SurveyResponse).where(
                *_of_contact(SurveyResponse, org_id, channel, contact_id)
            ),
        )
        contacts += deleted(
            session,
            sa.delete(Contact).where(
                col(Contact.organisation_id) == org_id,
                col(Contact.channel) == channel,
                col(Contact.contact_id) == contact_id,
            ),
        )
    # A twin contact with the same id may have lost a response: its scores follow the rows left.
    link_surveys(session, org_id, {contact_id for _, contact_id in contact_keys})
    if contacts or responses:
        # The closed months' stored aggregates counted what is gone.
        drop_all(session, org_id)
    return events, contacts, responses


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
            sa.select(col(Delivery.id), col(Delivery.body))
            .where(
                sa.or_(
                    col(Delivery.organisation_id) == org_id, col(Delivery.organisation_id).is_(None)
                ),
                col(Delivery.id) > last,
            )
            .order_by(col(Delivery.id))
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
    contact_keys: set[tuple[str, str]] = {
        (channel, contact_id)
        for channel, contact_id in session.execute(
            sa.select(col(Contact.channel), col(Contact.contact_id)).where(
                col(Contact.organisation_id) == org.id, col(Contact.caller_hash).in_(hashes)
            )
        )
    }
    contact_keys |= {
        (channel, contact_id)
        for channel, contact_id in session.execute(
            sa.select(col(Event.channel), col(Event.contact_id)).where(
                col(Event.organisation_id) == org.id, col(Event.caller_hash).in_(hashes)
            )
        )
        if channel is not None
    }
    delivery_ids = _deliveries_mentioning(session, org.id, caller_forms(caller, org.country))
    # The deliveries that brought the person's events, however the number was written in them.
    for channel, contact_id in contact_keys:
        delivery_ids |= set(
            session.scalars(
                sa.select(col(Event.delivery_id)).where(
                    *_of_contact(Event, org.id, channel, contact_id),
                    col(Event.delivery_id).is_not(None),
                )
            )
        )
    delivery_ids |= set(
        session.scalars(
            sa.select(col(Event.delivery_id)).where(
                col(Event.organisation_id) == org.id,
                col(Event.caller_hash).in_(hashes),
                col(Event.delivery_id).is_not(None),
            )
        )
    )
    events, contacts, responses = _delete_contact_rows(session, org.id, sorted(contact_keys))
    # The person's survey invitations (a sealed number among them) go too. An opt-out stays:
    # it is the person's own objection, kept as a pseudonym so that it can be honoured.
    session.execute(
        sa.delete(SurveyInvitation).where(
            col(SurveyInvitation.organisation_id) == org.id,
            col(SurveyInvitation.caller_hash).in_(hashes),
        )
    )
    events += deleted(
        session,
        sa.delete(Event).where(
            col(Event.organisation_id) == org.id, col(Event.caller_hash).in_(hashes)
        ),
    )
    deliveries = 0
    ids = sorted(delivery_ids)
    for start in range(0, len(ids), _SCAN_PAGE):
        deliveries += deleted(
            session,
            sa.delete(Delivery).where(col(Delivery.id).in_(ids[start : start + _SCAN_PAGE])),
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
