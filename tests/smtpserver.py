"""A local SMTP server (aiosmtpd) that keeps what it receives, for the tests of outgoing mail."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator

import pytest
from aiosmtpd.controller import Controller


class Inbox:
    """What the server received: (envelope sender, recipients, the message's bytes)."""

    def __init__(self, refuse: bool = False) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.refuse = refuse

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if self.refuse:
            return f"550 5.1.1 <{address}>: Recipient address rejected"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append((envelope.mail_from, envelope.rcpt_tos, envelope.content))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server() -> Iterator[Callable[..., tuple[Controller, Inbox]]]:
    """``start(refuse=False)``: a server on a free local port, stopped after the test."""
    servers = []

    def start(refuse: bool = False) -> tuple[Controller, Inbox]:
        inbox = Inbox(refuse)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        controller = Controller(inbox, hostname="127.0.0.1", port=port)
        controller.start()
        servers.append(controller)
        return controller, inbox

    yield start
    for controller in servers:
        controller.stop()


@pytest.fixture
def mail_config(app, smtp_server):
    """The app's mail settings pointed at a local server; returns its inbox."""

    def _configure(refuse: bool = False, port: int | None = None):
        controller, inbox = smtp_server(refuse)
        app.config.update(
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=port or controller.port,
            SMTP_SECURITY="none",
            MAIL_FROM="rapporter@kumla.se",
            PUBLIC_URL="https://sd.kumla.se",
        )
        return inbox

    return _configure


def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
