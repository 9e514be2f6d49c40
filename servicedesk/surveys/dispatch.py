"""Sending the surveys that are due: ``servicedesk survey send-pending``, run every minute by the
scheduler process (idempotent: a run finds what is due from the rows, so a missed run is caught
up by the next).

For each waiting invitation: expire it when its 48 hours have passed; skip it when the call was
not answered, the person opted out or was surveyed within N days; wait while the contact is not
over, inside the delay, or (SMS) in quiet hours or on a closed day; otherwise send it once. An
invitation is claimed (``sending``) in its own committed transaction before the provider is
called, so that two runs never send it twice; the recipient is deleted in the transaction that
records the outcome. Sending is at most once: a run that dies mid-send leaves ``sending``, which
expires like ``waiting``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from integrations.sms import Elks46Sms, SmsError, SmsSender, TwilioSms
from integrations.smtp import MailError, MailSender, SmtpSender
from servicedesk.calendars.rules import is_working_day
from servicedesk.calendars.service import closed_days
from servicedesk.contacts.models import Contact
from servicedesk.db import table_of, unit_of_work
from servicedesk.orgs.models import Organisation
from servicedesk.sealing import unseal
from servicedesk.surveys import catalogue
from servicedesk.surveys.capture import RECIPIENTS
from servicedesk.surveys.links import STATUS_SALT, make_token
from servicedesk.surveys.models import SurveyInvitation, SurveyOptOut, SurveySettings
from servicedesk.surveys.replies import question_text, replies_possible
from servicedesk.surveys.rules import LINK_DAYS, next_send_time
from servicedesk.timeutil import to_utc, utcnow

log = structlog.get_logger(__name__)

INV = table_of(SurveyInvitation)
C = table_of(Contact)


@dataclass(frozen=True, slots=True)
class DispatchConfig:
    """What sending needs from the app: its keys and the public address of the survey page."""

    secret_key: str | bytes
    public_url: str


@dataclass
class DispatchResult:
    sent: int = 0
    failed: int = 0
    expired: int = 0
    skipped: int = 0
    waiting: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        """One line for the command's output and the scheduler's log."""
        return (
            f"sent {self.sent}, failed {self.failed}, expired {self.expired}, "
            f"not sent {self.skipped}, waiting {self.waiting}"
        )


#: Test seams: how a provider's client is built from the settings (and the unsealed secret).
SmsFactory = Callable[[SurveySettings, str], SmsSender]
MailFactory = Callable[[SurveySettings, str], MailSender]


def sms_sender(settings: SurveySettings, secret: str) -> SmsSender:
    if settings.sms_provider == "46elks":
        return Elks46Sms(settings.sms_account, secret, settings.sms_from)
    if settings.sms_provider == "twilio":
        return TwilioSms(settings.sms_account, secret, settings.sms_from)
    raise SmsError("no SMS provider is set up (Settings → Surveys)", retry=True)


def mail_sender(settings: SurveySettings, password: str) -> MailSender:
    if not settings.smtp_host:
        raise MailError("no mail server is set up (Settings → Surveys)", retry=True)
    return SmtpSender(
        settings.smtp_host,
        settings.smtp_port,
        security=settings.smtp_security,
        username=settings.smtp_username,
        password=password,
    )


def survey_url(config: DispatchConfig, invitation: SurveyInvitation) -> str:
    assert invitation.id is not None
    token = make_token(config.secret_key, invitation.id, invitation.nonce)
    return f"{config.public_url.rstrip('/')}/s/{token}"


def status_url(config: DispatchConfig, invitation: SurveyInvitation) -> str:
    assert invitation.id is not None
    token = make_token(config.secret_key, invitation.id, invitation.nonce, STATUS_SALT)
    return f"{config.public_url.rstrip('/')}/s/status/{token}"


def stop_url(config: DispatchConfig, invitation: SurveyInvitation) -> str:
    return survey_url(config, invitation) + "/stop"


def _expire(session: Session, org_id: int, now: datetime) -> int:
    """Delete the recipients whose 48 hours are over (sent or not)."""
    result = session.execute(
        sa.update(INV)
        .where(
            INV.c.organisation_id == org_id,
            INV.c.status.in_(("waiting", "sending")),
            INV.c.expires_at <= now,
        )
        .values(recipient=None, status="expired", reason="not sent within 48 hours")
    )
    # Belt and braces: no recipient outlives its expiry, whatever the status says.
    session.execute(
        sa.update(INV)
        .where(
            INV.c.organisation_id == org_id,
            INV.c.recipient.is_not(None),
            INV.c.expires_at <= now,
        )
        .values(recipient=None)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]  # an UPDATE's CursorResult


def _skip(session: Session, invitation_id: int, reason: str) -> None:
    session.execute(
        sa.update(INV)
        .where(INV.c.id == invitation_id)
        .values(recipient=None, status="skipped", reason=reason)
    )


def _working_day(session: Session, org: Organisation) -> Callable[[date], bool]:
    closed = {d.day for d in closed_days(session, org)}
    return lambda day: is_working_day(org.country, day, closed)


def _due(
    invitation: Mapping[Any, Any],
    contact: Mapping[Any, Any] | None,
    settings: SurveySettings,
) -> tuple[str, datetime | None]:
    """("skip", reason) / ("wait", None) / ("due", when the delay is over)."""
    if contact is None:
        return "wait", None
    answered = contact["contact_answered_at"]
    if invitation["channel"] == "phone":
        ended = contact["contact_ended_at"]
        if ended is None:
            return "wait", None
        if answered is None:
            return "skip", None
        assert isinstance(ended, datetime)
        return "due", to_utc(ended) + timedelta(minutes=settings.delay_minutes)
    if answered is None:
        return "wait", None
    assert isinstance(answered, datetime)
    return "due", to_utc(answered) + timedelta(minutes=settings.delay_minutes)


def _recently_surveyed(
    session: Session, org_id: int, caller_hash: str, invitation_id: int, since: datetime
) -> bool:
    return (
        session.execute(
            sa.select(INV.c.id)
            .where(
                INV.c.organisation_id == org_id,
                INV.c.caller_hash == caller_hash,
                INV.c.id != invitation_id,
                INV.c.status.in_(("sending", "sent", "delivered", "answered")),
                INV.c.sent_at >= since,
            )
            .limit(1)
        ).first()
        is not None
    )


def _opted_out(session: Session, org_id: int, caller_hash: str) -> bool:
    return session.get(SurveyOptOut, (org_id, caller_hash)) is not None


def _claim(session: Session, invitation_id: int, locale: str) -> bool:
    result = session.execute(
        sa.update(INV)
        .where(INV.c.id == invitation_id, INV.c.status == "waiting")
        .values(status="sending", attempts=INV.c.attempts + 1, locale=locale)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]  # an UPDATE's CursorResult


def sender_name(settings: SurveySettings, org: Organisation) -> str:
    return settings.sender_name.strip() or org.name


def asks_by_reply(settings: SurveySettings) -> bool:
    """Whether the SMS asks the questions themselves, to be answered by a digit in reply."""
    return settings.sms_replies and replies_possible(settings)


def sms_text(settings: SurveySettings, org: Organisation, language: str, link: str) -> str:
    """The survey SMS: the link, and where replies are read, STOPP (and the first question,
    when answers by reply are on); without a reply address it promises no reply."""
    sender = sender_name(settings, org)
    if asks_by_reply(settings):
        return catalogue.text(language, "sms_digits").format(
            sender=sender, link=link, **question_text(settings, language, 0)
        )
    key = "sms_replies" if replies_possible(settings) else "sms"
    return catalogue.text(language, key, settings.wording).format(sender=sender, link=link)


def email_message(
    settings: SurveySettings,
    org: Organisation,
    language: str,
    recipient: str,
    link: str,
    stop: str,
) -> EmailMessage:
    name = sender_name(settings, org)
    message = EmailMessage()
    message["Subject"] = catalogue.text(language, "email_subject").format(sender=name)
    message["From"] = formataddr((name, settings.email_from))
    message["To"] = recipient
    message["Message-ID"] = make_msgid(domain=settings.email_from.partition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"
    # One-click opt-out in the mail client (RFC 8058), and the link in the text.
    message["List-Unsubscribe"] = f"<{stop}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    body = catalogue.text(language, "email_body").format(
        sender=name, link=link, days=LINK_DAYS, stop=stop
    )
    message.set_content(body)
    return message


def send_one(
    session: Session,
    org: Organisation,
    settings: SurveySettings,
    invitation: SurveyInvitation,
    config: DispatchConfig,
    *,
    sms_factory: SmsFactory,
    mail_factory: MailFactory,
) -> tuple[str, str | None, str | None, str | None]:
    """Send a claimed invitation: (status, reason, provider, provider id)."""
    assert invitation.recipient is not None
    recipient = unseal(invitation.recipient, config.secret_key, RECIPIENTS)
    language = invitation.locale
    link = survey_url(config, invitation)
    try:
        if invitation.channel == "phone":
            secret = unseal(settings.sms_secret, config.secret_key) if settings.sms_secret else ""
            sender = sms_factory(settings, secret)
            sent = sender.send(
                recipient,
                sms_text(settings, org, language, link),
                status_url=status_url(config, invitation),
            )
            return "sent", None, sent.provider, sent.message_id
        password = (
            unseal(settings.smtp_password, config.secret_key) if settings.smtp_password else ""
        )
        mailer = mail_factory(settings, password)
        message = email_message(
            settings, org, language, recipient, link, stop_url(config, invitation)
        )
        mailer.send(message)
        return "sent", None, "smtp", str(message["Message-ID"])[:128]
    except (SmsError, MailError) as exc:
        return ("waiting" if exc.retry else "failed"), exc.reason, None, None


def send_pending_for(
    session: Session,
    org: Organisation,
    settings: SurveySettings,
    config: DispatchConfig,
    *,
    now: datetime | None = None,
    sms_factory: SmsFactory = sms_sender,
    mail_factory: MailFactory = mail_sender,
    result: DispatchResult | None = None,
) -> DispatchResult:
    """One organisation's due surveys. Commits after each step (see the module's docstring)."""
    assert org.id is not None
    result = result or DispatchResult()
    now = now or utcnow()
    with unit_of_work(session):
        result.expired += _expire(session, org.id, now)
    rows = (
        session.execute(
            sa.select(
                INV,
                C.c.answered_at.label("contact_answered_at"),
                C.c.ended_at.label("contact_ended_at"),
                C.c.id.label("contact_row"),
            )
            .select_from(INV)
            .outerjoin(
                C,
                sa.and_(
                    C.c.organisation_id == INV.c.organisation_id,
                    C.c.channel == INV.c.channel,
                    C.c.contact_id == INV.c.contact_id,
                ),
            )
            .where(
                INV.c.organisation_id == org.id,
                INV.c.status == "waiting",
                INV.c.recipient.is_not(None),
            )
            .order_by(INV.c.captured_at, INV.c.id)
            .limit(500)
        )
        .mappings()
        .all()
    )
    session.rollback()
    working_day = _working_day(session, org)
    session.rollback()
    language = catalogue.language_of(settings.language, org.country)
    since = now - timedelta(days=settings.min_days_between)
    for row in rows:
        enabled = settings.phone_enabled if row["channel"] == "phone" else settings.email_enabled
        contact = row if row["contact_row"] is not None else None
        state, when = _due(row, contact, settings)
        skip = None
        if not enabled:
            skip = "surveys of this channel were turned off"
        elif state == "skip":
            skip = "the call was not answered"
        elif state == "wait" or when is None or when > now:
            result.waiting += 1
            continue
        elif (
            row["channel"] == "phone"
            and next_send_time(
                when,
                org.timezone,
                settings.quiet_start,
                settings.quiet_end,
                None if settings.sms_on_closed_days else working_day,
            )
            > now
        ):
            result.waiting += 1  # quiet hours or a closed day: a later run sends it
            continue
        claimed = False
        with unit_of_work(session):  # the checks and the claim under the writers' turn
            if skip is None and _opted_out(session, org.id, row["caller_hash"]):
                skip = "opted out"
            elif skip is None and _recently_surveyed(
                session, org.id, row["caller_hash"], row["id"], since
            ):
                skip = f"surveyed within {settings.min_days_between} days"
            if skip is not None:
                _skip(session, row["id"], skip)
            else:
                claimed = _claim(session, row["id"], language)
        if skip is not None:
            result.skipped += 1
            continue
        if not claimed:
            continue
        invitation = session.get(SurveyInvitation, row["id"])
        assert invitation is not None
        session.expunge(invitation)
        session.rollback()
        status, reason, provider, provider_id = send_one(
            session,
            org,
            settings,
            invitation,
            config,
            sms_factory=sms_factory,
            mail_factory=mail_factory,
        )
        values: dict[str, object] = {"status": status, "reason": reason}
        if status == "sent":
            values |= {
                "recipient": None,
                "sent_at": now,
                "provider": provider,
                "provider_id": provider_id,
            }
            if row["channel"] == "phone" and asks_by_reply(settings):
                values["sms_step"] = 0  # a digit in reply answers the first question
            result.sent += 1
        elif status == "failed":
            values["recipient"] = None
            result.failed += 1
        else:
            result.waiting += 1  # a passing fault: tried again next run, until it expires
        if reason:
            result.reasons[reason] = result.reasons.get(reason, 0) + 1
        with unit_of_work(session):
            session.execute(sa.update(INV).where(INV.c.id == row["id"]).values(**values))
        log.info(
            "survey dispatch",
            organisation=org.slug,
            invitation=row["id"],
            channel=row["channel"],
            status=status,
            reason=reason,
        )
    return result


def send_pending(
    engine: Engine,
    config: DispatchConfig,
    *,
    now: datetime | None = None,
    sms_factory: SmsFactory = sms_sender,
    mail_factory: MailFactory = mail_sender,
) -> DispatchResult:
    """Every organisation's due surveys (the scheduler's job and the CLI command)."""
    result = DispatchResult()
    with Session(engine, expire_on_commit=False) as session:
        pairs = session.execute(
            sa.select(Organisation, SurveySettings).join(
                SurveySettings,
                col(SurveySettings.organisation_id) == col(Organisation.id),
            )
        ).all()
        # Detached, so the commits and rollbacks below never reload them mid-way.
        session.expunge_all()
        session.rollback()
        for org, settings in pairs:
            send_pending_for(
                session,
                org,
                settings,
                config,
                now=now,
                sms_factory=sms_factory,
                mail_factory=mail_factory,
                result=result,
            )
    return result
