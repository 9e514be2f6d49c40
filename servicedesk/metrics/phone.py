"""Phone figures: calls offered, answered, abandoned, answered directly, within the service
level, and their waits (mean, median, 90th percentile), as docs/metrics.md defines them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import sqlalchemy as sa

from servicedesk.metrics.arithmetic import rate, rounded
from servicedesk.metrics.channel import Channel
from servicedesk.metrics.groups import C, count_if
from servicedesk.metrics.percentiles import MEDIAN, P90
from servicedesk.orgs.models import Organisation


class PhoneMeasures(NamedTuple):
    """The additive measures of the calls of a cell or group."""

    offered: int = 0
    answered: int = 0
    #: Calls answered within the organisation's service level.
    within: int = 0
    #: Calls whose call.ended said the question was answered in the call.
    direct: int = 0
    #: The sum of the answered calls' waits (s).
    wait_sum: float = 0
    #: The events the calls were folded from.
    events: int = 0


def aggregates(org: Organisation) -> list[sa.Label[Any]]:
    """PhoneMeasures as SQL over the calls (a call's ``answer_seconds`` is its wait)."""
    wait = C.c.answer_seconds
    return [
        sa.func.count().label("offered"),
        sa.func.count(wait).label("answered"),
        count_if(wait <= org.service_level_seconds).label("within"),
        count_if(C.c.direct_answer).label("direct"),
        sa.func.sum(wait).label("wait_sum"),
        sa.func.sum(C.c.event_count).label("events"),
    ]


def phone_section(
    org: Organisation, m: PhoneMeasures, waits: Sequence[float | None]
) -> dict[str, Any]:
    """The phone figures of the report from the measures and the wait (median, p90)."""
    abandoned = m.offered - m.answered
    return {
        "offered": int(m.offered),
        "answered": int(m.answered),
        "abandoned": int(abandoned),
        "direct_answers": int(m.direct),
        "direct_answer_rate": rate(m.direct, m.offered),
        "abandon_rate": rate(abandoned, m.offered),
        "service_level": rate(m.within, m.offered),
        "service_level_seconds": org.service_level_seconds,
        "wait_seconds": {
            "mean": rounded(m.wait_sum / m.answered) if m.answered else None,
            "median": rounded(waits[0]),
            "p90": rounded(waits[1]),
        },
    }


PHONE = Channel(
    name="phone",
    measures=PhoneMeasures,
    aggregates=aggregates,
    percentiles=(MEDIAN, P90),
    timed="answered",
    section=phone_section,
)


def empty_phone(org: Organisation) -> dict[str, Any]:
    """The phone figures of a period without calls."""
    return PHONE.empty(org)
