"""One cache for what is costly to compute and asked for often, shared by every worker.

Flask-Caching, on the first of:

- Redis (``SERVICEDESK_REDIS_URL``, the one the rate limits use): shared by every worker of every
  host;
- a directory (``SERVICEDESK_CACHE_DIR``, by default ``cache/`` in the instance folder): shared by
  the workers of one host (a single host is what an SQLite installation is);
- tests: each app its own cache in memory.

Consistency across workers: there is one cache, so a value dropped is dropped for every worker at
once. A change that makes cached values wrong drops them when its transaction commits
(``forget_after_commit``, ``forget_org_after_commit``): never before, or another worker could
compute the old value again from rows not yet changed. What no change announces (the events that
keep arriving in the running month) is bounded by each value's time to live. docs/deploy.md
("Caches") says the same for operators.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask, has_app_context
from flask_caching import Cache
from sqlalchemy.orm import Session

from servicedesk.db import after_commit

T = TypeVar("T")

cache = Cache()

#: Files the directory cache keeps before it starts dropping the oldest.
FILE_CACHE_ITEMS = 20_000


def init_app(app: Flask) -> None:
    """Choose the backend (Redis, a directory, or memory under tests) and wire the cache."""
    config: dict[str, Any] = {
        "CACHE_KEY_PREFIX": "servicedesk:",
        "CACHE_DEFAULT_TIMEOUT": 300,
    }
    if app.config.get("CACHE_TYPE"):
        config["CACHE_TYPE"] = app.config["CACHE_TYPE"]
    elif app.testing:
        config["CACHE_TYPE"] = "SimpleCache"
    elif app.config.get("REDIS_URL"):
        config |= {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": app.config["REDIS_URL"]}
    else:
        folder = app.config.get("CACHE_DIR") or str(Path(app.instance_path) / "cache")
        config |= {
            "CACHE_TYPE": "FileSystemCache",
            "CACHE_DIR": folder,
            "CACHE_THRESHOLD": FILE_CACHE_ITEMS,
        }
    cache.init_app(app, config=config)


def remember(key: str, seconds: int, compute: Callable[[], T]) -> T:
    """``compute()``, or what any worker computed for ``key`` within the last ``seconds``."""
    found = cache.get(key)
    if found is not None:
        return found[0]  # type: ignore[no-any-return]  # what ``compute`` returned, unpickled
    value = compute()
    cache.set(key, (value,), timeout=seconds)  # boxed: None is a value too
    return value


def remember_row(
    session: Session, key: str, seconds: int, query: Any, params: dict[str, Any]
) -> dict[str, Any] | None:
    """The one row ``query`` finds (as a dict), kept for ``seconds``; a missing row is never
    kept, so what is made now is found at once."""
    row: dict[str, Any] | None = cache.get(key)
    if row is None:
        found = session.connection().execute(query, params).mappings().first()
        if found is None:
            return None
        row = dict(found)
        cache.set(key, row, timeout=seconds)
    return row


def forget_after_commit(session: Session, *keys: str) -> None:
    """Drop ``keys`` for every worker once the session's transaction commits."""
    after_commit(session, lambda: _delete(keys))


def _delete(keys: tuple[str, ...]) -> None:
    if has_app_context():  # (a test's session outside any app has no cache to drop from)
        cache.delete_many(*keys)


def org_key(org_id: int | None, *parts: object) -> str:
    """A key of a value computed from an organisation's data: it changes when the
    organisation's values are all dropped at once (``forget_org_after_commit``)."""
    generation = cache.get(_generation_key(org_id)) or "0"
    return ":".join(["org", str(org_id), generation, *map(str, parts)])


def forget_org_after_commit(session: Session, org_id: int | None) -> None:
    """Drop every value computed from the organisation's data once the transaction commits."""
    after_commit(session, lambda: _next_generation(org_id))


def forget_org(org_id: int | None) -> None:
    """Drop every value computed from the organisation's data now (nothing left to commit)."""
    _next_generation(org_id)


def _next_generation(org_id: int | None) -> None:
    if has_app_context():
        cache.set(_generation_key(org_id), uuid.uuid4().hex, timeout=0)


def _generation_key(org_id: int | None) -> str:
    return f"org:{org_id}:generation"
