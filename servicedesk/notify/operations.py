"""Configure notification endpoints; queue and send the announcements of frozen reports.

The queue is computed from the database (reports without a delivery row for an endpoint), so
a report made by any path, at any time, is announced once per endpoint, and a scheduler that
was down catches up. HTTP is never done inside a database transaction.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from integrations.notifications import NOTIFIERS, Attempt
from integrations.smtp import MailSender
from servicedesk.db import table_of, unit_of_work
from servicedesk.notify.mail import (
    MailNotConfigured,
    address_hint,
    configured_sender,
    send_report,
    valid_address,
)
from servicedesk.notify.models import NotificationDelivery, NotificationEndpoint
from servicedesk.notify.recipients import default_language, recipient_count
from servicedesk.orgs.models import Organisation
from servicedesk.reports.models import Report
from servicedesk.reports.workbook import LANGUAGES
from servicedesk.sealing import seal, unseal
from servicedesk.timeutil import utcnow

log = structlog.get_logger(__name__)

#: Attempts before a delivery is given up; with the backoff below, about two days.
MAX_ATTEMPTS = 12
FIRST_DELAY = timedelta(minutes=1)
MAX_DELAY = timedelta(hours=6)
#: The most deliveries one dispatch run sends, so a backlog cannot hold the job for long.
BATCH = 50


class NotifyError(Exception):
    """A request to configure an endpoint that cannot be met; the message says why."""


def backoff(attempts: int) -> timedelta:
    """The wait after the n-th failed attempt: 1, 2, 4 ... minutes, at most 6 hours."""
    wait: timedelta = FIRST_DELAY * (2 ** max(0, attempts - 1))
    return min(MAX_DELAY, wait)


#: The most e-mail recipients an organisation can have (a report goes to a few people; this
#: keeps the mail server from being used as a mailing list).
MAX_RECIPIENTS = 50

#: What an endpoint can be: the HTTP notifiers, and "email" (the report to a person).
KINDS = (*NOTIFIERS, "email")


def add_endpoint(
    session: Session,
    org: Organisation,
    kind: str,
    url: str,
    *,
    secret_key: str | bytes,
    language: str = "",
) -> tuple[NotificationEndpoint, str | None]:
    """A new endpoint, and for a generic webhook its ``whsec_`` signing secret (shown once).

    For ``kind="email"``, ``url`` is the recipient's address and ``language`` the language of
    the report sent (default: the organisation's country's).
    """
    if kind not in KINDS:
        raise NotifyError(f"--kind: one of {', '.join(KINDS)}")
    if kind == "email":
        return _add_recipient(session, org, url, language, secret_key), None
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise NotifyError("--url: an http(s) URL")
    secret = None
    if kind == "webhook":
        secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    row = NotificationEndpoint(
        organisation_id=org.id,
        kind=kind,
        url_sealed=seal(url, secret_key),
        url_hint=f"{parts.scheme}://{parts.hostname}",
        secret_sealed=seal(secret, secret_key) if secret else None,
        since_report_id=_last_report_id(session, org),
    )
    session.add(row)
    session.flush()
    return row, secret


def _last_report_id(session: Session, org: Organisation) -> int:
    last = session.scalar(
        sa.select(sa.func.max(col(Report.id))).where(col(Report.organisation_id) == org.id)
    )
    return int(last or 0)


def _add_recipient(
    session: Session, org: Organisation, address: str, language: str, secret_key: str | bytes
) -> NotificationEndpoint:
    """An e-mail recipient of the monthly report (the address sealed: it is personal data)."""
    address = address.strip()
    if not valid_address(address):
        raise NotifyError("--to: an e-mail address (name@example.se)")
    if recipient_count(session, org) >= MAX_RECIPIENTS:
        raise NotifyError(f"--to: at most {MAX_RECIPIENTS} e-mail recipients; remove one first")
    language = language or default_language(org)
    if language not in LANGUAGES:
        raise NotifyError(f"--lang: one of {', '.join(LANGUAGES)}")
    row = NotificationEndpoint(
        organisation_id=org.id,
        kind="email",
        url_sealed=seal(address, secret_key),
        url_hint=address_hint(address),
        language=language,
        since_report_id=_last_report_id(session, org),
    )
    session.add(row)
    session.flush()
    return row


def enqueue_missing(session: Session, now: datetime | None = None) -> int:
    """Delivery rows for every report an endpoint has not had yet; how many were queued."""
    e, r, d = (
        table_of(NotificationEndpoint),
        table_of(Report),
        table_of(NotificationDelivery),
    )
    missing = session.execute(
        sa.select(e.c.id, r.c.id, e.c.organisation_id)
        .join(r, sa.and_(r.c.organisation_id == e.c.organisation_id, r.c.id > e.c.since_report_id))
        .where(~sa.exists().where(d.c.endpoint_id == e.c.id, d.c.report_id == r.c.id))
        .order_by(r.c.id, e.c.id)
    ).all()
    when = now or utcnow()
    for endpoint_id, report_id, org_id in missing:
        session.add(
            NotificationDelivery(
                organisation_id=org_id,
                endpoint_id=endpoint_id,
                report_id=report_id,
                next_attempt_at=when,
            )
        )
    session.flush()
    return len(missing)


@dataclass
class _Due:
    delivery_id: int
    kind: str
    url: str
    secret: str | None
    message_id: str
    document: dict[str, Any]
    language: str = ""


def _record(
    session: Session, delivery: NotificationDelivery, outcome: Attempt, now: datetime
) -> None:
    delivery.attempts += 1
    delivery.last_status = outcome.status
    delivery.last_error = outcome.error
    delivery.log = [
        *delivery.log,
        {"at": now.isoformat(), "status": outcome.status, "error": outcome.error},
    ][-MAX_ATTEMPTS:]
    if outcome.ok:
        delivery.status = "delivered"
        delivery.delivered_at = now
    elif not outcome.retry or delivery.attempts >= MAX_ATTEMPTS:
        delivery.status = "failed"
    else:
        delivery.next_attempt_at = now + backoff(delivery.attempts)


def dispatch(
    engine: Engine,
    secret_key: str | bytes,
    *,
    client: httpx.Client | None = None,
    mailer: MailSender | None = None,
    now: datetime | None = None,
) -> dict[str, int]:
    """Queue what is missing and make one attempt at each due delivery.

    E-mail goes through ``mailer`` (default: the SMTP server of the settings; run inside the
    app, whose translations the report's language needs).
    """
    started = now or utcnow()
    with unit_of_work(engine) as session:
        queued = enqueue_missing(session, started)
    with Session(engine, expire_on_commit=False) as session:
        rows = session.execute(
            sa.select(NotificationDelivery, NotificationEndpoint, col(Report.document))
            .join(
                NotificationEndpoint,
                col(NotificationEndpoint.id) == col(NotificationDelivery.endpoint_id),
            )
            .join(Report, col(Report.id) == col(NotificationDelivery.report_id))
            .where(
                col(NotificationDelivery.status) == "pending",
                col(NotificationDelivery.next_attempt_at) <= started,
            )
            .order_by(col(NotificationDelivery.next_attempt_at), col(NotificationDelivery.id))
            .limit(BATCH)
        ).all()
        due = [
            _Due(
                delivery.id,
                endpoint.kind,
                unseal(endpoint.url_sealed, secret_key),
                unseal(endpoint.secret_sealed, secret_key) if endpoint.secret_sealed else None,
                f"report_{delivery.report_id}_{delivery.endpoint_id}",
                document,
                endpoint.language,
            )
            for delivery, endpoint, document in rows
        ]
    counts = {"queued": queued, "delivered": 0, "retrying": 0, "failed": 0}
    own_client = client is None
    http = client or httpx.Client()
    try:
        for item in due:
            if item.kind == "email":
                outcome = _mail(item, mailer)
            else:
                outcome = NOTIFIERS[item.kind](http).send(
                    item.url, item.secret, item.message_id, item.document
                )
            with unit_of_work(engine) as session:
                delivery = session.get(NotificationDelivery, item.delivery_id)
                if delivery is not None:  # (None: the endpoint was removed meanwhile)
                    _record(session, delivery, outcome, utcnow() if now is None else now)
                    status = delivery.status
            if delivery is None:
                continue
            key = {"delivered": "delivered", "failed": "failed"}.get(status, "retrying")
            counts[key] += 1
            log.info(
                "notification attempt",
                kind=item.kind,
                delivery=item.delivery_id,
                status=status,
                http_status=outcome.status,
                error=outcome.error,
            )
    finally:
        if own_client:
            http.close()
    return counts


def _mail(item: _Due, mailer: MailSender | None) -> Attempt:
    """One attempt at an e-mailed report (a missing mail server is retried like an outage)."""
    try:
        sender = mailer or configured_sender()
    except MailNotConfigured as exc:
        return Attempt(False, error=str(exc), retry=True)
    return send_report(sender, item.document, item.url, item.language)
