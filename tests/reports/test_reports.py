"""Frozen, versioned monthly reports and the report commands."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import sqlalchemy as sa

from servicedesk.metrics.periods import Month
from servicedesk.reports.models import Report
from servicedesk.reports.service import (
    canonical_json,
    document_sha256,
    generate_report,
    latest_report,
    report_versions,
)
from tests.helpers import export_report, ingest
from tests.metrics.test_queries import EXPECTED_EMAIL, EXPECTED_PHONE, call, grade, worked_example

JUNE = Month(2026, 6)


def test_report_freezes_the_worked_example(db, org) -> None:
    ingest(db, org, *worked_example())
    report, made = generate_report(db, org, JUNE, now=datetime(2026, 7, 3, 4, 0, tzinfo=UTC))
    db.commit()
    assert made and report.version == 1
    doc = report.document
    assert doc["organisation"] == "kumla" and doc["month"] == "2026-06"
    assert doc["generated_at"] == "2026-07-03T04:00:00Z"
    assert {k: v for k, v in doc["phone"].items() if k != "survey_response_rate"} == EXPECTED_PHONE
    assert doc["email"]["within_1_working_day"] == EXPECTED_EMAIL["within_1_working_day"]
    assert list(doc["queues"]) == ["Bygglov"]
    assert doc["queues"]["Bygglov"]["phone"] == doc["phone"]
    assert doc["counts"] == {
        "phone_contacts": 4,
        "email_contacts": 3,
        "events": 4 * 3 - 1 + 3 * 2 - 1,
        "unmatched_survey_responses": 0,
        "survey_responses": 3,
    }
    assert doc["definitions_version"].startswith("servicedesk-metrics/")
    assert len(doc["days"]) == 30
    assert doc["days"]["2026-06-10"]["phone"]["offered"] == 4
    assert doc["days"]["2026-06-11"]["phone"]["offered"] == 0
    assert doc["days"]["2026-06-11"]["phone"]["service_level"] is None
    # The sha256 is of the canonical JSON without itself, and survives the database round trip.
    db.expire_all()
    stored = db.get(Report, report.id).document
    assert stored["sha256"] == document_sha256(stored) == report.sha256
    assert len(canonical_json(stored)) > 1000


def test_same_figures_make_no_new_version(db, org) -> None:
    ingest(db, org, *worked_example())
    first, made = generate_report(db, org, JUNE)
    again, made_again = generate_report(db, org, JUNE)
    assert made and not made_again and again.id == first.id
    # A repeated event changes no figure either.
    ingest(db, org, *worked_example()[:3])
    assert generate_report(db, org, JUNE)[1] is False


def test_late_events_make_version_two_and_keep_version_one(db, org) -> None:
    ingest(db, org, *worked_example())
    v1, _ = generate_report(db, org, JUNE)
    db.commit()
    v1_doc = json.loads(json.dumps(v1.document))
    # A late survey answer about a June call, then a call that was missing.
    ingest(db, org, grade("B", "treatment", 4, "2026-07-04T10:00:00+02:00", "phone"))
    v2, made = generate_report(db, org, JUNE)
    db.commit()
    assert made and v2.version == 2
    assert v2.document["survey"]["treatment"]["responses"] == 3
    assert v2.document["supersedes"] == 1
    ingest(db, org, *call("late", "2026-06-30T15:00:00+02:00", "2026-06-30T15:00:20+02:00"))
    v3, _ = generate_report(db, org, JUNE)
    db.commit()
    assert v3.version == 3 and v3.document["phone"]["offered"] == 5
    db.expire_all()
    versions = report_versions(db, org, JUNE)
    assert [r.version for r in versions] == [1, 2, 3]
    assert versions[0].document == v1_doc
    assert latest_report(db, org, JUNE).version == 3


def test_comparisons_previous_month_and_year_before(db, org) -> None:
    ingest(
        db,
        org,
        *call("may", "2026-05-20T10:00:00+02:00", "2026-05-20T10:00:30+02:00"),
        *call("june-ly", "2025-06-20T10:00:00+02:00"),
        *call("june", "2026-06-20T10:00:00+02:00", "2026-06-20T10:02:00+02:00"),
    )
    may, _ = generate_report(db, org, Month(2026, 5))
    june, _ = generate_report(db, org, JUNE)
    prev, year = june.document["previous_month"], june.document["year_before"]
    assert (prev["month"], prev["version"]) == ("2026-05", may.version)
    assert prev["phone"]["service_level"] == 100.0
    assert (year["month"], year["version"]) == ("2025-06", None)  # no report: computed live
    assert year["phone"]["abandon_rate"] == 100.0
    assert june.document["phone"]["service_level"] == 0.0


def test_empty_month_report_has_nulls(db, org) -> None:
    report, _ = generate_report(db, org, Month(2026, 2))
    doc = report.document
    assert doc["phone"]["offered"] == 0 and doc["phone"]["direct_answer_rate"] is None
    assert doc["email"]["within_2_working_days"] is None
    assert doc["queues"] == {}
    assert doc["survey"]["ease"]["index"] is None


def test_unmatched_survey_responses_are_counted(db, org) -> None:
    ingest(db, org, grade("nobody", "ease", 3, "2026-06-15T10:00:00+02:00"))
    report, _ = generate_report(db, org, JUNE)
    assert report.document["counts"]["unmatched_survey_responses"] == 1
    assert report.document["survey"]["ease"]["responses"] == 0


# ---------------------------------------------------------------------------------------------
# the commands


def test_cli_generate_show_and_export(runner, db, org, tmp_path) -> None:
    ingest(db, org, *worked_example())
    db.commit()
    result = runner.invoke(args=["report", "generate", "--org", "kumla", "--month", "2026-06"])
    assert result.exit_code == 0, result.output
    assert "made version 1" in result.output
    result = runner.invoke(args=["report", "generate", "--org", "kumla", "--month", "2026-06"])
    assert "unchanged, latest is version 1" in result.output

    shown = runner.invoke(
        args=["report", "show", "--org", "kumla", "--month", "2026-06", "--format", "json"]
    )
    doc = json.loads(shown.stdout)
    assert doc["version"] == 1 and doc["phone"]["offered"] == 4
    assert document_sha256(doc) == doc["sha256"]

    table = runner.invoke(args=["report", "show", "--org", "kumla", "--month", "2026-06"])
    assert "phone.direct_answer_rate" in table.stdout and "50.00 %" in table.stdout
    assert "Queue: Bygglov" in table.stdout

    text = runner.invoke(
        args=["report", "show", "--org", "kumla", "--month", "2026-06", "--format", "csv"]
    ).stdout
    rows = list(csv.DictReader(io.StringIO(text)))
    org_rows = {(r["section"], r["figure"]): r for r in rows if r["scope"] == "organisation"}
    assert org_rows[("phone", "wait_seconds.p90")]["value"] == "78.0"
    assert org_rows[("email", "median_working_hours")]["value"] == "27.0"
    assert org_rows[("phone", "offered")]["previous_month"] == "0"
    assert {r["queue"] for r in rows if r["scope"] == "queue"} == {"Bygglov"}

    out = tmp_path / "june.json"
    result = export_report(runner, "json", out)
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text()) == doc

    days = tmp_path / "days.csv"
    export_report(runner, "days-csv", days)
    day_rows = list(csv.DictReader(io.StringIO(days.read_text())))
    assert len(day_rows) == 30
    assert day_rows[9]["date"] == "2026-06-10" and day_rows[9]["phone.offered"] == "4"


def test_cli_errors_are_one_line(runner, org) -> None:
    cases = [
        (["report", "show", "--org", "nowhere", "--month", "2026-06"], "--org"),
        (["report", "generate", "--org", "kumla", "--month", "2026-13"], "--month"),
        (["report", "show", "--org", "kumla", "--month", "2026-06"], "no report"),
    ]
    for args, needle in cases:
        result = runner.invoke(args=args)
        assert result.exit_code != 0
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert len(lines) == 1 and needle in lines[0], result.output


def test_one_version_per_month_in_the_database(db, org) -> None:
    generate_report(db, org, JUNE)
    generate_report(db, org, JUNE)
    count = db.execute(sa.select(sa.func.count()).select_from(Report)).scalar_one()
    assert count == 1
