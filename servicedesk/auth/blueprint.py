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
from servicedesk.auth import devices
from servicedesk.auth.access import public
from servicedesk.auth.forms import EmptyForm, LanguageForm, LoginForm
from servicedesk.auth.models import User
from servicedesk.auth.operations import authenticate, end_sessions
from servicedesk.db import unit_of_work
from servicedesk.ratelimits import client_key
from servicedesk.redirects import safe_next
from servicedesk.web import limiter

bp = Blueprint("auth", __name__)


def _failed(response: Response) -> bool:
    return response.status_code == 401


def _client() -> dict[str, str | None]:
    """Where a sign-in came from, for the audit log."""
    return {"ip": request.remote_addr, "user_agent": request.user_agent.string[:200] or None}


def _login_limit() -> str:
    return str(current_app.config["LOGIN_RATE_LIMIT"])


def _address_limit() -> str:
    return str(current_app.config["LOGIN_ADDRESS_LIMIT"])


def _account_limit() -> str:
    return str(current_app.config["LOGIN_ACCOUNT_LIMIT"])


def _email() -> str:
    return (request.form.get("email") or "").strip().lower()[:254]


def _address() -> str:
    return client_key(request.remote_addr)


def _pair_key() -> str:
    return f"login-pair:{_address()}:{_email()}"


def _address_key() -> str:
    return f"login-address:{_address()}"


def _account_key() -> str:
    return f"login-account:{_email()}"


def _device_key() -> str:
    return f"login-device:{(devices.vouched() or ('', ''))[1]}"


def _trusted() -> bool:
    """This browser signed in to this account before (its device cookie says so)."""
    vouched = devices.vouched()
    return vouched is not None and vouched[0] == _email()


def _untrusted() -> bool:
    return not _trusted()


# Failed sign-ins are counted (never successful ones), in storage every worker shares. An
# unknown browser is limited per address and account together, per address (many accounts
# tried from one place) and per account (one account tried from many places); so an attack
# on one account from one address locks neither the rest of that address nor the account's
# owner elsewhere. A browser that signed in to the account before is limited on its own
# (OWASP's device cookies), so not even a distributed attack locks its owner out.
@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    _login_limit, methods=["POST"], deduct_when=_failed, key_func=_pair_key, exempt_when=_trusted
)
@limiter.limit(
    _address_limit,
    methods=["POST"],
    deduct_when=_failed,
    key_func=_address_key,
    exempt_when=_trusted,
)
@limiter.limit(
    _account_limit,
    methods=["POST"],
    deduct_when=_failed,
    key_func=_account_key,
    exempt_when=_trusted,
)
@limiter.limit(
    _login_limit,
    methods=["POST"],
    deduct_when=_failed,
    key_func=_device_key,
    exempt_when=_untrusted,
)
@public
def login() -> Any:
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if current_user.is_authenticated and request.method == "GET":
        return redirect(safe_next(form.next.data, url_for("dashboard.today")))
    error = False
    if form.validate_on_submit():
        with unit_of_work() as db:  # the audit log records every attempt
            user = authenticate(db, form.email.data or "", form.password.data or "")
            if user is not None:
                record(db, user.organisation_id, user.email, "auth.sign_in", _client())
            else:
                attempted = (form.email.data or "").strip().lower()[:320]
                record(db, None, attempted or "(empty)", "auth.sign_in_failed", _client())
        if user is not None:
            session.clear()  # a fresh session: nothing from before sign-in carries over
            login_user(user)
            session.permanent = True
            session["signed_in_at"] = int(time.time())  # the session's end, whatever it does
            response = redirect(safe_next(form.next.data, url_for("dashboard.today")), 303)
            devices.remember(response, user.email)
            return response
        error = True
    status = 401 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form, error=error), status


@bp.route("/logout", methods=["POST"])
@public
def logout() -> Response:
    EmptyForm()  # CSRF is checked for every POST before the view runs
    if current_user.is_authenticated:
        # Every session of the user ends, not only this cookie: a copy of it is worthless now.
        with unit_of_work() as db:
            user = db.get(User, current_user.id)
            if user is not None:
                end_sessions(db, user)
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
            with unit_of_work():
                current_user.locale = locale
    return redirect(safe_next(form.next.data, url_for("auth.login")), 303)
