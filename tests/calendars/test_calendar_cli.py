"""`servicedesk calendar closed-day add|remove|list` and `calendar show`."""

from __future__ import annotations

from datetime import date

import pytest

from servicedesk.calendars.rules import national_holidays
from servicedesk.calendars.service import calendar_day, working_days_between


def holiday(day: date) -> str:
    """The name the holidays package gives a Swedish holiday (its language is its own)."""
    return national_holidays("SE", day.year)[day]


def cli(runner, *args: str):
    return runner.invoke(args=["calendar", *args])


def closed(runner, action: str, *args: str, org: str = "kumla"):
    return cli(runner, "closed-day", action, "--org", org, *args)


def show(runner, month: str, org: str = "kumla") -> list[list[str]]:
    result = cli(runner, "show", "--org", org, "--month", month)
    assert result.exit_code == 0, result.output
    return [line.split("\t") for line in result.stdout.splitlines()]


def assert_one_line_error(result, needle: str) -> None:
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines and needle in lines[-1], result.output
    assert "Traceback" not in result.output


def test_add_list_remove(runner, db, org):
    added = closed(runner, "add", "--date", "2026-12-28", "--note", "klämdag")
    assert added.exit_code == 0, added.output
    assert added.stdout == "closed 2026-12-28 for kumla\n"
    assert closed(runner, "add", "--date", "2027-01-05").exit_code == 0
    listed = closed(runner, "list")
    assert listed.stdout == "2026-12-28\tMon\tklämdag\n2027-01-05\tTue\t\n"
    assert closed(runner, "list", "--year", "2027").stdout == "2027-01-05\tTue\t\n"
    assert closed(runner, "list", "--year", "2025").stdout == ""
    # Adding again replaces the note.
    closed(runner, "add", "--date", "2026-12-28", "--note", "mellandag")
    assert closed(runner, "list", "--year", "2026").stdout == "2026-12-28\tMon\tmellandag\n"

    removed = closed(runner, "remove", "--date", "2026-12-28")
    assert removed.exit_code == 0 and removed.stdout == "opened 2026-12-28 for kumla\n"
    assert closed(runner, "list").stdout == "2027-01-05\tTue\t\n"
    assert_one_line_error(
        closed(runner, "remove", "--date", "2026-12-28"),
        "--date: 2026-12-28 is not a closed day of kumla",
    )


def test_a_closed_day_counts_in_the_metrics_at_once(runner, db, org):
    before = working_days_between(db, org, date(2026, 12, 1), date(2026, 12, 31))
    db.commit()  # the calendar was built in this session: let the command's writer in
    assert closed(runner, "add", "--date", "2026-12-28").exit_code == 0
    db.rollback()  # a fresh snapshot: the command committed in its own session
    assert calendar_day(db, org, date(2026, 12, 28)).kind == "closed"
    assert working_days_between(db, org, date(2026, 12, 1), date(2026, 12, 31)) == before - 1
    db.commit()
    assert closed(runner, "remove", "--date", "2026-12-28").exit_code == 0
    db.rollback()
    assert calendar_day(db, org, date(2026, 12, 28)).is_working


def test_show_says_why_each_day_works_or_not(runner, org):
    closed(runner, "add", "--date", "2026-12-28", "--note", "klämdag")
    rows = show(runner, "2026-12")
    days = {r[0]: r[1:] for r in rows[:-1]}
    assert len(days) == 31
    assert days["2026-12-23"] == ["Wed", "working", "weekday"]
    assert days["2026-12-24"] == ["Thu", "not working", holiday(date(2026, 12, 24))]
    assert days["2026-12-25"] == ["Fri", "not working", holiday(date(2026, 12, 25))]
    assert days["2026-12-26"] == ["Sat", "not working", "weekend"]  # Annandag jul on a Saturday
    assert days["2026-12-28"] == ["Mon", "not working", "closed: klämdag"]
    assert days["2026-12-31"] == ["Thu", "not working", holiday(date(2026, 12, 31))]
    # 23 weekdays, less julafton, juldagen, nyårsafton and the closed day.
    assert rows[-1] == ["kumla 2026-12: 19 working days"]


def test_norway_works_on_julaften(runner, make_org):
    make_org(slug="bergen", name="Bergen kommune", country="NO")
    days = {r[0]: r[1:] for r in show(runner, "2026-12", org="bergen")[:-1]}
    assert days["2026-12-24"] == ["Thu", "working", "weekday"]
    assert days["2026-12-25"][1] == "not working"


def test_closing_a_holiday_says_so_and_closes_it(runner, org):
    result = closed(runner, "add", "--date", "2026-12-25", "--note", "jul")
    assert result.exit_code == 0
    assert f"not a working day anyway ({holiday(date(2026, 12, 25))})" in result.stderr
    assert closed(runner, "list").stdout == "2026-12-25\tFri\tjul\n"


def test_each_organisation_has_its_own_closed_days(runner, org, make_org):
    make_org(slug="orebro", name="Örebro kommun")
    closed(runner, "add", "--date", "2026-12-28", "--note", "klämdag")
    assert closed(runner, "list", org="orebro").stdout == ""
    days = {r[0]: r[1:] for r in show(runner, "2026-12", org="orebro")[:-1]}
    assert days["2026-12-28"] == ["Mon", "working", "weekday"]
    assert_one_line_error(
        closed(runner, "remove", "--date", "2026-12-28", org="orebro"),
        "not a closed day of orebro",
    )
    assert closed(runner, "list").stdout == "2026-12-28\tMon\tklämdag\n"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["closed-day", "add", "--org", "kumla", "--date", "2026-13-01"], "--date"),
        (["closed-day", "add", "--org", "kumla", "--date", "24/12/2026"], "--date"),
        (["closed-day", "add", "--org", "kumla", "--date", "20261224"], "--date"),
        (["closed-day", "add", "--org", "kumla", "--date", "2041-01-02"], "--date"),
        (
            ["closed-day", "add", "--org", "kumla", "--date", "2026-12-24", "--note", "x" * 201],
            "--note",
        ),
        (["closed-day", "add", "--org", "nowhere", "--date", "2026-12-24"], "--org"),
        (["closed-day", "remove", "--org", "kumla", "--date", "x"], "--date"),
        (["closed-day", "list", "--org", "nowhere"], "--org"),
        (["show", "--org", "kumla", "--month", "2026-13"], "--month"),
        (["show", "--org", "kumla", "--month", "1999-01"], "--month"),
        (["show", "--org", "nowhere", "--month", "2026-12"], "--org"),
    ],
)
def test_errors_are_one_line(runner, org, args, needle):
    assert_one_line_error(cli(runner, *args), needle)
