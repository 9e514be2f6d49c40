"""The fold stores the local wall-clock parts the working-time arithmetic reads."""

from datetime import date

import pytest
import sqlalchemy as sa

from servicedesk.calendars import sql as calsql
from servicedesk.contacts.models import Contact
from servicedesk.ingest.schemas import EventIn
from servicedesk.ingest.service import RawDelivery, ingest_events


def ingest(session, org, *events: dict) -> None:
    parsed = [EventIn.model_validate(e) for e in events]
    ingest_events(session, org, parsed, RawDelivery("test", b"{}"), pseudonym_key=b"k" * 32)


def test_email_folded_with_local_times(cal_session, cal_org) -> None:
    org = cal_org("SE")
    # Received Friday 19 June 2026 (midsommarafton) 09:30 CEST; replied Monday 22 June 10:00.
    ingest(
        cal_session,
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
    contact = cal_session.execute(sa.select(Contact)).scalar_one()
    assert contact.start_date == date(2026, 6, 19)
    assert contact.start_local_seconds == 9.5 * 3600
    assert contact.answered_local_date == date(2026, 6, 22)
    assert contact.answered_local_seconds == 10 * 3600
    c = sa.orm.aliased(Contact)
    cs, ca = calsql.calendar_alias("cs"), calsql.calendar_alias("ca")
    from servicedesk.calendars.service import ensure_calendar

    ensure_calendar(cal_session, org)
    stmt = calsql.join_calendars(
        sa.select(calsql.email_working_seconds(c, cs, ca)).select_from(c), c, cs, ca
    )
    # Midsommarafton and the weekend count nothing: only Monday 00:00-10:00.
    assert cal_session.execute(stmt).scalar_one() == pytest.approx(10 * 3600)
