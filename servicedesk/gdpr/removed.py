"""What a GDPR operation deleted, counted by kind (retention and erasure both report it)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session


@dataclass(frozen=True)
class Removed:
    """How many rows of each kind an operation deleted."""

    deliveries: int = 0
    events: int = 0
    contacts: int = 0
    survey_responses: int = 0


def deleted(session: Session, statement: sa.Delete) -> int:
    """Run a DELETE; how many rows it removed."""
    return int(session.execute(statement).rowcount or 0)  # type: ignore[attr-defined]  # DML: CursorResult
