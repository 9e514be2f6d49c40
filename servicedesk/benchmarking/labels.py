"""What the pages call the shared figures and the reasons something is not ranked.

Until the figure catalogue (servicedesk/metrics/catalogue.py) gives every figure's labels, they
are written here, once."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from servicedesk.benchmarking.ranking import (
    MIN_PARTICIPANTS,
    MIN_RESPONSES,
    NO_FIGURE,
    TOO_FEW_ANSWERS,
    TOO_FEW_PARTICIPANTS,
)

FIGURE_LABELS: dict[str, Any] = {
    "phone.direct_answer_rate": _l("Direct answers by phone"),
    "email.within_1_working_day": _l("E-mail answered within 1 working day"),
    "email.within_2_working_days": _l("E-mail answered within 2 working days"),
    "survey.phone_ease": _l("Ease of contact by phone (index)"),
    "survey.phone_treatment": _l("Treatment by phone (index)"),
    "survey.email_ease": _l("Ease of contact by e-mail (index)"),
    "survey.email_clarity": _l("Clarity of the e-mail answer (index)"),
    "phone.service_level": _l("Service level"),
    "phone.abandon_rate": _l("Abandoned calls"),
}


def figure_label(key: str) -> str:
    return str(FIGURE_LABELS.get(key, key))


def participant_label(label: str) -> str:
    """An anonymous participant's alias ("#C") as "Kommun C" in the reader's language."""
    if label.startswith("#"):
        return str(_("Municipality %(letter)s", letter=label[1:]))
    return label


def reason_text(reason: str | None, count: int = 0) -> str:
    """Why a figure or a participant's figure is not ranked, in a sentence."""
    if reason == TOO_FEW_PARTICIPANTS:
        return str(
            _(
                "Not ranked: %(n)s organisations have this figure, at least %(min)s are needed.",
                n=count,
                min=MIN_PARTICIPANTS,
            )
        )
    if reason == TOO_FEW_ANSWERS:
        return str(
            _(
                "Not ranked: %(n)s survey answers, at least %(min)s are needed.",
                n=count,
                min=MIN_RESPONSES,
            )
        )
    if reason == NO_FIGURE:
        return str(_("No figure: no contacts or no answers in the period."))
    return ""
