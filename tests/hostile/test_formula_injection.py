"""Sender text is never a formula in any export: XLSX, report CSV, per-day CSV, audit CSV."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from servicedesk.cells import FORMULA_START, spreadsheet_text
from servicedesk.metrics.periods import Month
from servicedesk.reports import formats
from servicedesk.reports.exports import audit_csv, report_xlsx
from servicedesk.reports.service import generate_report
from tests.helpers import event, ingest

JUNE = Month(2026, 6)
PLANTED = ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "@SUM(1)", "-2+3"]


def _calls(db, org) -> None:
    events = []
    for n, text in enumerate(PLANTED):
        at = f"2026-06-1{n}T09:00:00+02:00"
        answered = f"2026-06-1{n}T09:00:20+02:00"
        events += [
            event("call.queued", text, at, queue=text),
            event("call.answered", text, answered, agent=text),
        ]
    ingest(db, org, *events)
    db.commit()


def _no_live_formula(cells: list[str]) -> None:
    """No text cell starts a formula (a CSV number such as -1 is a number, not text)."""
    for cell in cells:
        try:
            float(cell)
        except ValueError:
            assert not cell.startswith(FORMULA_START), cell


@pytest.mark.parametrize("text", [*PLANTED, "\t=1+1", "\r=1"])
def test_the_one_function_quotes_what_starts_a_formula(text):
    assert spreadsheet_text(text) == "'" + text
    assert spreadsheet_text("Bygglov") == "Bygglov"
    assert spreadsheet_text(-2.5) == -2.5, "numbers stay numbers"


def test_report_csv(db, org):
    _calls(db, org)
    report, _ = generate_report(db, org, JUNE)
    rows = list(csv.reader(io.StringIO(formats.report_csv(report.document))))
    queues = {r[4] for r in rows[1:] if r[3] == "queue"}
    assert queues == {"'" + t for t in PLANTED}
    _no_live_formula([c for r in rows for c in r])


def test_excel_csv(app, db, org):
    _calls(db, org)
    report, _ = generate_report(db, org, JUNE)
    with app.app_context():
        text = formats.report_csv(report.document, "excel", "sv")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    queues = {r[4] for r in rows[1:] if r[3] == "Kö"}
    assert queues == {"'" + t for t in PLANTED}
    _no_live_formula([c.replace(",", ".") for r in rows for c in r])


def test_days_csv():
    doc = {"days": {'=HYPERLINK("http://x","y")': {"phone": {"offered": -1}}, "2026-06-02": {}}}
    doc["days"]["2026-06-02"] = {"phone": {"offered": 3}}
    doc["days"] = {
        k: {"phone": v["phone"], "email": {}, "survey": {}} for k, v in doc["days"].items()
    }
    rows = list(csv.reader(io.StringIO(formats.days_csv(doc))))
    assert rows[1] == ['\'=HYPERLINK("http://x","y")', "-1"], "text quoted, numbers kept"
    _no_live_formula([c for r in rows for c in r])


def test_audit_csv(db, org):
    _calls(db, org)
    rows = list(csv.DictReader(io.StringIO(audit_csv(db, org, JUNE))))
    assert {r["queue"] for r in rows} == {"'" + t for t in PLANTED}
    assert {r["agent"] for r in rows} == {"'" + t for t in PLANTED}
    assert {r["contact_id"] for r in rows} == {"'" + t for t in PLANTED}
    _no_live_formula([c for r in rows for c in r.values()])


@pytest.mark.parametrize("lang", ["en", "sv"])
def test_xlsx(app, db, org, tmp_path, lang):
    _calls(db, org)
    report, _ = generate_report(db, org, JUNE)
    path = tmp_path / "june.xlsx"
    with app.app_context():
        path.write_bytes(report_xlsx(report.document, lang))
    book = openpyxl.load_workbook(path)
    seen = set()
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                assert cell.hyperlink is None
                if isinstance(cell.value, str):
                    seen.add(cell.value)
                    assert not cell.value.startswith(FORMULA_START), cell.value
    assert {"'" + t for t in PLANTED} <= seen
