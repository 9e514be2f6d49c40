"""The Comparison page, its print view and spreadsheet, and the sharing choice in Settings."""

from __future__ import annotations

import io

import openpyxl
import pytest
from sqlmodel import select

from servicedesk.audit.models import AuditEntry
from servicedesk.benchmarking.models import BenchmarkParticipant
from servicedesk.benchmarking.sharing import share
from tests.benchmarking.frozen import freeze
from tests.web.conftest import login, post_form


@pytest.fixture
def region(db, make_org):
    """Seven municipalities sharing June 2026; the third anonymous, one with a hostile name."""
    orgs = []
    for n, direct in enumerate((90, 80, 80, 70, 60, 50, 40), start=1):
        name = '=HYPERLINK("x")<script>' if n == 7 else f"Kommun nummer {n}"
        org = make_org(slug=f"k{n}", name=name)
        freeze(db, org, "2026-05", direct=(direct - 5, 100))
        freeze(db, org, "2026-06", direct=(direct, 100), ease=(40, 40 * 75))
        share(db, org, anonymous=n == 3, group="B5")
        db.commit()
        orgs.append(org)
    return orgs


def test_comparison_page_shows_place_chart_and_history(client, region, make_user):
    login(client, make_user(region[3], "quality").email)
    html = client.get("/comparison/?period=2026-06").get_data(as_text=True)
    assert "4 av 7" in html
    assert "Kommun nummer 1" in html and "Kommun nummer 3" not in html
    assert "Kommun C" in html
    assert "<script>" not in html.replace('<script src="/static/app.js" defer></script>', "")
    assert 'id="cmp-phone-direct-answer-rate"' in html  # the distribution chart
    assert "Era placeringar de senaste 12 månaderna" in html
    # The place in May as well as in June.
    assert html.count("4 av 7") >= 3
    sv = client.get("/comparison/?period=2026-06", headers={"Accept-Language": "sv"})
    assert sv.status_code == 200


def test_quarter_and_bad_period(client, region, make_user):
    login(client, make_user(region[0], "quality").email)
    assert client.get("/comparison/?period=2026-Q2").status_code == 200
    assert client.get("/comparison/?period=2026-13").status_code == 404


def test_not_taking_part_says_so(client, db, make_org, make_user, region):
    outsider = make_org(slug="outside")
    login(client, make_user(outsider, "quality").email)
    html = client.get("/comparison/").get_data(as_text=True)
    assert "Er organisation deltar inte" in html and "Kommun nummer" not in html
    assert client.get("/comparison/download.xlsx").status_code == 303


def test_team_leaders_do_not_see_it(client, region, make_user):
    login(client, make_user(region[0], "team_leader").email)
    assert client.get("/comparison/").status_code == 403


def test_print_and_spreadsheet(client, db, region, make_user):
    login(client, make_user(region[3], "quality").email)
    printed = client.get("/comparison/print?period=2026-06")
    assert printed.status_code == 200 and "Kommun nummer 4" in printed.get_data(as_text=True)
    response = client.get("/comparison/download.xlsx?period=2026-06")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    sheet = book.worksheets[0]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    direct = [r for r in rows[1:] if r[1] == "phone.direct_answer_rate"]
    assert [r[3] for r in direct] == [1, 2, 2, 4, 5, 6, 7]
    own = next(r for r in direct if r[14] == "x")
    assert own[5] == "Kommun nummer 4" and own[7] == 70
    hostile = next(r for r in direct if r[5] and "HYPERLINK" in r[5])
    assert hostile[5].startswith("'=")  # text, never a formula
    assert any(e.action == "benchmark.export" for e in db.exec(select(AuditEntry)).all())


def test_admin_takes_part_and_withdraws(client, db, make_org, make_user):
    org = make_org(slug="newcomer", name="Nya kommunen")
    admin = make_user(org, "admin")
    login(client, admin.email)
    page = client.get("/comparison/settings")
    assert page.status_code == 200 and "Deltar inte" in page.get_data(as_text=True)
    response = post_form(
        client,
        "/comparison/settings",
        {
            "figures": ["phone.direct_answer_rate", "survey_headline.phone_ease.index"],
            "anonymous": "y",
            "group": "B5",
        },
    )
    assert response.status_code == 303
    row = db.exec(select(BenchmarkParticipant)).one()
    db.rollback()
    db.refresh(row)
    assert (
        row.sharing
        and row.anonymous
        and row.figures == ["phone.direct_answer_rate", "survey_headline.phone_ease.index"]
    )
    assert "De andra ser er som Kommun A" in client.get("/comparison/settings").get_data(
        as_text=True
    )
    # Nothing chosen: refused, nothing changed.
    post_form(client, "/comparison/settings", {"group": "B5"})
    db.rollback()
    db.refresh(row)
    assert row.figures == ["phone.direct_answer_rate", "survey_headline.phone_ease.index"]
    response = post_form(client, "/comparison/settings/withdraw", {}, page="/comparison/settings")
    assert response.status_code == 303
    db.rollback()
    db.refresh(row)
    assert not row.sharing and row.withdrawn_at is not None
    actions = [e.action for e in db.exec(select(AuditEntry)).all()]
    assert "benchmark.share" in actions and "benchmark.withdraw" in actions


def test_quality_staff_cannot_change_sharing(client, region, make_user):
    login(client, make_user(region[0], "quality").email)
    assert client.get("/comparison/settings").status_code == 403


def test_the_reports_api_gives_the_comparison(client, region, make_token, make_org):
    reader = make_token(region[3], scope="reports:read")
    response = client.get(
        "/api/v1/reports/comparisons/2026-06", headers={"Authorization": f"Bearer {reader}"}
    )
    assert response.status_code == 200, response.text
    body = response.get_json()
    direct = next(f for f in body["figures"] if f["figure"] == "phone.direct_answer_rate")
    assert direct["own"]["place"] == 4 and direct["participants"] == 7
    assert body["organisation"] == "k4" and response.headers["Cache-Control"] == "private"
    bad = client.get(
        "/api/v1/reports/comparisons/2026-13", headers={"Authorization": f"Bearer {reader}"}
    )
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "period"
    outsider = make_token(make_org(slug="outside"), scope="reports:read")
    refused = client.get(
        "/api/v1/reports/comparisons/2026-06", headers={"Authorization": f"Bearer {outsider}"}
    )
    assert refused.status_code == 403 and refused.mimetype == "application/problem+json"
    ingest = make_token(region[0])
    assert (
        client.get(
            "/api/v1/reports/comparisons/2026", headers={"Authorization": f"Bearer {ingest}"}
        ).status_code
        == 403
    )
    assert client.get("/api/v1/reports/comparisons/2026").status_code == 401


def test_the_demo_has_neighbours_to_compare_with(runner, db):
    result = runner.invoke(args=["demo", "--days", "45", "--calls-per-day", "40"])
    assert result.exit_code == 0, result.output
    participants = db.exec(select(BenchmarkParticipant)).all()
    assert len(participants) == 6 and all(p.sharing for p in participants)
    assert sum(p.anonymous for p in participants) == 1
    from servicedesk.benchmarking.comparison import compare
    from servicedesk.benchmarking.periods import Period
    from servicedesk.metrics.periods import Month
    from servicedesk.timeutil import utcnow

    last = Month.of(utcnow().date()).previous()
    direct = next(
        r
        for r in compare(db, Period.of_month(last), "demo").rankings
        if r.key == "phone.direct_answer_rate"
    )
    assert direct.ranked and direct.participants == 6
    assert direct.place_of("demo").place is not None


def test_a_late_version_says_what_it_replaced(client, db, region, make_user):
    freeze(db, region[1], "2026-06", version=2, direct=(85, 100))
    login(client, make_user(region[3], "quality").email)
    html = client.get("/comparison/?period=2026-06").get_data(as_text=True)
    assert "2026-06 v2" in html and "ersätter v1" in html


def test_the_monthly_reports_print_view_and_workbook_carry_the_comparison(
    client, db, region, make_user
):
    login(client, make_user(region[3], "quality").email)
    printed = client.get("/reports/2026-06/v1/print").get_data(as_text=True)
    assert "Jämförelse med andra organisationer" in printed and "4 av 7" in printed
    workbook = client.get("/reports/2026-06/v1/download/xlsx")
    assert workbook.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(workbook.data))
    assert "Jämförelse" in book.sheetnames and "Rapport" in book.sheetnames
    # Without taking part: the report as it always was.
    from servicedesk.benchmarking.sharing import withdraw

    withdraw(db, region[3])
    db.commit()
    book = openpyxl.load_workbook(io.BytesIO(client.get("/reports/2026-06/v1/download/xlsx").data))
    assert "Jämförelse" not in book.sheetnames
    assert "Jämförelse med" not in client.get("/reports/2026-06/v1/print").get_data(as_text=True)


def test_compared_within_the_municipality_group(client, db, region, make_user, make_token):
    # Five of the seven are in B5 (the fixture gives every one B5): move two to C8.
    for org in region[4:6]:
        share(db, org, group="C8")
    db.commit()
    login(client, make_user(region[3], "quality").email)
    everyone = client.get("/comparison/?period=2026-06").get_data(as_text=True)
    assert "4 av 7" in everyone and "Vår kommungrupp (B5)" in everyone
    within = client.get("/comparison/?period=2026-06&group=own").get_data(as_text=True)
    assert "Bara kommungruppen B5." in within and "4 av 5" in within
    reader = make_token(region[3], scope="reports:read")
    auth = {"Authorization": f"Bearer {reader}"}
    body = client.get("/api/v1/reports/comparisons/2026-06?group=own", headers=auth).get_json()
    direct = next(f for f in body["figures"] if f["figure"] == "phone.direct_answer_rate")
    assert body["group"] == "B5" and direct["participants"] == 5 and direct["own"]["place"] == 4
    bad = client.get("/api/v1/reports/comparisons/2026-06?group=all", headers=auth)
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "group"
