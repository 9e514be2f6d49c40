"""A citizen's SMS replies to a survey: "STOPP" opts out, "START" takes that back, a digit 1-5
answers a question.

The provider's request is read by ``integrations.sms.parse_inbound`` and checked by the web layer
(``reply_views.py``); here the reply is acted on. The sender's number is pseudonymised at once,
as on arrival of any event, and only the pseudonym is used or kept: the opt-out is stored by it,
and it finds the person's latest survey. The reply's text is never stored.

The reply address is ``/s/sms/<secret>``: 46elks signs nothing, so the long random secret in the
URL is its credential (as for the 46elks voice integration); only its SHA-256 is kept. Twilio's
requests must also carry a valid ``X-Twilio-Signature``.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col

from integrations.sms import InboundSms
from servicedesk.cache import forget_after_commit
from servicedesk.db import table_of
from servicedesk.orgs.models import Organisation
from servicedesk.privacy import pseudonymise
from servicedesk.privacy.keys import rekey_callers
from servicedesk.surveys import catalogue
from servicedesk.surveys.capture import settings_key
from servicedesk.surveys.models import SurveyInvitation, SurveySettings
from servicedesk.surveys.operations import Answers, ingest_answers, opt_in, opt_out
from servicedesk.surveys.rules import LINK_DAYS
from servicedesk.timeutil import utcnow

INV = table_of(SurveyInvitation)

#: Words that mean "no more surveys": Swedish STOPP and SLUTA, Norwegian STOPP and STANS, STOP.
STOP_WORDS = frozenset({"stopp", "stop", "sluta", "stans"})
#: Words that take an opt-out back: START (the word the opt-out reply names) and Swedish STARTA.
START_WORDS = frozenset({"start", "starta"})
_EDGES = re.compile(r"^[\W_]+|[\W_]+$")
#: The questions a reply answers, in the order the SMS asks them.
PHONE_QUESTIONS = catalogue.QUESTIONS["phone"]


def new_reply_secret() -> str:
    return secrets.token_urlsafe(32)


def secret_hash(secret: str) -> str:
    """What is kept of the reply address's secret: long and random, so a fast hash will do."""
    return "sha256:" + hashlib.sha256(secret.encode()).hexdigest()


def make_reply_address(session: Session, settings: SurveySettings) -> str:
    """A new secret for the reply address (the old one stops working); flushes, never commits."""
    secret = new_reply_secret()
    settings.sms_inbound_hash = secret_hash(secret)
    settings.updated_at = utcnow()
    session.add(settings)
    session.flush()
    forget_after_commit(session, settings_key(settings.organisation_id))
    return secret


def settings_for_secret(session: Session, secret: str) -> SurveySettings | None:
    """The settings whose reply address has this secret, or None."""
    if not secret or len(secret) > 100:
        return None
    return session.scalars(
        sa.select(SurveySettings).where(col(SurveySettings.sms_inbound_hash) == secret_hash(secret))
    ).first()


def replies_possible(settings: SurveySettings) -> bool:
    """Whether a citizen can reply: a reply address exists and the sender is a number."""
    return bool(settings.sms_inbound_hash) and settings.sms_from.startswith("+")


def _first_word(text: str) -> str:
    words = text.split()
    return _EDGES.sub("", words[0]).casefold() if words else ""


def classify(text: str) -> tuple[str, int | None]:
    """("stop", None), ("start", None), ("digit", 1-5) or ("other", None): by the reply's first
    word, whatever its case, spacing or punctuation ("Stopp!", "start", " 4 ", "5 tack")."""
    word = _first_word(text)
    if word in STOP_WORDS:
        return "stop", None
    if word in START_WORDS:
        return "start", None
    if len(word) == 1 and word in "12345":
        return "digit", int(word)
    return "other", None


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def question_text(settings: SurveySettings, language: str, step: int) -> dict[str, str]:
    """The phone question at ``step`` and its scale's ends, for an SMS."""
    question = PHONE_QUESTIONS[step]
    return {
        "question": catalogue.text(language, question.text_key, settings.wording),
        "low": _lower_first(catalogue.text(language, question.low_key)),
        "high": _lower_first(catalogue.text(language, question.high_key)),
    }


@dataclass(frozen=True, slots=True)
class ReplyOutcome:
    """What a reply did (for the log: never the number or the text) and what to text back."""

    kind: str
    reply: str | None
    invitation_id: int | None = None


def _latest(
    session: Session, org_id: int, caller_hash: str, now: datetime
) -> SurveyInvitation | None:
    """The person's latest phone survey whose link still works (sent within LINK_DAYS)."""
    return session.scalars(
        sa.select(SurveyInvitation)
        .where(
            col(SurveyInvitation.organisation_id) == org_id,
            col(SurveyInvitation.caller_hash) == caller_hash,
            col(SurveyInvitation.channel) == "phone",
            col(SurveyInvitation.status).in_(("sent", "delivered", "answered")),
            col(SurveyInvitation.sent_at) >= now - timedelta(days=LINK_DAYS),
        )
        .order_by(col(SurveyInvitation.sent_at).desc(), col(SurveyInvitation.id).desc())
        .limit(1)
    ).first()


def _after_answer(settings: SurveySettings, language: str, sender: str, step: int) -> str:
    """The text after ``step`` questions are answered: the next question, or thanks."""
    if step < len(PHONE_QUESTIONS):
        return catalogue.text(language, "sms_next").format(
            **question_text(settings, language, step)
        )
    return catalogue.text(language, "sms_thanks").format(sender=sender)


def handle_reply(
    session: Session,
    org: Organisation,
    settings: SurveySettings,
    sms: InboundSms,
    *,
    pseudonym_key: bytes,
    sender: str,
    previous_keys: Sequence[bytes] = (),
    now: datetime | None = None,
) -> ReplyOutcome:
    """Act on one reply. Flushes, never commits: the caller's unit of work holds it all."""
    assert org.id is not None
    now = now or utcnow()
    # During a pseudonym key rotation the person's survey and opt-out may still be under an
    # older key: they move to the current one, as a returning caller's rows do on ingest.
    rekey_callers(session, org, [sms.sender], pseudonym_key, previous_keys)
    caller_hash = pseudonymise(sms.sender, pseudonym_key, org.country)
    kind, digit = classify(sms.text)
    invitation = _latest(session, org.id, caller_hash, now)
    language = (
        invitation.locale
        if invitation is not None and invitation.locale in catalogue.LANGUAGES
        else catalogue.language_of(settings.language, org.country)
    )
    found = invitation.id if invitation is not None else None
    if kind == "stop":
        # Honoured at once, whoever it is: kept by pseudonym, waiting surveys dropped.
        opt_out(session, org, caller_hash, "sms")
        return ReplyOutcome(
            "opted out", catalogue.text(language, "sms_stopped").format(sender=sender), found
        )
    if kind == "start":
        # Only the number's owner can text from it: the opt-out (by SMS or by the link) is
        # taken back. Surveys skipped meanwhile stay skipped; the next contact may get one.
        had = opt_in(session, org, caller_hash)
        if not had and invitation is None:
            return ReplyOutcome("no survey", None)  # a stranger's text: nothing to answer
        text = catalogue.text(language, "sms_started").format(sender=sender)
        return ReplyOutcome("opted in" if had else "not opted out", text, found)
    if invitation is None:
        return ReplyOutcome("no survey", None)  # a stranger's text: nothing to answer
    step = invitation.sms_step
    if step is None:
        # The SMS asked for answers through its link, not by reply.
        if kind == "digit" and invitation.answered_at is not None:
            return ReplyOutcome("already answered", catalogue.text(language, "sms_answered"), found)
        return ReplyOutcome("not by reply", catalogue.text(language, "sms_use_link"), found)
    if invitation.sms_reply_id == sms.message_id:
        # The provider's retry of a reply already taken: the same answer, nothing taken again.
        return ReplyOutcome("repeated", _after_answer(settings, language, sender, step), found)
    if step >= len(PHONE_QUESTIONS) or (step == 0 and invitation.answered_at is not None):
        return ReplyOutcome("already answered", catalogue.text(language, "sms_answered"), found)
    if kind != "digit" or digit is None:
        return ReplyOutcome("not understood", catalogue.text(language, "sms_help"), found)
    taken = session.execute(
        sa.update(INV)
        .where(INV.c.id == invitation.id, INV.c.sms_step == step)
        .values(
            sms_step=step + 1,
            sms_reply_id=sms.message_id,
            status="answered",
            answered_at=sa.func.coalesce(INV.c.answered_at, now),
            recipient=None,
        )
    )
    if not taken.rowcount:  # type: ignore[attr-defined]  # an UPDATE's CursorResult
        return ReplyOutcome("already answered", catalogue.text(language, "sms_answered"), found)
    question = PHONE_QUESTIONS[step].key
    ingest_answers(
        session,
        org,
        invitation,
        Answers(scores={question: digit}),
        pseudonym_key=pseudonym_key,
        now=now,
    )
    return ReplyOutcome("answered", _after_answer(settings, language, sender, step + 1), found)
