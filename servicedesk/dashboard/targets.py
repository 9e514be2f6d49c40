"""An organisation's own targets: reading and replacing them. Which figures take a target, which
way is better and the allowed range are the figure catalogue's (``servicedesk.metrics.catalogue``).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, col

from servicedesk.dashboard.models import Target
from servicedesk.metrics.catalogue import BY_PATH, LEGACY_TARGETS, TARGETS, judge
from servicedesk.orgs.models import Organisation

__all__ = ["TARGETS", "judge", "org_targets", "set_targets"]


def org_targets(session: Session, org: Organisation) -> dict[str, float]:
    """The organisation's targets by figure path.

    A target stored under an all-channel survey figure (before 2026.3) applies to the
    per-channel figures of its question that have none of their own.
    """
    rows = session.execute(
        sa.select(col(Target.metric), col(Target.value)).where(
            col(Target.organisation_id) == org.id
        )
    )
    stored: dict[str, float] = {metric: value for metric, value in rows}
    out = {
        metric: value
        for metric, value in stored.items()
        if metric in BY_PATH and BY_PATH[metric].target
    }
    for legacy, paths in LEGACY_TARGETS.items():
        if legacy in stored:
            for path in paths:
                out.setdefault(path, stored[legacy])
    return out


def set_targets(session: Session, org: Organisation, values: dict[str, float | None]) -> None:
    """Replace the organisation's targets; None removes one."""
    for key, value in values.items():
        fig = BY_PATH.get(key)
        if fig is None or not fig.target:
            raise ValueError(f"{key}: not a figure with a target")
        low, high = fig.target_range
        if value is not None and not low <= value <= high:
            raise ValueError(f"{key}: must be between {low:g} and {high:g}")
        row = session.get(Target, (org.id, key))
        if value is None:
            if row is not None:
                session.delete(row)
        elif row is None:
            session.add(Target(organisation_id=org.id, metric=key, value=value))
        else:
            row.value = value
    for legacy, paths in LEGACY_TARGETS.items():
        # The form showed the legacy value under the new figures; what it sent now replaces it.
        if any(path in values for path in paths):
            old = session.get(Target, (org.id, legacy))
            if old is not None:
                session.delete(old)
    session.flush()
