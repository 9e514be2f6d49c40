"""Tables of the contacts feature, the rows the metrics read."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from servicedesk import db as _db  # noqa: F401  (naming convention before the first table)
from servicedesk.db import table_of
from servicedesk.metrics.definitions import QUESTIONS

#: A contact with at least one survey score: the predicate of the survey figures' partial index
#: (queries name it with ``scored()`` so that the planners see they may use the index).
SURVEYED = sa.text(
    "treatment_score IS NOT NULL OR ease_score IS NOT NULL OR clarity_score IS NOT NULL"
    " OR got_answer IS NOT NULL"
)
#: A survey response about no known contact: the predicate of the responses' partial index.
UNMATCHED = sa.text("NOT matched")
#: A call with a handle time: the predicate of the handle-time indexes (queries name it with
#: ``Contact.handle_seconds IS NOT NULL`` so that the planners see they may use them).
HANDLED = sa.text("handle_seconds IS NOT NULL")


class Contact(SQLModel, table=True):
    """One call or e-mail thread, derived from all of its events (never edited by hand).

    Every column is a function of the set of the contact's events, not of their arrival order,
    so folding again after any delivery gives the same row.
    """

    __tablename__ = "contacts"
    __table_args__ = (
        # (organisation, contact id) first: survey responses find their contact(s) by it whatever
        # the channel, and the fold's upsert names the same three columns as its conflict target.
        sa.UniqueConstraint("organisation_id", "contact_id", "channel"),
        sa.Index("ix_contacts_caller", "organisation_id", "caller_hash"),
        # The indexes below are what makes a month's report a few index walks (see
        # servicedesk/metrics/): every figure query is answered from one of them alone.
        # Additive figures of a channel over a date range, grouped by (day, queue) in index order.
        sa.Index(
            "ix_contacts_rollup",
            "organisation_id",
            "channel",
            "start_date",
            "queue_id",
            "answered_local_date",
            "answer_seconds",
            "direct_answer",
            "event_count",
        ),
        # Exact percentiles: the answered contacts' times in order, per month, per month and
        # queue, and per day (LIMIT/OFFSET walks these instead of sorting).
        sa.Index("ix_contacts_month_times", "organisation_id", "channel", "start_month",
                 "answer_seconds"),
        sa.Index("ix_contacts_month_queue_times", "organisation_id", "channel", "start_month",
                 "queue_id", "answer_seconds"),
        sa.Index("ix_contacts_day_times", "organisation_id", "channel", "start_date",
                 "answer_seconds"),
        # Handle time (answered -> ended, phone): the handled calls' times in order per month and
        # per month and queue, with the day (and queue) alongside so that a period that is not
        # whole months is walked from the index alone (servicedesk/metrics/handling.py).
        sa.Index("ix_contacts_month_handle", "organisation_id", "start_month", "handle_seconds",
                 "start_date", "queue_id", sqlite_where=HANDLED, postgresql_where=HANDLED),
        sa.Index("ix_contacts_month_queue_handle", "organisation_id", "start_month", "queue_id",
                 "handle_seconds", "start_date", sqlite_where=HANDLED, postgresql_where=HANDLED),
        # The survey figures read only contacts that got a response (a small share of them).
        sa.Index(
            "ix_contacts_surveyed",
            "organisation_id",
            "start_date",
            "queue_id",
            "channel",
            "answered_at",
            "treatment_score",
            "ease_score",
            "clarity_score",
            "got_answer",
            sqlite_where=SURVEYED,
            postgresql_where=SURVEYED,
        ),
    )  # fmt: skip
    id: int = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisations.id", ondelete="CASCADE")
    channel: str = Field(max_length=8)
    contact_id: str = Field(max_length=256)
    queue_id: int | None = Field(default=None, foreign_key="queues.id", ondelete="SET NULL")
    agent: str | None = Field(default=None, max_length=128)
    caller_hash: str | None = Field(default=None, max_length=80)
    #: The earliest call.queued / email.received, or the earliest event if those never came.
    started_at: datetime
    #: The local calendar date of started_at in the organisation's time zone (the period key).
    start_date: date
    #: The month of start_date as year * 100 + month (202606): the key of the month indexes.
    start_month: int
    #: Phone: the earliest call.answered. E-mail: the first email.replied after received.
    answered_at: datetime | None = None
    #: Phone: the latest call.ended.
    ended_at: datetime | None = None
    #: Phone: answered_at - started_at in seconds (answered calls only).
    wait_seconds: float | None = None
    #: Phone: ended_at - answered_at in seconds (the handle time), for calls answered and
    #: ended in that order; set by the fold like the wait, so that its figures need no arithmetic.
    handle_seconds: float | None = None
    #: Phone: the call.ended event said the question was answered in the call.
    direct_answer: bool | None = None
    #: Wall-clock seconds since local midnight of started_at (working time, see calendars/).
    start_local_seconds: float | None = None
    #: The local date and wall-clock seconds-of-day of answered_at (working time, see calendars/).
    answered_local_date: date | None = None
    answered_local_seconds: float | None = None
    #: The time to the answer that the percentiles are of, answered contacts only. Phone: the
    #: wait (= wait_seconds). E-mail: working seconds from receipt to answer by the
    #: organisation's calendar, set by the fold and recomputed when the calendar changes.
    answer_seconds: float | None = None
    #: The contact's survey scores (1-5), copied from survey_responses by the fold so that the
    #: survey figures need no join: see contacts/surveys.py for which response is whose.
    treatment_score: int | None = Field(default=None, sa_type=sa.SmallInteger)
    ease_score: int | None = Field(default=None, sa_type=sa.SmallInteger)
    clarity_score: int | None = Field(default=None, sa_type=sa.SmallInteger)
    #: The citizen's answer to "did you get an answer?" (SKR's e-mail filter), where asked. When
    #: it is no, the scores above stay empty: only those who got an answer are scored.
    got_answer: bool | None = None
    event_count: int = 0
    updated_at: datetime


class SurveyResponse(SQLModel, table=True):
    """A citizen's grade for one question of one contact; the latest answer counts."""

    __tablename__ = "survey_responses"
    __table_args__ = (
        sa.UniqueConstraint("organisation_id", "contact_id", "question"),
        sa.Index(
            "ix_survey_responses_unmatched",
            "organisation_id",
            "occurred_at",
            sqlite_where=UNMATCHED,
            postgresql_where=UNMATCHED,
        ),
    )
    id: int = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisations.id", ondelete="CASCADE")
    contact_id: str = Field(max_length=256)
    #: The channel the sender named, or null when it did not (then any channel's contact matches).
    channel: str | None = Field(default=None, max_length=8)
    question: str = Field(max_length=16)
    #: The grade 1-5; for the yes/no question ``got_answer``, 1 for yes and 0 for no.
    score: int
    occurred_at: datetime
    event_id: str = Field(max_length=128)
    #: Whether a contact with this contact id exists (kept by the fold): the report counts the
    #: responses about contacts never seen from the small partial index, not by probing.
    matched: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})


def scored() -> sa.ColumnElement[bool]:
    """The contact has a survey score (``SURVEYED`` as an expression on the contacts table)."""
    table = table_of(Contact)
    return sa.or_(
        *(table.c[f"{q}_score"].is_not(None) for q in QUESTIONS), table.c.got_answer.is_not(None)
    )
