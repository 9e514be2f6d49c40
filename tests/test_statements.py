"""The write path's compiled statements write and read exactly what SQLAlchemy would.

``servicedesk.statements`` converts SQLite's datetimes in one step of its own instead of
SQLAlchemy's two (the type decorator, then the dialect's format): the text stored must be the
same, byte for byte, or a page reading through SQLAlchemy would see other values.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlmodel.sql.sqltypes import UTCDateTime

from servicedesk.statements import DriverStatement, bind_processor, result_processor


def _sqlalchemy_bind(value: datetime | None) -> object:
    dialect = sqlite.dialect()
    type_ = UTCDateTime()
    processor = type_.dialect_impl(dialect).bind_processor(dialect)
    assert processor is not None
    return processor(value)


def _sqlalchemy_result(value: str | None) -> object:
    dialect = sqlite.dialect()
    processor = UTCDateTime().dialect_impl(dialect).result_processor(dialect, None)
    assert processor is not None
    return processor(value)


def _random_datetimes(count: int) -> list[datetime]:
    rng = random.Random(17)
    zones = [UTC, ZoneInfo("Europe/Stockholm"), ZoneInfo("Europe/Oslo"),
             timezone(timedelta(hours=-9, minutes=-30)), timezone(timedelta(hours=14))]  # fmt: skip
    out = []
    for _ in range(count):
        base = datetime(1, 1, 2, tzinfo=UTC) + timedelta(
            seconds=rng.randrange(0, 9998 * 365 * 86400),
            microseconds=rng.choice([0, 1, 999_999, rng.randrange(1_000_000)]),  # fmt: skip
        )
        out.append(base.astimezone(rng.choice(zones)))
    # Summer time's edges in Stockholm, and the first microsecond of a year.
    stockholm = ZoneInfo("Europe/Stockholm")
    out += [
        datetime(2026, 3, 29, 1, 59, 59, 999_999, tzinfo=UTC).astimezone(stockholm),
        datetime(2026, 10, 25, 1, 0, tzinfo=UTC).astimezone(stockholm),
        datetime(2027, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
    ]
    return out


def test_sqlite_datetimes_are_written_as_sqlalchemy_writes_them() -> None:
    fast = bind_processor(UTCDateTime(), sqlite.dialect())
    assert fast is not None
    for value in _random_datetimes(5000):
        assert fast(value) == _sqlalchemy_bind(value), value
    assert fast(None) is None is _sqlalchemy_bind(None)
    # The converter remembers its last value: the same moment again, and two in turn.
    one, other = _random_datetimes(2)[:2]
    for value in (one, one, other, one, other, other):
        assert fast(value) == _sqlalchemy_bind(value)


def test_sqlite_datetimes_are_read_as_sqlalchemy_reads_them() -> None:
    fast = result_processor(UTCDateTime(), sqlite.dialect())
    assert fast is not None
    texts = [str(_sqlalchemy_bind(v)) for v in _random_datetimes(5000)]
    # What older rows may hold: no microseconds, a T, an offset.
    texts += ["2026-05-04 08:00:00", "2026-05-04T08:00:00.5", "2026-05-04 10:00:00+02:00"]
    for text in texts:
        ours, theirs = fast(text), _sqlalchemy_result(text)
        assert ours == theirs and ours.tzinfo == UTC, text
    assert fast(None) is None is _sqlalchemy_result(None)


def test_a_datetime_without_a_time_zone_is_refused_as_before() -> None:
    fast = bind_processor(UTCDateTime(), sqlite.dialect())
    assert fast is not None
    with pytest.raises(ValueError, match="timezone"):
        fast(datetime(2026, 5, 4, 8))
    with pytest.raises(ValueError, match="timezone"):
        _sqlalchemy_bind(datetime(2026, 5, 4, 8))


def test_parameters_come_in_the_statements_order_with_literals_kept() -> None:
    table = sa.table("t", sa.column("a", sa.Integer), sa.column("b", UTCDateTime()),
                     sa.column("c", sa.Text))  # fmt: skip
    update = (
        sa.update(table)
        .where(table.c.a == sa.bindparam("key"), table.c.c == "fixed")
        .values(b=sa.bindparam("when"))
    )
    statement = DriverStatement(update, sqlite.dialect(), ("when", "key"))
    when = datetime(2026, 5, 4, 10, tzinfo=ZoneInfo("Europe/Stockholm"))
    params = statement.parameters({"key": 7, "when": when})
    assert statement.sql.count("?") == 3
    assert sorted(map(str, params)) == sorted(["7", "2026-05-04 08:00:00.000000", "fixed"])
    assert params[statement.names.index("when")] == "2026-05-04 08:00:00.000000"


def test_a_parameter_set_later_takes_its_place_in_parameters_made_before() -> None:
    table = sa.table("t", sa.column("a", sa.Integer), sa.column("b", UTCDateTime()))
    statement = DriverStatement(sa.insert(table), sqlite.dialect(), ("a", "b"))
    when = datetime(2026, 5, 4, 8, tzinfo=UTC)
    made = statement.parameters({"a": None, "b": when})
    assert statement.with_value(made, "a", 7) == statement.parameters({"a": 7, "b": when})
    with pytest.raises(ValueError, match="converter"):
        statement.with_value(made, "b", when)
