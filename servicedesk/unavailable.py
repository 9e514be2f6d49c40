"""A database that cannot be reached is the sender's cue to retry, not a server error."""

from __future__ import annotations

import structlog
from flask import Response
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from servicedesk.db import get_session
from servicedesk.problems import problem

#: The errors that mean "the database is down, locked or unreachable", not a bug of ours.
UNAVAILABLE_ERRORS = (OperationalError, InterfaceError, PoolTimeout)

#: Seconds a sender should wait before it tries again.
RETRY_AFTER_SECONDS = 5

log = structlog.get_logger(__name__)


def database_unavailable(exc: Exception) -> Response:
    """503 with Retry-After; nothing of the delivery was committed, so a retry is safe."""
    log.warning("database unavailable", error=type(exc).__name__, detail=str(exc)[:300])
    try:
        get_session().rollback()
    except SQLAlchemyError:
        pass
    return problem(
        503,
        "Service Unavailable",
        "the database is not reachable; nothing was stored, please retry",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )
