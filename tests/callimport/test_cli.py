"""``servicedesk calls import|presets`` through the CLI runner."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from servicedesk.contacts.models import Contact
from servicedesk.ingest.models import Delivery
from tests.callimport.calls import FIXTURES

pytestmark = pytest.mark.postgres


def test_dry_run_then_import_then_again(runner, org, db):
    path = FIXTURES / "generic.csv"
    dry = runner.invoke(args=["calls", "import", "--org", "kumla", str(path), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "9 rows: 9 calls would be imported" in dry.output
    assert "line 2: call c1, start 2026-03-02T08:14:05+01:00, answered, wait 23 s" in dry.output
    assert "2026-03: offered 7, answered 5, abandoned 2" in dry.output
    assert db.scalar(sa.select(sa.func.count()).select_from(Contact)) == 0
    done = runner.invoke(args=["calls", "import", "--org", "kumla", str(path)])
    assert done.exit_code == 0, done.output
    assert "9 calls imported, 0 already stored" in done.output
    again = runner.invoke(args=["calls", "import", "--org", "kumla", str(path)])
    assert "0 calls imported, 9 already stored (duplicates)" in again.output
    db.rollback()  # the dry run's count above began a read that would not see the import
    assert db.scalar(sa.select(sa.func.count()).select_from(Contact)) == 9


def test_mapping_file_refused_rows_and_errors(runner, org, tmp_path, db):
    mapping = tmp_path / "mine.toml"
    mapping.write_text((FIXTURES.parents[2] / "servicedesk/callimport/presets/generic.toml")
                       .read_text().replace('name = "generic"', 'name = "mine"'))  # fmt: skip
    bad = runner.invoke(
        args=[
            "calls",
            "import",
            "--org",
            "kumla",
            str(FIXTURES / "bad-rows.csv"),
            "--mapping",
            str(mapping),
        ]  # fmt: skip
    )
    assert bad.exit_code == 0, bad.output
    assert "10 refused" in bad.output and "line 3: start: empty" in bad.output
    unknown = runner.invoke(
        args=["calls", "import", "--org", "kumla", str(mapping), "--mapping", "x"]
    )
    assert unknown.exit_code != 0 and "neither a preset" in unknown.output
    teams = runner.invoke(
        args=[
            "calls",
            "import",
            "--org",
            "kumla",
            str(FIXTURES / "generic.csv"),
            "--mapping",
            "teams-cq-historical",
        ]  # fmt: skip
    )
    assert teams.exit_code == 1
    assert "no column 'ConferenceID'" in teams.output and "Traceback" not in teams.output
    kept = db.scalars(sa.select(Delivery).where(Delivery.status == "rejected")).one()
    assert kept.source == "import" and "ConferenceID" in kept.reason
    presets = runner.invoke(args=["calls", "presets"])
    assert (
        "https://learn.microsoft.com/en-us/microsoftteams/aa-cq-cqd-historical-reports"
        in presets.output
    )
