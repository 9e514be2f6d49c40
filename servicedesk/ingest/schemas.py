"""The canonical event as the generic API accepts it (docs/api.md), validated with pydantic.

Provider adapters produce plain dicts of this shape, so every path into the system is checked by
the same rules.
"""

from __future__ import annotations

from datetime import UTC, datetime
from types import UnionType
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
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

#: The fields only some event types may carry, by type; every type has the common ones
#: (COMMON_FIELDS). The published OpenAPI document is made from this table (event_models).
TYPE_FIELDS: dict[str, tuple[str, ...]] = {
    "call.queued": (),
    "call.answered": (),
    "call.ended": ("direct_answer",),
    "email.received": (),
    "email.replied": (),
    "survey.response": ("question", "score", "channel", "answer"),
}
#: Of those, the ones a type must carry.
#: (``score`` is required too, except on the yes/no question ``got_answer``, which needs
#: ``answer`` instead: see ``type_errors``.)
REQUIRED_ON: dict[str, tuple[str, ...]] = {"survey.response": ("question",)}
TYPED_FIELDS = ("question", "score", "channel", "direct_answer", "answer")
COMMON_FIELDS = ("id", "contact_id", "occurred_at", "queue", "agent", "caller")

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)

#: The most events one request may carry.
MAX_BATCH = 1000

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]

#: Text no database here can store: PostgreSQL takes no NUL in text. (A lone surrogate, which
#: no engine can encode as UTF-8, pydantic refuses itself as not a valid string.)
NO_NUL = r"^[^\x00]*$"
#: The messages a sender reads for those, instead of pydantic's (by error type).
TEXT_MESSAGES = {
    "string_pattern_mismatch": "must not contain NUL (U+0000)",
    "string_unicode": "must be valid Unicode text (no lone surrogates)",
}
PLAUSIBLE_MESSAGE = "must be between 1970 and 2100"
#: pydantic's error types for a value outside ``ge``/``le``.
_BOUNDS = ("greater_than_equal", "less_than_equal")


# Text of so many characters at most that a database can store, checked by pydantic's own code
# (a Python validator on each of five fields was half of a batch's validation, issue 17).
Text128 = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=NO_NUL)]
Text256 = Annotated[str, StringConstraints(min_length=1, max_length=256, pattern=NO_NUL)]
Text320 = Annotated[str, StringConstraints(min_length=1, max_length=320, pattern=NO_NUL)]


def survey_field_errors(
    question: str | None, score: int | None, answer: bool | None
) -> list[tuple[str, str]]:
    """SKR's filter question is answered yes or no (``answer``); every other one is scored."""
    errors: list[tuple[str, str]] = []
    if question is None:
        return errors
    if question == "got_answer":
        if answer is None:
            errors.append(("answer", "required on question got_answer (true or false)"))
        if score is not None:
            errors.append(("score", "not allowed on question got_answer (use answer)"))
    else:
        if score is None:
            errors.append(("score", "required on survey.response"))
        if answer is not None:
            errors.append(("answer", "only allowed on question got_answer"))
    return errors


#: The same rule as a JSON Schema condition, for the published document.
SURVEY_RULES_SCHEMA: dict[str, Any] = {
    "if": {"properties": {"question": {"const": "got_answer"}}, "required": ["question"]},
    "then": {"required": ["answer"], "not": {"required": ["score"]}},
    "else": {"required": ["score"], "not": {"required": ["answer"]}},
}


class _SurveyRules(BaseModel):
    """The published survey.response model's base: the question decides score or answer."""

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra=SURVEY_RULES_SCHEMA
    )

    @model_validator(mode="after")
    def _question_rules(self) -> _SurveyRules:
        values = self.__dict__
        errors = survey_field_errors(
            values.get("question"), values.get("score"), values.get("answer")
        )
        if errors:
            raise ValueError(f"{errors[0][0]}: {errors[0][1]}")
        return self


class EventIn(BaseModel):
    """One event of the generic API; unknown fields are refused so typos do not pass silently."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: Text128
    type: EventType
    contact_id: Text256
    #: Plausible instants only (aware datetimes compare as instants, whatever their offsets).
    occurred_at: Annotated[AwareDatetime, Field(ge=EARLIEST, le=LATEST)]
    queue: Text128 | None = None
    agent: Text128 | None = None
    caller: Text320 | None = None
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

    def type_errors(self) -> list[tuple[str, str]]:
        """(field, message) for fields that do not fit the event's type (TYPE_FIELDS)."""
        errors = []
        own = TYPE_FIELDS[self.type]
        for name in REQUIRED_ON.get(self.type, ()):
            if getattr(self, name) is None:
                errors.append((name, f"required on {self.type}"))
        for name in TYPED_FIELDS:
            if name not in own and getattr(self, name) is not None:
                allowed = " and ".join(t for t, names in TYPE_FIELDS.items() if name in names)
                errors.append((name, f"only allowed on {allowed}"))
        if self.type == "survey.response":
            errors.extend(survey_field_errors(self.question, self.score, self.answer))
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
        errors.append(
            FieldError(index=index, field=".".join(loc) or "(event)", message=_message(err))
        )
    return errors


def _message(err: Any) -> str:
    """pydantic's message, or ours for the rules the text and the instant fields add."""
    if err["type"] in TEXT_MESSAGES:
        return TEXT_MESSAGES[err["type"]]
    if err["loc"] and err["loc"][-1] == "occurred_at" and err["type"] in _BOUNDS:
        return PLAUSIBLE_MESSAGE
    return str(err["msg"])


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
    if len(indexed) > 1:
        try:
            # A valid batch in one call of the validator (the usual case); any fault, and the
            # loop below names every problem of every event.
            batch = _EVENT_LIST.validate_python([item for _, item in indexed])
        except ValidationError:
            pass
        else:
            faults = [
                FieldError(index=index, field=f, message=m)
                for index, event in enumerate(batch)
                for f, m in event.type_errors()
            ]
            return (batch, []) if not faults else ([], faults)
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


_EVENT_LIST = TypeAdapter(list[EventIn])


def _model_name(event_type: str) -> str:
    return "".join(part.capitalize() for part in event_type.replace(".", "_").split("_")) + "Event"


def event_models() -> dict[str, type[BaseModel]]:
    """One model per event type with exactly its own fields, made from EventIn's definitions
    and TYPE_FIELDS: what the OpenAPI document publishes (a union discriminated by ``type``)."""
    from pydantic import create_model

    models: dict[str, type[BaseModel]] = {}
    for event_type, own in TYPE_FIELDS.items():
        fields: dict[str, Any] = {"type": (Literal[event_type], ...)}
        for name in (*COMMON_FIELDS, *own):
            info = EventIn.model_fields[name]
            if name in REQUIRED_ON.get(event_type, ()):
                required = Field(..., description=info.description)
                required.metadata = list(info.metadata)
                fields[name] = (_non_null(info.annotation), required)
            else:
                fields[name] = (info.annotation, info)
        if event_type == "survey.response":
            models[event_type] = create_model(
                _model_name(event_type),
                __base__=_SurveyRules,
                __doc__=f"A {event_type} event: the common fields and its own.",
                **fields,
            )
            continue
        models[event_type] = create_model(
            _model_name(event_type),
            __config__=ConfigDict(extra="forbid", str_strip_whitespace=True),
            __doc__=f"A {event_type} event: the common fields and its own.",
            **fields,
        )
    return models


def _non_null(annotation: Any) -> Any:
    from typing import Union, get_args, get_origin

    if get_origin(annotation) in (Union, UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else annotation
    return annotation
