"""The ingest path's survey hook: keep a clear number or address only for contacts drawn for a
survey, sealed, for at most 48 hours (docs/privacy.md, "Surveys").

The app factory hands ``on_arrival`` to the ingest path (``ARRIVAL_HOOKS`` in
``servicedesk/app.py``): ingest knows nothing of surveys, and the surveys import ingest downward.

Every other caller is pseudonymised on arrival and its clear form is gone when the delivery's
transaction ends. For a contact drawn for a survey, the hook keeps the number (or address) the
survey must be sent to, encrypted with a key derived from the app's secret key, in the
contact's invitation row. The dispatch empties it when the survey is sent, and at the latest 48
hours after it arrived.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlmodel import Session, col

from servicedesk.cache import remember
from servicedesk.db import dialect_of, insert_for, table_of
from servicedesk.ingest.models import Event
from servicedesk.ingest.schemas import EventIn
from servicedesk.orgs.models import Organisation
from servicedesk.privacy import pseudonymise
from servicedesk.sealing import seal
from servicedesk.surveys.models import SurveyInvitation, SurveyOptOut, SurveySettings
from servicedesk.surveys.rules import (
    CAPTURE_MAX_AGE,
    RECIPIENT_HOURS,
    recipient_of,
    sampled,
)
from servicedesk.timeutil import utcnow

#: The purpose the recipients are sealed for (a key of their own, derived from the secret key).
RECIPIENTS = b"servicedesk survey recipients v1"
#: Invitation states that count as "surveyed" for the one-survey-per-person rule.
SURVEYED = ("waiting", "sending", "sent", "delivered", "answered")

INV = table_of(SurveyInvitation)
EV = table_of(Event)

#: How long the workers trust the survey settings they have read for an organisation (ingest
#: reads them on every delivery). Saving the settings drops them at once (``save_settings``).
SETTINGS_CACHE_SECONDS = 60


@dataclass(frozen=True, slots=True)
class Candidate:
    channel: str
    contact_id: str
    recipient: str
    caller_hash: str
    #: Taken from the desk's answer (its recipient), not from the citizen's own message.
    from_answer: bool = False


def settings_key(org_id: int) -> str:
    return f"survey-settings:{org_id}"


def cached_settings(session: Session, org_id: int) -> SurveySettings | None:
    """The organisation's survey settings (detached), from the cache every worker shares."""

    def read() -> dict[str, Any] | None:
        row = session.get(SurveySettings, org_id)
        return row.model_dump() if row is not None else None

    values = remember(settings_key(org_id), SETTINGS_CACHE_SECONDS, read)
    return SurveySettings(**values) if values is not None else None


def on_arrival(
    session: Session, org: Organisation, events: Sequence[EventIn], pseudonym_key: bytes
) -> None:
    """The ingest path's hook: new events whose callers are still in clear."""
    secret_key = current_app.config.get("SECRET_KEY") if has_app_context() else None
    if secret_key:
        capture_recipients(session, org, events, pseudonym_key=pseudonym_key, secret_key=secret_key)


def _candidates(
    settings: SurveySettings,
    org: Organisation,
    events: Sequence[EventIn],
    pseudonym_key: bytes,
    now: datetime,
) -> list[Candidate]:
    channels = {
        c for c, on in (("phone", settings.phone_enabled), ("email", settings.email_enabled)) if on
    }
    found: dict[tuple[str, str], Candidate] = {}
    for event in events:
        channel = event.event_channel
        if not event.caller or channel not in channels or event.type == "survey.response":
            continue
        if event.occurred_at_utc < now - CAPTURE_MAX_AGE:
            continue  # a backlog or an import: not a contact that just happened
        assert org.id is not None
        if not sampled(pseudonym_key, org.id, channel, event.contact_id, settings.share_percent):
            continue
        recipient = recipient_of(channel, event.caller, org.country)
        if recipient is None:
            continue  # a hidden number, an address that is no one's mailbox
        caller_hash = pseudonymise(event.caller, pseudonym_key, org.country)
        candidate = Candidate(
            channel, event.contact_id, recipient, caller_hash, event.type == "email.replied"
        )
        key = (channel, event.contact_id)
        if key not in found or found[key].from_answer and not candidate.from_answer:
            found[key] = candidate  # the citizen's own message first
    return list(found.values())


def _answered_the_sender(
    session: Session, org_id: int, candidates: list[Candidate]
) -> list[Candidate]:
    """The candidates, less those from a desk's answer that went to someone other than the
    person who wrote (a forward, a copy to a colleague, another authority): an answer's
    recipient is surveyed only when an e-mail of the contact came from that very address."""
    answers = [c for c in candidates if c.from_answer]
    if not answers:
        return candidates
    senders = set(
        session.execute(
            sa.select(EV.c.contact_id, EV.c.caller_hash).where(
                EV.c.organisation_id == org_id,
                EV.c.channel == "email",
                EV.c.type == "email.received",
                EV.c.contact_id.in_(sorted({c.contact_id for c in answers})),
                EV.c.caller_hash.in_(sorted({c.caller_hash for c in answers})),
            )
        ).all()
    )
    return [c for c in candidates if not c.from_answer or (c.contact_id, c.caller_hash) in senders]


def capture_recipients(
    session: Session,
    org: Organisation,
    events: Sequence[EventIn],
    *,
    pseudonym_key: bytes,
    secret_key: str | bytes,
    now: datetime | None = None,
) -> int:
    """Keep, sealed, the recipient of each new event's contact drawn for a survey.

    A contact's invitation is made once; a later event that carries the caller again re-arms an
    invitation that is still waiting, or that expired unsent, for another 48 hours (a reply to
    an e-mail that names the citizen, an answer after a weekend). Skipped here already: people
    who opted out, and people surveyed within the organisation's N days. Returns how many
    invitations now hold a recipient. Flushes, never commits: it is part of the delivery.
    """
    assert org.id is not None
    settings = cached_settings(session, org.id)
    if settings is None or not (settings.phone_enabled or settings.email_enabled):
        return 0
    now = now or utcnow()
    candidates = _answered_the_sender(
        session, org.id, _candidates(settings, org, events, pseudonym_key, now)
    )
    if not candidates:
        return 0
    hashes = sorted({c.caller_hash for c in candidates})
    opted_out = set(
        session.scalars(
            sa.select(col(SurveyOptOut.caller_hash)).where(
                col(SurveyOptOut.organisation_id) == org.id,
                col(SurveyOptOut.caller_hash).in_(hashes),
            )
        )
    )
    since = now - timedelta(days=settings.min_days_between)
    recent = session.execute(
        sa.select(INV.c.caller_hash, INV.c.channel, INV.c.contact_id).where(
            INV.c.organisation_id == org.id,
            INV.c.caller_hash.in_(hashes),
            INV.c.status.in_(SURVEYED),
            sa.func.coalesce(INV.c.sent_at, INV.c.captured_at) >= since,
        )
    ).all()
    surveyed = {(h, (ch, cid)) for h, ch, cid in recent}
    kept = 0
    expires = now + timedelta(hours=RECIPIENT_HOURS)
    for c in candidates:
        if c.caller_hash in opted_out:
            continue
        if any(h == c.caller_hash and key != (c.channel, c.contact_id) for h, key in surveyed):
            continue  # one survey per person per N days
        sealed = seal(c.recipient, secret_key, RECIPIENTS)
        stmt = insert_for(dialect_of(session), INV).values(
            organisation_id=org.id,
            channel=c.channel,
            contact_id=c.contact_id,
            caller_hash=c.caller_hash,
            recipient=sealed,
            captured_at=now,
            expires_at=expires,
            status="waiting",
            nonce=_nonce(),
            locale="",
            attempts=0,
        )
        rearm = sa.or_(
            INV.c.status == "waiting",
            sa.and_(INV.c.status == "expired", INV.c.sent_at.is_(None)),
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["organisation_id", "channel", "contact_id"],
            set_={
                "recipient": sealed,
                "captured_at": now,
                "expires_at": expires,
                "status": "waiting",
                "reason": None,
            },
            where=rearm,
        )
        session.connection().execute(stmt)
        kept += 1
    return kept


def _nonce() -> str:
    import secrets

    return secrets.token_hex(8)
