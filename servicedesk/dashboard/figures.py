"""The figures the pages show, how each is written, and which contacts are behind it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class FigureSpec:
    path: str
    label: Any
    #: A filter of ``formatting``: num, pct, secs, hours, index.
    fmt: str
    #: Drill-down parameters (channel, outcome, deadline ...) or None when there is none.
    drill: dict[str, str] | None = field(default=None)
    higher_is_better: bool | None = True
    note: Any = ""


PHONE = [
    FigureSpec("phone.offered", _l("Calls offered"), "num", {"channel": "phone"}, None),
    FigureSpec(
        "phone.direct_answer_rate",
        _l("Direct answers"),
        "pct",
        {"channel": "phone", "outcome": "direct"},
        note=_l("of offered calls (KKiK)"),
    ),
    FigureSpec(
        "phone.service_level",
        _l("Service level"),
        "pct",
        {"channel": "phone", "deadline": "met"},
    ),
    FigureSpec(
        "phone.abandon_rate",
        _l("Abandoned calls"),
        "pct",
        {"channel": "phone", "outcome": "abandoned"},
        False,
    ),
    FigureSpec(
        "phone.wait_seconds.median",
        _l("Median wait"),
        "secs",
        {"channel": "phone", "outcome": "answered"},
        False,
    ),
    FigureSpec(
        "phone.wait_seconds.p90",
        _l("90th percentile wait"),
        "secs",
        {"channel": "phone", "outcome": "answered"},
        False,
    ),
]
EMAIL = [
    FigureSpec("email.received", _l("E-mails received"), "num", {"channel": "email"}, None),
    FigureSpec(
        "email.within_1_working_day",
        _l("Answered within 1 working day"),
        "pct",
        {"channel": "email", "deadline": "met", "days": "1"},
        note=_l("KKiK"),
    ),
    FigureSpec(
        "email.within_2_working_days",
        _l("Answered within 2 working days"),
        "pct",
        {"channel": "email", "deadline": "met", "days": "2"},
    ),
    FigureSpec(
        "email.median_working_hours",
        _l("Median answer time"),
        "hours",
        {"channel": "email", "outcome": "answered"},
        False,
        note=_l("working hours"),
    ),
]
SURVEY = [
    FigureSpec(
        "survey.treatment.index",
        _l("Treatment (phone)"),
        "index",
        {"channel": "phone", "question": "treatment"},
        note=_l("index 0–100"),
    ),
    FigureSpec(
        "survey.ease.index",
        _l("Ease"),
        "index",
        {"channel": "phone", "question": "ease"},
        note=_l("index 0–100"),
    ),
    FigureSpec(
        "survey.clarity.index",
        _l("Clarity (e-mail)"),
        "index",
        {"channel": "email", "question": "clarity"},
        note=_l("index 0–100"),
    ),
]
GROUPS = [(_l("Phone"), PHONE), (_l("E-mail"), EMAIL), (_l("Citizens' ratings"), SURVEY)]
QUESTIONS = {"treatment": _l("Treatment"), "ease": _l("Ease"), "clarity": _l("Clarity")}

#: Handle time: on the Period and Month pages, not in the frozen report (docs/metrics.md).
HANDLE = [
    FigureSpec(
        "phone.handle_seconds.mean",
        _l("Mean handle time"),
        "secs",
        {"channel": "phone", "outcome": "answered"},
        None,
        note=_l("answered to ended"),
    ),
    FigureSpec(
        "phone.handle_seconds.median",
        _l("Median handle time"),
        "secs",
        {"channel": "phone", "outcome": "answered"},
        None,
        note=_l("answered to ended"),
    ),
]
#: The groups of the team leaders' pages: the report's figures and the handle time.
PAGE_GROUPS = [
    (_l("Phone"), PHONE + HANDLE),
    (_l("E-mail"), EMAIL),
    (_l("Citizens' ratings"), SURVEY),
]
