"""The scheduler's daily retention job (``servicedesk scheduler`` runs it; see docs/privacy.md)."""

from __future__ import annotations

from dataclasses import asdict

import structlog
from sqlalchemy.engine import Engine
from sqlmodel import Session

from servicedesk.db import mark_write
from servicedesk.gdpr.operations import Removed, apply_retention
from servicedesk.observability import scheduler_run

log = structlog.get_logger(__name__)


def run_retention(engine: Engine) -> dict[str, Removed]:
    """Purge what every organisation's retention settings say has expired; idempotent."""
    try:
        with Session(engine) as session:
            mark_write(session)
            done = apply_retention(session)
            session.commit()
    except Exception:
        scheduler_run("retention", "error")
        log.exception("retention failed")
        raise
    scheduler_run("retention", "ok")
    removed = {slug or "(none)": asdict(r) for slug, r in done.items() if any(asdict(r).values())}
    log.info("retention applied", organisations=len(done) - 1, removed=removed)
    return done
