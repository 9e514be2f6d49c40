"""Whole provider flows through the real webhook endpoints, compared with generic events.

A flow is a table: the deliveries a provider makes for some calls or e-mails (each with the
moment it arrives, since several providers' callbacks carry no time of their own), and the
generic events (``POST /api/v1/events``) that describe the same contacts. Both go into their own
organisation; the month's figures from the project's metrics code, and the contacts' rows,
must be equal. Adding a flow is adding a row to a provider's table (``test_<provider>.py``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import sqlalchemy as sa
import time_machine
from sqlmodel import Session

from servicedesk.contacts.models import Contact
from servicedesk.metrics.periods import month_range
from servicedesk.metrics.queries import figures_by
from servicedesk.orgs.models import Organisation, Queue
from servicedesk.webhooks.operations import add_integration
from tests.helpers import post

FIXTURES = Path(__file__).parent.parent / "fixtures" / "flows"
PUBLIC = "https://desk.example.se"
#: A Tuesday morning in February (Stockholm is UTC+1): flows start here unless they say otherwise.
T0 = datetime(2026, 2, 10, 8, 0, tzinfo=UTC)
#: When a late wrap-up arrives: November, nine months after its call.
LATE = datetime(2026, 11, 3, 14, 30, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def iso(moment: datetime) -> str:
    return moment.isoformat()


def source_of(name: str) -> str:
    """A fixture's named source (its leading ``# Source:`` line); every fixture must have one."""
    first = (FIXTURES / name).read_text().splitlines()[0]
    assert first.startswith("# Source:"), f"{name} does not name its source"
    return first


def fixture_json(name: str) -> Any:
    lines = (FIXTURES / name).read_text().splitlines()
    return json.loads("\n".join(line for line in lines if not line.startswith("#")))


def fixture_form(name: str) -> dict[str, str]:
    """A form fixture written as ``key=value`` lines (values as they are, not url-encoded)."""
    fields = {}
    for line in (FIXTURES / name).read_text().splitlines():
        if line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        fields[key] = value
    return fields


@dataclass
class Delivery:
    """One request a provider makes: when it arrives, to which endpoint, with what."""

    arrives: datetime
    endpoint: str  # below the integration's path ("" for one-endpoint providers), with a query
    body: Any  # a dict of form fields or a JSON document, by provider


@dataclass
class Flow:
    """A provider flow and the generic events that say the same."""

    name: str
    deliveries: list[Delivery]
    generic: list[dict[str, Any]]
    #: Figures the flow must give (checked beside the equality), e.g. {"phone.offered": 1,
    #: "Bygglov.phone.offered": 1}.
    expect: dict[str, Any] = field(default_factory=dict)
    #: Integration options for this flow (beside the provider's defaults).
    options: dict[str, Any] = field(default_factory=dict)
    #: The month the figures are read for (the flow's calls start in it).
    month: date = T0.date()

    def __str__(self) -> str:  # pytest ids
        return self.name


def generic_event(kind: str, contact: str, moment: datetime, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "contact_id": contact, "occurred_at": iso(moment), **fields}


# --- what each provider does to a request ------------------------------------------------------


def twilio_request(secret: str, url: str, body: Mapping[str, str]) -> tuple[bytes, dict[str, str]]:
    """Form-encoded and signed with twilio-python's own RequestValidator."""
    from twilio.request_validator import RequestValidator

    signature = RequestValidator(secret).compute_signature(url, dict(body))
    return urlencode(body).encode(), {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": signature,
    }


def telnyx_request(key: Any, moment: datetime, body: Any) -> tuple[bytes, dict[str, str]]:
    """JSON signed with Ed25519 over ``{timestamp}|{body}`` (the telnyx-* headers)."""
    raw = json.dumps(body).encode()
    stamp = str(int(moment.timestamp()))
    signature = key.sign(stamp.encode() + b"|" + raw).signature
    return raw, {
        "Content-Type": "application/json",
        "telnyx-signature-ed25519": base64.b64encode(signature).decode(),
        "telnyx-timestamp": stamp,
    }


def mailgun_request(key: str, moment: datetime, body: Mapping[str, str]) -> tuple[bytes, dict]:
    """Form-encoded with Mailgun's timestamp, single-use token and HMAC signature."""
    timestamp = str(int(moment.timestamp()))
    token = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:50]
    signature = hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    fields = {**body, "timestamp": timestamp, "token": token, "signature": signature}
    return urlencode(fields).encode(), {"Content-Type": "application/x-www-form-urlencoded"}


def postmark_request(credentials: str, body: Any) -> tuple[bytes, dict[str, str]]:
    """JSON with the webhook URL's user:password as basic auth, as Postmark sends it."""
    auth = base64.b64encode(credentials.encode()).decode()
    return json.dumps(body).encode(), {
        "Content-Type": "application/json",
        "Authorization": f"Basic {auth}",
    }


def form_request(body: Mapping[str, Any]) -> tuple[bytes, dict[str, str]]:
    fields = {k: json.dumps(v) if isinstance(v, list | dict) else str(v) for k, v in body.items()}
    return urlencode(fields).encode(), {"Content-Type": "application/x-www-form-urlencoded"}


# --- running a flow ---------------------------------------------------------------------------


@dataclass
class Provider:
    """How to connect a provider and turn a Delivery into a signed request."""

    name: str
    secret: str | None
    sign: Callable[[str, Delivery], tuple[bytes, dict[str, str]]]
    options: dict[str, Any] = field(default_factory=dict)


def connect(db: Session, app: Any, org: Organisation, provider: Provider, options: dict) -> str:
    _, token, _ = add_integration(
        db,
        org,
        provider.name,
        secret=provider.secret,
        options={**provider.options, **options},
        secret_key=app.config["SECRET_KEY"],
    )
    db.commit()
    return f"/hooks/{provider.name}/{token}"


def deliver(client: Any, path: str, provider: Provider, delivery: Delivery) -> Any:
    url_path = path + ("/" + delivery.endpoint if delivery.endpoint else "")
    # As the administrator writes it at the provider: percent-encoded (queue=V%C3%A4xel).
    url_path = quote(url_path.replace("/?", "?"), safe="/?&=%:+,")
    with time_machine.travel(delivery.arrives, tick=False):
        body, headers = provider.sign(PUBLIC + url_path, delivery)
        response = client.post(url_path, data=body, headers=headers)
    assert response.status_code < 300, (delivery, response.get_data(as_text=True))
    return response


def post_generic(client: Any, token: str, events: list[dict[str, Any]]) -> None:
    if not events:
        return
    numbered = [{"id": f"generic-{n}", **e} for n, e in enumerate(events)]
    response = post(client, token, {"events": numbered})
    assert response.status_code == 202, response.get_json()


def month_figures(db: Session, org: Organisation, month: date) -> dict[str, Any]:
    """The month's figures as the reports compute them, per queue by queue name."""
    db.expire_all()
    first, last = month_range(month)
    result = figures_by(db, org, first, last, bys=(None, "queue"))
    names = dict(db.execute(sa.select(Queue.id, Queue.name)).all())
    by_queue = {names.get(k, k): v for k, v in result["queue"].items()}
    return {"all": result[None], "queues": by_queue}


def contact_rows(db: Session, org: Organisation) -> list[dict[str, Any]]:
    """The organisation's contacts without the ids that differ between paths, in time order."""
    names = dict(db.execute(sa.select(Queue.id, Queue.name)).all())
    rows = []
    for contact in db.scalars(sa.select(Contact).where(Contact.organisation_id == org.id)):
        row = contact.model_dump(
            exclude={"id", "organisation_id", "updated_at", "event_count", "contact_id"}
        )
        row["queue"] = names.get(row.pop("queue_id"))
        rows.append(row)
    return sorted(rows, key=lambda r: (r["channel"], r["started_at"], str(r["queue"])))


def lookup(figures: dict[str, Any], dotted: str) -> Any:
    """``phone.offered`` in the whole organisation, ``Bygglov.phone.offered`` in a queue."""
    head, _, rest = dotted.partition(".")
    if head in ("phone", "email", "survey"):
        node: Any = figures["all"]
        parts = dotted.split(".")
    else:
        node = figures["queues"].get(head, {})
        parts = rest.split(".")
    for part in parts:
        node = node.get(part) if isinstance(node, dict) else None
    return node


def check_flow(
    flow: Flow,
    provider: Provider,
    *,
    client: Any,
    db: Session,
    app: Any,
    make_org: Callable[..., Organisation],
    make_token: Callable[..., Any],
) -> None:
    """Run the flow both ways and compare; then check what the flow must give."""
    app.config["PUBLIC_URL"] = PUBLIC
    via_provider, via_api = make_org(), make_org()
    path = connect(db, app, via_provider, provider, flow.options)
    for delivery in flow.deliveries:
        deliver(client, path, provider, delivery)
    post_generic(client, make_token(via_api), flow.generic)
    got, want = month_figures(db, via_provider, flow.month), month_figures(db, via_api, flow.month)
    assert got == want
    assert contact_rows(db, via_provider) == contact_rows(db, via_api)
    for name, value in flow.expect.items():
        assert lookup(got, name) == value, (name, lookup(got, name), value)
