"""Sign-in, sign-out and the language switch."""

from __future__ import annotations

import time
from typing import Any

from flask import (
    Blueprint,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from servicedesk.audit import record
from servicedesk.auth.access import public
from servicedesk.auth.forms import EmptyForm, LanguageForm, LoginForm
from servicedesk.auth.models import User
from servicedesk.auth.operations import authenticate, end_sessions
from servicedesk.redirects import safe_next
from servicedesk.web import limiter, writing

bp = Blueprint("auth", __name__)


def _failed(response: Response) -> bool:
    return response.status_code == 401


def _client() -> dict[str, str | None]:
    """Where a sign-in came from, for the audit log."""
    return {"ip": request.remote_addr, "user_agent": request.user_agent.string[:200] or None}


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _email_key() -> str:
    return "login-email:" + (request.form.get("email") or "").strip().lower()[:254]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_failed)
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_failed, key_func=_email_key)
@public
def login() -> Any:
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if current_user.is_authenticated and request.method == "GET":
        return redirect(safe_next(form.next.data, url_for("dashboard.today")))
    error = False
    if form.validate_on_submit():
        db = writing()  # the audit log records every attempt
        user = authenticate(db, form.email.data or "", form.password.data or "")
        if user is not None:
            record(db, user.organisation_id, user.email, "auth.sign_in", _client())
            db.commit()
            session.clear()  # a fresh session: nothing from before sign-in carries over
            login_user(user)
            session.permanent = True
            session["signed_in_at"] = int(time.time())  # the session's end, whatever it does
            return redirect(safe_next(form.next.data, url_for("dashboard.today")), 303)
        db = writing()
        attempted = (form.email.data or "").strip().lower()[:320]
        record(db, None, attempted or "(empty)", "auth.sign_in_failed", _client())
        db.commit()
        error = True
    status = 401 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form, error=error), status


@bp.route("/logout", methods=["POST"])
@public
def logout() -> Response:
    EmptyForm()  # CSRF is checked for every POST before the view runs
    if current_user.is_authenticated:
        # Every session of the user ends, not only this cookie: a copy of it is worthless now.
        db = writing()
        user = db.get(User, current_user.id)
        if user is not None:
            end_sessions(db, user)
            db.commit()
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"), 303)


@bp.route("/language", methods=["POST"])
@public
def language() -> Response:
    form = LanguageForm()
    locale = form.locale.data if form.validate_on_submit() else None
    if locale:
        session["locale"] = locale
        if current_user.is_authenticated:
            db = writing()
            current_user.locale = locale
            db.commit()
    return redirect(safe_next(form.next.data, url_for("auth.login")), 303)
