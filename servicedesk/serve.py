"""The production server: gunicorn with the app factory, loaded in each worker after the fork."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

from servicedesk.observability import standard_formatter


class GunicornServer(BaseApplication):  # type: ignore[misc]  # gunicorn ships no types
    """Runs ``create_app()`` in every worker, so no engine or pool crosses a fork."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings and value is not None:
                self.cfg.set(key, value)

    def load(self) -> Any:
        from servicedesk.app import create_app
        from servicedesk.slowclients import BodyDeadline

        app = create_app()
        return BodyDeadline(
            app,
            # The largest body any view accepts: a delivery, or a call list with its form.
            limit=max(
                app.config["MAX_CONTENT_LENGTH"],
                app.config.get("CALL_IMPORT_MAX_BYTES", 0) + 100_000,
            ),
            seconds=app.config["BODY_SECONDS"],
        )


class ServerLog(Logger):  # type: ignore[misc]  # gunicorn ships no types
    """gunicorn's own lines (started, listening, a worker booted, killed or timed out) written
    as the app's are: one JSON object per line on stderr, so that a log collector reads the
    master's lines and the workers' alike."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.setFormatter(standard_formatter())


def _multiprocess_dir() -> None:
    """Give the workers a shared folder for their Prometheus counts.

    An operator's folder (shared with the scheduler process) is kept as it is: clear it at boot
    (docs/deploy.md). Without one, a fresh temporary folder serves this server alone.
    """
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder:
        folder = tempfile.mkdtemp(prefix="servicedesk-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
    Path(folder).mkdir(parents=True, exist_ok=True)


def _child_exit(_server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]  # unannotated upstream


#: Threads per worker. A request occupies one while it runs and while its body arrives (at
#: most BODY_SECONDS); a connection that sends nothing waits in the worker's poller instead.
THREADS = 32


def serve(host: str, port: int, workers: int, threads: int = THREADS, **extra: Any) -> None:
    _multiprocess_dir()
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        # Threads, not one process per request: a slow client holds one thread of many for
        # at most BODY_SECONDS (servicedesk/slowclients.py), never a whole worker.
        "worker_class": "gthread",
        "threads": threads,
        "timeout": 60,
        "graceful_timeout": 20,
        "keepalive": 5,
        # servicedesk logs each request itself, as JSON with its request id.
        "accesslog": None,
        "logger_class": ServerLog,
        "child_exit": _child_exit,
        "preload_app": False,
        **extra,
    }
    GunicornServer(options).run()
