"""Data coverage: a month whose data starts or ends inside it is marked partial in the report,
its comparisons, the exports and the Month page (docs/metrics.md, "Coverage")."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import openpyxl

from servicedesk.metrics.coverage import coverage
from servicedesk.metrics.periods import Month
from servicedesk.reports import formats
from servicedesk.reports.exports import document_bytes
from servicedesk.reports.service import generate_report
from tests.helpers import ingest
from tests.metrics.test_queries import call

OCTOBER = Month(2026, 10)


def test_coverage_of_a_month():
    today = date(2026, 11, 20)
    assert coverage(OCTOBER, date(2025, 10, 15), today) == {
        "first_day": "2026-10-01",
        "last_day": "2026-10-31",
        "days": 31,
        "partial": False,
        "running": False,
    }
    started = coverage(Month(2025, 10), date(2025, 10, 15), today)
    assert (started["first_day"], started["days"], started["partial"]) == ("2025-10-15", 17, True)
    running = coverage(Month(2026, 11), date(2025, 10, 15), today)
    assert running["last_day"] == "2026-11-20" and running["partial"] and running["running"]
    before = coverage(Month(2025, 9), date(2025, 10, 15), today)
    assert before == {
        "first_day": None,
        "last_day": None,
        "days": 0,
        "partial": False,
        "running": False,
    }
    assert coverage(OCTOBER, None, today)["days"] == 0


def _year_of_calls(db, org):
    ingest(
        db,
        org,
        *call("a", "2025-10-15T10:00:00+02:00", "2025-10-15T10:00:20+02:00"),
        *call("b", "2026-10-06T10:00:00+02:00", "2026-10-06T10:00:20+02:00"),
        *call("c", "2026-11-03T10:00:00+01:00"),
    )


def test_the_report_and_its_exports_say_which_months_are_partial(app, db, org):
    _year_of_calls(db, org)
    report, _ = generate_report(db, org, OCTOBER, now=datetime(2026, 11, 4, 5, tzinfo=UTC))
    doc = report.document
    assert doc["coverage"]["partial"] is False and doc["coverage"]["days"] == 31
    year = doc["year_before"]["coverage"]
    assert year == {
        "first_day": "2025-10-15",
        "last_day": "2025-10-31",
        "days": 17,
        "partial": True,
        "running": False,
    }
    rows = {(r[5], r[6]): r for r in csv.reader(io.StringIO(formats.report_csv(doc)))}
    assert rows[("coverage", "partial")][7:] == ["False", "False", "True"]
    assert rows[("coverage", "first_day")][9] == "2025-10-15"
    with app.app_context():
        excel = document_bytes(doc, "csv", "sv", "excel").decode("utf-8-sig")
        book = openpyxl.load_workbook(io.BytesIO(document_bytes(doc, "xlsx", "sv")))
    line = next(
        r for r in csv.reader(io.StringIO(excel), delimiter=";") if r[7] == "coverage.partial"
    )
    assert line[5] == "Datatäckning" and line[9:] == ["nej", "nej", "ja"]
    summary = {r[0].value: r[1].value for r in book["Rapport"].iter_rows(min_row=3) if r[0].value}
    assert summary["Data från"] == datetime(2026, 10, 1)
    assert summary["Bara en del av månaden"] == "nej"
