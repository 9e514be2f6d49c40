"""Exports: the XLSX read back with openpyxl equals the JSON; the per-contact audit CSV."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import openpyxl
import pytest

from servicedesk.metrics.periods import Month
from servicedesk.reports import formats
from servicedesk.reports.exports import AUDIT_HEADER, audit_csv, document_bytes, report_xlsx
from servicedesk.reports.service import generate_report
from tests.helpers import export_report, ingest
from tests.metrics.test_queries import call, worked_example

JUNE = Month(2026, 6)


def _json_value(cell) -> float | int | None:
    """A cell as the JSON has it: percent cells hold fractions."""
    if cell.value is None:
        return None
    return cell.value * 100 if cell.number_format == "0.00%" else cell.value


SHEETS = {
    "en": ["Report", "Phone", "E-mail", "Ratings per channel", "Ratings, all channels", "Days"],
    "sv": ["Rapport", "Telefon", "E-post", "Omdömen per kanal", "Omdömen, alla kanaler", "Dagar"],
}
SECTIONS = ("phone", "email", "survey_headline", "survey")


def _two_months(db, org) -> dict:
    ingest(db, org, *worked_example(), *call("may", "2026-05-05T10:00:00+02:00", queue="Skola"))
    generate_report(db, org, Month(2026, 5))
    report, _ = generate_report(db, org, JUNE)
    return report.document


def _keys(book) -> dict[tuple[str, str], str]:
    """The last sheet: (sheet, column header) -> code key, as a script would read it."""
    last = book[book.sheetnames[-1]]
    rows = list(last.iter_rows(min_row=2, values_only=True))
    keys = {(sheet, column): key for sheet, column, key in rows}
    assert len(keys) == len(rows), "a header repeats within a sheet"
    return keys


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_xlsx_has_the_same_figures_as_the_json(app, db, org, lang) -> None:
    """Read back as a person and a script would: the sheets and headers in the language, the
    code keys on the last sheet, real dates, numbers as numbers, the JSON's figures."""
    doc = _two_months(db, org)
    with app.app_context():
        book = openpyxl.load_workbook(io.BytesIO(report_xlsx(doc, lang)))
    names = SHEETS[lang]
    assert book.sheetnames[: len(names)] == names and len(book.sheetnames) == len(names) + 2
    keys = _keys(book)
    expected = {
        (date(2026, 6, 1), ""): doc,
        (date(2026, 6, 1), "Bygglov"): doc["queues"]["Bygglov"],
        (date(2026, 5, 1), ""): doc["previous_month"],
        (date(2026, 5, 1), "Skola"): doc["previous_month"]["queues"]["Skola"],
    }
    checked = 0
    for section, title in zip(SECTIONS, names[1:5], strict=True):
        rows = list(book[title].iter_rows())
        header = [c.value for c in rows[0]]
        codes = [keys[(title, h)] for h in header]
        assert codes[:3] == ["period", "scope", "queue"]
        by_scope = {}
        for row in rows[1:]:
            period = row[0].value
            assert isinstance(period, datetime) and row[0].number_format == "yyyy-mm"
            by_scope[(period.date(), row[2].value or "")] = dict(zip(codes, row, strict=True))
        for key, figures in expected.items():
            for figure, value in formats.section_figures(figures, section):
                cell = by_scope[key][f"{section}.{figure}"]
                if isinstance(value, bool):
                    assert cell.value is value
                    continue
                got = _json_value(cell)
                assert got == (None if value is None else pytest.approx(value, abs=1e-9)), (
                    key,
                    figure,
                )
                assert value is None or isinstance(cell.value, int | float)
                checked += 1
    assert checked > 150
    phone = book[names[1]]
    if lang == "sv":
        assert [c.value for c in phone[1][:4]] == [
            "Period",
            "Omfattning",
            "Kö",
            "Inkommande samtal",
        ]
        assert "Servicenivå" in [c.value for c in phone[1]]
    days = list(book[names[5]].iter_rows(min_row=2))
    assert len(days) == 30
    assert days[9][0].value == datetime(2026, 6, 10) and days[9][0].number_format == "yyyy-mm-dd"
    assert days[9][2].value == 24  # ISO week
    day_codes = [keys[(names[5], c.value)] for c in book[names[5]][1]]
    assert dict(zip(day_codes, (c.value for c in days[9]), strict=True))["phone.offered"] == 4
    summary = {r[0].value: r[1] for r in book[names[0]].iter_rows(min_row=3) if r[0].value}
    sha = "SHA-256 för JSON-rapporten" if lang == "sv" else "SHA-256 of the JSON report"
    assert summary[sha].value == doc["sha256"]
    assert summary["Version"].value == 1
    made = summary["Skapad (Europe/Stockholm)" if lang == "sv" else "Made (Europe/Stockholm)"]
    assert isinstance(made.value, datetime)
    definitions = book[book.sheetnames[-2]]
    meanings = {r[2].value: r[3].value for r in definitions.iter_rows(min_row=4) if r[2].value}
    assert meanings["phone.direct_answer_rate"]
    if lang == "sv":
        assert meanings["phone.direct_answer_rate"].startswith("Direkta svar som andel")


def test_the_excel_csv_opens_in_swedish_excel(app, db, org) -> None:
    """UTF-8 with a BOM, semicolons, decimal commas, Swedish headers and names; the same
    figures as the JSON (and as the RFC 4180 CSV, which keeps its shape)."""
    doc = _two_months(db, org)
    with app.app_context():
        data = document_bytes(doc, "csv", "sv", "excel")
    assert data.startswith("\ufeff".encode())
    text = data.decode("utf-8-sig")
    assert "\r\n" in text
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][:3] == ["Organisation", "Månad", "Version"] and rows[0][7] == "Kodnyckel"
    machine = list(csv.reader(io.StringIO(formats.report_csv(doc))))
    assert machine[0] == formats.CSV_HEADER and len(machine) == len(rows)
    by_key = {(r[4], r[7]): r for r in rows[1:]}
    sl = by_key[("", "phone.service_level")]
    assert sl[0] == "Kumla kommun" and sl[6] == "Servicenivå" and sl[8] == "%"
    assert sl[9] == "50,00"
    compared = 0
    for m, e in zip(machine[1:], rows[1:], strict=True):
        assert f"{m[5]}.{m[6]}" == e[7] and m[4] == e[4]
        for raw, shown in zip(m[7:], e[9:], strict=True):
            if raw in ("True", "False"):
                assert shown == {"True": "ja", "False": "nej"}[raw]
            elif m[5] == "coverage" and m[6].endswith("_day"):
                assert shown == raw  # an ISO date, which Excel reads as a date
            elif raw:
                assert float(shown.replace(",", ".")) == pytest.approx(float(raw))
                compared += 1
            else:
                assert shown == ""
    assert compared > 100
    headline = by_key[("", "survey_headline.phone_treatment.responses")]
    assert headline[5] == "Invånarnas omdömen (SKR:s Servicemätning)"
    with app.app_context():
        days = document_bytes(doc, "days-csv", "nb", "excel").decode("utf-8-sig")
    day_rows = list(csv.reader(io.StringIO(days), delimiter=";"))
    assert day_rows[0][0] == "Dato" and day_rows[10][0] == "2026-06-10"
    assert "Innkommende anrop" in day_rows[0]


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


def test_export_command_language_and_dialect(runner, db, org, tmp_path) -> None:
    ingest(db, org, *worked_example())
    db.commit()
    runner.invoke(args=["report", "generate", "--org", "kumla", "--month", "2026-06"])
    base = ["report", "export", "--org", "kumla", "--month", "2026-06"]
    out = tmp_path / "r.csv"
    result = runner.invoke(
        args=[*base, "--format", "csv", "--output", str(out), "--lang", "sv", "--dialect", "excel"]
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"\xef\xbb\xbfOrganisation;M\xc3\xa5nad;")
    book_path = tmp_path / "r.xlsx"
    result = runner.invoke(
        args=[*base, "--format", "xlsx", "--output", str(book_path), "--lang", "nb"]
    )
    assert result.exit_code == 0, result.output
    assert openpyxl.load_workbook(book_path).sheetnames[:2] == ["Rapport", "Telefon"]
    refused = runner.invoke(
        args=[*base, "--format", "xlsx", "--output", str(book_path), "--dialect", "excel"]
    )
    assert refused.exit_code != 0 and "--dialect" in refused.output
    assert "Traceback" not in refused.output
