"""The Staffing page: Erlang C's advice per weekday and hour as a heat map and a table, with a
what-if for another target, and as an XLSX (``servicedesk.metrics.staffing`` computes it)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import xlsxwriter
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from servicedesk import formatting as f
from servicedesk.cells import write_xlsx_row
from servicedesk.dashboard.intervalpage import HeatMap, hour_span, weekday_names
from servicedesk.metrics.staffing import DEFAULT_WEEKS, MAX_WEEKS, Staffing

#: The what-if's fields: (name, label, lowest, highest, step).
FIELDS = {
    "weeks": (_l("Weeks looked back"), 1, MAX_WEEKS, 1),
    "target": (_l("Service level target (%)"), 1, 99.9, 0.1),
    "seconds": (_l("Answered within (seconds)"), 1, 3600, 1),
    "shrinkage": (_l("Shrinkage (%)"), 0, 90, 1),
    "occupancy": (_l("Highest occupancy (%)"), 10, 100, 1),
}


#: The columns of the staffing table's CSV and XLSX (shares 0-1, times in seconds).
STAFFING_COLUMNS = (
    _l("Weekday"), _l("Hour"), _l("Calls per hour"), _l("Mean handle time (s)"),
    _l("Agents answering"), _l("Agents to schedule"), _l("Expected service level"),
    _l("Expected occupancy"), _l("Probability of waiting"), _l("Expected mean wait (s)"),
)  # fmt: skip


@dataclass
class Scenario:
    """What the advice is for."""

    weeks: int
    target: float
    seconds: float
    shrinkage: float
    occupancy: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "weeks": self.weeks,
            "target": self.target,
            "seconds": self.seconds,
            "shrinkage": self.shrinkage,
            "occupancy": self.occupancy,
        }


def default_scenario(targets: dict[str, float], seconds: int) -> Scenario:
    """The organisation's own target at its own threshold (80 % when none is set)."""
    return Scenario(DEFAULT_WEEKS, targets.get("phone.service_level", 80.0), seconds, 0, 100)


def read_scenario(args: Any, default: Scenario) -> tuple[Scenario, list[str]]:
    """The what-if from the query, each value within its limits; errors name the field."""
    values = default.as_dict()
    errors = []
    for name, (label, low, high, _step) in FIELDS.items():
        text = (args.get(name) or "").strip().replace(",", ".")
        if not text:
            continue
        try:
            value = float(text)
        except ValueError:
            errors.append(str(_("%(field)s: not a number", field=label)))
            continue
        if not low <= value <= high or value != value:
            errors.append(
                str(_("%(field)s: between %(low)s and %(high)s", field=label, low=low, high=high))
            )
            continue
        values[name] = int(value) if name == "weeks" else value
    return Scenario(**values), errors


def staffing_heatmap(advice: dict[tuple[int, int], Staffing], caption: str) -> HeatMap:
    hours = hour_span({h for _, h in advice})
    days = [d for d in range(1, 8) if d <= 5 or any(k[0] == d for k in advice)]
    top = max((s.scheduled for s in advice.values()), default=0)
    names = weekday_names()
    heat = HeatMap(
        title=str(_("Agents needed by weekday and hour")),
        caption=caption,
        corner=str(_("Weekday")),
        columns=[f"{h:02d}" for h in hours],
        legend=[("lvl1", str(_("Few"))), ("lvl5", str(_("Most")))],
    )
    for d in days:
        cells = []
        for h in hours:
            s = advice.get((d, h))
            n = s.scheduled if s else 0
            level = "lvl0" if not n else f"lvl{min(5, 1 + int(4 * n / max(top, 1) + 0.5))}"
            cells.append((n, f.num(n), level))
        heat.rows.append((names[d], cells))
    return heat


def staffing_rows(advice: dict[tuple[int, int], Staffing]) -> list[dict[str, Any]]:
    names = weekday_names()
    return [
        {"weekday": names[d], "hour": f"{h:02d}–{h + 1:02d}", **s.as_dict()}
        for (d, h), s in sorted(advice.items())
    ]


def staffing_xlsx(rows: list[dict[str, Any]], scenario: Scenario, title: str) -> bytes:
    """The table as a workbook: one row per weekday and hour, the scenario above it."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet(str(_("Staffing"))[:31])
    bold = book.add_format({"bold": True})
    pct = book.add_format({"num_format": "0.0%"})
    dec = book.add_format({"num_format": "0.0"})
    write_xlsx_row(sheet, 0, 0, [title], bold)
    r = 1
    for name, (label, *_rest) in FIELDS.items():
        write_xlsx_row(sheet, r, 0, [str(label), getattr(scenario, name)])
        r += 1
    r += 1
    write_xlsx_row(sheet, r, 0, [str(h) for h in STAFFING_COLUMNS], bold)
    for row in rows:
        r += 1
        write_xlsx_row(sheet, r, 0, [row["weekday"], row["hour"]])
        write_xlsx_row(sheet, r, 2, [row["calls"], row["aht_seconds"]], dec)
        write_xlsx_row(sheet, r, 4, [row["agents"], row["scheduled"]])
        write_xlsx_row(
            sheet, r, 6, [row["service_level"], row["occupancy"], row["waiting_probability"]], pct
        )
        write_xlsx_row(sheet, r, 9, [row["mean_wait"]], dec)
    sheet.set_column(0, 1, 14)
    sheet.set_column(2, 9, 16)
    book.close()
    return out.getvalue()
