"""The dispatch figures of a period: surveys sent, delivered, failed, answered, and why some were
not sent; by the period of the contact surveyed, like every survey figure. They only read."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from servicedesk.contacts.models import Contact
from servicedesk.db import table_of
from servicedesk.metrics.definitions import CHANNELS
from servicedesk.metrics.survey_stats import share
from servicedesk.orgs.models import Organisation
from servicedesk.surveys.models import SurveyInvitation

INV = table_of(SurveyInvitation)
C = table_of(Contact)


def _count_if(cond: Any) -> Any:
    return sa.func.count(sa.case((cond, 1)))


def empty_dispatch() -> dict[str, Any]:
    return {channel: _figures(0, 0, 0, 0, 0, 0, 0) for channel in CHANNELS}


def _figures(
    sent: int, delivered: int, failed: int, answered: int, expired: int, skipped: int, out: int
) -> dict[str, Any]:
    return {
        "sent": sent,
        "delivered": delivered,
        "failed": failed,
        "answered": answered,
        "response_rate": share(answered, sent),
        "expired": expired,
        "skipped": skipped,
        "opted_out": out,
    }


def dispatch_figures(session: Session, org: Organisation, start: date, end: date) -> dict[str, Any]:
    """Per channel: sent, delivered (where the provider reports it), failed, answered, the
    response rate of the surveys sent, and those expired or skipped (opted out among them)."""
    stmt = (
        sa.select(
            INV.c.channel,
            sa.func.count(INV.c.sent_at),
            sa.func.count(INV.c.delivered_at),
            _count_if(INV.c.status == "failed"),
            sa.func.count(INV.c.answered_at),
            _count_if(INV.c.status == "expired"),
            _count_if(INV.c.status == "skipped"),
            _count_if(INV.c.reason == "opted out"),
        )
        .select_from(INV)
        .join(
            C,
            sa.and_(
                C.c.organisation_id == INV.c.organisation_id,
                C.c.channel == INV.c.channel,
                C.c.contact_id == INV.c.contact_id,
            ),
        )
        .where(INV.c.organisation_id == org.id, C.c.start_date >= start, C.c.start_date <= end)
        .group_by(INV.c.channel)
    )
    out = empty_dispatch()
    for channel, *values in session.execute(stmt):
        if channel in out:
            out[channel] = _figures(*(int(v or 0) for v in values))
    return out


def dispatch_log(session: Session, org: Organisation, limit: int = 50) -> list[dict[str, Any]]:
    """The latest invitations: when, channel, contact, status and reason (never a number)."""
    rows = session.execute(
        sa.select(
            INV.c.captured_at,
            INV.c.sent_at,
            INV.c.channel,
            INV.c.contact_id,
            INV.c.status,
            INV.c.reason,
            INV.c.provider,
        )
        .where(INV.c.organisation_id == org.id)
        .order_by(INV.c.captured_at.desc(), INV.c.id.desc())
        .limit(limit)
    ).mappings()
    return [dict(r) for r in rows]
