"""Exports: the XLSX read back with openpyxl equals the JSON; the per-contact audit CSV."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from servicedesk.metrics.periods import Month
from servicedesk.reports import formats
from servicedesk.reports.exports import AUDIT_HEADER, audit_csv, report_xlsx
from servicedesk.reports.service import generate_report
from tests.helpers import export_report, ingest
from tests.metrics.test_queries import call, worked_example

JUNE = Month(2026, 6)


def _sheet_rows(sheet) -> list[dict]:
    rows = list(sheet.iter_rows())
    header = [c.value for c in rows[0]]
    return [dict(zip(header, row, strict=True)) for row in rows[1:]]


def _json_value(cell) -> float | int | None:
    """A cell as the JSON has it: percent cells hold fractions."""
    if cell.value is None:
        return None
    return cell.value * 100 if cell.number_format == "0.00%" else cell.value


def test_xlsx_has_the_same_figures_as_the_json(db, org, tmp_path) -> None:
    ingest(db, org, *worked_example(), *call("may", "2026-05-05T10:00:00+02:00", queue="Skola"))
    generate_report(db, org, Month(2026, 5))
    report, _ = generate_report(db, org, JUNE)
    doc = report.document
    path = tmp_path / "june.xlsx"
    path.write_bytes(report_xlsx(doc))
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == [
        "Report",
        "Phone",
        "E-mail",
        "Survey per channel",
        "Survey",
        "Days",
        "Definitions",
    ]

    checked = 0
    for section, title in (
        ("phone", "Phone"),
        ("email", "E-mail"),
        ("survey_headline", "Survey per channel"),
        ("survey", "Survey"),
    ):
        rows = _sheet_rows(book[title])
        by_scope = {(r["Period"].value, r["Scope"].value, r["Queue"].value or ""): r for r in rows}
        expected = {
            ("2026-06", "Organisation", ""): doc,
            ("2026-06", "Queue", "Bygglov"): doc["queues"]["Bygglov"],
            ("2026-05", "Organisation", ""): doc["previous_month"],
            ("2026-05", "Queue", "Skola"): doc["previous_month"]["queues"]["Skola"],
        }
        for key, figures in expected.items():
            for figure, value in formats.section_figures(figures, section):
                got = _json_value(by_scope[key][figure])
                assert got == (None if value is None else pytest.approx(value, abs=1e-9)), (
                    key,
                    figure,
                )
                checked += 1
    assert checked > 100
    phone = _sheet_rows(book["Phone"])[0]
    assert phone["service_level"].number_format == "0.00%" and phone["service_level"].value == 0.5
    assert phone["offered"].value == 4 and phone["offered"].number_format == "0"
    days = _sheet_rows(book["Days"])
    assert len(days) == 30 and days[9]["phone.offered"].value == 4
    definitions = [r[1].value for r in book["Definitions"].iter_rows(min_row=4) if r[1].value]
    assert "direct_answer_rate" in definitions and "median_working_hours" in definitions
    summary = {r[0].value: r[1].value for r in book["Report"].iter_rows(min_row=3)}
    assert summary["sha256 of the JSON report"] == doc["sha256"]
    assert summary["Version"] == 1


def test_audit_csv_one_row_per_contact(db, org) -> None:
    ingest(db, org, *worked_example())
    rows = list(csv.DictReader(io.StringIO(audit_csv(db, org, JUNE))))
    assert list(rows[0]) == AUDIT_HEADER
    by_id = {r["contact_id"]: r for r in rows}
    assert len(rows) == 7
    a, c, e, f, g = (by_id[k] for k in "ACEFG")
    assert (a["wait_seconds"], a["within_service_level"], a["direct_answer"]) == (
        "30.0",
        "yes",
        "yes",
    )
    assert (a["treatment"], a["ease"], a["clarity"]) == ("5", "4", "")
    assert (c["answered_at_utc"], c["within_service_level"], c["direct_answer"]) == ("", "no", "")
    assert e["working_hours_to_answer"] == "24.0" and e["within_1_working_day"] == "yes"
    assert (f["working_hours_to_answer"], f["within_1_working_day"]) == ("30.0", "no")
    assert f["within_2_working_days"] == "yes"
    assert (g["working_hours_to_answer"], g["within_2_working_days"]) == ("", "no")
    assert e["started_at_utc"] == "2026-06-18T08:00:00Z" and e["start_date_local"] == "2026-06-18"
    assert a["caller_pseudonym"] == ""  # no caller was sent; never the number in clear


def test_export_commands_xlsx_and_audit(runner, db, org, tmp_path) -> None:
    ingest(db, org, *worked_example())
    db.commit()
    runner.invoke(args=["report", "generate", "--org", "kumla", "--month", "2026-06"])
    for fmt, name in (("xlsx", "r.xlsx"), ("audit-csv", "audit.csv"), ("csv", "r.csv")):
        out = tmp_path / name
        result = export_report(runner, fmt, out)
        assert result.exit_code == 0, result.output
        assert out.stat().st_size > 0
    assert openpyxl.load_workbook(tmp_path / "r.xlsx")["Phone"]["D2"].value == 4
    assert len((tmp_path / "audit.csv").read_text().splitlines()) == 8
    result = export_report(runner, "pdf", tmp_path / "x")
    assert result.exit_code != 0 and "pdf" in result.output
