"""The canonical event as the generic API accepts it (CONTRACT.md), validated with pydantic.

Provider adapters produce plain dicts of this shape, so every path into the system is checked by
the same rules.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    ValidationError,
    field_validator,
)

from servicedesk.timeutil import to_utc

EventType = Literal[
    "call.queued",
    "call.answered",
    "call.ended",
    "email.received",
    "email.replied",
    "survey.response",
]
Question = Literal["treatment", "ease", "clarity", "got_answer"]
Channel = Literal["phone", "email"]

#: The channel each event type belongs to; a survey response names its own (or none).
CHANNEL_OF_TYPE: dict[str, str | None] = {
    "call.queued": "phone",
    "call.answered": "phone",
    "call.ended": "phone",
    "email.received": "email",
    "email.replied": "email",
    "survey.response": None,
}

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)

#: The most events one request may carry.
MAX_BATCH = 1000

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class EventIn(BaseModel):
    """One event of the generic API; unknown fields are refused so typos do not pass silently."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    type: EventType
    contact_id: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    occurred_at: AwareDatetime
    queue: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = None
    agent: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = None
    caller: Annotated[str, StringConstraints(min_length=1, max_length=320)] | None = None
    direct_answer: StrictBool | None = None
    question: Question | None = None
    score: Annotated[int, Field(ge=1, le=5, strict=True)] | None = None
    #: Which channel a survey.response is about; optional (an extension of the contract).
    channel: Channel | None = None
    #: The yes/no answer to question ``got_answer`` ("did you get an answer?"), which has no
    #: score (an extension of the contract; docs/metrics.md, Surveys).
    answer: StrictBool | None = None

    @field_validator("occurred_at", mode="before")
    @classmethod
    def _rfc3339_text(cls, value: Any) -> Any:
        # pydantic would take a number as a Unix time; the contract says RFC 3339 text.
        if not isinstance(value, str):
            raise ValueError("must be an RFC 3339 date-time string with an offset")
        return value

    @field_validator("occurred_at")
    @classmethod
    def _plausible(cls, value: datetime) -> datetime:
        if not EARLIEST <= to_utc(value) <= LATEST:
            raise ValueError("must be between 1970 and 2100")
        return value

    def type_errors(self) -> list[tuple[str, str]]:
        """(field, message) for fields that do not fit the event's type."""
        errors = []
        if self.type == "survey.response":
            if self.question is None:
                errors.append(("question", "required on survey.response"))
            elif self.question == "got_answer":
                if self.answer is None:
                    errors.append(("answer", "required on question got_answer (true or false)"))
                if self.score is not None:
                    errors.append(("score", "not allowed on question got_answer (use answer)"))
            else:
                if self.score is None:
                    errors.append(("score", "required on survey.response"))
                if self.answer is not None:
                    errors.append(("answer", "only allowed on question got_answer"))
        else:
            for name in ("question", "score", "channel", "answer"):
                if getattr(self, name) is not None:
                    errors.append((name, "only allowed on survey.response"))
        if self.direct_answer is not None and self.type != "call.ended":
            errors.append(("direct_answer", "only allowed on call.ended"))
        return errors

    @property
    def event_channel(self) -> str | None:
        return CHANNEL_OF_TYPE[self.type] or self.channel

    @property
    def stored_score(self) -> int | None:
        """The score column: the grade, or for ``got_answer`` 1 for yes and 0 for no."""
        if self.question == "got_answer" and self.answer is not None:
            return 1 if self.answer else 0
        return self.score

    @property
    def occurred_at_utc(self) -> datetime:
        return to_utc(self.occurred_at)


class FieldError(BaseModel):
    """One problem with one field of one event, as the problem+json body lists it."""

    index: int | None
    field: str
    message: str


def _field_errors(exc: ValidationError, index: int | None) -> list[FieldError]:
    errors = []
    for err in exc.errors(include_url=False):
        loc = [str(p) for p in err["loc"]]
        errors.append(FieldError(index=index, field=".".join(loc) or "(event)", message=err["msg"]))
    return errors


def parse_events(payload: Any) -> tuple[list[EventIn], list[FieldError]]:
    """Validate one event or ``{"events": [...]}``; all events or none (errors for each bad one)."""
    if isinstance(payload, dict) and "events" in payload:
        extra = sorted(set(payload) - {"events"})
        if extra:
            return [], [FieldError(index=None, field=extra[0], message="unknown field")]
        items = payload["events"]
        if not isinstance(items, list):
            return [], [FieldError(index=None, field="events", message="must be a list")]
        if not items:
            return [], [FieldError(index=None, field="events", message="must not be empty")]
        if len(items) > MAX_BATCH:
            return [], [
                FieldError(index=None, field="events", message=f"at most {MAX_BATCH} events")
            ]
        indexed: list[tuple[int | None, Any]] = list(enumerate(items))
    elif isinstance(payload, dict):
        indexed = [(None, payload)]
    else:
        return [], [FieldError(index=None, field="(body)", message="must be a JSON object")]
    events: list[EventIn] = []
    errors: list[FieldError] = []
    for index, item in indexed:
        try:
            event = EventIn.model_validate(item)
        except ValidationError as exc:
            errors.extend(_field_errors(exc, index))
            continue
        problems = event.type_errors()
        errors.extend(FieldError(index=index, field=f, message=m) for f, m in problems)
        events.append(event)
    return (events, []) if not errors else ([], errors)
