"""The additive pass: every channel's measures per (queue, local day) cell, rolled into groups.

One query per channel over ``ix_contacts_rollup`` alone, grouped in its order (channel, day,
queue), so neither engine sorts or visits the table, and each pass computes only its channel's
measures (see the channel modules).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from servicedesk.metrics.channel import Channel, plus
from servicedesk.metrics.email import EMAIL, EmailMeasures
from servicedesk.metrics.groups import C, group_key, period
from servicedesk.metrics.phone import PHONE, PhoneMeasures
from servicedesk.orgs.models import Organisation

#: The channels, in the order the figures list them.
CHANNEL_FIGURES: tuple[Channel[Any], ...] = (PHONE, EMAIL)


class Cell(NamedTuple):
    """Both channels' measures of one cell or group."""

    phone: PhoneMeasures = PhoneMeasures()
    email: EmailMeasures = EmailMeasures()

    @property
    def events(self) -> int:
        return int(self.phone.events + self.email.events)

    def of(self, channel: str) -> Any:
        return self.phone if channel == "phone" else self.email


Cells = dict[tuple[Any, Any], Cell]  # by (queue id, local day)


def contact_cells(
    session: Session, org: Organisation, start: date, end: date, queue_ids: list[int] | None
) -> Cells:
    """Every channel's additive measures per (queue, local day) of the contacts started in
    ``start``..``end`` (in the given queues)."""
    cells: Cells = {}
    for channel in CHANNEL_FIGURES:
        stmt = (
            sa.select(C.c.start_date.label("day"), C.c.queue_id, *channel.aggregates(org))
            .where(*period(org, start, end, queue_ids), C.c.channel == channel.name)
            .group_by(C.c.start_date, C.c.queue_id)
        )
        for row in session.execute(stmt).mappings():
            key = (row["queue_id"], row["day"])
            cells[key] = cells.get(key, Cell())._replace(**{channel.name: channel.read(row)})
    return cells


def roll(cells: Mapping[tuple[Any, Any], Cell], by: str | None) -> dict[Any, Cell]:
    """The cells summed into the groups ``by`` asks for."""
    out: dict[Any, Cell] = {}
    for (queue_id, day), cell in cells.items():
        key = group_key(by, queue_id, day)
        have = out.get(key)
        out[key] = (
            cell
            if have is None
            else Cell(plus(have.phone, cell.phone), plus(have.email, cell.email))
        )
    return out


def timed_counts(
    cells: Mapping[tuple[Any, Any], Cell], bys: list[str | None], channel: Channel[Any]
) -> dict[str | None, dict[Any, int]]:
    """How many values each group's percentiles are of, per grouping (from the cells)."""
    sizes: dict[str | None, dict[Any, int]] = {}
    for by in bys:
        groups: dict[Any, int] = {}
        for (queue_id, day), cell in cells.items():
            key = group_key(by, queue_id, day)
            groups[key] = groups.get(key, 0) + int(getattr(cell.of(channel.name), channel.timed))
        sizes[by] = groups
    return sizes
