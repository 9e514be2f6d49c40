"""What the pages call the shared figures (the figure catalogue's labels) and the reasons
something is not ranked."""

from __future__ import annotations

from flask_babel import gettext as _

from servicedesk.benchmarking.ranking import (
    MIN_PARTICIPANTS,
    MIN_RESPONSES,
    NO_FIGURE,
    TOO_FEW_ANSWERS,
    TOO_FEW_PARTICIPANTS,
)
from servicedesk.metrics import catalogue


def figure_label(key: str) -> str:
    """The catalogue's label, with its channel where the label alone does not say it."""
    figure = catalogue.figure(key)
    if figure.section in ("phone", "email"):
        return f"{catalogue.SECTION_LABELS[figure.section]}: {figure.label}"
    return str(figure.label)


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
