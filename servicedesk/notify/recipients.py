"""The report's e-mail recipients as people see them (Settings, the CLI), and sending a frozen
report to them on demand.

A recipient is a notification endpoint of kind ``email``: its address is sealed (personal data)
and only ``url_hint`` ("a…@kumla.se") is ever shown; the address is unsealed only to send.
The frozen report goes to each recipient once by itself (``operations.dispatch``); sending on
demand is for a version that changed or a recipient added afterwards, and is audited by the
caller.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from integrations.smtp import MailSender
from servicedesk.notify.mail import send_report
from servicedesk.notify.models import NotificationDelivery, NotificationEndpoint
from servicedesk.orgs.models import Organisation
from servicedesk.sealing import unseal


@dataclass(frozen=True)
class Recipient:
    """One recipient as a list shows it: never the address."""

    id: int
    hint: str
    language: str
    delivered: int
    pending: int
    failed: int
    #: The last failed attempt's answer, if the latest delivery did not go through.
    last_error: str | None


@dataclass(frozen=True)
class Sent:
    """One on-demand sending: to whom (the hint) and how it went."""

    hint: str
    ok: bool
    error: str | None


def default_language(org: Organisation) -> str:
    return {"SE": "sv", "NO": "nb"}.get(org.country.upper(), "en")


def _email_endpoints(session: Session, org: Organisation) -> list[NotificationEndpoint]:
    return list(
        session.scalars(
            sa.select(NotificationEndpoint)
            .where(
                col(NotificationEndpoint.organisation_id) == org.id,
                col(NotificationEndpoint.kind) == "email",
            )
            .order_by(col(NotificationEndpoint.id))
        )
    )


def recipient_count(session: Session, org: Organisation) -> int:
    """How many e-mail recipients the organisation has (one count, no delivery log read)."""
    return int(
        session.scalar(
            sa.select(sa.func.count()).where(
                col(NotificationEndpoint.organisation_id) == org.id,
                col(NotificationEndpoint.kind) == "email",
            )
        )
        or 0
    )


def recipients(session: Session, org: Organisation) -> list[Recipient]:
    """The organisation's e-mail recipients with what was delivered to each."""
    rows = _email_endpoints(session, org)
    counts: dict[tuple[int, str], int] = {}
    errors: dict[int, str | None] = {}
    if rows:
        ids = [r.id for r in rows]
        d = NotificationDelivery
        for endpoint_id, status, n in session.execute(
            sa.select(col(d.endpoint_id), col(d.status), sa.func.count())
            .where(col(d.endpoint_id).in_(ids))
            .group_by(col(d.endpoint_id), col(d.status))
        ):
            counts[(endpoint_id, status)] = n
        for endpoint_id, status, error in session.execute(
            sa.select(col(d.endpoint_id), col(d.status), col(d.last_error))
            .where(col(d.endpoint_id).in_(ids))
            .order_by(col(d.id))
        ):
            errors[endpoint_id] = error if status != "delivered" else None
    return [
        Recipient(
            r.id,
            r.url_hint,
            r.language,
            counts.get((r.id, "delivered"), 0),
            counts.get((r.id, "pending"), 0),
            counts.get((r.id, "failed"), 0),
            errors.get(r.id),
        )
        for r in rows
    ]


def remove_recipient(session: Session, org: Organisation, endpoint_id: int) -> str | None:
    """Remove one of the organisation's e-mail recipients (and its delivery log); its hint, or
    None when the organisation has no such recipient."""
    row = session.get(NotificationEndpoint, endpoint_id)
    if row is None or row.organisation_id != org.id or row.kind != "email":
        return None
    hint = row.url_hint
    session.delete(row)
    session.flush()
    return hint


def addressees(
    session: Session, org: Organisation, secret_key: str | bytes, language: str = ""
) -> list[tuple[str, str, str]]:
    """(address, language, hint) of every e-mail recipient, the addresses unsealed to send."""
    default = default_language(org)
    return [
        (unseal(r.url_sealed, secret_key), language or r.language or default, r.url_hint)
        for r in _email_endpoints(session, org)
    ]


def send_now(
    mailer: MailSender, document: dict[str, Any], to: Sequence[tuple[str, str, str]]
) -> list[Sent]:
    """Send the report to each (address, language, hint) now; one attempt each, no retries
    (the scheduler's deliveries retry; a person sending by hand sees the outcome at once)."""
    out = []
    for address, language, hint in to:
        outcome = send_report(mailer, document, address, language)
        out.append(Sent(hint, outcome.ok, None if outcome.ok else str(outcome.error)))
    return out
