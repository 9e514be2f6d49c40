"""The figures an organisation can set a goal for, which way is better, and reading them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlmodel import Session, col

from servicedesk.dashboard.models import Target
from servicedesk.orgs.models import Organisation


@dataclass(frozen=True)
class TargetSpec:
    key: str
    label: Any
    #: True when a higher figure is better.
    higher_is_better: bool
    #: "pct", "secs" or "index": how the figure is written.
    unit: str
    low: float
    high: float


TARGETS = [
    TargetSpec("phone.service_level", _l("Service level"), True, "pct", 0, 100),
    TargetSpec("phone.direct_answer_rate", _l("Direct answers by phone"), True, "pct", 0, 100),
    TargetSpec("phone.abandon_rate", _l("Abandoned calls"), False, "pct", 0, 100),
    TargetSpec("phone.wait_seconds.median", _l("Median wait"), False, "secs", 0, 86_400),
    TargetSpec(
        "email.within_1_working_day",
        _l("E-mail answered within 1 working day"),
        True,
        "pct",
        0,
        100,
    ),
    TargetSpec(
        "email.within_2_working_days",
        _l("E-mail answered within 2 working days"),
        True,
        "pct",
        0,
        100,
    ),
    TargetSpec("survey.treatment.index", _l("Treatment index"), True, "index", 0, 100),
    TargetSpec("survey.ease.index", _l("Ease index"), True, "index", 0, 100),
    TargetSpec("survey.clarity.index", _l("Clarity index"), True, "index", 0, 100),
]
BY_KEY = {spec.key: spec for spec in TARGETS}


def org_targets(session: Session, org: Organisation) -> dict[str, float]:
    rows = session.execute(
        sa.select(col(Target.metric), col(Target.value)).where(
            col(Target.organisation_id) == org.id
        )
    )
    return {metric: value for metric, value in rows if metric in BY_KEY}


def set_targets(session: Session, org: Organisation, values: dict[str, float | None]) -> None:
    """Replace the organisation's targets; None removes one."""
    for key, value in values.items():
        spec = BY_KEY.get(key)
        if spec is None:
            raise ValueError(f"{key}: not a figure with a target")
        if value is not None and not spec.low <= value <= spec.high:
            raise ValueError(f"{key}: must be between {spec.low:g} and {spec.high:g}")
        row = session.get(Target, (org.id, key))
        if value is None:
            if row is not None:
                session.delete(row)
        elif row is None:
            session.add(Target(organisation_id=org.id, metric=key, value=value))
        else:
            row.value = value
    session.flush()


def judge(key: str, value: float | None, target: float | None) -> str:
    """ "good", "bad" or "neutral": the figure against its target."""
    spec = BY_KEY.get(key)
    if spec is None or value is None or target is None:
        return "neutral"
    met = value >= target if spec.higher_is_better else value <= target
    return "good" if met else "bad"
