"""Tables of the surveys feature: each organisation's settings, the invitations, the opt-outs.

An invitation is one contact chosen for a survey. It holds the citizen's number or address only
while it is needed to send the message: sealed (encrypted), and emptied when the message is
sent or when ``expires_at`` passes, at most 48 hours after it was captured (docs/privacy.md).
What stays is the dispatch log: the contact, the person's pseudonym (for "one survey per person
per N days"), what happened and when.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import JSON, Column, Field, SQLModel

from servicedesk import db as _db  # noqa: F401  (naming convention before the first table)
from servicedesk.timeutil import utcnow

#: What became of an invitation. waiting: captured, the contact not over yet (or inside the
#: delay or quiet hours); sent: handed to the provider; delivered / failed: as the provider
#: reported; expired: the number was deleted unsent; skipped: not sent, ``reason`` says why
#: (opted out, surveyed recently, ...); answered: the citizen answered.
STATUSES = ("waiting", "sent", "delivered", "failed", "expired", "skipped", "answered")


class SurveySettings(SQLModel, table=True):
    """An organisation's survey settings; no row means surveys are off."""

    __tablename__ = "survey_settings"
    organisation_id: int = Field(
        foreign_key="organisations.id", ondelete="CASCADE", primary_key=True
    )
    phone_enabled: bool = False
    email_enabled: bool = False
    #: The share of contacts surveyed, in per cent (random sampling).
    share_percent: float = 100.0
    #: At most one survey per person (pseudonym) in this many days.
    min_days_between: int = 90
    #: Minutes after the contact ended (a call) or was answered (an e-mail) before sending.
    delay_minutes: int = 10
    #: No SMS from this local time until quiet_end (wrapping midnight), nor on non-working days.
    quiet_start: str = Field(default="20:00", max_length=5)
    quiet_end: str = Field(default="08:00", max_length=5)
    #: Whether SMS may go out on weekends and holidays (by the organisation's calendar).
    sms_on_closed_days: bool = False
    #: The language of messages and of the survey page: sv, nb or en ("" = the country's).
    language: str = Field(default="", max_length=2)
    #: The name the citizen sees ("Kumla kommun"); the organisation's name when empty.
    sender_name: str = Field(default="", max_length=80)
    #: "46elks" or "twilio" ("" = no SMS provider).
    sms_provider: str = Field(default="", max_length=16)
    #: 46elks: API username; Twilio: Account SID.
    sms_account: str = Field(default="", max_length=64)
    #: 46elks: API password; Twilio: Auth Token. Sealed with the app's secret key.
    sms_secret: str = Field(default="", max_length=600)
    #: The SMS sender: a number in E.164 or an alphanumeric id of at most 11 characters.
    sms_from: str = Field(default="", max_length=16)
    #: The SHA-256 of the secret in the URL the SMS provider posts replies to (``/s/sms/<secret>``;
    #: "" = no reply address yet). The secret itself is shown once, when it is made.
    sms_inbound_hash: str = Field(default="", max_length=80, index=True)
    #: Whether the SMS asks the questions themselves, answered by replying a digit 1-5 (needs a
    #: number as sender and the reply address); the link is in the SMS either way.
    sms_replies: bool = False
    smtp_host: str = Field(default="", max_length=255)
    smtp_port: int = 587
    #: "starttls", "tls" (implicit, port 465) or "none" (a relay on the local network only).
    smtp_security: str = Field(default="starttls", max_length=8)
    smtp_username: str = Field(default="", max_length=255)
    #: Sealed with the app's secret key.
    smtp_password: str = Field(default="", max_length=600)
    email_from: str = Field(default="", max_length=320)
    #: Wording overrides: {language: {question key: text}}; SKR's (or the Norwegian) set otherwise.
    wording: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow)


class SurveyInvitation(SQLModel, table=True):
    """One contact chosen for a survey, and what became of its survey (the dispatch log)."""

    __tablename__ = "survey_invitations"
    __table_args__ = (
        sa.UniqueConstraint("organisation_id", "channel", "contact_id"),
        sa.Index("ix_survey_invitations_person", "organisation_id", "caller_hash", "sent_at"),
        sa.Index("ix_survey_invitations_status", "status", "expires_at"),
    )
    id: int = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisations.id", ondelete="CASCADE")
    channel: str = Field(max_length=8)
    contact_id: str = Field(max_length=256)
    #: The person's pseudonym (as on the contact): one survey per person per N days, opt-outs.
    caller_hash: str = Field(max_length=80)
    #: The number or address, sealed; empty once sent or expired.
    recipient: str | None = Field(default=None, max_length=1200)
    captured_at: datetime = Field(default_factory=utcnow)
    #: When the sealed recipient is deleted unsent (captured_at + at most 48 hours).
    expires_at: datetime
    status: str = Field(default="waiting", max_length=12)
    reason: str | None = Field(default=None, max_length=300)
    sent_at: datetime | None = None
    delivered_at: datetime | None = None
    answered_at: datetime | None = None
    #: "46elks", "twilio" or "smtp", and the provider's message id (for delivery reports).
    provider: str | None = Field(default=None, max_length=16)
    provider_id: str | None = Field(default=None, max_length=128, index=True)
    #: A random value in the link: a new invitation for the same contact gets a new link.
    nonce: str = Field(max_length=32)
    locale: str = Field(default="sv", max_length=2)
    attempts: int = 0
    #: For an SMS that asked for answers by reply: the index of the question a digit answers
    #: now (the number of questions once all are answered); None when it asked for none.
    sms_step: int | None = None
    #: The provider's id of the last reply taken, so a provider's retry of it is taken once.
    sms_reply_id: str | None = Field(default=None, max_length=64)


class SurveyOptOut(SQLModel, table=True):
    """A person who asked for no more surveys, by pseudonym only (kept until they ask again)."""

    __tablename__ = "survey_opt_outs"
    organisation_id: int = Field(
        foreign_key="organisations.id", ondelete="CASCADE", primary_key=True
    )
    caller_hash: str = Field(primary_key=True, max_length=80)
    #: "sms" (STOPP), "link" (the e-mail's link) or "admin".
    via: str = Field(max_length=8)
    created_at: datetime = Field(default_factory=utcnow)
