"""E-mail flows, Postmark and Mailgun: threads as the providers deliver them (plus-addresses,
Message-ID, References only, subject only, no Message-ID), against generic events."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from typing import Any

import pytest

from tests.flows.conftest import flow_ids
from tests.flows.harness import (
    Delivery,
    Flow,
    Provider,
    at,
    fixture_form,
    fixture_json,
    generic_event,
    mailgun_request,
    postmark_request,
    source_of,
)

POSTMARK_EXAMPLE = fixture_json("postmark-inbound.json")
MAILGUN_EXAMPLE = fixture_form("mailgun-forward.form.txt")
POSTMARK_AUTH = "servicedesk:" + "p" * 24
MAILGUN_KEY = "key-mailgun-0123456789abcdef"
DESK = "kontakt@kumla.se"
OPTIONS = {"desk_addresses": [DESK], "desk_domains": ["kumla.se"], "queue": "Kontakt"}
ANNA, BO = "anna.andersson@example.com", "bo.berg@example.net"


@dataclass
class Mail:
    """One message as it reaches the provider's inbound address."""

    seconds: float
    sender: str
    to: str
    subject: str
    message_id: str | None
    in_reply_to: str | None = None
    references: str | None = None
    mailbox_hash: str = ""
    reply_to: str = ""
    extra_headers: list[tuple[str, str]] = field(default_factory=list)

    @property
    def moment(self) -> datetime:
        return at(self.seconds)

    def headers(self) -> list[tuple[str, str]]:
        found = [("Date", format_datetime(self.moment)), ("Subject", self.subject)]
        for name, value in (
            ("Message-ID", self.message_id),
            ("In-Reply-To", self.in_reply_to),
            ("References", self.references),
        ):
            if value:
                found.append((name, value))
        return found + self.extra_headers


def postmark_body(mail: Mail) -> dict[str, Any]:
    body = copy.deepcopy(POSTMARK_EXAMPLE)
    name = mail.sender.split("@")[0]
    body.update(
        From=mail.sender,
        FromName=name,
        FromFull={"Email": mail.sender, "Name": name, "MailboxHash": ""},
        To=mail.to,
        ToFull=[{"Email": mail.to, "Name": "", "MailboxHash": mail.mailbox_hash}],
        OriginalRecipient=mail.to,
        Subject=mail.subject,
        Date=format_datetime(mail.moment),
        MailboxHash=mail.mailbox_hash,
        ReplyTo=mail.reply_to,
        MessageID=f"{int(mail.seconds):08d}-66eb-11e1-8e72-a8904824019b",
        Headers=[
            {"Name": n, "Value": v} for n, v in mail.headers() if n not in ("Date", "Subject")
        ],
    )
    return body


def mailgun_body(mail: Mail) -> dict[str, str]:
    headers = [["From", mail.sender], ["To", mail.to], *[[n, v] for n, v in mail.headers()]]
    if mail.reply_to:
        headers.append(["Reply-To", mail.reply_to])
    return {
        **MAILGUN_EXAMPLE,
        "recipient": mail.to,
        "sender": mail.sender,
        "from": mail.sender,
        "subject": mail.subject,
        "message-headers": json.dumps(headers),
    }


POSTMARK = Provider(
    "postmark", POSTMARK_AUTH, lambda url, d: postmark_request(POSTMARK_AUTH, d.body)
)
MAILGUN = Provider(
    "mailgun", MAILGUN_KEY, lambda url, d: mailgun_request(MAILGUN_KEY, d.arrives, d.body)
)
RENDER = {"postmark": postmark_body, "mailgun": mailgun_body}


def received(seconds: float, contact: str, caller: str) -> dict[str, Any]:
    return generic_event("email.received", contact, at(seconds), queue="Kontakt", caller=caller)


def replied(seconds: float, contact: str) -> dict[str, Any]:
    return generic_event("email.replied", contact, at(seconds), queue="Kontakt")


HOUR = 3600
#: (name, the mails in arrival order, the generic events, what the figures must be)
THREADS: list[tuple[str, list[Mail], list[dict[str, Any]], dict[str, Any]]] = [
    (
        # Postmark's own example writes to "+SampleHash": the plus part is just where the
        # citizen wrote, not a thread the desk started. Two citizens, two contacts.
        "two citizens on one plus-address",
        [
            Mail(0, ANNA, "kontakt+SampleHash@kumla.se", "Bygglov", "<a1@example.com>",
                 mailbox_hash="SampleHash"),
            Mail(60, BO, "kontakt+SampleHash@kumla.se", "Parkering", "<b1@example.net>",
                 mailbox_hash="SampleHash"),
            Mail(2 * HOUR, DESK, ANNA, "Re: Bygglov", "<r1@kumla.se>", "<a1@example.com>",
                 "<a1@example.com>"),
        ],
        [received(0, "a", ANNA), received(60, "b", BO), replied(2 * HOUR, "a")],
        {"email.received": 2, "email.answered": 1},
    ),
    (
        "reply threaded by Message-ID (In-Reply-To)",
        [
            Mail(0, ANNA, DESK, "Bygglov", "<a1@example.com>"),
            Mail(3 * HOUR, DESK, ANNA, "Svar: Bygglov", "<r1@kumla.se>", "<a1@example.com>"),
        ],
        [received(0, "a", ANNA), replied(3 * HOUR, "a")],
        {"email.received": 1, "email.answered": 1, "email.within_1_working_day": 100.0},
    ),
    (
        "reply threaded by References only",
        [
            Mail(0, ANNA, DESK, "Bygglov", "<a1@example.com>"),
            Mail(26 * HOUR, DESK, ANNA, "SV: Bygglov", "<r1@kumla.se>",
                 references="<a1@example.com>"),
        ],
        [received(0, "a", ANNA), replied(26 * HOUR, "a")],
        {"email.answered": 1, "email.within_1_working_day": 0.0},
    ),
    (
        "reply threaded by subject only",
        [
            Mail(0, ANNA, DESK, "Bygglov för garage", "<a1@example.com>"),
            Mail(HOUR, DESK, ANNA, "Re: Bygglov för garage", "<r1@kumla.se>"),
        ],
        [received(0, "a", ANNA), replied(HOUR, "a")],
        {"email.received": 1, "email.answered": 1},
    ),
    (
        # The citizen's program sent no Message-ID; the desk's mailbox threads its reply on an id
        # its own server added, which the provider never saw: the subject ties them.
        "a message with no Message-ID",
        [
            Mail(0, ANNA, DESK, "Parkeringstillstånd", None),
            Mail(HOUR, DESK, ANNA, "Re: Parkeringstillstånd", "<r1@kumla.se>",
                 "<added-by-relay@mx.kumla.se>", "<added-by-relay@mx.kumla.se>"),
        ],
        [received(0, "a", ANNA), replied(HOUR, "a")],
        {"email.received": 1, "email.answered": 1},
    ),
    (
        # The desk's reply gives a Reply-To plus token; the citizen writes anew to it later.
        "a new message to the desk's own plus token joins the thread",
        [
            Mail(0, ANNA, DESK, "Bygglov", "<a1@example.com>"),
            Mail(HOUR, DESK, ANNA, "Re: Bygglov", "<r1@kumla.se>", "<a1@example.com>",
                 reply_to="kontakt+c4711@kumla.se"),
            Mail(2 * HOUR, ANNA, "kontakt+c4711@kumla.se", "Ny fråga", "<a2@example.com>",
                 mailbox_hash="c4711"),
        ],
        [received(0, "a", ANNA), replied(HOUR, "a"), received(2 * HOUR, "a", ANNA)],
        {"email.received": 1, "email.answered": 1},
    ),
]  # fmt: skip


def flows(provider: str) -> list[Flow]:
    return [
        Flow(
            name,
            [Delivery(m.moment, "", RENDER[provider](m)) for m in mails],
            generic,
            expect=expect,
            options=OPTIONS,
        )
        for name, mails, generic, expect in THREADS
    ]


def test_the_fixtures_name_their_sources():
    assert "postmarkapp.com" in source_of("postmark-inbound.json")
    assert "documentation.mailgun.com" in source_of("mailgun-forward.form.txt")


@pytest.mark.parametrize("flow", flows("postmark"), ids=flow_ids(flows("postmark")))
def test_postmark_flow_gives_the_figures_of_generic_events(flow, run_flow):
    run_flow(flow, POSTMARK)


@pytest.mark.parametrize("flow", flows("mailgun"), ids=flow_ids(flows("mailgun")))
def test_mailgun_flow_gives_the_figures_of_generic_events(flow, run_flow):
    run_flow(flow, MAILGUN)
