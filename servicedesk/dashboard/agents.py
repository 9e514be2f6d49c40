"""The agents' table: the organisation's setting (off by default), the names an administrator
gives agent ids, and the table itself with those names (docs/privacy.md, "Agents")."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from servicedesk.cache import forget_org_after_commit
from servicedesk.dashboard.models import AgentName, AgentSettings
from servicedesk.dashboard.queries import agents as agent_ids
from servicedesk.metrics.agents import agent_figures
from servicedesk.orgs.models import Organisation
from servicedesk.timeutil import utcnow

#: How far back the settings page lists the agent ids that arrived (days).
NAMES_LOOKBACK_DAYS = 400
MAX_NAME = 200


def agents_enabled(session: Session, org: Organisation) -> bool:
    row = session.get(AgentSettings, org.id)
    return bool(row and row.enabled)


def set_agents_enabled(session: Session, org: Organisation, enabled: bool, by: str) -> None:
    row = session.get(AgentSettings, org.id)
    if row is None:
        row = AgentSettings(organisation_id=org.id)
        session.add(row)
    row.enabled = enabled
    row.updated_by = by
    row.updated_at = utcnow()
    session.flush()
    forget_org_after_commit(session, org.id)


def agent_names(session: Session, org: Organisation) -> dict[str, str]:
    rows = session.execute(
        sa.select(col(AgentName.agent), col(AgentName.name)).where(
            col(AgentName.organisation_id) == org.id
        )
    )
    return {agent: name for agent, name in rows}


def set_agent_names(session: Session, org: Organisation, names: dict[str, str]) -> list[str]:
    """Give agent ids names ("" removes one); returns the ids whose name changed."""
    have = agent_names(session, org)
    changed = []
    for agent, raw in names.items():
        name = " ".join(raw.split())[:MAX_NAME]
        if have.get(agent, "") == name:
            continue
        row = session.get(AgentName, (org.id, agent))
        if not name:
            if row is not None:
                session.delete(row)
        elif row is None:
            session.add(AgentName(organisation_id=org.id, agent=agent, name=name))
        else:
            row.name = name
            row.updated_at = utcnow()
        changed.append(agent)
    session.flush()
    return changed


def known_agents(session: Session, org: Organisation, today: date) -> list[str]:
    """The agent ids of the last ``NAMES_LOOKBACK_DAYS`` days, and every id with a name."""
    seen = agent_ids(session, org, today - timedelta(days=NAMES_LOOKBACK_DAYS), today)
    return sorted(set(seen) | set(agent_names(session, org)))


def agent_table(
    session: Session,
    org: Organisation,
    first: date,
    last: date,
    queue_ids: list[int] | None,
) -> list[dict[str, Any]]:
    """The rows of the agents' table: the id, its name (or the id), and its figures."""
    names = agent_names(session, org)
    rows = []
    for agent, figs in agent_figures(session, org, first, last, queue_ids).items():
        rows.append({"agent": agent, "name": names.get(agent, agent), **figs})
    return sorted(rows, key=lambda r: str(r["name"]).casefold())
