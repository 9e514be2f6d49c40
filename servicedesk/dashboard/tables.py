"""What a page shows, as a CSV to take away: every chart's numbers, every heat map and table.

A page gives each table an id; ``?csv=<id>`` on the same URL answers that table as a CSV in the
exports' Excel dialect (``servicedesk.reports.formats``), which Excel in a Nordic locale opens as
it is: UTF-8 with a byte-order mark, ``;`` between cells, CRLF line ends, decimal commas.
Text a sender wrote (a queue, an agent id) goes through ``servicedesk.cells`` like every export.
Numbers are written unformatted (no per cent sign, no thousands separator), rates in %.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import Response, abort, request

from servicedesk.cells import SafeCsvWriter
from servicedesk.reports.formats import BOM, excel_value


@dataclass
class Table:
    """One table of a page: a title, its columns and its rows of plain values."""

    title: str
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)


def csv_bytes(table: Table) -> bytes:
    """The table in the exports' Excel dialect (``servicedesk.reports.formats``: BOM, ``;``,
    CRLF, decimal commas, numbers kept numbers)."""
    out = io.StringIO()
    out.write(BOM)
    writer = SafeCsvWriter(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow([v if v is None else excel_value(v) for v in row])
    return out.getvalue().encode("utf-8")


def csv_answer(tables: Mapping[str, Table], name: str) -> Response | None:
    """The CSV of the table ``?csv=`` names (404 for an unknown one), or None without ``csv``."""
    wanted = request.args.get("csv")
    if not wanted:
        return None
    table = tables.get(wanted)
    if table is None:
        abort(404)
    response = Response(csv_bytes(table), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in f"{name}-{wanted}")
    response.headers["Content-Disposition"] = f'attachment; filename="servicedesk-{safe}.csv"'
    return response


def chart_table(chart: Any) -> Table:
    """A chart's numbers (``ChartView.values``, unformatted) as a table."""
    return Table(chart.title, list(chart.columns), [list(r) for r in chart.values])


def heatmap_table(heat: Any) -> Table:
    return Table(
        heat.title,
        [heat.corner, *heat.columns],
        [[label, *(value for value, _text, _lvl in cells)] for label, cells in heat.rows],
    )


def figures_table(
    title: str,
    first_column: str,
    groups: Sequence[tuple[str, Mapping[str, Any]]],
    columns: Sequence[Any],
    dig: Any,
) -> Table:
    """Rows of figures (a by-queue table): one column per catalogue figure."""
    return Table(
        title,
        [first_column, *(str(c.label) for c in columns)],
        [[name, *(dig(figs, c.path) for c in columns)] for name, figs in groups],
    )


def queues_table(
    queues: Sequence[tuple[str, Mapping[str, Any]]], total: Mapping[str, Any], columns: Any
) -> Table:
    """The by-queue table of the Month and Period pages, with its total row."""
    from flask_babel import gettext as _

    from servicedesk.dashboard.monthdata import dig

    return figures_table(_("By queue"), _("Queue"), [*queues, (_("Total"), total)], columns, dig)
