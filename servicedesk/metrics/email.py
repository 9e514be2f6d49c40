"""E-mail figures: received, answered, answered within one and two working days, and the
median working time to the answer, as docs/metrics.md defines them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import sqlalchemy as sa

from servicedesk.metrics.arithmetic import rate, rounded
from servicedesk.metrics.channel import Channel
from servicedesk.metrics.definitions import ONE_WORKING_DAY, TWO_WORKING_DAYS
from servicedesk.metrics.groups import C, count_if
from servicedesk.metrics.percentiles import MEDIAN
from servicedesk.orgs.models import Organisation


class EmailMeasures(NamedTuple):
    """The additive measures of the e-mails of a cell or group."""

    received: int = 0
    answered: int = 0
    #: Answered within 24 / 48 working hours (an unanswered e-mail is not within).
    within_1: int = 0
    within_2: int = 0
    #: Answered e-mails with a working time (their dates inside the calendar).
    timed: int = 0
    #: The events the e-mails were folded from.
    events: int = 0


def aggregates(org: Organisation) -> list[sa.Label[Any]]:
    """EmailMeasures as SQL over the e-mails (``answer_seconds`` is the working time)."""
    worked = C.c.answer_seconds
    return [
        sa.func.count().label("received"),
        sa.func.count(C.c.answered_local_date).label("answered"),
        count_if(worked <= ONE_WORKING_DAY).label("within_1"),
        count_if(worked <= TWO_WORKING_DAYS).label("within_2"),
        sa.func.count(worked).label("timed"),
        sa.func.sum(C.c.event_count).label("events"),
    ]


def email_section(
    org: Organisation | None, m: EmailMeasures, times: Sequence[float | None]
) -> dict[str, Any]:
    """The e-mail figures of the report from the measures and the median working time (s)."""
    median_seconds = times[0]
    return {
        "received": int(m.received),
        "answered": int(m.answered),
        "within_1_working_day": rate(m.within_1, m.received),
        "within_2_working_days": rate(m.within_2, m.received),
        "median_working_hours": rounded(median_seconds / 3600)
        if median_seconds is not None
        else None,
    }


EMAIL = Channel(
    name="email",
    measures=EmailMeasures,
    aggregates=aggregates,
    percentiles=(MEDIAN,),
    timed="timed",
    section=email_section,
)


def empty_email() -> dict[str, Any]:
    """The e-mail figures of a period without e-mails."""
    return email_section(None, EmailMeasures(), [None])
