# ruff: noqa: F811  (the fixtures of test_pages are imported by name)
"""What a team leader sees, they can take: every table and chart of the leader's pages as a CSV
in the exports' Excel dialect (BOM, ";", CRLF, decimal comma), a Print button beside it."""

from __future__ import annotations

import csv
import io

import pytest

from servicedesk.dashboard.agents import set_agents_enabled
from tests.web.test_pages import frozen_clock, traffic  # noqa: F401  (fixtures)


def _rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.data
    assert body.startswith(b"\xef\xbb\xbf")
    text = body.decode("utf-8-sig")
    assert "\r\n" in text
    return list(csv.reader(io.StringIO(text), delimiter=";"))


@pytest.mark.parametrize(
    ("url", "table"),
    [
        ("/period?period=2026-W25", "period-volume"),
        ("/period?period=2026-W25", "period-shares"),
        ("/period?period=2026-W25", "period-wait"),
        ("/period?period=2026-W25", "queues"),
        ("/month?month=2026-06", "trend-phone"),
        ("/month?month=2026-06", "queues"),
        ("/intervals?period=2026-W25&day=2026-06-17", "week-hours"),
        ("/intervals?period=2026-W25&day=2026-06-17", "day-intervals"),
        ("/intervals?period=2026-W25&day=2026-06-17", "intervals-calls"),
        ("/staffing", "staffing"),
        ("/staffing", "staffing-heat"),
        ("/", "today-hours"),
        ("/today/live", "queues"),
    ],
)
def test_every_table_as_csv(client, org, traffic, signed_in, url, table):
    signed_in(org, "team_leader")
    html = client.get(url).get_data(as_text=True)
    sep = "&amp;" if "?" in url else "?"
    assert f"csv={table}" in html, "no CSV link on the page"
    assert "data-print" in html
    rows = _rows(client.get(f"{url}{'&' if '?' in url else '?'}csv={table}"))
    assert len(rows) >= 2
    assert sep


def test_numbers_are_plain_with_a_decimal_comma(client, org, traffic, signed_in):
    signed_in(org, "team_leader")
    rows = _rows(client.get("/period?period=2026-W25&csv=queues"))
    header, *body = rows
    total = body[-1]
    assert total[0] == "Totalt"
    offered = header.index("Inkommande samtal")
    direct = header.index("Direkta svar")
    assert total[offered] == "4"
    assert total[direct] == "25,00"  # 25.0 % of offered: a number (decimal comma), no % sign


def test_the_agents_table_export_is_audited(client, org, traffic, signed_in, db):
    set_agents_enabled(db, org, True, "admin@test")
    db.commit()
    signed_in(org, "team_leader")
    rows = _rows(client.get("/agents?period=2026-W25&csv=agents"))
    assert rows[0][:2] == ["Handläggare", "Handläggar-id"]
    import sqlalchemy as sa

    from servicedesk.audit.models import AuditEntry

    actions = db.scalars(sa.select(AuditEntry.action)).all()
    assert "agents.export" in actions


def test_an_unknown_table_is_not_found(client, org, traffic, signed_in):
    signed_in(org, "team_leader")
    assert client.get("/period?period=2026-W25&csv=nothing").status_code == 404


def test_sender_text_cannot_become_a_formula(client, org, token, signed_in):
    from tests.helpers import event, post

    events = [event("call.queued", "x1", "2026-06-17T09:00:00+02:00", queue="=HYPERLINK(1)")]
    assert post(client, token, {"events": events}).status_code == 202
    signed_in(org, "team_leader")
    rows = _rows(client.get("/period?period=2026-W25&csv=queues"))
    assert rows[1][0] == "'=HYPERLINK(1)"
