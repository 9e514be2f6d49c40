"""The application factory: settings, the features' wiring, their blueprints and commands.

Features are named here as "module:attribute" strings, imported when an app is made, so the
factory sits at the top of the layers (docs/architecture.md) without importing the command and
server modules that use it."""

from __future__ import annotations

import gc
from importlib import import_module
from pathlib import Path
from typing import Any

from flask import Flask

from servicedesk import cache, db, observability, problems, web
from servicedesk.auth.access import public
from servicedesk.ingest import web as delivery_web
from servicedesk.ingest.lane import EventsLane
from servicedesk.secrets import instance_secrets
from servicedesk.settings import Settings, get_settings

ROOT = Path(__file__).resolve().parent.parent

#: Every feature's blueprint, as "module:attribute"; a feature adds itself with one line here.
BLUEPRINTS = [
    "servicedesk.health.blueprint:bp",
    "servicedesk.ingest.blueprint:bp",
    "servicedesk.webhooks.blueprint:bp",
    "servicedesk.auth.blueprint:bp",
    "servicedesk.dashboard.blueprint:bp",
    "servicedesk.dashboard.reports_views:bp",
    "servicedesk.notify.mail_views:bp",
    "servicedesk.dashboard.period_views:bp",
    "servicedesk.dashboard.interval_views:bp",
    "servicedesk.dashboard.agent_views:bp",
    "servicedesk.dashboard.staffing_views:bp",
    "servicedesk.reports.blueprint:bp",
    "servicedesk.orgsettings.blueprint:bp",
    "servicedesk.callimport.blueprint:bp",
    "servicedesk.surveys.public:bp",
    "servicedesk.surveys.reply_views:bp",
    "servicedesk.surveys.blueprint:bp",
    "servicedesk.benchmarking.hub_views:bp",
    "servicedesk.benchmarking.blueprint:bp",
    "servicedesk.benchmarking.api_views:bp",
    "servicedesk.openapi:bp",
]

#: Every command or group of the ``servicedesk`` command; a feature adds itself with one line.
COMMANDS = [
    "servicedesk.commands:db_cli",
    "servicedesk.commands:serve_cmd",
    "servicedesk.orgs.cli:org_cli",
    "servicedesk.ingest.cli:token_cli",
    "servicedesk.demo.cli:demo_cli",
    "servicedesk.reports.cli:report_cli",
    "servicedesk.commands:scheduler_cmd",
    "servicedesk.webhooks.cli:integration_cli",
    "servicedesk.webhooks.cli:asterisk_cli",
    "servicedesk.auth.cli:user_cli",
    "servicedesk.notify.cli:notify_cli",
    "servicedesk.kolada.cli:kolada_cli",
    "servicedesk.gdpr.cli:gdpr_cli",
    "servicedesk.audit.cli:audit_cli",
    "servicedesk.calendars.cli:calendar_cli",
    "servicedesk.callimport.cli:calls_cli",
    "servicedesk.surveys.cli:survey_cli",
    "servicedesk.benchmarking.cli:benchmark_cli",
]


#: What features do with a delivery's new events while their callers are still in clear
#: (``servicedesk.ingest.service.ArrivalHook``).
ARRIVAL_HOOKS = ["servicedesk.surveys.capture:on_arrival"]


def _named(target: str) -> Any:
    module, _, attribute = target.partition(":")
    return getattr(import_module(module), attribute)


def _config_from(settings: Settings, instance_path: str, required: bool) -> dict[str, Any]:
    secrets = instance_secrets(settings, instance_path, required=required)
    return {
        "DATABASE_URL": settings.database_url,
        "SECRET_KEY": secrets.secret_key,
        "PSEUDONYM_KEY": secrets.pseudonym_key,
        "PSEUDONYM_PREVIOUS_KEYS": [
            k.strip() for k in settings.servicedesk_pseudonym_previous_keys.split(",") if k.strip()
        ],
        "MAX_CONTENT_LENGTH": settings.servicedesk_max_body_bytes,
        "CALL_IMPORT_MAX_BYTES": settings.servicedesk_call_import_max_bytes,
        "WEBHOOK_TOLERANCE_SECONDS": settings.servicedesk_webhook_tolerance_seconds,
        "PUBLIC_URL": settings.servicedesk_public_url,
        "SMTP_HOST": settings.servicedesk_smtp_host,
        "SMTP_PORT": settings.servicedesk_smtp_port,
        "SMTP_SECURITY": settings.servicedesk_smtp_security,
        "SMTP_USERNAME": settings.servicedesk_smtp_username,
        "SMTP_PASSWORD": settings.servicedesk_smtp_password,
        "MAIL_FROM": settings.servicedesk_mail_from,
        "REDIS_URL": settings.servicedesk_redis_url,
        "CACHE_DIR": settings.servicedesk_cache_dir,
        "TRUSTED_PROXIES": settings.servicedesk_trusted_proxies,
        "BODY_SECONDS": settings.servicedesk_body_timeout_seconds,
        "REFUSED_RATE_LIMIT": settings.servicedesk_refused_rate_limit,
        "REFUSED_DAILY_BYTES": settings.servicedesk_refused_daily_bytes,
        "ENV_NAME": settings.servicedesk_env,
        "BENCHMARK_HUB_URL": settings.servicedesk_benchmark_hub_url,
        "BENCHMARK_HUB_MEMBER": settings.servicedesk_benchmark_hub_member,
        "BENCHMARK_HUB_SECRET": settings.servicedesk_benchmark_hub_secret,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": settings.is_production,
        "JSON_SORT_KEYS": False,
    }


def create_app(test_config: dict[str, Any] | None = None, *, for_cli: bool = False) -> Flask:
    """The application factory: environment settings, then the test's overrides.

    A web process refuses to start in production without its keys; administrative commands
    (``for_cli``) may run without them, and the commands that need a key say so.
    """
    app = Flask(
        "servicedesk",
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
    )
    if test_config is None:
        app.config.from_mapping(_config_from(get_settings(), app.instance_path, not for_cli))
    else:
        test_settings = Settings(servicedesk_env="test")
        app.config.from_mapping(_config_from(test_settings, app.instance_path, True))
        app.config.from_mapping(test_config)
        app.config["SERVICEDESK_CHOSEN"] = frozenset(test_config)
    if isinstance(app.config.get("PSEUDONYM_KEY"), str):
        app.config["PSEUDONYM_KEY"] = app.config["PSEUDONYM_KEY"].encode()
    app.config["PSEUDONYM_PREVIOUS_KEYS"] = [
        k.encode() if isinstance(k, str) else k for k in app.config["PSEUDONYM_PREVIOUS_KEYS"]
    ]
    db.init_app(app)
    cache.init_app(app)
    problems.init_app(app)
    delivery_web.init_app(app)
    # Inside any proxy middleware added later (ProxyFix): the lane sees the client's address.
    app.wsgi_app = EventsLane(app, app.wsgi_app)  # type: ignore[method-assign]  # Flask's documented way to wrap the WSGI app
    observability.init_app(app)
    web.init_app(app)
    for target in COMMANDS:
        app.cli.add_command(_named(target))
    app.extensions["servicedesk.arrival_hooks"] = [_named(target) for target in ARRIVAL_HOOKS]
    for target in BLUEPRINTS:
        app.register_blueprint(_named(target))
    app.add_url_rule("/metrics", "metrics", public(observability.metrics_view))
    if not app.testing:
        # What start-up allocated (modules, table metadata, templates, catalogs) lives as long
        # as the process: moved out of the collector's reach, a full collection no longer walks
        # it. Measured: the warm Month page took 30 ms, and 150 ms every dozen requests when
        # the oldest generation was collected. Not under tests, which make an app per test.
        gc.freeze()
    return app
