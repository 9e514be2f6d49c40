"""Publishing to a comparison hub (the publisher's side): what is due is computed from the
database (every sharing organisation's newest frozen version of each recent month, and each
withdrawal), queued once in the outbox, and sent signed with retries and backoff like the report
notifications. HTTP is never done inside a database transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from integrations.benchmark_hub import HubClient
from integrations.notifications import Attempt
from servicedesk.benchmarking.figures import extract
from servicedesk.benchmarking.hub import PUBLISHED, WITHDRAWN
from servicedesk.benchmarking.models import BenchmarkOutbox, BenchmarkParticipant
from servicedesk.benchmarking.periods import last_months
from servicedesk.db import unit_of_work
from servicedesk.metrics.definitions import RECHECK_MONTHS
from servicedesk.metrics.periods import Month
from servicedesk.notify.operations import BATCH, MAX_ATTEMPTS, backoff
from servicedesk.orgs.models import Organisation
from servicedesk.reports.models import Report
from servicedesk.reports.service import sha256_of
from servicedesk.timeutil import utcnow

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Hub:
    """Where this installation publishes, and as which member (the operator's settings)."""

    url: str
    member: str
    secret: str

    @classmethod
    def from_config(cls, config: Any) -> Hub | None:
        url, member, secret = (
            config.get("BENCHMARK_HUB_URL"),
            config.get("BENCHMARK_HUB_MEMBER"),
            config.get("BENCHMARK_HUB_SECRET"),
        )
        return cls(url, member, secret) if url and member and secret else None


def publication(participant: BenchmarkParticipant, report: Report) -> dict[str, Any]:
    """The message that publishes one frozen version's shared figures (and nothing else)."""
    doc = report.document
    return {
        "type": PUBLISHED,
        "timestamp": doc["generated_at"],
        "data": {
            "participant": participant.code,
            "name": participant.name,
            "anonymous": participant.anonymous,
            "group": participant.group,
            "country": participant.country,
            "month": report.month,
            "report": {
                "version": report.version,
                "sha256": report.sha256,
                "generated_at": doc["generated_at"],
                "definitions_version": report.definitions_version,
            },
            "figures": extract(doc, participant.figures),
        },
    }


def withdrawal(participant: BenchmarkParticipant) -> dict[str, Any]:
    when = participant.withdrawn_at or utcnow()
    return {
        "type": WITHDRAWN,
        "timestamp": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "data": {"participant": participant.code},
    }


def _queue(
    session: Session,
    hub: Hub,
    org_id: int,
    message: dict[str, Any],
    month: str,
    version: int | None,
    since: datetime,
    now: datetime,
) -> bool:
    """One outbox row unless the very same message (to this hub, since this sharing choice)
    is there already."""
    fingerprint = sha256_of(
        {"hub": hub.url, "member": hub.member, "since": since.isoformat(), "message": message}
    )
    exists = session.scalars(
        sa.select(col(BenchmarkOutbox.id)).where(
            col(BenchmarkOutbox.organisation_id) == org_id,
            col(BenchmarkOutbox.fingerprint) == fingerprint,
        )
    ).first()
    if exists is not None:
        return False
    session.add(
        BenchmarkOutbox(
            organisation_id=org_id,
            kind=message["type"].rsplit(".", 1)[-1],
            month=month,
            report_version=version,
            fingerprint=fingerprint,
            message_id=f"bench_{org_id}_{fingerprint[:32]}",
            body=message,
            next_attempt_at=now,
        )
    )
    return True


def queue_due(session: Session, hub: Hub, now: datetime | None = None) -> int:
    """Outbox rows for what the hub has not been sent: the newest version of each of the last
    ``RECHECK_MONTHS`` months of every sharing organisation, and each withdrawal."""
    now = now or utcnow()
    months = [str(m) for m in last_months(Month.of(now.date()), RECHECK_MONTHS + 1)]
    queued = 0
    own = session.scalars(
        sa.select(BenchmarkParticipant).where(
            col(BenchmarkParticipant.organisation_id).is_not(None)
        )
    ).all()
    for participant in own:
        org_id = participant.organisation_id
        assert org_id is not None
        if not participant.sharing:
            if participant.withdrawn_at is not None:
                queued += _queue(
                    session,
                    hub,
                    org_id,
                    withdrawal(participant),
                    "",
                    None,
                    participant.withdrawn_at,
                    now,
                )
            continue
        newest = (
            sa.select(col(Report.month), sa.func.max(col(Report.version)).label("version"))
            .where(col(Report.organisation_id) == org_id, col(Report.month).in_(months))
            .group_by(col(Report.month))
            .subquery()
        )
        reports = session.scalars(
            sa.select(Report)
            .join(
                newest,
                sa.and_(
                    col(Report.month) == newest.c.month, col(Report.version) == newest.c.version
                ),
            )
            .where(col(Report.organisation_id) == org_id)
            .order_by(col(Report.month))
        ).all()
        for report in reports:
            queued += _queue(
                session,
                hub,
                org_id,
                publication(participant, report),
                report.month,
                report.version,
                participant.updated_at,
                now,
            )
    session.flush()
    return queued


def _record(row: BenchmarkOutbox, outcome: Attempt, now: datetime) -> None:
    row.attempts += 1
    row.last_status = outcome.status
    row.last_error = outcome.error
    if outcome.ok:
        row.status, row.delivered_at = "delivered", now
    elif not outcome.retry or row.attempts >= MAX_ATTEMPTS:
        row.status = "failed"
    else:
        row.next_attempt_at = now + backoff(row.attempts)


def dispatch(
    engine: Engine, hub: Hub, *, client: httpx.Client | None = None, now: datetime | None = None
) -> dict[str, int]:
    """Queue what is due and make one attempt at each due message, oldest first."""
    started = now or utcnow()
    with unit_of_work(engine) as session:
        queued = queue_due(session, hub, started)
    with Session(engine, expire_on_commit=False) as session:
        due = session.scalars(
            sa.select(BenchmarkOutbox)
            .where(
                col(BenchmarkOutbox.status) == "pending",
                col(BenchmarkOutbox.next_attempt_at) <= started,
            )
            .order_by(col(BenchmarkOutbox.id))
            .limit(BATCH)
        ).all()
    counts = {"queued": queued, "delivered": 0, "retrying": 0, "failed": 0}
    http = client or httpx.Client()
    try:
        for item in due:
            outcome = HubClient(http).send(
                hub.url, hub.member, hub.secret, item.message_id, item.body
            )
            with unit_of_work(engine) as session:
                row = session.get(BenchmarkOutbox, item.id)
                if row is None:
                    continue
                _record(row, outcome, now or utcnow())
                status = row.status
            counts[status if status in ("delivered", "failed") else "retrying"] += 1
            log.info(
                "benchmark publication",
                message=item.message_id,
                status=status,
                http_status=outcome.status,
                error=outcome.error,
            )
    finally:
        if client is None:
            http.close()
    return counts


def outbox(session: Session, org: Organisation, limit: int = 20) -> list[BenchmarkOutbox]:
    """The organisation's latest messages to the hub, newest first."""
    return list(
        session.scalars(
            sa.select(BenchmarkOutbox)
            .where(col(BenchmarkOutbox.organisation_id) == org.id)
            .order_by(col(BenchmarkOutbox.id).desc())
            .limit(limit)
        )
    )
