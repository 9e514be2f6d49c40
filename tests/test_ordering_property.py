"""Any order, any repeats, any split into deliveries: the same contacts and survey answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from servicedesk.contacts.models import Contact, SurveyResponse
from servicedesk.orgs.models import Queue
from tests.helpers import post

BASE = datetime(2026, 3, 27, 21, 30, tzinfo=UTC)  # near a month end and the DST weekend


def _at(minutes: int) -> str:
    return (BASE + timedelta(minutes=minutes)).isoformat()


def _scenario() -> list[dict[str, Any]]:
    """Calls and e-mails with ties, corrections and late survey answers."""
    events = []
    for n in range(4):
        c = f"call{n}"
        events += [
            {
                "id": f"{c}q",
                "type": "call.queued",
                "contact_id": c,
                "occurred_at": _at(n),
                "queue": ["Växel", "Bygglov"][n % 2],
                "caller": f"+4670000000{n}",
            },
            {
                "id": f"{c}a",
                "type": "call.answered",
                "contact_id": c,
                "occurred_at": _at(n + 2),
                "agent": f"a{n}",
            },
            {
                "id": f"{c}e1",
                "type": "call.ended",
                "contact_id": c,
                "occurred_at": _at(n + 9),
                "direct_answer": n % 2 == 0,
            },
            # A second verdict at the same instant: the tie is broken by event id, not arrival.
            {
                "id": f"{c}e2",
                "type": "call.ended",
                "contact_id": c,
                "occurred_at": _at(n + 9),
                "direct_answer": n % 2 == 1,
            },
            {
                "id": f"{c}s1",
                "type": "survey.response",
                "contact_id": c,
                "occurred_at": _at(99),
                "question": "treatment",
                "score": 2 + n,
            },
            {
                "id": f"{c}s2",
                "type": "survey.response",
                "contact_id": c,
                "occurred_at": _at(99),
                "question": "treatment",
                "score": 1 + n,
            },
        ]
    for n in range(3):
        m = f"mail{n}"
        events += [
            {
                "id": f"{m}r",
                "type": "email.received",
                "contact_id": m,
                "occurred_at": _at(5 * n),
                "queue": "Skola",
                "caller": f"x{n}@example.se",
            },
            {
                "id": f"{m}p1",
                "type": "email.replied",
                "contact_id": m,
                "occurred_at": _at(5 * n + 600),
            },
            {
                "id": f"{m}p0",
                "type": "email.replied",
                "contact_id": m,
                "occurred_at": _at(5 * n - 60),
            },
            {
                "id": f"{m}p2",
                "type": "email.replied",
                "contact_id": m,
                "occurred_at": _at(5 * n + 3000),
                "agent": "late",
            },
        ]
    return events


EVENTS = _scenario()
IGNORED = {"id", "organisation_id", "updated_at", "queue_id"}


def _state(db, org_id: int) -> tuple[dict[str, dict], set[tuple]]:
    """Contacts keyed by contact id (queue by name, not by id) and the survey answers."""
    queues = dict(db.execute(sa.select(Queue.id, Queue.name)).all())
    contacts = {}
    for c in db.scalars(sa.select(Contact).where(Contact.organisation_id == org_id)):
        row = {k: v for k, v in c.model_dump().items() if k not in IGNORED}
        row["queue"] = queues.get(c.queue_id)
        contacts[c.contact_id] = row
    surveys = set(
        db.execute(
            sa.select(
                SurveyResponse.contact_id, SurveyResponse.question, SurveyResponse.score
            ).where(SurveyResponse.organisation_id == org_id)
        ).all()
    )
    return contacts, surveys


deliveries = st.lists(
    st.lists(st.sampled_from(range(len(EVENTS))), min_size=1, max_size=12),
    min_size=1,
    max_size=10,
)


def test_reference_state_is_what_the_definitions_say(client, db, org, token):
    post(client, token, {"events": EVENTS})
    contacts, surveys = _state(db, org.id)
    assert len(contacts) == 7
    call0, call1, mail0 = contacts["call0"], contacts["call1"], contacts["mail0"]
    assert call0["wait_seconds"] == 120 and call0["agent"] == "a0"
    assert call0["queue"] == "Växel" and call1["queue"] == "Bygglov"
    # e2 sorts after e1 at the same instant, so its verdict stands: False for call0.
    assert call0["direct_answer"] is False and call1["direct_answer"] is True
    # The reply before the received message does not answer it; the first one after does.
    assert mail0["answered_at"] == BASE + timedelta(minutes=600)
    assert mail0["agent"] == "late"
    # Two answers at the same instant: s2 sorts last and wins (score 1 + n).
    assert {s for s in surveys if s[0] in ("call0", "call3")} == {
        ("call0", "treatment", 1),
        ("call3", "treatment", 4),
    }


@pytest.mark.slow
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(order=st.permutations(range(len(EVENTS))), extra=deliveries, split=st.integers(1, 40))
def test_any_order_with_repeats_gives_the_same_state(
    client, db, make_org, make_token, order, extra, split
):
    reference_org = make_org()
    post(client, make_token(reference_org), {"events": EVENTS})
    expected = _state(db, reference_org.id)

    org = make_org()
    token = make_token(org)
    sequence = [EVENTS[i] for i in order]
    for i in range(0, len(sequence), split):
        assert post(client, token, {"events": sequence[i : i + split]}).status_code == 202
    for batch in extra:  # repeats, in arbitrary groupings, after everything arrived
        assert post(client, token, {"events": [EVENTS[i] for i in batch]}).status_code == 202
    assert _state(db, org.id) == expected
