"""The Agents page (team leaders of the queues and administrators, when the organisation has
turned it on; every view audited) and its settings (administrators: on or off, names)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from servicedesk.audit import record
from servicedesk.auth.access import SETTINGS, current_org, roles_required
from servicedesk.auth.forms import EmptyForm
from servicedesk.dashboard.agents import (
    MAX_NAME,
    agent_names,
    agent_table,
    agents_enabled,
    known_agents,
    set_agent_names,
    set_agents_enabled,
)
from servicedesk.dashboard.blueprint import _requested_queues, _visible_queues, requested_period
from servicedesk.dashboard.periodpage import kinds_nav, period_dates, period_label
from servicedesk.dashboard.tables import Table, csv_answer
from servicedesk.db import get_session, unit_of_work
from servicedesk.metrics.catalogue import AGENT_FIGURES
from servicedesk.timeutil import local_date, utcnow

bp = Blueprint("agents", __name__)

#: Who may see the agents' table: not quality staff (they report the organisation's figures,
#: not people's), only team leaders (of their queues) and administrators.
AGENT_ROLES = ("team_leader", "admin")


@bp.route("/agents")
@roles_required(*AGENT_ROLES)
def agents() -> Any:
    org = current_org()
    db = get_session()
    today = local_date(utcnow(), org.timezone)
    if not agents_enabled(db, org):
        return render_template("dashboard/agents_off.html")
    period = requested_period(today, default="month")
    queue_ids = _requested_queues()
    rows = agent_table(db, org, period.first, period.last, queue_ids)
    table = Table(
        _("Agents"),
        [_("Agent"), _("Agent id"), *(str(fig.label) for fig in AGENT_FIGURES)],
        [[r["name"], r["agent"], r["calls_answered"], r["handle_seconds"]["mean"],
          r["handle_seconds"]["median"], r["direct_answer_rate"], r["emails_answered"],
          r["survey_index"], r["survey_responses"]] for r in rows],
    )  # fmt: skip
    answer = csv_answer({"agents": table}, f"agents-{period}")
    with unit_of_work() as session:
        record(
            session,
            org.id,
            current_user.email,
            "agents.export" if answer is not None else "agents.view",
            {"period": str(period), "queues": queue_ids, "agents": len(rows)},
        )
    if answer is not None:
        return answer
    return render_template(
        "dashboard/agents.html",
        period=period,
        label=period_label(period),
        dates=period_dates(period),
        rows=rows,
        figures=AGENT_FIGURES,
        kinds=kinds_nav(period, today),
        today=today,
        queues=_visible_queues(),
        queue_ids=queue_ids,
    )


@bp.route("/settings/agents", methods=["GET", "POST"])
@roles_required(*SETTINGS)
def settings() -> Any:
    org = current_org()
    db = get_session()
    form = EmptyForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        enabled = request.form.get("enabled") == "on"
        ids = known_agents(db, org, local_date(utcnow(), org.timezone))
        names = {a: request.form.get(f"name-{i}", "") for i, a in enumerate(ids)}
        with unit_of_work() as session:
            if enabled != agents_enabled(session, org):
                set_agents_enabled(session, org, enabled, current_user.email)
                record(session, org.id, current_user.email, "agents.setting", {"enabled": enabled})
            changed = set_agent_names(session, org, names)
            if changed:
                record(session, org.id, current_user.email, "agents.names", {"agents": changed})
        flash(_("The agents' settings are saved."), "success")
        return redirect(url_for(".settings"), 303)
    ids = known_agents(db, org, local_date(utcnow(), org.timezone))
    return render_template(
        "settings/agents.html",
        form=form,
        enabled=agents_enabled(db, org),
        agents=list(enumerate(ids)),
        names=agent_names(db, org),
        max_name=MAX_NAME,
    )
