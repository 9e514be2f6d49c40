"""Keeping the e-mail contacts' working times in step with the organisation's calendar.

The e-mail figures (within 1 / 2 working days, median working hours) read each contact's
``answer_seconds``, its working time from receipt to answer. The fold sets it when an e-mail
is answered; when the calendar changes (a closed day added or removed, a new holidays release)
the e-mails whose span covers a changed day are recomputed, so the stored value is always what
the calendar says now.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from servicedesk.calendars import sql as calsql
from servicedesk.contacts.models import Contact
from servicedesk.db import table_of

C = table_of(Contact)

#: The working time of an answered e-mail, by the calendar as it is in the database.
EMAIL_WORKING_SECONDS = calsql.working_clock_of(
    C.c, C.c.answered_local_date, C.c.answered_local_seconds
) - calsql.working_clock_of(C.c, C.c.start_date, C.c.start_local_seconds)


def set_email_working_times(session: Session, org_id: int, *where: Any) -> int:
    """(Re)compute ``answer_seconds`` of the organisation's answered e-mails matching ``where``.

    Returns how many rows were written. Call it with the calendar built (``ensure_calendar``).
    """
    result = session.connection().execute(
        sa.update(C)
        .where(
            C.c.organisation_id == org_id,
            C.c.channel == "email",
            C.c.answered_local_date.is_not(None),
            *where,
        )
        .values(answer_seconds=EMAIL_WORKING_SECONDS)
    )
    return int(result.rowcount or 0)
