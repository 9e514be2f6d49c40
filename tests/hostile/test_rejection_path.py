"""One rejection path: any layer raises DeliveryRefused; one handler keeps it and answers."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint

from integrations.postmark import PostmarkAdapter
from servicedesk.ingest.models import Delivery, Event
from servicedesk.ingest.refusals import DeliveryRefused, begin_delivery, delivery_sender
from tests.test_hooks import POSTMARK, postmark_post


def _rejected(db) -> list[Delivery]:
    return list(
        db.scalars(sa.select(Delivery).where(Delivery.status == "rejected").order_by(Delivery.id))
    )


def test_a_refusal_raised_anywhere_is_kept_once_and_answered(app, db, org):
    """A refusal raised deep in a request (after a write was begun) is kept in a transaction
    of its own: the begun write is rolled back, the delivery row is kept, the problem answered."""
    bp = Blueprint("deep", __name__)

    @bp.post("/api/v1/deep")
    def deep():
        begin_delivery("api")
        delivery_sender(org.id, authenticated=True)
        from servicedesk.db import get_session
        from tests.helpers import event, ingest

        ingest(get_session(), org, event())  # flushed, not committed
        raise DeliveryRefused(
            422, "Invalid events", "deep down", errors=[{"index": 0, "field": "x", "message": "m"}]
        )

    app.register_blueprint(bp)
    response = app.test_client().post("/api/v1/deep", data=b"{}")
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["errors"] == [{"index": 0, "field": "x", "message": "m"}]
    assert db.scalar(sa.select(sa.func.count()).select_from(Event)) == 0
    (kept,) = _rejected(db)
    assert (kept.organisation_id, kept.http_status, kept.source) == (org.id, 422, "api")
    assert "deep down" in kept.reason


def test_a_provider_can_answer_final_refusals_with_its_own_status(
    client, db, org, connect, monkeypatch
):
    """Postmark retries anything but 403: the hook layer reads the adapter's refusal_status for
    refusals no retry can mend, and keeps the status of those a retry may mend."""
    monkeypatch.setattr(PostmarkAdapter, "refusal_status", 403, raising=False)
    path = connect(org, "postmark", POSTMARK, desk_addresses=["kontakt@kumla.se"])
    unreadable = postmark_post(client, path, b"{not json")
    assert unreadable.status_code == 403
    assert unreadable.mimetype == "application/problem+json"
    forged = postmark_post(client, path, b"{}", credentials="postmark:" + "x" * 24)
    assert forged.status_code == 401
    assert [d.http_status for d in _rejected(db)] == [403, 401]
