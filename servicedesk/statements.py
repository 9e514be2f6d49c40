"""The write path's statements, compiled once per dialect and run on the driver's own cursor.

A delivery runs the same few statements every time (store the delivery, its events, read the
contacts' events, upsert the contacts). Through SQLAlchemy's ``Connection.execute`` each one
costs an execution context, a result object and a Python call per parameter per row: measured,
that was most of a single-event delivery's time and about half of a batch's (docs/
benchmarks.md, "Where a delivery's time goes"). Here a Core statement is compiled once, with
the bind and result processors of its columns' types, and each execution hands the driver the
SQL string and the converted parameters directly: the values stored are SQLAlchemy's own,
made by the same type processors, so rows written this way read back exactly as before.

Lists go in as one parameter (``IN (SELECT value FROM json_each(?))`` on SQLite, ``= ANY(...)``
on PostgreSQL: see ``in_list``), so one compiled string serves any number of ids. Driver errors
are turned into SQLAlchemy's exceptions by the connection's own handler, so an outage is still
an ``OperationalError`` (503 with Retry-After) and a lost connection is still invalidated.
"""

from __future__ import annotations

import itertools
import json
import operator
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlmodel.sql.sqltypes import UTCDateTime

Processor = Callable[[Any], Any] | None

#: How many rows one multi-row INSERT ... RETURNING carries on SQLite (its limit is 32,766
#: parameters; 250 rows of 15 columns stay far below).
SQLITE_ROWS_PER_INSERT = 250


def in_list(column: sa.ColumnElement[Any], name: str, dialect: str) -> sa.ColumnElement[bool]:
    """``column IN (the list in parameter name)`` as one parameter, whatever the list's length:
    a JSON array on SQLite (``json_each``), an array on PostgreSQL. Pass the list through
    ``list_value``."""
    if dialect == "postgresql":
        return column == sa.func.any(sa.bindparam(name, type_=sa.ARRAY(sa.Text)))
    values: sa.Select[Any] = sa.select(sa.column("value")).select_from(
        sa.func.json_each(sa.bindparam(name, type_=sa.Text))
    )
    return column.in_(values.scalar_subquery())


def list_value(dialect: str, values: Sequence[Any]) -> Any:
    """A list as ``in_list`` takes it on this dialect."""
    return list(values) if dialect == "postgresql" else json.dumps(list(values))


def _getter(names: Sequence[str]) -> Callable[[Mapping[str, Any]], Sequence[Any]]:
    """A function of a mapping to its values of ``names``, in order (always a sequence)."""
    if not names:
        return lambda _values: ()
    if len(names) == 1:
        one = operator.itemgetter(names[0])
        return lambda values: (one(values),)
    return operator.itemgetter(*names)


#: SQLAlchemy's SQLite ``DATETIME`` storage format, by position (a tuple formats faster than
#: its dict of names).
_SQLITE_DATETIME = "%04d-%02d-%02d %02d:%02d:%02d.%06d"


def _utc_text_converter() -> Callable[[datetime | None], str | None]:
    """A converter of aware datetimes to SQLite's text, as SQLAlchemy's ``DateTime`` writes it
    under ``UTCDateTime`` (UTC, microseconds, no offset), in one step instead of two: on the
    write path it runs for every event and contact, and the two steps (the type decorator,
    then ``%`` over a dict) were a sixth of a batch's time (issue 17). One converter per
    parameter: each keeps the last value it converted, so a column that holds one moment on
    every row (a delivery's ``received_at``) is converted once."""
    # The last (datetime, text), as one tuple: read and replaced whole, so a thread never sees
    # one value's datetime with another's text.
    last: list[tuple[datetime | None, str]] = [(None, "")]

    def convert(value: datetime | None) -> str | None:
        if value is None:
            return None
        seen, seen_text = last[0]
        if value is seen:
            return seen_text
        utc = value
        if value.tzinfo is not UTC:
            if value.utcoffset() is None:
                raise ValueError("Datetime values must have timezone information.")
            utc = value.astimezone(UTC)
        text = _SQLITE_DATETIME % (
            utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second, utc.microsecond,
        )  # fmt: skip
        last[0] = (value, text)
        return text

    return convert


def _utc_datetime(value: str | None) -> datetime | None:
    """An aware UTC datetime from SQLite's text, as SQLAlchemy reads it (the converter undone)."""
    if value is None:
        return None
    parsed = datetime.fromisoformat(value)
    if parsed.utcoffset() is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def bind_processor(type_: Any, dialect: Dialect) -> Processor:
    """The converter of a parameter of this type, as SQLAlchemy would apply it."""
    if dialect.name == "sqlite" and isinstance(type_, UTCDateTime):
        return _utc_text_converter()
    processor: Processor = type_.dialect_impl(dialect).bind_processor(dialect)
    return processor


def result_processor(type_: Any, dialect: Dialect) -> Processor:
    """The converter of a result column of this type, as SQLAlchemy would apply it."""
    if dialect.name == "sqlite" and isinstance(type_, UTCDateTime):
        return _utc_datetime
    processor: Processor = type_.dialect_impl(dialect).result_processor(dialect, None)
    return processor


class DriverStatement:
    """One Core statement compiled for one dialect, with its parameters' and columns' converters.

    ``keys`` names the parameters (for an INSERT: the columns given, in this order); a bound
    value the statement carries itself (a literal in a WHERE) is used as it is.
    """

    def __init__(self, statement: Any, dialect: Dialect, keys: Sequence[str] = ()) -> None:
        compiled = statement.compile(
            dialect=dialect,
            column_keys=list(keys) if keys else None,
            compile_kwargs={"render_postcompile": True},
        )
        self.sql: str = compiled.string
        self.positional: bool = bool(compiled.positional)
        names = list(compiled.positiontup or ()) if self.positional else list(compiled.binds)
        self.names: tuple[str, ...] = tuple(names)
        binds = compiled.binds
        self.fixed: dict[str, Any] = {n: binds[n].effective_value for n in names if n not in keys}
        if getattr(statement, "is_insert", False) and self.fixed:
            # An INSERT's bind without a given value is a column default SQLAlchemy would
            # compute at execution: the caller must give it (e.g. received_at).
            raise ValueError(f"give the values of {sorted(self.fixed)} too")
        self.processors: tuple[Processor, ...] = tuple(
            bind_processor(binds[n].type, dialect) for n in names
        )
        self.results: tuple[Processor, ...] = tuple(
            result_processor(c.type, dialect) for c in getattr(statement, "exported_columns", ())
        )
        self.keys = tuple(keys)
        # One C call fetches a row's values in the statement's order; only the columns with a
        # converter are touched again (most are strings and integers the driver takes as they are).
        self._get = _getter(names)
        self._convert = tuple((i, p) for i, p in enumerate(self.processors) if p is not None)

    def parameters(self, values: Mapping[str, Any]) -> Any:
        """One row's parameters as the driver takes them (a tuple, or a dict by name)."""
        if self.fixed:
            values = {**values, **self.fixed}
        out = self._get(values)
        if self._convert:
            out = list(out)
            for i, convert in self._convert:
                out[i] = convert(out[i])
        return tuple(out) if self.positional else dict(zip(self.names, out, strict=True))

    def with_value(self, params: Any, name: str, value: Any) -> Any:
        """``parameters`` made earlier, with parameter ``name`` set to ``value`` (one without a
        converter: an id known only later, such as the delivery's)."""
        index = self.names.index(name)
        if self.processors[index] is not None:
            raise ValueError(f"{name} has a converter: give it to parameters()")
        if self.positional:
            return (*params[:index], value, *params[index + 1 :])
        return {**params, name: value}

    def rows(self, raw: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
        """Result rows with the columns' types applied (SQLite's datetimes are text)."""
        procs = self.results
        if not any(procs):
            return [tuple(r) for r in raw]
        return [tuple(v if p is None else p(v) for v, p in zip(r, procs, strict=True)) for r in raw]

    def execute(self, conn: sa.Connection, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run once; the rows it returns (none for a plain write)."""
        params = self.parameters(values)
        with _driver(conn, self.sql, params) as cursor:
            cursor.execute(self.sql, params)
            raw = cursor.fetchall() if cursor.description else []
        return self.rows(raw)

    def executemany(
        self,
        conn: sa.Connection,
        rows: Sequence[Mapping[str, Any]],
        params: Sequence[Any] | None = None,
    ) -> int:
        """Run once per row in one driver call (no rows returned); the rows it changed, in all.
        ``params``: the rows' ``parameters`` made beforehand."""
        if not rows:
            return 0
        if params is None:
            params = [self.parameters(r) for r in rows]
        with _driver(conn, self.sql, params) as cursor:
            if len(params) == 1:
                # psycopg runs ``executemany`` in its pipeline mode, whose setup and sync cost
                # more than the statement for one row (a single event's contact and month).
                cursor.execute(self.sql, params[0])
            else:
                cursor.executemany(self.sql, params)
            return int(cursor.rowcount)


class InsertReturning:
    """A multi-row INSERT ... RETURNING for one dialect: SQLite's driver returns no rows from
    ``executemany``, so there the rows go in one VALUES list per ``SQLITE_ROWS_PER_INSERT``;
    psycopg returns each row's result from its pipelined ``executemany``."""

    def __init__(self, statement: Any, dialect: Dialect, keys: Sequence[str]) -> None:
        self.one = DriverStatement(statement, dialect, keys)
        self.dialect = dialect.name
        if self.dialect == "sqlite":
            head, values, tail = _split_values(self.one.sql)
            self._sqlite = (head, values, tail)

    def run(
        self,
        conn: sa.Connection,
        rows: Sequence[Mapping[str, Any]],
        params: Sequence[Any] | None = None,
    ) -> list[tuple[Any, ...]]:
        """Insert ``rows``; the rows returned. ``params``: the rows' ``parameters`` made
        beforehand (outside SQLite's writer's turn), used instead of converting them here."""
        if not rows:
            return []
        one = self.one
        if params is None:
            params = [one.parameters(r) for r in rows]
        if len(rows) == 1:
            with _driver(conn, one.sql, params[0]) as cursor:
                cursor.execute(one.sql, params[0])
                return one.rows(cursor.fetchall())
        if self.dialect != "sqlite":
            out: list[Any] = []
            with _driver(conn, one.sql, params) as cursor:
                cursor.executemany(one.sql, params, returning=True)
                while True:
                    out.extend(cursor.fetchall())
                    if not cursor.nextset():
                        break
            return one.rows(out)
        out = []
        for start in range(0, len(params), SQLITE_ROWS_PER_INSERT):
            chunk = params[start : start + SQLITE_ROWS_PER_INSERT]
            sql = _sqlite_values(*self._sqlite, len(chunk))
            flat = list(itertools.chain.from_iterable(chunk))
            with _driver(conn, sql, flat) as cursor:
                cursor.execute(sql, flat)
                out.extend(cursor.fetchall())
        return one.rows(out)


def _split_values(sql: str) -> tuple[str, str, str]:
    """``INSERT ... VALUES (?, ?) ON CONFLICT ...`` as its head, its one row and its tail."""
    head, sep, rest = sql.partition(" VALUES (")
    if not sep:
        raise ValueError("not a single-row INSERT ... VALUES")
    depth = 1
    for end, char in enumerate(rest):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0:
            return head, "(" + rest[: end + 1], rest[end + 1 :]
    raise ValueError("unbalanced VALUES")


@lru_cache(maxsize=64)
def _sqlite_values(head: str, values: str, tail: str, count: int) -> str:
    return f"{head} VALUES {', '.join([values] * count)}{tail}"


@contextmanager
def _driver(conn: sa.Connection, sql: str, params: Any) -> Iterator[Any]:
    """The connection's DBAPI cursor; driver errors raised as SQLAlchemy raises them."""
    cursor = conn.connection.cursor()
    try:
        yield cursor
    except conn.dialect.loaded_dbapi.Error as exc:
        # The connection's own handler: wraps the error (OperationalError, IntegrityError ...)
        # and invalidates a connection the server dropped, as Connection.execute would.
        conn._handle_dbapi_exception(exc, sql, params, cursor, None)  # raises
        raise  # (not reached)
    finally:
        cursor.close()


#: Builds a Core statement for a dialect's name and the parameters' names.
Builder = Callable[[str, tuple[str, ...]], Any]


@lru_cache(maxsize=64)
def prepared(dialect: Dialect, build: Builder, keys: tuple[str, ...]) -> DriverStatement:
    """The ``DriverStatement`` of ``build(dialect's name, keys)``, made once per process."""
    return DriverStatement(build(dialect.name, keys), dialect, keys)


@lru_cache(maxsize=16)
def prepared_insert(dialect: Dialect, build: Builder, keys: tuple[str, ...]) -> InsertReturning:
    """The ``InsertReturning`` of ``build(dialect's name, keys)``, made once per process."""
    return InsertReturning(build(dialect.name, keys), dialect, keys)
