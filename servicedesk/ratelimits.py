"""Rate limits every worker shares: in Redis when one is configured, else in the database.

Counted per worker in memory, a limit of ten attempts a minute was ten per worker. The
``limits`` library (under Flask-Limiter) takes its storage from a URI; this module adds one
more scheme, ``servicedesk+sql://``, that keeps the counters in the application's own database
(table ``rate_limits``), so a limit holds across the workers of an installation without Redis.
Each count is one small upsert; only failures and refusals are counted, never a valid request.
"""

from __future__ import annotations

import ipaddress
import time
from typing import Any

import sqlalchemy as sa
from flask import current_app
from limits import RateLimitItem, parse_many
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Field, SQLModel

from servicedesk import db as _db  # noqa: F401  (naming convention before the first table)
from servicedesk.db import insert_for, table_of, unit_of_work

SQL_STORAGE_URI = "servicedesk+sql://"


class RateLimitCounter(SQLModel, table=True):
    """One fixed window's count of one limit and key."""

    __tablename__ = "rate_limits"
    key: str = Field(primary_key=True, max_length=255)
    hits: int = 0
    #: Unix time at which the window ends.
    expires_at: float = Field(index=True)


_T = table_of(RateLimitCounter)


def _engine() -> sa.Engine:
    engine: sa.Engine = current_app.extensions["servicedesk.engine"]
    return engine


class SqlStorage(Storage):
    """The ``limits`` storage of counters in the application's database (fixed windows)."""

    STORAGE_SCHEME = ["servicedesk+sql"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        engine = _engine()
        now = time.time()
        stmt = insert_for(engine.dialect.name, _T).values(
            key=key[:255], hits=amount, expires_at=now + expiry
        )
        expired = _T.c.expires_at <= now
        stmt = stmt.on_conflict_do_update(
            index_elements=["key"],
            set_={
                "hits": sa.case((expired, amount), else_=_T.c.hits + amount),
                "expires_at": sa.case((expired, now + expiry), else_=_T.c.expires_at),
            },
        ).returning(_T.c.hits)
        with unit_of_work(engine) as session:
            hits = int(session.execute(stmt).scalar_one())
            if hits == amount and int(now) % 50 == 0:  # now and then: forget old windows
                session.execute(sa.delete(_T).where(_T.c.expires_at < now - 86_400))
        return hits

    def _row(self, key: str) -> Any:
        with _engine().connect() as conn:
            return conn.execute(
                sa.select(_T.c.hits, _T.c.expires_at).where(
                    _T.c.key == key[:255], _T.c.expires_at > time.time()
                )
            ).first()

    def get(self, key: str) -> int:
        row = self._row(key)
        return int(row.hits) if row else 0

    def get_expiry(self, key: str) -> float:
        row = self._row(key)
        return float(row.expires_at) if row else time.time()

    def check(self) -> bool:
        try:
            with _engine().connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with unit_of_work(_engine()) as session:
            deleted: int = session.execute(sa.delete(_T)).rowcount  # type: ignore[attr-defined]  # DML: a CursorResult
            return deleted

    def clear(self, key: str) -> None:
        with unit_of_work(_engine()) as session:
            session.execute(sa.delete(_T).where(_T.c.key == key[:255]))


def storage_uri(redis_url: str | None) -> str:
    """Redis when configured, else the database: never one count per worker."""
    return redis_url or SQL_STORAGE_URI


def client_key(address: str | None) -> str:
    """An address as a limit's key: an IPv6 client by its /64 (one subscriber's whole block)."""
    if not address:
        return "unknown"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class SharedLimit:
    """A limit outside Flask-Limiter's decorators (refused deliveries), on the same storage."""

    def __init__(self, storage_uri: str, limits: str) -> None:
        self.items: list[RateLimitItem] = list(parse_many(limits))
        self.storage = storage_from_string(storage_uri)
        self.limiter = FixedWindowRateLimiter(self.storage)

    def hit(self, *identifiers: str) -> float | None:
        """Count one; None while within every limit, else the seconds until it may again."""
        wait: float | None = None
        for item in self.items:
            if not self.limiter.hit(item, *identifiers):
                reset = self.limiter.get_window_stats(item, *identifiers).reset_time
                wait = max(wait or 0.0, reset - time.time())
        return wait
