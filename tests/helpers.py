"""Small helpers shared by the tests."""

from __future__ import annotations

from itertools import count
from typing import Any

_ids = count(1)


def event(
    type_: str = "call.queued",
    contact_id: str = "c1",
    at: str = "2026-06-01T10:00:00+02:00",
    **fields: Any,
) -> dict[str, Any]:
    """A valid generic event with a fresh id, overridable field by field."""
    return {
        "id": f"ev-{next(_ids)}",
        "type": type_,
        "contact_id": contact_id,
        "occurred_at": at,
        **fields,
    }


def post(client: Any, token: str, payload: Any, **headers: str) -> Any:
    return client.post(
        "/api/v1/events",
        json=payload,
        headers={"Authorization": f"Bearer {token}", **headers},
    )


def ingest(session: Any, org: Any, *events: dict[str, Any]) -> None:
    """Store and fold events as the events API would, without HTTP (the caller commits)."""
    from servicedesk.ingest.schemas import EventIn
    from servicedesk.ingest.service import RawDelivery, ingest_events
    from tests.conftest import PSEUDONYM_KEY

    parsed = [EventIn.model_validate(e) for e in events]
    ingest_events(session, org, parsed, RawDelivery("test", b"{}"), pseudonym_key=PSEUDONYM_KEY)
    session.flush()


def export_report(
    runner: Any, fmt: str, output: Any, *, org: str = "kumla", month: str = "2026-06"
) -> Any:
    """``servicedesk report export`` through the test CLI runner."""
    return runner.invoke(
        args=[
            "report",
            "export",
            "--org",
            org,
            "--month",
            month,
            "--format",
            fmt,
            "--output",
            str(output),
        ]
    )
