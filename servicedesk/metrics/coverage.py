"""Data coverage: which days of a month the organisation's data covers.

A month is *partial* when its data starts inside it (the organisation's first contact came
after the 1st: a new organisation, a demo that starts mid-October) or ends inside it (the
month is still running). Its figures are then not a whole month's, so every comparison marks
it (cards, trends, the print view, the report and the exports: docs/metrics.md, "Coverage").
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from servicedesk.contacts.models import Contact
from servicedesk.db import table_of
from servicedesk.metrics.periods import Month
from servicedesk.orgs.models import Organisation


def first_contact_date(session: Session, org: Organisation) -> date | None:
    """The local date of the organisation's first contact (one index step per channel)."""
    c = table_of(Contact)
    firsts = [
        session.execute(
            sa.select(sa.func.min(c.c.start_date)).where(
                c.c.organisation_id == org.id, c.c.channel == channel
            )
        ).scalar_one_or_none()
        for channel in ("phone", "email")
    ]
    found = [d for d in firsts if d is not None]
    return min(found) if found else None


def coverage(month: Month, first: date | None, today: date) -> dict[str, Any]:
    """``{"first_day", "last_day", "days", "partial", "running"}`` of ``month``: the days its
    data can cover (ISO dates; null when none), given the first contact's date and today."""
    running = month.first <= today <= month.last
    start = max(month.first, first) if first is not None else None
    end = min(month.last, today)
    if start is None or start > end:
        return {
            "first_day": None,
            "last_day": None,
            "days": 0,
            "partial": False,
            "running": running,
        }
    return {
        "first_day": start.isoformat(),
        "last_day": end.isoformat(),
        "days": (end - start).days + 1,
        "partial": start > month.first or end < month.last,
        "running": running,
    }
