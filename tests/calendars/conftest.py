"""Factories for the calendar tests: e-mail contacts through the real ingest path."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from itertools import count

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from servicedesk.contacts.models import Contact
from servicedesk.orgs.models import Organisation
from tests.helpers import ingest


@pytest.fixture
def cal_email(db: Session) -> Callable[..., Contact]:
    ids = count(1)

    def create(org: Organisation, received: datetime, answered: datetime | None) -> Contact:
        n = next(ids)
        events = [
            {
                "id": f"r{n}",
                "type": "email.received",
                "contact_id": f"m{n}",
                "occurred_at": received.isoformat(),
            }
        ]
        if answered is not None:
            events.append(
                {
                    "id": f"a{n}",
                    "type": "email.replied",
                    "contact_id": f"m{n}",
                    "occurred_at": answered.isoformat(),
                }
            )
        ingest(db, org, *events)
        return db.execute(
            sa.select(Contact).where(
                Contact.organisation_id == org.id, Contact.contact_id == f"m{n}"
            )
        ).scalar_one()

    return create
