"""Configure compared KPIs, fetch and cache their values, and put them beside our figures."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from integrations.kolada import NATION, KoladaClient, KpiValue
from servicedesk.db import dialect_of, insert_for, table_of
from servicedesk.kolada.models import KoladaKpi, KoladaValue
from servicedesk.metrics import catalogue
from servicedesk.orgs.models import Organisation
from servicedesk.timeutil import utcnow

#: The report figures a KPI can be compared with.
#: Our figures a Kolada KPI can be compared with: the rates and SKR's four survey figures per
#: channel (the figure catalogue's; Kolada publishes Servicemätning per channel, so the
#: all-channel survey figures are no longer offered).
FIGURES = tuple(
    fig.path
    for fig in catalogue.FIGURES
    if fig.target and fig.unit in ("pct", "index") and fig.section != "survey"
)
_KPI = re.compile(r"^[A-Z]\d{5}$")
_MUNICIPALITY = re.compile(r"^\d{4}$")


class KoladaConfigError(Exception):
    """A KPI configuration that cannot be used; the message names the option."""


def add_kpi(
    session: Session, org: Organisation, *, kpi: str, municipality: str, figure: str, label: str
) -> KoladaKpi:
    if not _KPI.match(kpi):
        raise KoladaConfigError(
            "--kpi: a Kolada KPI id, a letter and five digits (find it with kolada kpis --search)"
        )
    if not _MUNICIPALITY.match(municipality) or municipality == NATION:
        raise KoladaConfigError("--municipality: the municipality's 4-digit Kolada id")
    if figure not in FIGURES:
        raise KoladaConfigError(f"--figure: one of {', '.join(FIGURES)}")
    exists = session.scalars(
        sa.select(KoladaKpi).where(
            col(KoladaKpi.organisation_id) == org.id, col(KoladaKpi.kpi) == kpi
        )
    ).first()
    if exists is not None:
        raise KoladaConfigError(f"--kpi: {kpi} is already compared for {org.slug}")
    row = KoladaKpi(
        organisation_id=org.id,
        municipality=municipality,
        kpi=kpi,
        figure=figure,
        label=label,
    )
    session.add(row)
    session.flush()
    return row


def configured(session: Session, org: Organisation) -> list[KoladaKpi]:
    return list(
        session.scalars(
            sa.select(KoladaKpi)
            .where(col(KoladaKpi.organisation_id) == org.id)
            .order_by(col(KoladaKpi.kpi))
        )
    )


def fetch_values(
    client: KoladaClient, kpis: Iterable[tuple[str, str]], years: Iterable[int]
) -> list[KpiValue]:
    """Each (kpi, municipality)'s values for the municipality and the nation (no database)."""
    wanted = list(years)
    return [
        v for kpi, municipality in kpis for v in client.values(kpi, [municipality, NATION], wanted)
    ]


def store_values(session: Session, values: Iterable[KpiValue]) -> int:
    """Cache fetched values; a value fetched again replaces the old one (Kolada revises)."""
    table = table_of(KoladaValue)
    now = utcnow()
    stored = 0
    for v in values:
        changes = {"value": v.value, "status": v.status[:32], "fetched_at": now}
        stmt = (
            insert_for(dialect_of(session), table)
            .values(
                kpi=v.kpi, municipality=v.municipality, year=v.year, gender=v.gender[:1], **changes
            )
            .on_conflict_do_update(
                index_elements=["kpi", "municipality", "year", "gender"], set_=changes
            )
        )
        session.execute(stmt)
        stored += 1
    session.flush()
    return stored


def _figure(doc: dict[str, Any], path: str) -> Any:
    value: Any = doc
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _latest(session: Session, kpi: str, municipality: str, year: int) -> dict[str, Any] | None:
    found = session.execute(
        sa.select(col(KoladaValue.year), col(KoladaValue.value))
        .where(
            col(KoladaValue.kpi) == kpi,
            col(KoladaValue.municipality) == municipality,
            col(KoladaValue.gender) == "T",
            col(KoladaValue.year) <= year,
            col(KoladaValue.value).is_not(None),
        )
        .order_by(col(KoladaValue.year).desc())
        .limit(1)
    ).first()
    return {"year": found[0], "value": found[1]} if found else None


def comparison(session: Session, org: Organisation, doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Each compared KPI: our figure in the report, and Kolada's latest value up to its year."""
    year = int(str(doc.get("month", "0000"))[:4])
    return [
        {
            "kpi": row.kpi,
            "label": row.label,
            "figure": row.figure,
            "ours": _figure(doc, row.figure),
            "municipality": _latest(session, row.kpi, row.municipality, year),
            "nation": _latest(session, row.kpi, NATION, year),
        }
        for row in configured(session, org)
    ]


def comparison_lines(section: list[dict[str, Any]]) -> str:
    """The comparison as a small text table for ``report show``."""
    if not section:
        return ""

    def show(entry: dict[str, Any] | None) -> str:
        return "-" if not entry else f"{entry['value']:.1f} ({entry['year']})"

    lines = ["", "National comparison (Kolada)", "kpi\tfigure\tours\tmunicipality\tnation"]
    for item in section:
        ours = "-" if item["ours"] is None else f"{item['ours']:.1f}"
        name = item["label"] or item["figure"]
        lines.append(
            f"{item['kpi']}\t{name}\t{ours}\t{show(item['municipality'])}\t{show(item['nation'])}"
        )
    return "\n".join(lines) + "\n"
