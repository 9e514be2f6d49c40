"""Tables of the notifications feature: endpoints and the delivery log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import JSON, Column, Field, SQLModel

from servicedesk import db as _db  # noqa: F401  (naming convention before the first table)
from servicedesk.timeutil import utcnow


class NotificationEndpoint(SQLModel, table=True):
    """Where to announce an organisation's frozen reports.

    Incoming-webhook URLs of Teams and Slack are credentials, so the URL is kept encrypted like
    the webhook's signing secret; ``url_hint`` (scheme and host) is what lists show.
    """

    __tablename__ = "notification_endpoints"
    id: int = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisations.id", ondelete="CASCADE", index=True)
    #: "webhook", "teams", "slack" or "email" (the monthly report to a person, its address in
    #: ``url_sealed``).
    kind: str = Field(max_length=16)
    url_sealed: str = Field(sa_type=sa.Text)
    url_hint: str = Field(max_length=200)
    secret_sealed: str | None = Field(default=None, max_length=300)
    #: The language of an e-mail recipient's report (sv, nb, en); empty for the other kinds.
    language: str = Field(default="", max_length=8, sa_column_kwargs={"server_default": ""})
    #: Reports up to this id existed before the endpoint and are not announced to it.
    since_report_id: int = 0
    created_at: datetime = Field(default_factory=utcnow)


class NotificationDelivery(SQLModel, table=True):
    """One report announced (or being announced) to one endpoint, with every attempt logged."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (
        sa.UniqueConstraint("endpoint_id", "report_id"),
        sa.Index("ix_notification_deliveries_due", "status", "next_attempt_at"),
    )
    id: int = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisations.id", ondelete="CASCADE", index=True)
    endpoint_id: int = Field(foreign_key="notification_endpoints.id", ondelete="CASCADE")
    report_id: int = Field(foreign_key="reports.id", ondelete="CASCADE")
    #: "pending", "delivered" or "failed" (gave up).
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    last_status: int | None = None
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    #: Every attempt: {"at", "status", "error"}.
    log: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    delivered_at: datetime | None = None
