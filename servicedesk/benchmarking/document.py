"""A comparison as JSON (the reports API and ``benchmark show --format json``): what a
participant may see of the others. Anonymous participants appear under their alias only; the
counts behind each figure are the others' shares, never anything below them."""

from __future__ import annotations

from typing import Any

from servicedesk.benchmarking.comparison import Comparison
from servicedesk.benchmarking.figures import BY_KEY
from servicedesk.benchmarking.ranking import Place, Ranking


def shown_label(label: str) -> str:
    """ "#A" (an anonymous participant's alias) as "Kommun A" where no language is chosen."""
    return f"Kommun {label[1:]}" if label.startswith("#") else label


def _place(place: Place, own: str | None) -> dict[str, Any]:
    entry = place.entry
    out: dict[str, Any] = {
        "place": place.place,
        # An anonymous participant is only its alias ("C": "Kommun C", "Kommune C").
        "participant": None if entry.label.startswith("#") else entry.label,
        "alias": entry.label[1:] if entry.label.startswith("#") else None,
        "group": entry.group or None,
        "value": entry.value,
        "denominator": entry.denominator,
        "months": entry.months,
        "sources": [{"month": m, "version": v, "sha256": s} for m, v, s in entry.sources],
    }
    if place.reason:
        out["not_ranked"] = place.reason
    if own is not None and entry.participant == own:
        out["own"] = True
    return out


def ranking_json(ranking: Ranking, own: str | None) -> dict[str, Any]:
    figure = BY_KEY[ranking.key]
    mine = ranking.place_of(own) if own else None
    return {
        "figure": ranking.key,
        "unit": figure.unit,
        "better": ranking.direction,
        "ranked": ranking.ranked,
        "not_ranked": ranking.reason,
        "participants": ranking.participants,
        "median": ranking.median,
        "lower_quartile": ranking.lower_quartile,
        "upper_quartile": ranking.upper_quartile,
        "own": _place(mine, own) if mine else None,
        "places": [_place(p, own) for p in ranking.places],
        "left_out": [_place(p, own) for p in ranking.left_out],
    }


def comparison_json(comparison: Comparison) -> dict[str, Any]:
    """The comparison for the participant ``comparison.own`` (its rows carry ``"own": true``)."""
    return {
        "period": str(comparison.period),
        "kind": comparison.period.kind,
        "months": [str(m) for m in comparison.period.months],
        "participants": comparison.participants,
        "figures": [ranking_json(r, comparison.own) for r in comparison.rankings],
    }
