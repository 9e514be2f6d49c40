"""The OpenAPI document states each event type's own fields, as the server applies them."""

from __future__ import annotations

import itertools

import pytest
from pydantic import ValidationError

from servicedesk.apimodels import EVENT_ADAPTER
from servicedesk.ingest.schemas import TYPE_FIELDS, parse_events
from servicedesk.openapi import document

VALUES = {"direct_answer": True, "question": "ease", "score": 4, "channel": "phone"}
#: SKR's yes/no filter question: ``answer`` instead of ``score`` (docs/metrics.md, Surveys).
FILTER_VALUES = {"question": "got_answer", "answer": False, "score": 4, "channel": "email"}


def test_each_event_type_has_exactly_its_own_fields_in_the_document():
    schemas = document()["components"]["schemas"]
    mapping = schemas["Event"]["discriminator"]["mapping"]
    assert set(mapping) == set(TYPE_FIELDS)
    ended = schemas["CallEndedEvent"]
    assert "question" not in ended["properties"] and "score" not in ended["properties"]
    assert ended["additionalProperties"] is False
    assert "direct_answer" in ended["properties"]
    survey = schemas["SurveyResponseEvent"]
    assert "question" in survey["required"]
    # The question decides: a score for the graded ones, an answer for "did you get an answer?"
    assert survey["if"]["properties"]["question"] == {"const": "got_answer"}
    assert survey["then"]["required"] == ["answer"] and survey["else"]["required"] == ["score"]
    assert "direct_answer" not in survey["properties"]
    assert "direct_answer" not in schemas["CallQueuedEvent"]["properties"]


@pytest.mark.parametrize("event_type", sorted(TYPE_FIELDS))
def test_the_document_and_the_server_accept_the_same_events(event_type):
    base = {
        "id": "e1",
        "type": event_type,
        "contact_id": "c1",
        "occurred_at": "2026-06-01T10:00:00+02:00",
    }
    for values in (VALUES, FILTER_VALUES):
        _same_verdicts(base, values)


def _same_verdicts(base, values):
    for n in range(len(values) + 1):
        for names in itertools.combinations(values, n):
            payload = base | {name: values[name] for name in names}
            try:
                EVENT_ADAPTER.validate_python(payload)
                documented = True
            except ValidationError:
                documented = False
            served = not parse_events(payload)[1]
            assert documented == served, payload
