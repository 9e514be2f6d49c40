"""A frozen June 2026 report that changes between calls: the fixture of the notification and
report e-mail tests."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from servicedesk.metrics.periods import Month
from servicedesk.reports.service import generate_report
from tests.helpers import event, post

JUNE = Month(2026, 6)
T0 = datetime(2026, 7, 3, 4, 0, tzinfo=UTC)


@pytest.fixture
def report(db, org, client, token):
    """Freeze June (a new version each call, as figures change between calls)."""
    calls = iter(range(1, 100))

    def _make():
        n = next(calls)
        post(client, token, event(contact_id=f"c{n}", at="2026-06-10T10:00:00+02:00"))
        made, _ = generate_report(db, org, JUNE, now=T0)
        db.commit()
        return made

    return _make
