"""Survey responses and the contacts they are about.

A response names a contact id and maybe a channel. It belongs to the contact of that channel;
one that named no channel belongs to the phone contact with the id if there is one, else to the
e-mail contact (docs/metrics.md, Surveys). The latest answer per (contact id, question) counts.

The fold copies each contact's scores onto the contact row (``treatment_score`` ...; none when
the citizen said no to "did you get an answer?", kept as ``got_answer``) and marks
each response ``matched`` when a contact with its id exists, so the survey figures are read from
the contacts alone and the report counts unmatched responses from a small partial index. Both
are recomputed from the stored rows for every contact id a delivery touches, whichever of
response and contact came first, so arrival order cannot change them.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from servicedesk.contacts.models import Contact, SurveyResponse, scored
from servicedesk.db import dialect_of, insert_for, table_of
from servicedesk.metrics.definitions import FILTER_QUESTION, QUESTIONS

C = table_of(Contact)
SR = table_of(SurveyResponse)


@lru_cache(maxsize=4)
def _survey_upsert(dialect: str) -> Any:
    stmt = insert_for(dialect, SR)
    newer = sa.or_(
        stmt.excluded.occurred_at > SR.c.occurred_at,
        sa.and_(
            stmt.excluded.occurred_at == SR.c.occurred_at,
            stmt.excluded.event_id > SR.c.event_id,
        ),
    )
    return stmt.on_conflict_do_update(
        index_elements=["organisation_id", "contact_id", "question"],
        set_={
            name: stmt.excluded[name] for name in ("channel", "score", "occurred_at", "event_id")
        },
        where=newer,
    )


def record_survey_responses(session: Session, org_id: int, events: list[Any]) -> int:
    """Keep the latest answer per (contact, question); an older or repeated one changes nothing."""
    latest: dict[tuple[str, str], Any] = {}
    for e in events:
        key = (e["contact_id"], e["question"])
        if key not in latest or (e["occurred_at"], e["event_id"]) > (
            latest[key]["occurred_at"],
            latest[key]["event_id"],
        ):
            latest[key] = e
    if not latest:
        return 0
    rows = [
        {
            "organisation_id": org_id,
            "contact_id": e["contact_id"],
            "channel": e["channel"],
            "question": e["question"],
            "score": e["score"],
            "occurred_at": e["occurred_at"],
            "event_id": e["event_id"],
        }
        for _, e in sorted(latest.items())
    ]
    session.connection().execute(_survey_upsert(dialect_of(session)), rows)
    return len(rows)


def _belongs_to_contact() -> sa.ColumnElement[bool]:
    """The response row ``SR`` is about the contact row ``C`` (same organisation and id)."""
    phone = C.alias("phone_twin")
    phone_twin = (
        sa.exists()
        .where(
            phone.c.organisation_id == C.c.organisation_id,
            phone.c.contact_id == C.c.contact_id,
            phone.c.channel == "phone",
        )
        .correlate_except(phone)
    )
    return sa.and_(
        SR.c.organisation_id == C.c.organisation_id,
        SR.c.contact_id == C.c.contact_id,
        sa.or_(
            SR.c.channel == C.c.channel,
            sa.and_(SR.c.channel.is_(None), sa.or_(C.c.channel == "phone", ~phone_twin)),
        ),
    )


def _score(question: str) -> Any:
    return (
        sa.select(SR.c.score)
        .where(_belongs_to_contact(), SR.c.question == question)
        .scalar_subquery()
    )


def _said_no() -> Any:
    """The contact's citizen answered no to "did you get an answer?": no score counts."""
    return sa.exists().where(
        _belongs_to_contact(), SR.c.question == FILTER_QUESTION, SR.c.score == 0
    )


def _got_answer() -> Any:
    answer = _score(FILTER_QUESTION)
    return sa.case((answer == 1, sa.true()), (answer == 0, sa.false()), else_=sa.null())


_IDS: sa.BindParameter[list[str]] = sa.bindparam("ids", expanding=True)
_ORG: sa.BindParameter[int] = sa.bindparam("org_id")

#: The scores of every contact with one of the ids, from the responses that belong to it.
_SET_SCORES = (
    sa.update(C)
    .where(
        C.c.organisation_id == _ORG,
        C.c.contact_id.in_(_IDS),
        # Only contacts with responses (or scores from before, which may have to go).
        sa.or_(
            sa.exists().where(SR.c.organisation_id == _ORG, SR.c.contact_id == C.c.contact_id),
            scored(),
        ),
    )
    .values(
        {
            **{f"{q}_score": sa.case((_said_no(), sa.null()), else_=_score(q)) for q in QUESTIONS},
            "got_answer": _got_answer(),
        }
    )
)

#: Responses with one of the ids learn whether a contact with their id exists.
_SET_MATCHED = (
    sa.update(SR)
    .where(SR.c.organisation_id == _ORG, SR.c.contact_id.in_(_IDS))
    .values(
        matched=sa.exists().where(
            C.c.organisation_id == SR.c.organisation_id, C.c.contact_id == SR.c.contact_id
        )
    )
)


def link_surveys(session: Session, org_id: int, contact_ids: set[str]) -> None:
    """Recompute the scores on the contacts and ``matched`` on the responses of these ids."""
    ids = sorted(contact_ids)
    if not ids:
        return
    conn = session.connection()
    for start in range(0, len(ids), 500):
        params = {"org_id": org_id, "ids": ids[start : start + 500]}
        conn.execute(_SET_SCORES, params)
        conn.execute(_SET_MATCHED, params)
