"""The settings pages; admins only, and only of their own organisation."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlmodel import col

from servicedesk.audit import record
from servicedesk.auth.access import SETTINGS, current_org, roles_required
from servicedesk.auth.forms import EmptyForm
from servicedesk.auth.models import User
from servicedesk.auth.operations import (
    UserError,
    create_user,
    org_users,
    set_active,
    set_password,
    set_role,
    set_user_queues,
    user_details,
    user_queue_ids,
)
from servicedesk.calendars.service import add_closed_day, remove_closed_day
from servicedesk.dashboard.targets import TARGETS, org_targets, set_targets
from servicedesk.db import get_session, unit_of_work
from servicedesk.ingest.models import IngestToken
from servicedesk.ingest.tokens import create_token, token_details
from servicedesk.ingest.tokens import revoke_token as revoke
from servicedesk.metrics.catalogue import SECTION_LABELS
from servicedesk.orgs.models import ClosedDay, Queue
from servicedesk.orgs.operations import update_organisation
from servicedesk.orgsettings.forms import (
    SCOPE_NAMES,
    ClosedDayForm,
    EditUserForm,
    OrganisationForm,
    QueueForm,
    TokenForm,
    UserForm,
    choices,
    role_choices,
    targets_form_class,
)

bp = Blueprint("settings", __name__, url_prefix="/settings")


def _queues() -> list[Queue]:
    return list(
        get_session().scalars(
            sa.select(Queue)
            .where(col(Queue.organisation_id) == current_org().id)
            .order_by(col(Queue.name))
        )
    )


@bp.route("/", methods=["GET", "POST"])
@roles_required(*SETTINGS)
def organisation() -> Any:
    org = current_org()
    form = OrganisationForm(obj=org, prefix="org")
    targets_form = targets_form_class()(prefix="t")
    if form.validate_on_submit():
        with unit_of_work() as db:
            update_organisation(
                db,
                current_org_fresh(),
                name=form.name.data or "",
                service_level_seconds=form.service_level_seconds.data or 0,
            )
        flash(_("The organisation is saved."), "success")
        return redirect(url_for(".organisation"), 303)
    current = org_targets(get_session(), org)
    for spec in TARGETS:
        field = getattr(targets_form, spec.key.replace(".", "__"))
        if field.data is None and spec.key in current:
            field.data = current[spec.key]
    return render_template(
        "settings/organisation.html",
        form=form,
        targets_form=targets_form,
        targets=TARGETS,
        sections=SECTION_LABELS,
    )


def current_org_fresh() -> Any:
    """The organisation re-read inside the write transaction."""
    from servicedesk.orgs.models import Organisation

    return get_session().get(Organisation, current_user.organisation_id)


@bp.route("/targets", methods=["POST"])
@roles_required(*SETTINGS)
def targets() -> Any:
    form = targets_form_class()(prefix="t")
    if not form.validate_on_submit():
        for field in form:
            for error in field.errors:
                flash(f"{field.label.text}: {error}", "error")
        return redirect(url_for(".organisation"), 303)
    values = {spec.key: getattr(form, spec.key.replace(".", "__")).data for spec in TARGETS}
    with unit_of_work() as db:
        set_targets(db, current_org_fresh(), values)
    flash(_("The targets are saved."), "success")
    return redirect(url_for(".organisation"), 303)


@bp.route("/closed-days", methods=["GET", "POST"])
@roles_required(*SETTINGS)
def closed_days() -> Any:
    form = ClosedDayForm()
    if form.validate_on_submit():
        with unit_of_work() as db:
            add_closed_day(db, current_org_fresh(), form.day.data, (form.reason.data or "").strip())
        flash(_("The day is closed."), "success")
        return redirect(url_for(".closed_days"), 303)
    rows = get_session().scalars(
        sa.select(ClosedDay)
        .where(col(ClosedDay.organisation_id) == current_org().id)
        .order_by(col(ClosedDay.day).desc())
    )
    return render_template(
        "settings/closed_days.html", form=form, rows=list(rows), button=EmptyForm()
    )


@bp.route("/closed-days/<int:row_id>/remove", methods=["POST"])
@roles_required(*SETTINGS)
def remove_closed(row_id: int) -> Any:
    with unit_of_work() as db:
        row = db.get(ClosedDay, row_id)
        if row is None or row.organisation_id != current_user.organisation_id:
            abort(404)
        remove_closed_day(db, current_org_fresh(), row.day)
    flash(_("The day is open again."), "success")
    return redirect(url_for(".closed_days"), 303)


@bp.route("/queues", methods=["GET", "POST"])
@roles_required(*SETTINGS)
def queues() -> Any:
    form = QueueForm()
    if form.validate_on_submit():
        name = (form.name.data or "").strip()
        with unit_of_work() as db:
            exists = db.scalars(
                sa.select(col(Queue.id)).where(
                    col(Queue.organisation_id) == current_user.organisation_id,
                    col(Queue.name) == name,
                )
            ).first()
            if exists is None:
                db.add(Queue(organisation_id=current_user.organisation_id, name=name))
        if exists is None:
            flash(_("The queue is added."), "success")
        else:
            flash(_("A queue with that name exists already."), "error")
        return redirect(url_for(".queues"), 303)
    return render_template("settings/queues.html", form=form, queues=_queues())


@bp.route("/tokens", methods=["GET", "POST"])
@roles_required(*SETTINGS)
def tokens() -> Any:
    form = TokenForm()
    created: dict[str, str | None] | None = None
    if form.validate_on_submit():
        with unit_of_work() as db:
            row, token = create_token(
                db,
                current_org_fresh(),
                signing=bool(form.signing.data),
                label=form.label.data or "",
                scope=form.scope.data,
            )
            record(db, row.organisation_id, current_user.email, "token.create", token_details(row))
        # Shown in this one answer only: never stored in clear, never put in a redirect or flash.
        created = {"token": token, "secret": row.signing_secret, "prefix": row.prefix}
        form = TokenForm(formdata=None)
    rows = get_session().scalars(
        sa.select(IngestToken)
        .where(col(IngestToken.organisation_id) == current_org().id)
        .order_by(col(IngestToken.created_at).desc())
    )
    return render_template(
        "settings/tokens.html",
        form=form,
        rows=list(rows),
        created=created,
        button=EmptyForm(),
        scope_names=SCOPE_NAMES,
    )


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@roles_required(*SETTINGS)
def revoke_token(token_id: int) -> Any:
    with unit_of_work() as db:
        row = db.get(IngestToken, token_id)
        if row is None or row.organisation_id != current_user.organisation_id:
            abort(404)
        revoke(db, row)
        record(db, row.organisation_id, current_user.email, "token.revoke", token_details(row))
    flash(_("The token is revoked."), "success")
    return redirect(url_for(".tokens"), 303)


@bp.route("/users", methods=["GET", "POST"])
@roles_required(*SETTINGS)
def users() -> Any:
    form = UserForm()
    form.role.choices = role_choices()
    form.queues.choices = choices([(q.id, q.name) for q in _queues()])
    if form.validate_on_submit():
        try:
            with unit_of_work() as db:
                org = current_org_fresh()
                user = create_user(
                    db,
                    org,
                    email=form.email.data or "",
                    password=form.password.data or "",
                    role=form.role.data,
                )
                if form.queues.data:
                    set_user_queues(db, user, form.queues.data)
                record(db, org.id, current_user.email, "user.create", user_details(user))
        except UserError as exc:
            flash(str(exc), "error")
        else:
            flash(_("The user is added."), "success")
            return redirect(url_for(".users"), 303)
    db = get_session()
    names = {q.id: q.name for q in _queues()}
    rows = [
        (u, [names[i] for i in (user_queue_ids(db, u) or [])]) for u in org_users(db, current_org())
    ]
    return render_template("settings/users.html", form=form, rows=rows)


def _own_user(db: Any, user_id: int) -> User:
    user: User | None = db.get(User, user_id)
    if user is None or user.organisation_id != current_user.organisation_id:
        abort(404)
    return user


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles_required(*SETTINGS)
def edit_user(user_id: int) -> Any:
    user = _own_user(get_session(), user_id)
    form = EditUserForm(obj=user if not EditUserForm().is_submitted() else None)
    form.role.choices = role_choices()
    form.queues.choices = choices([(q.id, q.name) for q in _queues()])
    if not form.is_submitted():
        form.queues.data = user_queue_ids(get_session(), user) or []
    if form.validate_on_submit():
        myself = user.id == current_user.id
        if myself and (form.role.data != "admin" or not form.active.data):
            flash(_("You cannot take away your own administrator rights."), "error")
            return redirect(url_for(".edit_user", user_id=user_id), 303)
        queues = form.queues.data if form.role.data == "team_leader" else []
        try:
            with unit_of_work() as db:
                user = _own_user(db, user_id)
                set_role(db, user, form.role.data)
                set_user_queues(db, user, queues)
                if bool(form.active.data) != user.active:
                    set_active(db, user, bool(form.active.data))
                if form.password.data:
                    set_password(db, user, form.password.data)
        except UserError as exc:
            flash(str(exc), "error")
            return redirect(url_for(".edit_user", user_id=user_id), 303)
        flash(_("The user is saved."), "success")
        return redirect(url_for(".users"), 303)
    return render_template("settings/edit_user.html", form=form, user=user)
