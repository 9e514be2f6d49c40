"""The national working-day rules, by hand-checked dates."""

from datetime import date

import pytest

from servicedesk.calendars.rules import day_kind, is_working_day, nth_working_day


@pytest.mark.parametrize(
    ("country", "day", "working"),
    [
        ("SE", date(2026, 6, 19), False),  # midsommarafton (Friday)
        ("SE", date(2026, 12, 24), False),  # julafton (Thursday)
        ("SE", date(2026, 12, 31), False),  # nyårsafton (Thursday)
        ("SE", date(2026, 4, 2), True),  # skärtorsdag is a working day in Sweden
        ("SE", date(2026, 4, 3), False),  # långfredag
        ("SE", date(2026, 4, 6), False),  # annandag påsk
        ("SE", date(2027, 1, 5), True),  # trettondagsafton is an ordinary day
        ("SE", date(2026, 6, 18), True),
        ("SE", date(2026, 3, 15), False),  # an ordinary Sunday
        ("SE", date(2026, 3, 16), True),  # an ordinary Monday
        ("NO", date(2026, 4, 2), False),  # skjærtorsdag is a holiday in Norway
        ("NO", date(2026, 12, 24), True),  # julaften: legally an ordinary working day
        ("NO", date(2026, 12, 31), True),  # nyttårsaften: likewise
        ("NO", date(2026, 6, 19), True),  # no midsummer eve in Norway
        ("NO", date(2026, 5, 25), False),  # 2. pinsedag
        ("NO", date(2027, 5, 17), False),  # grunnlovsdag on a Monday
    ],
)
def test_national_working_days(country: str, day: date, working: bool) -> None:
    assert is_working_day(country, day) is working


def test_sundays_are_weekends_not_holidays_in_sweden() -> None:
    # Without include_sundays=False the holidays package names every Swedish Sunday a holiday.
    assert day_kind("SE", date(2026, 3, 15)) == (False, "weekend")
    assert day_kind("SE", date(2026, 12, 24)) == (False, "Christmas Eve")


def test_closed_day_of_the_organisation() -> None:
    assert day_kind("NO", date(2026, 12, 24), closed=[date(2026, 12, 24)]) == (False, "closed")


@pytest.mark.parametrize(
    ("country", "year", "month", "expected"),
    [
        ("SE", 2026, 7, date(2026, 7, 3)),  # Wed 1, Thu 2, Fri 3
        ("SE", 2027, 1, date(2027, 1, 7)),  # Fri 1 holiday, Mon 4, Tue 5, Wed 6 Epiphany, Thu 7
        ("NO", 2027, 1, date(2027, 1, 6)),  # Mon 4, Tue 5, Wed 6
        ("SE", 2026, 5, date(2026, 5, 6)),  # Fri 1 May Day, Mon 4, Tue 5, Wed 6
    ],
)
def test_third_working_day(country: str, year: int, month: int, expected: date) -> None:
    assert nth_working_day(country, year, month, 3) == expected


def test_unknown_country() -> None:
    with pytest.raises(ValueError, match="DK"):
        is_working_day("DK", date(2026, 3, 16))
