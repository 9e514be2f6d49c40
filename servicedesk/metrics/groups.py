"""How a period's contacts are grouped: the whole range, per queue, per day, per queue and day.

Every figure is first computed per (queue, local day) cell; a grouping says which cells roll up
together. ``None`` is the key of contacts without a queue.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

import sqlalchemy as sa

from servicedesk.contacts.models import Contact
from servicedesk.db import table_of
from servicedesk.orgs.models import Organisation

C = table_of(Contact)

#: The groupings: None (one group), "queue", "day", "queue_day".
BY = (None, "queue", "day", "queue_day")


def check_bys(bys: Iterable[str | None]) -> list[str | None]:
    """The groupings asked for, or ValueError naming the allowed ones."""
    checked = list(bys)
    for by in checked:
        if by not in BY:
            raise ValueError(f"by must be one of {BY}")
    return checked


def group_key(by: str | None, queue_id: Any, day: Any) -> Any:
    """The group a (queue, day) cell rolls up into."""
    return {None: None, "queue": queue_id, "day": day, "queue_day": (queue_id, day)}[by]


def sort_key(key: Any) -> Any:
    """Groups in a stable order (None, a queue without name, first)."""
    parts = key if isinstance(key, tuple) else (key,)
    return tuple((p is not None, p) for p in parts)


def period(org: Organisation, start: date, end: date, queue_ids: list[int] | None) -> list[Any]:
    """The conditions of the organisation's contacts started in ``start``..``end`` (local dates,
    inclusive), in the given queues when ``queue_ids`` is not None."""
    conds = [C.c.organisation_id == org.id, C.c.start_date >= start, C.c.start_date <= end]
    if queue_ids is not None:
        conds.append(C.c.queue_id.in_(queue_ids))
    return conds


def id_list(queue_ids: Iterable[int] | None) -> list[int] | None:
    return list(queue_ids) if queue_ids is not None else None


def count_if(cond: Any) -> Any:
    """How many rows meet ``cond`` (COUNT of a CASE without ELSE: the same on both engines)."""
    return sa.func.count(sa.case((cond, 1)))
