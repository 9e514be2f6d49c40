"""Provider sample payloads kept beside the tests (each file names the source it is from)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from servicedesk.ingest.schemas import EventIn

FIXTURES = Path(__file__).parent / "fixtures"


def fixture_text(name: str) -> str:
    """A fixture without its leading # comment lines."""
    for folder in ("payloads", "integrations", "flows"):
        path = FIXTURES / folder / name
        if path.exists():
            lines = path.read_text().splitlines()
            return "\n".join(line for line in lines if not line.startswith("#")).strip()
    raise FileNotFoundError(name)


def fixture_bytes(name: str) -> bytes:
    return fixture_text(name).encode()


def key_value_form(name: str) -> dict[str, str]:
    """A fixture written as key=value lines (the Twilio and Mailgun samples)."""
    fields = {}
    for line in fixture_text(name).splitlines():
        if "=" in line:
            key, _, value = line.partition("=")
            fields[key] = value
    return fields


def form_body(fields: dict[str, str]) -> bytes:
    return urlencode(fields).encode()


def assert_canonical(events: list[dict[str, Any]]) -> list[EventIn]:
    """Every event passes the generic API's own validation, type rules included."""
    parsed = []
    for event in events:
        model = EventIn.model_validate(event)
        assert model.type_errors() == [], (event, model.type_errors())
        parsed.append(model)
    return parsed
