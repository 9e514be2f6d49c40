"""Writing and reading the audit log; these flush and never commit (the caller's unit of work)."""

from __future__ import annotations

import getpass
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
import structlog
from sqlmodel import Session, col

from servicedesk.audit.models import AuditEntry

log = structlog.get_logger("servicedesk.audit")


def record(
    session: Session,
    org_id: int | None,
    actor: str,
    action: str,
    details: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Log one action in the same transaction as the action itself (both or neither)."""
    entry = AuditEntry(
        organisation_id=org_id, actor=actor[:320], action=action[:64], details=dict(details or {})
    )
    session.add(entry)
    session.flush()
    log.info("audit", organisation_id=org_id, actor=actor, action=action, details=entry.details)
    return entry


def cli_actor() -> str:
    """The actor of a command-line action: the operating-system user who ran it."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def entries(
    session: Session,
    org_id: int | None = None,
    *,
    action: str | None = None,
    since: datetime | None = None,
    limit: int = 100,
) -> Sequence[AuditEntry]:
    """The newest entries first, optionally of one organisation, action or period."""
    query = (
        sa.select(AuditEntry)
        .order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc())
        .limit(limit)
    )
    if org_id is not None:
        query = query.where(col(AuditEntry.organisation_id) == org_id)
    if action:
        query = query.where(col(AuditEntry.action) == action)
    if since is not None:
        query = query.where(col(AuditEntry.at) >= since)
    return session.scalars(query).all()
