"""Per-agent figures with hand-computed values (both engines)."""

from __future__ import annotations

from datetime import date

from servicedesk.metrics.agents import agent_figures
from tests.helpers import event, ingest


def test_agents_of_a_period(db, org) -> None:
    ingest(
        db,
        org,
        # a1: two calls (270 s direct, 90 s not direct), graded 5 and 3; one e-mail answered.
        event("call.queued", "c1", "2026-06-10T09:00:00+02:00", queue="Bygglov"),
        event("call.answered", "c1", "2026-06-10T09:00:30+02:00", agent="a1"),
        event("call.ended", "c1", "2026-06-10T09:05:00+02:00", direct_answer=True),
        event("call.queued", "c2", "2026-06-11T09:00:00+02:00", queue="Bygglov"),
        event("call.answered", "c2", "2026-06-11T09:00:10+02:00", agent="a1"),
        event("call.ended", "c2", "2026-06-11T09:01:40+02:00", direct_answer=False),
        event("survey.response", "c1", "2026-06-10T09:10:00+02:00", channel="phone",
              question="treatment", score=5),
        event("survey.response", "c2", "2026-06-11T09:10:00+02:00", channel="phone",
              question="ease", score=3),
        event("email.received", "m1", "2026-06-10T08:00:00+02:00", queue="Bygglov"),
        event("email.replied", "m1", "2026-06-10T10:00:00+02:00", agent="a1"),
        # b2: one call answered, no end yet; one e-mail not answered.
        event("call.queued", "c3", "2026-06-12T10:00:00+02:00", queue="Växel"),
        event("call.answered", "c3", "2026-06-12T10:00:20+02:00", agent="b2"),
        event("email.received", "m2", "2026-06-12T08:00:00+02:00", queue="Växel", agent="b2"),
        # Outside the period.
        event("call.queued", "c4", "2026-07-01T10:00:00+02:00", queue="Växel"),
        event("call.answered", "c4", "2026-07-01T10:00:20+02:00", agent="a1"),
    )  # fmt: skip
    figs = agent_figures(db, org, date(2026, 6, 1), date(2026, 6, 30))
    assert list(figs) == ["a1", "b2"]
    assert figs["a1"] == {
        "calls_answered": 2,
        "direct_answers": 1,
        "direct_answer_rate": 50.0,
        "handle_seconds": {"calls": 2, "mean": 180.0, "median": 180.0},
        "emails_answered": 1,
        "survey_responses": 2,
        "survey_index": 75.0,  # (100 + 50) / 2
    }
    assert figs["b2"]["calls_answered"] == 1
    assert figs["b2"]["handle_seconds"] == {"calls": 0, "mean": None, "median": None}
    assert figs["b2"]["emails_answered"] == 0
    assert figs["b2"]["survey_index"] is None
    # One queue only.
    vaxel = agent_figures(db, org, date(2026, 6, 1), date(2026, 6, 30), queue_ids=[])
    assert vaxel == {}
