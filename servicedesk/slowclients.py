"""Slow clients cannot starve the server: a request's body must arrive within a deadline.

The production server runs gunicorn's threaded workers: a connection waits in the worker's
poller, not in a thread, until it sends something. Once a request has begun, its thread reads
the body, and a client that sends a byte every two seconds would keep that thread for as long
as it likes. ``BodyDeadline`` reads the whole body (bounded by the size limit) before the
application sees the request, and a watchdog thread cuts the read side of the connection when
``BODY_SECONDS`` have passed: the request is answered 408 and the thread is free again.
"""

from __future__ import annotations

import heapq
import io
import itertools
import socket
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

#: Seconds a request's body may take to arrive (a 1 MB body at 1 Mbit/s takes 8).
BODY_SECONDS = 20.0
#: Bytes read at a time.
CHUNK = 65_536


class Watchdog:
    """One thread that shuts the read side of sockets whose deadline passed."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, socket.socket]] = []
        self._live: set[int] = set()
        self._ids = itertools.count()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    def arm(self, sock: socket.socket, seconds: float) -> int:
        with self._wake:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="body-deadline", daemon=True)
                self._thread.start()
            handle = next(self._ids)
            heapq.heappush(self._heap, (time.monotonic() + seconds, handle, sock))
            self._live.add(handle)
            self._wake.notify()
            return handle

    def disarm(self, handle: int) -> bool:
        """Forget the deadline; False if it had already passed (the socket was cut)."""
        with self._wake:
            if handle in self._live:
                self._live.discard(handle)
                return True
            return False

    def _run(self) -> None:
        while True:
            with self._wake:
                while self._heap and self._heap[0][1] not in self._live:
                    heapq.heappop(self._heap)  # disarmed
                if not self._heap:
                    self._wake.wait()
                    continue
                deadline, handle, sock = self._heap[0]
                wait = deadline - time.monotonic()
                if wait > 0:
                    self._wake.wait(wait)
                    continue
                heapq.heappop(self._heap)
                self._live.discard(handle)
            try:
                sock.shutdown(socket.SHUT_RD)
            except OSError:
                pass


WATCHDOG = Watchdog()


def _has_body(environ: dict[str, Any]) -> bool:
    length = environ.get("CONTENT_LENGTH") or ""
    chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    return chunked or (length.isdigit() and int(length) > 0)


class BodyDeadline:
    """WSGI middleware: the body read whole within ``seconds``, else 408 and the thread freed."""

    def __init__(
        self, app: Callable[..., Iterable[bytes]], *, limit: int, seconds: float = BODY_SECONDS
    ) -> None:
        self.app = app
        self.limit = limit
        self.seconds = seconds

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        sock = environ.get("gunicorn.socket")
        if sock is None or not _has_body(environ):
            return self.app(environ, start_response)
        handle = WATCHDOG.arm(sock, self.seconds)
        stream = environ["wsgi.input"]
        body = io.BytesIO()
        try:
            while body.tell() <= self.limit:  # one byte over the limit is enough to refuse it
                chunk = stream.read(min(CHUNK, self.limit + 1 - body.tell()))
                if not chunk:
                    break
                body.write(chunk)
        except (OSError, ValueError):
            pass  # the watchdog cut it, or the client went away: answered below
        if not WATCHDOG.disarm(handle):
            start_response(
                "408 Request Timeout",
                [("Content-Type", "text/plain"), ("Connection", "close")],
            )
            return [b"the request body did not arrive in time\n"]
        environ["wsgi.input"] = io.BytesIO(body.getvalue())
        length = environ.get("CONTENT_LENGTH") or ""
        if not length.isdigit():
            # A chunked body is read: it is terminated, and the application may read it all.
            environ["wsgi.input_terminated"] = True
        return self.app(environ, start_response)
