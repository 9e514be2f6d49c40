"""The demo's sign-ins and frozen reports, so `make run` shows every page with something in it."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from servicedesk.auth.operations import create_user
from servicedesk.db import unit_of_work
from servicedesk.metrics.periods import Month
from servicedesk.orgs.models import Organisation
from servicedesk.reports.service import generate_report
from servicedesk.timeutil import local_date

#: (address, role, queues the user is limited to): one of each kind of user the product has.
DEMO_USERS = [
    ("admin@demo.se", "admin", ()),
    ("kvalitet@demo.se", "quality", ()),
    ("teamledare@demo.se", "team_leader", ()),
    ("bygglov@demo.se", "team_leader", ("Bygglov",)),
]


def create_demo_users(session: Session, org: Organisation, password: str) -> list[str]:
    """The demo's users, all with one password; returns a line per user for the operator."""
    lines = []
    for email, role, queues in DEMO_USERS:
        create_user(session, org, email=email, password=password, role=role, queue_names=queues)
        limit = f" (queue {', '.join(queues)})" if queues else ""
        lines.append(f"{email}  {role}{limit}")
    return lines


def freeze_past_months(engine: Engine, org: Organisation, since: date, now: datetime) -> list[str]:
    """Frozen reports for the complete months from ``since`` on, oldest first (as the scheduler
    would have made them, so each report's month before is itself frozen)."""
    month = Month.of(since)
    current = Month.of(local_date(now, org.timezone))
    made = []
    while month < current:
        with unit_of_work(engine) as session:
            generate_report(session, org, month, trigger="demo", now=now)
        made.append(str(month))
        month = month.next()
    return made
