"""Today, Month, the drill-down and Reports, on a small known set of events."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import time_machine

from servicedesk.audit.models import AuditEntry
from servicedesk.metrics.periods import Month
from servicedesk.orgs.models import Queue
from servicedesk.reports.service import generate_report
from tests.helpers import event, post

TZ = ZoneInfo("Europe/Stockholm")
NOW = datetime(2026, 6, 17, 11, 0, tzinfo=TZ)  # a Wednesday


def at(day: int, hour: int, minute: int = 0, month: int = 6) -> str:
    return datetime(2026, month, day, hour, minute, tzinfo=TZ).isoformat()


@pytest.fixture(autouse=True)
def frozen_clock():
    """Every test of this module happens on a Wednesday in June 2026 (sessions included)."""
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def traffic(client, org, token):
    """Three calls in Bygglov, one in Växel, two e-mails, one survey answer; one call waiting."""
    events = [
        # Bygglov: answered after 30 s with a direct answer, rated 5 for treatment
        event("call.queued", "b1", at(17, 9), queue="Bygglov"),
        event("call.answered", "b1", at(17, 9)[:16] + ":30+02:00", queue="Bygglov"),
        event("call.ended", "b1", at(17, 9, 5), queue="Bygglov", agent="a1", direct_answer=True),
        event(
            "survey.response", "b1", at(17, 9, 10), channel="phone", question="treatment", score=5
        ),
        # Bygglov: abandoned
        event("call.queued", "b2", at(17, 9, 20), queue="Bygglov"),
        event("call.ended", "b2", at(17, 9, 22), queue="Bygglov"),
        # Bygglov: waiting now
        event("call.queued", "b3", at(17, 10, 58), queue="Bygglov"),
        # Växel: answered after 90 s, no direct answer
        event("call.queued", "v1", at(17, 10), queue="Växel"),
        event("call.answered", "v1", at(17, 10, 1)[:16] + ":30+02:00", queue="Växel", agent="a2"),
        event("call.ended", "v1", at(17, 10, 5), queue="Växel", agent="a2", direct_answer=False),
        # e-mails: one answered the next morning, one open since Monday
        event("email.received", "e1", at(16, 15), queue="Bygglov"),
        event("email.replied", "e1", at(17, 8), queue="Bygglov"),
        event("email.received", "e2", at(15, 9), queue="Växel"),
        # May: one call, for the month before
        event("call.queued", "m1", at(20, 9, month=5), queue="Bygglov"),
        event("call.answered", "m1", at(20, 9, 1, month=5), queue="Bygglov"),
        event("call.ended", "m1", at(20, 9, 3, month=5), queue="Bygglov", direct_answer=True),
    ]
    response = post(client, token, {"events": events})
    assert response.status_code == 202, response.get_data(as_text=True)


def _svgs(html: str) -> list[ET.Element]:
    found = []
    start = 0
    while (i := html.find("<svg", start)) != -1:
        j = html.find("</svg>", i) + len("</svg>")
        found.append(ET.fromstring(html[i:j]))
        start = j
    return found


def test_today_shows_the_live_state(client, org, traffic, signed_in):
    signed_in(org, "team_leader")
    page = client.get("/")
    live = client.get("/today/live")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and live.status_code == 200
    assert 'data-refresh-url="/today/live"' in html
    fragment = live.get_data(as_text=True)
    assert "<html" not in fragment
    assert 'data-figure="offered">4<' in fragment
    assert 'data-figure="waiting">1<' in fragment
    assert 'data-figure="unanswered">1<' in fragment
    svgs = _svgs(fragment)
    assert len(svgs) == 1 and svgs[0].get("role") == "img"


def test_month_has_figures_comparisons_and_charts(client, org, traffic, signed_in):
    signed_in(org, "quality")
    response = client.get("/month?month=2026-06")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    # 4 calls offered in June, 1 direct answer -> 25 %; Swedish by default (SE organisation)
    assert "25,0" in html
    assert "juni 2026" in html
    svgs = _svgs(html)
    assert len(svgs) == 7
    for svg in svgs:
        assert svg.get("aria-labelledby", "").endswith("-title")
        assert not svg.findall(".//{http://www.w3.org/2000/svg}script")
    assert html.count('<figure class="chart"') == 7
    assert html.count("<figcaption") == 7


def test_month_drill_down_counts_match(client, org, traffic, signed_in, db):
    signed_in(org, "quality")
    direct = client.get("/month/contacts?month=2026-06&channel=phone&outcome=direct")
    abandoned = client.get("/month/contacts?month=2026-06&channel=phone&outcome=abandoned")
    graded = client.get("/month/contacts?month=2026-06&channel=phone&rating=5")
    agent = client.get("/month/contacts?month=2026-06&channel=phone&agent=a2")
    late = client.get("/month/contacts?month=2026-06&channel=email&deadline=missed")
    assert 'data-total="1"' in direct.get_data(as_text=True)
    assert 'data-total="2"' in abandoned.get_data(as_text=True)  # b2 and b3
    assert 'data-total="1"' in graded.get_data(as_text=True)
    assert 'data-total="1"' in agent.get_data(as_text=True)
    assert 'data-total="1"' in late.get_data(as_text=True)  # e2, never answered
    # (without the random CSRF tokens, which may hold "b1" by chance)
    body = re.sub(r'value="[A-Za-z0-9._-]{40,}"', "", direct.get_data(as_text=True))
    assert "b1" not in body.replace("b1<", "")  # the provider's id is not shown


def test_team_leader_sees_only_their_queues(client, org, traffic, signed_in, db):
    bygglov = db.scalars(sa.select(Queue).where(Queue.name == "Bygglov")).one()
    vaxel = db.scalars(sa.select(Queue).where(Queue.name == "Växel")).one()
    signed_in(org, "team_leader", queue_names=["Bygglov"])
    live = client.get("/today/live").get_data(as_text=True)
    month = client.get("/month?month=2026-06").get_data(as_text=True)
    refused = client.get(f"/month?month=2026-06&queue={vaxel.id}")
    refused_contacts = client.get(f"/month/contacts?queue={vaxel.id}")
    allowed = client.get(f"/month?month=2026-06&queue={bygglov.id}")
    assert 'data-figure="offered">3<' in live
    assert "Växel" not in live and "Växel" not in month
    assert refused.status_code == 403 and refused_contacts.status_code == 403
    assert allowed.status_code == 200


def test_unknown_months_and_filters_are_not_errors(client, org, signed_in):
    signed_in(org, "quality")
    assert client.get("/month?month=2026-13").status_code == 404
    assert client.get("/month?month=2999-01").status_code == 404
    assert client.get("/month/contacts?rating=9").status_code == 400
    assert client.get("/month/contacts?channel=fax").status_code == 404
    assert client.get("/month?queue=abc").status_code == 400


def test_reports_versions_diff_and_downloads(client, org, traffic, signed_in, db, token):
    generate_report(db, org, Month(2026, 6))
    db.commit()
    late = event("call.queued", "late1", at(18, 9), queue="Bygglov")
    assert post(client, token, late).status_code == 202
    generate_report(db, org, Month(2026, 6))
    db.commit()
    signed_in(org, "quality")
    index = client.get("/reports/?month=2026-06").get_data(as_text=True)
    assert "v2" in index and "v1" in index
    diff = client.get("/reports/2026-06/diff?from=1&to=2").get_data(as_text=True)
    assert "phone.offered" in diff
    for fmt, kind in (
        ("xlsx", "spreadsheetml"),
        ("csv", "text/csv"),
        ("json", "application/json"),
        ("days-csv", "text/csv"),
        ("audit-csv", "text/csv"),
    ):
        response = client.get(f"/reports/2026-06/v2/download/{fmt}")
        assert response.status_code == 200, fmt
        assert kind in response.headers["Content-Type"]
        assert "attachment" in response.headers["Content-Disposition"]
        assert len(response.data) > 20
    db.rollback()
    exports = db.scalars(sa.select(AuditEntry).where(AuditEntry.action == "report.export")).all()
    assert len(exports) == 5 and {e.details["via"] for e in exports} == {"web"}
    assert client.get("/reports/2026-06/v2/print").status_code == 200
    assert client.get("/reports/2026-06/v3/print").status_code == 404
    assert client.get("/reports/2026-06/v2/download/exe").status_code == 404


def test_team_leaders_cannot_download(client, org, traffic, signed_in, db):
    generate_report(db, org, Month(2026, 6))
    db.commit()
    signed_in(org, "team_leader")
    assert client.get("/reports/2026-06/v1/download/xlsx").status_code == 403
    assert client.get("/reports/").status_code == 403


def test_month_uses_the_frozen_report(client, org, traffic, signed_in, db):
    with time_machine.travel(NOW + timedelta(days=30), tick=False):
        report, _ = generate_report(db, org, Month(2026, 6))
        db.commit()
        signed_in(org, "quality")
        html = client.get("/month?month=2026-06").get_data(as_text=True)
    assert "version 1" in html.lower()
    assert report.document["phone"]["offered"] == 4


def test_an_unanswered_email_within_its_deadline_is_open_not_missed(
    client, org, traffic, signed_in, token
):
    """The figure counts every unanswered e-mail as not within; the drill-down tells the team
    leader which of them still have time (received an hour ago) and which are late (e2)."""
    fresh = event("email.received", "e3", at(17, 10), queue="Växel")
    assert post(client, token, fresh).status_code == 202
    signed_in(org, "quality")
    html = client.get("/month/contacts?month=2026-06&channel=email&deadline=missed").get_data(
        as_text=True
    )
    assert 'data-total="2"' in html
    assert html.count('class="badge bad">för sent<') == 1
    assert html.count(">öppen<") == 1


def test_month_leads_with_the_per_channel_survey_figures_and_shows_how_solid(
    client, org, traffic, signed_in
):
    """One treatment answer by phone: the card is SKR's "treatment by phone", with one answer,
    the response rate (1 of 2 answered calls) and the small-sample flag; no interval under 2."""
    signed_in(org, "quality")
    html = client.get("/month?month=2026-06").get_data(as_text=True)
    card = html.split('data-figure="survey_headline.phone_treatment.index"')[1].split(
        'class="card'
    )[0]
    assert ">100,0<" in card
    assert "1 svar" in card and "svarsfrekvens 50,0" in card
    assert "få svar" in card and "intervall" not in card
    ease = html.split('data-figure="survey_headline.email_ease.index"')[1].split('class="card')[0]
    assert "Inga svar" in ease
    table = html.split("<caption>Per kö")[1]
    assert '100,0 <span class="muted small">(1)</span>' in table
