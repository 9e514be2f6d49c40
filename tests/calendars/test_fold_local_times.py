"""The fold stores the local wall-clock parts the working-time arithmetic reads."""

from datetime import date

import pytest
import sqlalchemy as sa

from servicedesk.calendars.service import ensure_calendar
from servicedesk.contacts.models import Contact
from tests.helpers import ingest


def test_email_folded_with_local_times(db, make_org) -> None:
    org = make_org(country="SE")
    # Received Friday 19 June 2026 (midsommarafton) 09:30 CEST; replied Monday 22 June 10:00.
    ingest(
        db,
        org,
        {
            "id": "e2",
            "type": "email.replied",
            "contact_id": "m1",
            "occurred_at": "2026-06-22T08:00:00Z",
        },
        {
            "id": "e1",
            "type": "email.received",
            "contact_id": "m1",
            "occurred_at": "2026-06-19T07:30:00Z",
        },
    )
    contact = db.execute(sa.select(Contact)).scalar_one()
    assert contact.start_date == date(2026, 6, 19)
    assert contact.start_local_seconds == 9.5 * 3600
    assert contact.answered_local_date == date(2026, 6, 22)
    assert contact.answered_local_seconds == 10 * 3600
    ensure_calendar(db, org)
    db.refresh(contact)
    # Midsommarafton and the weekend count nothing: only Monday 00:00-10:00.
    assert contact.answer_seconds == pytest.approx(10 * 3600)
