"""Domain actions of the surveys feature: answers, opt-outs, settings. They flush, never commit.

A citizen's answers become ``survey.response`` events through the one ingest path, as if a
survey system had posted them, so figures, duplicates and reports treat them like any other.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from servicedesk.cache import forget_after_commit
from servicedesk.db import dialect_of, insert_for, table_of
from servicedesk.ingest.schemas import EventIn
from servicedesk.ingest.service import IngestResult, RawDelivery, ingest_events
from servicedesk.orgs.models import Organisation
from servicedesk.sealing import seal
from servicedesk.surveys import catalogue
from servicedesk.surveys.capture import settings_key
from servicedesk.surveys.models import SurveyInvitation, SurveyOptOut, SurveySettings
from servicedesk.timeutil import utcnow

INV = table_of(SurveyInvitation)
#: Where the survey page's deliveries come from (the deliveries table's ``source``).
SOURCE = "survey"


class AnswerError(Exception):
    """The answers cannot be taken; the message says why (shown to the citizen)."""


@dataclass(frozen=True, slots=True)
class Answers:
    """A citizen's answers: scores 1-5 by question, and the yes/no filter where asked."""

    scores: Mapping[str, int]
    got_answer: bool | None = None


def parse_answers(channel: str, form: Mapping[str, str]) -> Answers:
    """The answers in a submitted form; unknown or out-of-range values are refused."""
    scores: dict[str, int] = {}
    got_answer: bool | None = None
    for question in catalogue.QUESTIONS[channel]:
        value = (form.get(question.key) or "").strip()
        if not value:
            continue
        if not question.scored:
            if value not in ("yes", "no"):
                raise AnswerError(question.key)
            got_answer = value == "yes"
            continue
        if value not in ("1", "2", "3", "4", "5"):
            raise AnswerError(question.key)
        scores[question.key] = int(value)
    if got_answer is False:
        scores = {}  # SKR scores only those who got an answer
    return Answers(scores=scores, got_answer=got_answer)


def answer_events(invitation: SurveyInvitation, answers: Answers, now: datetime) -> list[EventIn]:
    """The survey.response events of the answers (ids fixed per invitation and question)."""
    occurred = now.isoformat()
    raw: list[dict[str, Any]] = []
    if answers.got_answer is not None:
        raw.append({"question": "got_answer", "answer": answers.got_answer})
    raw += [{"question": q, "score": s} for q, s in answers.scores.items()]
    return [
        EventIn.model_validate(
            {
                "id": f"survey:{invitation.id}:{item['question']}",
                "type": "survey.response",
                "contact_id": invitation.contact_id,
                "channel": invitation.channel,
                "occurred_at": occurred,
                **item,
            }
        )
        for item in raw
    ]


def record_answers(
    session: Session,
    org: Organisation,
    invitation: SurveyInvitation,
    answers: Answers,
    *,
    pseudonym_key: bytes,
    now: datetime | None = None,
) -> IngestResult:
    """Take the answers once: mark the invitation answered and ingest the events."""
    now = now or utcnow()
    if not answers.scores and answers.got_answer is None:
        raise AnswerError("empty")
    claimed = session.execute(
        sa.update(INV)
        .where(INV.c.id == invitation.id, INV.c.answered_at.is_(None))
        .values(status="answered", answered_at=now, recipient=None)
    )
    if not claimed.rowcount:  # type: ignore[attr-defined]  # an UPDATE's CursorResult
        raise AnswerError("used")
    return ingest_answers(session, org, invitation, answers, pseudonym_key=pseudonym_key, now=now)


def ingest_answers(
    session: Session,
    org: Organisation,
    invitation: SurveyInvitation,
    answers: Answers,
    *,
    pseudonym_key: bytes,
    now: datetime,
) -> IngestResult:
    """The answers as survey.response events through the one ingest path (source ``survey``):
    the survey page's and the SMS replies' alike."""
    events = answer_events(invitation, answers, now)
    body = json.dumps(
        {"events": [e.model_dump(mode="json", exclude_none=True) for e in events]},
        ensure_ascii=False,
    ).encode()
    raw = RawDelivery(source=SOURCE, body=body, content_type="application/json")
    return ingest_events(session, org, events, raw, pseudonym_key=pseudonym_key)


def opt_out(session: Session, org: Organisation, caller_hash: str, via: str) -> None:
    """No more surveys to this person: kept by pseudonym; their waiting surveys are dropped."""
    stmt = (
        insert_for(dialect_of(session), table_of(SurveyOptOut))
        .values(organisation_id=org.id, caller_hash=caller_hash, via=via, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["organisation_id", "caller_hash"])
    )
    session.execute(stmt)
    session.execute(
        sa.update(INV)
        .where(
            INV.c.organisation_id == org.id,
            INV.c.caller_hash == caller_hash,
            INV.c.status.in_(("waiting", "sending")),
        )
        .values(recipient=None, status="skipped", reason="opted out")
    )


def opt_in(session: Session, org: Organisation, caller_hash: str) -> bool:
    """Take a person's opt-out back (they texted START); whether there was one."""
    gone = session.execute(
        sa.delete(table_of(SurveyOptOut)).where(
            table_of(SurveyOptOut).c.organisation_id == org.id,
            table_of(SurveyOptOut).c.caller_hash == caller_hash,
        )
    )
    return bool(gone.rowcount)  # type: ignore[attr-defined]  # a DELETE's CursorResult


def settings_of(session: Session, org: Organisation) -> SurveySettings:
    """The organisation's settings row (a new, switched-off one when it has none yet)."""
    found = session.get(SurveySettings, org.id)
    if found is not None:
        return found
    return SurveySettings(organisation_id=org.id)


def save_settings(
    session: Session,
    org: Organisation,
    values: Mapping[str, Any],
    *,
    secret_key: str | bytes,
    sms_secret: str | None = None,
    smtp_password: str | None = None,
) -> SurveySettings:
    """Store the settings; a new SMS secret or SMTP password (when given) is sealed."""
    row = settings_of(session, org)
    for name, value in values.items():
        setattr(row, name, value)
    if sms_secret:
        row.sms_secret = seal(sms_secret, secret_key)
    if smtp_password:
        row.smtp_password = seal(smtp_password, secret_key)
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    forget_after_commit(session, settings_key(org.id))  # every worker reads them anew
    return row


def problems(settings: SurveySettings) -> list[str]:
    """What keeps a switched-on channel from sending (shown in Settings), as message keys."""
    found = []
    if settings.phone_enabled and not (
        settings.sms_provider and settings.sms_account and settings.sms_secret and settings.sms_from
    ):
        found.append("sms")
    if settings.email_enabled and not (settings.smtp_host and settings.email_from):
        found.append("smtp")
    return found
