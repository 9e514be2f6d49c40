"""A fresh database per test with organisations and contacts, for the calendar tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from sqlmodel import Session, SQLModel

import servicedesk.models  # noqa: F401  (registers every table)
from servicedesk.calendars.worktime import contact_local_times
from servicedesk.contacts.models import Contact
from servicedesk.db import make_engine
from servicedesk.orgs.models import DEFAULT_TIMEZONES, Organisation
from servicedesk.timeutil import local_date


@pytest.fixture
def cal_session(tmp_path) -> Iterator[Session]:
    engine = make_engine(f"sqlite:///{tmp_path / 'cal.sqlite'}")
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        yield session
    engine.dispose()


@pytest.fixture
def cal_org(cal_session: Session) -> Callable[..., Organisation]:
    def create(country: str = "SE", slug: str | None = None) -> Organisation:
        org = Organisation(
            slug=slug or f"org-{country.lower()}",
            name=f"Org {country}",
            country=country,
            timezone=DEFAULT_TIMEZONES[country],
        )
        cal_session.add(org)
        cal_session.flush()
        return org

    return create


@pytest.fixture
def cal_email(cal_session: Session) -> Callable[..., Contact]:
    def create(org: Organisation, received: datetime, answered: datetime | None) -> Contact:
        contact = Contact(
            organisation_id=org.id,
            channel="email",
            contact_id=f"m-{received.isoformat()}",
            started_at=received,
            start_date=local_date(received, org.timezone),
            answered_at=answered,
            updated_at=datetime.now(UTC),
            **contact_local_times(received, answered, org.timezone),
        )
        cal_session.add(contact)
        cal_session.flush()
        return contact

    return create
