"""Per-agent figures of a period: calls answered, handle time, direct-answer share, e-mails
answered, and the citizens' survey index with its number of answers.

An agent is the id the telephony or e-mail system sent (``contacts.agent``: the agent who
answered the contact, else the first one named). These are personal data about staff: only the
Agents page reads them, when the organisation has turned it on (docs/privacy.md). Everything is
grouped by agent in the database; one row per agent leaves it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from servicedesk.contacts.models import scored
from servicedesk.metrics.arithmetic import rate, rounded
from servicedesk.metrics.definitions import QUESTIONS
from servicedesk.metrics.groups import C, count_if, id_list, period
from servicedesk.metrics.handling import empty_handle, handle_times
from servicedesk.orgs.models import Organisation


def _empty() -> dict[str, Any]:
    return {
        "calls_answered": 0,
        "direct_answers": 0,
        "direct_answer_rate": None,
        "handle_seconds": empty_handle(),
        "emails_answered": 0,
        "survey_responses": 0,
        "survey_index": None,
    }


def agent_figures(
    session: Session,
    org: Organisation,
    first: date,
    last: date,
    queue_ids: Iterable[int] | None = None,
) -> dict[str, dict[str, Any]]:
    """{agent id: figures} of the contacts started in ``first``..``last`` that name an agent.

    ``direct_answer_rate`` is of the agent's answered calls (an agent has no unanswered calls);
    ``survey_index`` is the mean of (score - 1) x 25 over every scored answer about the agent's
    contacts, all questions together, with ``survey_responses`` answers.
    """
    ids = id_list(queue_ids)
    where = [*period(org, first, last, ids), C.c.agent.is_not(None)]
    out: dict[str, dict[str, Any]] = {}
    phone = session.execute(
        sa.select(
            C.c.agent,
            sa.func.count(C.c.answered_at).label("answered"),
            count_if(sa.and_(C.c.answered_at.is_not(None), C.c.direct_answer)).label("direct"),
        )
        .where(*where, C.c.channel == "phone")
        .group_by(C.c.agent)
    )
    for row in phone:
        figs = out.setdefault(row.agent, _empty())
        figs["calls_answered"] = int(row.answered)
        figs["direct_answers"] = int(row.direct)
        figs["direct_answer_rate"] = rate(row.direct, row.answered)
    email = session.execute(
        sa.select(C.c.agent, sa.func.count(C.c.answered_local_date).label("answered"))
        .where(*where, C.c.channel == "email")
        .group_by(C.c.agent)
    )
    for row in email:
        out.setdefault(row.agent, _empty())["emails_answered"] = int(row.answered)
    scores = [C.c[f"{q}_score"] for q in QUESTIONS]
    survey = session.execute(
        sa.select(
            C.c.agent,
            sum((sa.func.count(s) for s in scores), sa.literal(0)).label("n"),
            sum((sa.func.coalesce(sa.func.sum(s), 0) for s in scores), sa.literal(0)).label(
                "total"
            ),
        )
        .where(*where, scored())
        .group_by(C.c.agent)
    )
    for row in survey:
        n = int(row.n)
        if n:
            figs = out.setdefault(row.agent, _empty())
            figs["survey_responses"] = n
            # mean of (score - 1) x 25 = (sum - n) x 25 / n
            figs["survey_index"] = rounded((float(row.total) - n) * 25 / n)
    handles = handle_times(session, org, first, last, ids, by="agent")
    for agent, handle in handles.items():
        if agent is not None:
            out.setdefault(agent, _empty())["handle_seconds"] = handle
    return dict(sorted(out.items()))
