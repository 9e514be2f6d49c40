"""The signed-in web interface's plumbing: sessions, CSRF, rate limits, languages, headers.

The machine endpoints (``/api/``, ``/hooks/``) authenticate with tokens and signatures, not
cookies, so CSRF applies to every other POST.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from flask import Flask, Response, abort, current_app, g, render_template, request, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_babel import Babel, get_locale
from flask_babel import gettext as _
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from servicedesk import formatting
from servicedesk.auth.forms import LANGUAGE_NAMES
from servicedesk.auth.models import User
from servicedesk.db import get_session
from servicedesk.problems import problem, wants_problem
from servicedesk.ratelimits import storage_uri
from servicedesk.unavailable import RETRY_AFTER_SECONDS, UNAVAILABLE_ERRORS, database_unavailable

LOCALES = ("sv", "nb", "en")
COUNTRY_LOCALES = {"SE": "sv", "NO": "nb"}
MACHINE_PREFIXES = ("/api/", "/hooks/", "/healthz", "/readyz")
#: The citizen's survey pages: the signed, single-use link in the URL is the credential and no
#: cookie is set, so a cross-site request has nothing to ride on (and a mail client's one-click
#: opt-out, RFC 8058, cannot carry a CSRF token).
LINK_PREFIXES = ("/s/",)
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address)

#: The pages load nothing from elsewhere and run only the app's own script files.
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


@login_manager.user_loader  # type: ignore[untyped-decorator]  # Flask-Login ships no types
def _load_user(identity: str) -> User | None:
    user_id, _, token = identity.partition(":")
    if not user_id.isdigit():
        return None
    signed_in_at = session.get("signed_in_at")
    lifetime = current_app.permanent_session_lifetime.total_seconds()
    if not isinstance(signed_in_at, int | float) or not 0 <= time.time() - signed_in_at < lifetime:
        return None  # at most SESSION_HOURS after sign-in, however busy the session was
    user = get_session().get(User, int(user_id))
    if user is None or not user.active or not secrets.compare_digest(user.session_token, token):
        return None
    return user


def select_locale() -> str:
    """The user's choice, else the organisation's country, else the browser's preference."""
    if current_user.is_authenticated:
        if current_user.locale in LOCALES:
            return str(current_user.locale)
        from servicedesk.auth.access import current_org

        return COUNTRY_LOCALES.get(current_org().country, "en")
    chosen = session.get("locale")
    if chosen in LOCALES:
        return str(chosen)
    if request:
        best = request.accept_languages.best_match(["sv", "nb", "no", "nn", "en"])
        if best:
            return "nb" if best in ("no", "nn") else best
    return "sv"


def select_timezone() -> str | None:
    if current_user.is_authenticated:
        from servicedesk.auth.access import current_org

        return current_org().timezone
    return "Europe/Stockholm"


def _machine_request() -> bool:
    return request.path.startswith(MACHINE_PREFIXES)


class PageSessions(SecureCookieSessionInterface):
    """Signed-cookie sessions for the pages; a machine endpoint's request has none.

    Deliveries authenticate with tokens and signatures: their requests neither read nor set a
    cookie (Flask gives them its null session, which refuses writes), which spares every
    delivery the cookie's serializer and signature check.
    """

    def open_session(self, app: Flask, request: Any) -> SecureCookieSession | None:
        if request.path.startswith(MACHINE_PREFIXES):
            return None  # Flask's null session
        return super().open_session(app, request)


def _pages_only(app: Flask, install: Callable[[], object]) -> None:
    """Run ``install`` (an extension's ``init_app``) and make the request hooks it registers
    skip the machine endpoints: sign-in, CSRF and the rate limiter guard pages and forms, and
    their bookkeeping was a fifth of a single-event delivery's time in the web layer."""
    before = app.before_request_funcs.setdefault(None, [])
    after = app.after_request_funcs.setdefault(None, [])
    teardown = app.teardown_request_funcs.setdefault(None, [])
    counts = len(before), len(after), len(teardown)
    install()
    before[counts[0] :] = [_before(hook) for hook in before[counts[0] :]]
    after[counts[1] :] = [_after(hook) for hook in after[counts[1] :]]
    teardown[counts[2] :] = [_teardown(hook) for hook in teardown[counts[2] :]]


def _before(hook: Callable[[], Any]) -> Callable[[], Any]:
    @wraps(hook)
    def guarded() -> Any:
        return None if _machine_request() else hook()

    return guarded


def _after(hook: Callable[[Any], Any]) -> Callable[[Response], Any]:
    @wraps(hook)
    def guarded(response: Response) -> Any:
        return response if _machine_request() else hook(response)

    return guarded


def _teardown(hook: Callable[[Any], Any]) -> Callable[[BaseException | None], None]:
    @wraps(hook)
    def guarded(exc: BaseException | None) -> None:
        if not _machine_request():
            hook(exc)

    return guarded


def _storable(values: Any) -> bool:
    return not any("\x00" in k or any("\x00" in v for v in vs) for k, vs in values.lists())


def _protect() -> None:
    if request.path.startswith(MACHINE_PREFIXES):
        return  # deliveries are kept and refused by their own endpoints, with a reason
    # A NUL in a query or a form is refused up front: PostgreSQL cannot compare or store it,
    # and SQLite would, so the engines would answer differently.
    if not _storable(request.args) or (
        request.method == "POST" and request.mimetype in FORM_TYPES and not _storable(request.form)
    ):
        abort(400)
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if request.path.startswith(LINK_PREFIXES):
        return
    csrf.protect()


def _database_down(exc: Exception) -> Any:
    """Pages, like the APIs, answer 503 with Retry-After while the database is unreachable."""
    if wants_problem():
        return database_unavailable(exc)
    database_unavailable(exc)  # logs, and rolls back what it can
    # The page must not ask the database again (who is signed in, their language).
    g._login_user = login_manager.anonymous_user()
    page = render_template(
        "error.html",
        title=_("The service is unavailable"),
        message=_("The database cannot be reached just now. Try again in a minute."),
    )
    return page, 503, {"Retry-After": str(RETRY_AFTER_SECONDS)}


#: The headers every answer carries unless its view set its own.
SECURITY_HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"),
)
_HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


def security_headers(secure: bool) -> tuple[tuple[str, str], ...]:
    """The headers every answer carries (HSTS only over HTTPS)."""
    return (*SECURITY_HEADERS, _HSTS) if secure else SECURITY_HEADERS


def _headers(response: Response) -> Response:
    h = response.headers
    # The names the answer has, read once: a ``setdefault`` per header searched them each time
    # (a fiftieth of a single-event delivery's time, issue 17).
    present = {name.lower() for name, _ in h.items()}
    chosen = security_headers(request.is_secure)
    h.extend([(name, value) for name, value in chosen if name.lower() not in present])
    if getattr(g, "private_page", False):
        # Figures and personal settings must not stay in shared caches or the back button.
        h["Cache-Control"] = "no-store"
        h["Vary"] = "Cookie"
    return response


def _error_page(exc: HTTPException) -> Any:
    if wants_problem():
        return problem(exc.code or 500, exc.name, exc.description)
    titles = {
        400: _("The request could not be handled"),
        403: _("Not allowed"),
        404: _("Not found"),
        429: _("Too many attempts"),
    }
    messages = {
        400: _("The form had expired or was incomplete. Go back, reload the page and try again."),
        403: _("Your role does not give access to this page."),
        404: _("There is nothing here."),
        429: _("Too many attempts in a short time. Wait a minute and try again."),
    }
    code = exc.code or 500
    title = titles.get(code, exc.name)
    message = messages.get(code, exc.description)
    return render_template("error.html", title=title, message=message), code


def _template_globals() -> dict[str, Any]:
    from servicedesk.auth.access import current_org, scope_label
    from servicedesk.metrics.survey_stats import SMALL_SAMPLE

    return {
        "current_org": current_org,
        "scope_label": scope_label,
        "agents_on": _agents_on,
        "small_sample": SMALL_SAMPLE,
        "current_locale": lambda: str(get_locale() or "sv"),
        "language_names": LANGUAGE_NAMES,
        "role_name": role_name,
    }


def _agents_on() -> bool:
    """Whether the signed-in user's organisation shows the agents' table (for the menu)."""
    from servicedesk.auth.access import current_org
    from servicedesk.dashboard.agents import agents_enabled
    from servicedesk.db import get_session

    return agents_enabled(get_session(), current_org())


def role_name(role: str) -> str:
    return str(
        {
            "team_leader": _("Team leader"),
            "quality": _("Quality staff"),
            "admin": _("Administrator"),
        }.get(role, role)
    )


#: The session rules of docs/deploy.md; they replace Flask's own defaults (31 days, "session").
SESSION_HOURS = 12


def init_app(app: Flask) -> None:
    """Wire sign-in, CSRF, rate limits, languages and security headers into the app."""
    production = app.config.get("ENV_NAME") == "production"
    # Flask has its own values for these before any setting of ours, so setdefault would keep
    # Flask's: set ours, unless the caller's configuration (a test's) chose one itself.
    chosen = app.config.get("SERVICEDESK_CHOSEN", ())
    enforced: dict[str, Any] = {
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=SESSION_HOURS),
        "SESSION_COOKIE_NAME": "__Host-servicedesk" if production else "servicedesk",
        "SESSION_COOKIE_PATH": "/",
        "SESSION_COOKIE_DOMAIN": None,
        "SESSION_REFRESH_EACH_REQUEST": False,
        "SESSION_COOKIE_SECURE": production,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
    }
    for key, value in enforced.items():
        if key not in chosen:
            app.config[key] = value
    defaults: dict[str, Any] = {
        "REMEMBER_COOKIE_DURATION": timedelta(hours=SESSION_HOURS),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": app.config.get("SESSION_COOKIE_SECURE", False),
        "WTF_CSRF_CHECK_DEFAULT": False,
        "WTF_CSRF_TIME_LIMIT": None,
        "WTF_CSRF_SSL_STRICT": True,
        "RATELIMIT_STORAGE_URI": storage_uri(app.config.get("REDIS_URL")),
        "RATELIMIT_HEADERS_ENABLED": True,
        "BABEL_DEFAULT_LOCALE": "sv",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Stockholm",
        "LOGIN_RATE_LIMIT": "10 per minute; 50 per hour",
        "LOGIN_ADDRESS_LIMIT": "100 per hour",
        "LOGIN_ACCOUNT_LIMIT": "200 per hour",
    }
    for key, value in defaults.items():
        app.config.setdefault(key, value)
    hops = int(app.config.get("TRUSTED_PROXIES") or 0)
    if hops > 0:
        # request.remote_addr (sign-in limits, refused deliveries, the audit log) becomes the
        # address the outermost trusted proxy saw; X-Forwarded-For beyond them is the client's
        # own say and is not believed.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]  # Flask's documented way to wrap the WSGI app
    app.session_interface = PageSessions()
    _pages_only(app, lambda: login_manager.init_app(app))
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"
    login_manager.login_message = None
    _pages_only(app, lambda: csrf.init_app(app))
    _pages_only(app, lambda: limiter.init_app(app))
    _pages_only(
        app,
        lambda: babel.init_app(
            app, locale_selector=select_locale, timezone_selector=select_timezone
        ),
    )
    app.before_request(_protect)
    app.after_request(_headers)
    app.context_processor(_template_globals)
    for code in (400, 403, 404, 429):
        app.register_error_handler(code, _error_page)
    for error in UNAVAILABLE_ERRORS:
        app.register_error_handler(error, _database_down)
    formatting.init_app(app)
