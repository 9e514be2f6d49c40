"""Observability: JSON logs with a request id, and ``/metrics`` for Prometheus.

Under gunicorn every worker counts for itself; with ``PROMETHEUS_MULTIPROC_DIR`` set (``serve``
sets it) the workers write their counts to files there and ``/metrics`` adds them up. That mode is
chosen when prometheus_client is first imported, so this module imports it only on first use,
which is always after the fork.

Other features record through the functions here: ``scheduler_run(job, outcome)`` and
``report_timer()``.
"""

from __future__ import annotations

import hmac
import logging
import os
import re
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from types import SimpleNamespace
from typing import Any

import structlog
from flask import Flask, Response, current_app, g, request

REQUEST_ID_HEADER = "X-Request-ID"
#: Where a middleware that saw the request first (the events lane) leaves the id it gave it.
REQUEST_ID_ENVIRON = "servicedesk.request_id"
#: A sender's request id is kept only when it is short and plain (it ends up in logs).
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
#: Endpoints whose requests are deliveries (the generic API and the providers' webhooks).
_DELIVERY_PREFIXES = ("/api/v1/events", "/hooks/")

log = structlog.get_logger("servicedesk.request")


#: What every line has: the request id (when bound), the level, the time in UTC.
_SHARED: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.processors.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def configure_logging(fmt: str | None = None) -> None:
    """One JSON object per line on stderr (``SERVICEDESK_LOG_FORMAT=console`` for people)."""
    renderer = _renderer(fmt)
    structlog.configure(
        processors=[*_SHARED, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        logger_factory=lambda *_args: _StderrLogger(),
        cache_logger_on_first_use=True,
    )
    _route_standard_logging(fmt)


def _renderer(fmt: str | None) -> Any:
    fmt = fmt or os.environ.get("SERVICEDESK_LOG_FORMAT", "json")
    if fmt == "console":
        return structlog.dev.ConsoleRenderer(colors=False)
    return structlog.processors.JSONRenderer()


def standard_formatter(fmt: str | None = None) -> logging.Formatter:
    """A ``logging`` formatter that writes a standard library record as our lines are written
    (its logger's name kept, a traceback in the ``exception`` field): for the libraries' records
    and gunicorn's own (``servicedesk/serve.py``)."""
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*_SHARED, structlog.stdlib.add_logger_name],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _renderer(fmt),
        ],
    )


def _write_line(message: str) -> None:
    """One line on whatever ``sys.stderr`` is at the time (test runners swap it), in one write:
    ``print`` writes the text and the newline apart, and a worker's threads then interleaved
    (two objects on one line, then an empty one: 296 such in one PostgreSQL restart soak)."""
    stream = sys.stderr
    stream.write(message + "\n")
    stream.flush()


class _StderrLogger:
    """Writes each line to stderr (``_write_line``)."""

    def msg(self, message: str) -> None:
        _write_line(message)

    debug = info = warning = warn = error = critical = exception = fatal = log = msg


class _StderrHandler(logging.Handler):
    """The standard library's records, formatted as ours, on whatever ``sys.stderr`` is."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            _write_line(self.format(record))
        except Exception:  # noqa: BLE001  # logging's own convention: never raise from emit
            self.handleError(record)


def _route_standard_logging(fmt: str | None) -> None:
    """Warnings and errors that libraries log through ``logging`` as JSON lines like ours.

    Without a handler, Python prints them as plain text with their tracebacks over several
    lines (SQLAlchemy's pool when a connection dies in a database restart, psycopg's pipeline):
    in a log of one JSON object per line, a collector cannot parse them. The record's logger
    name is kept and a traceback becomes the line's ``exception`` field. Replaces the handler a
    previous call installed (the factory configures logging for every app it makes).
    """
    handler = _StderrHandler(level=logging.WARNING)
    handler.setFormatter(standard_formatter(fmt))
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if not isinstance(h, _StderrHandler)]
    root.addHandler(handler)


_metrics_lock = threading.Lock()


def metrics() -> SimpleNamespace:
    """The process's metrics, made on first use (after gunicorn's fork) by one thread only."""
    with _metrics_lock:
        return _make_metrics()


@cache
def _make_metrics() -> SimpleNamespace:
    from prometheus_client import Counter, Histogram

    return SimpleNamespace(
        deliveries=Counter(
            "servicedesk_deliveries",
            "Deliveries received, by endpoint and outcome (accepted, rejected, unavailable)",
            ["source", "outcome"],
        ),
        ingest_seconds=Histogram(
            "servicedesk_ingest_seconds",
            "Time to answer a delivery, by endpoint",
            ["source"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        ),
        refused=Counter(
            "servicedesk_refused_deliveries",
            "Refused deliveries by endpoint and what was kept: kept (a proven sender's, whole), "
            "kept_bounded (a stranger's, bounded), over_cap (the day's cap reached: not stored), "
            "rate_limited (answered 429, not stored)",
            ["source", "outcome"],
        ),
        scheduler_runs=Counter(
            "servicedesk_scheduler_runs",
            "Scheduler job runs, by job and outcome",
            ["job", "outcome"],
        ),
        report_seconds=Histogram(
            "servicedesk_report_seconds",
            "Time to generate one monthly report",
            buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
        ),
    )


def scheduler_run(job: str, outcome: str) -> None:
    """Count one run of a scheduler job ("ok" or "error")."""
    metrics().scheduler_runs.labels(job=job, outcome=outcome).inc()


@contextmanager
def report_timer() -> Iterator[None]:
    """Time the generation of one report."""
    started = time.perf_counter()
    try:
        yield
    finally:
        metrics().report_seconds.observe(time.perf_counter() - started)


def _outcome(status: int) -> str:
    if status < 300:
        return "accepted"
    if status == 503:
        return "unavailable"
    return "rejected" if status < 500 else "error"


def _source() -> str:
    """The metrics label of a delivery: "ingest", or a known provider (never a raw URL part)."""
    if request.blueprint == "hooks":
        from integrations import PROVIDERS

        provider = (request.view_args or {}).get("provider")
        return provider if provider in PROVIDERS else "hooks-unknown"
    return request.blueprint or "unknown"


@cache
def delivery_series(source: str, outcome: str) -> tuple[Any, Any]:
    """The labelled series a delivery counts in, found once per source and outcome (both
    from short fixed lists): prometheus_client looks them up by keyword on every call."""
    m = metrics()
    return (
        m.deliveries.labels(source=source, outcome=outcome),
        m.ingest_seconds.labels(source=source),
    )


def safe_request_id(given: str) -> str | None:
    """The caller's request id, if it is one a log line and a header can carry as it is."""
    return given if _SAFE_REQUEST_ID.match(given) else None


def _before_request() -> None:
    g.request_id = (
        request.environ.get(REQUEST_ID_ENVIRON)
        or safe_request_id(request.headers.get(REQUEST_ID_HEADER, ""))
        or uuid.uuid4().hex
    )
    g.request_started = time.perf_counter()
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id=g.request_id)


def _after_request(response: Response) -> Response:
    request_id = g.get("request_id")
    if request_id:
        response.headers[REQUEST_ID_HEADER] = request_id
    elapsed = time.perf_counter() - g.get("request_started", time.perf_counter())
    if request.path.startswith(_DELIVERY_PREFIXES):
        counted, timed = delivery_series(_source(), _outcome(response.status_code))
        counted.inc()
        timed.observe(elapsed)
    if request.path != "/metrics":
        request_log(request.method, request.path, response.status_code, elapsed)
    return response


def request_log(method: str, path: str, status: int, elapsed: float) -> None:
    """The one log line of a request (the request id is bound before it)."""
    log.info("request", method=method, path=path, status=status, ms=round(elapsed * 1000, 1))


def metrics_view() -> Response:
    """The Prometheus text format; all workers' counts in multiprocess mode.

    Not behind a sign-in (Prometheus has none): a bearer token (SERVICEDESK_METRICS_TOKEN)
    closes it, and in production it is not served at all without one.
    """
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
    from prometheus_client.multiprocess import MultiProcessCollector

    token = current_app.config.get("METRICS_TOKEN")
    if not token and current_app.config.get("ENV_NAME") == "production":
        # Open to anyone, the counts tell an attacker what works; without a token there is no
        # /metrics in production (docs/deploy.md).
        return Response("not found\n", status=404, mimetype="text/plain")
    if token:
        presented = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(presented.encode(), token.encode()):
            return Response("unauthorised\n", status=401, mimetype="text/plain")
    metrics()  # so that the series exist (at zero) before the first delivery
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # prometheus_client leaves it unannotated
    else:
        registry = REGISTRY
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


def init_app(app: Flask) -> None:
    configure_logging()
    app.config.setdefault("METRICS_TOKEN", os.environ.get("SERVICEDESK_METRICS_TOKEN") or None)
    app.before_request(_before_request)
    app.after_request(_after_request)
