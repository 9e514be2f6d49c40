"""The shapes of the public HTTP API's bodies, as pydantic models: the OpenAPI document's
schemas are generated from these and from the events' own models (servicedesk/openapi.py)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from servicedesk.ingest.schemas import MAX_BATCH, FieldError, event_models

EVENT_MODELS = event_models()
#: One event: a union of the types, told apart by ``type``, each with exactly its own fields.
#: (A Union made at run time from the table of types: no static type for mypy to check.)
AnyEvent: Any = Annotated[Union[tuple(EVENT_MODELS.values())], Field(discriminator="type")]  # noqa: UP007
EVENT_ADAPTER: TypeAdapter[Any] = TypeAdapter(AnyEvent)


class Batch(BaseModel):
    """Up to MAX_BATCH events, all stored or none."""

    model_config = ConfigDict(extra="forbid")
    events: Annotated[list[AnyEvent], Field(min_length=1, max_length=MAX_BATCH)]


class Accepted(BaseModel):
    """What a stored delivery answers."""

    accepted: Annotated[int, Field(ge=0)]
    duplicates: Annotated[int, Field(ge=0)]


class Problem(BaseModel):
    """RFC 9457 problem details: every refusal and error of the API."""

    type: str
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldError] | None = None


class Health(BaseModel):
    model_config = ConfigDict(extra="allow")
    status: str


#: A report month, "2026-06": the report's field and the API's path and query parameter alike.
Month = Annotated[str, Field(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$", examples=["2026-06"])]
#: A report version: the report's field and the path parameter alike.
Version = Annotated[int, Field(ge=1, le=999_999_999)]


#: Any period (docs/metrics.md, "Periods"): a day, ISO week, month, quarter, year, the year to a
#: date or a chosen range. The pattern admits the forms; the server checks the dates themselves.
PeriodText = Annotated[
    str,
    Field(
        pattern=(
            r"^([0-9]{4}(-[0-9]{2}(-[0-9]{2})?|-W[0-9]{2}|-Q[1-4])?|ytd(:[0-9]{4}-[0-9]{2}-[0-9]{2})?"
            r"|[0-9]{4}-[0-9]{2}-[0-9]{2}\.\.[0-9]{4}-[0-9]{2}-[0-9]{2})$"
        ),
        examples=["2026-W27", "2026-Q2", "ytd", "2026-03-01..2026-04-15"],
    ),
]


def parameter_schema(kind: Any) -> dict[str, Any]:
    """The JSON Schema of a parameter type above, for the OpenAPI document's parameters."""
    schema: dict[str, Any] = TypeAdapter(kind).json_schema()
    return schema


class Report(BaseModel):
    """A frozen monthly report, as `report show --format json` prints it; `kolada` only when
    the organisation compares national figures (docs/reports.md)."""

    model_config = ConfigDict(extra="allow")
    organisation: str
    month: Month
    version: Version
    generated_at: str = Field(json_schema_extra={"format": "date-time"})
    phone: dict[str, Any]
    email: dict[str, Any]
    survey: dict[str, Any]
    queues: dict[str, dict[str, Any]]
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    kolada: list[dict[str, Any]] | None = None


class ReportLinks(BaseModel):
    model_config = ConfigDict(extra="allow")
    self: str
    month: str
    json_: str = Field(alias="json")
    csv: str
    xlsx: str


class ReportVersion(BaseModel):
    month: str
    version: Annotated[int, Field(ge=1)]
    generated_at: str = Field(json_schema_extra={"format": "date-time"})
    sha256: str
    latest: bool = Field(description="The month's newest version")
    links: ReportLinks


class ReportList(BaseModel):
    organisation: str
    reports: list[ReportVersion] = Field(
        description="Newest month first; within a month the newest version first"
    )


#: A comparison period: a month, a quarter or a year.
ComparisonPeriod = Annotated[
    str,
    Field(
        pattern=r"^[0-9]{4}(-(0[1-9]|1[0-2])|-Q[1-4])?$", examples=["2026-06", "2026-Q2", "2026"]
    ),
]


class ComparisonSource(BaseModel):
    month: Month
    version: Version
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class ComparisonPlace(BaseModel):
    """One participant's figure: its place (null when not ranked, with why)."""

    place: Annotated[int, Field(ge=1)] | None
    participant: str | None = Field(description="The name; null for an anonymous participant")
    alias: str | None = Field(description="An anonymous participant's letter ('Kommun C')")
    group: str | None
    value: float | None
    denominator: Annotated[int, Field(ge=0)] = Field(
        description="Calls offered, e-mails received or survey answers behind the figure"
    )
    months: Annotated[int, Field(ge=1)]
    sources: list[ComparisonSource]
    not_ranked: Literal["no_figure", "too_few_answers"] | None = None
    own: bool | None = None


class ComparisonFigure(BaseModel):
    figure: str = Field(description="The figure's path in the report (the figure catalogue)")
    unit: Literal["percent", "index"]
    better: Literal["higher", "lower"]
    ranked: bool
    not_ranked: Literal["too_few_participants"] | None
    participants: Annotated[int, Field(ge=0)]
    median: float | None
    lower_quartile: float | None
    upper_quartile: float | None
    own: ComparisonPlace | None
    places: list[ComparisonPlace] = Field(description="Best first")
    left_out: list[ComparisonPlace]


class Comparison(BaseModel):
    """The comparison among the organisations that share figures (docs/benchmarking.md)."""

    organisation: str
    group: str | None = Field(description="The municipality group compared within, if asked")
    period: ComparisonPeriod
    kind: Literal["month", "quarter", "year"]
    months: list[Month]
    participants: Annotated[int, Field(ge=0)]
    figures: list[ComparisonFigure]


class SharedFigureValue(BaseModel):
    value: float | None
    numerator: Annotated[int, Field(ge=0)]
    denominator: Annotated[int, Field(ge=0)]


class PublishedReport(BaseModel):
    version: Version
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    generated_at: str
    definitions_version: str


class BenchmarkData(BaseModel):
    participant: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
    name: str | None = None
    anonymous: bool = False
    group: str = ""
    country: str = ""
    month: Month | None = None
    report: PublishedReport | None = None
    figures: dict[str, SharedFigureValue] | None = None


class BenchmarkMessage(BaseModel):
    """What a member publishes to a hub: a month's shared figures, or a withdrawal."""

    type: Literal["benchmark.published", "benchmark.withdrawn"]
    timestamp: str
    data: BenchmarkData


class BenchmarkReceived(BaseModel):
    type: Literal["benchmark.published", "benchmark.withdrawn"]
    participant: str
    publication: int | None
    version: int | None
    replaces: int | None = Field(description="The version this one replaces in the comparison")


class PeriodSpan(BaseModel):
    """A period by its name, kind and first and last local dates."""

    period: str
    kind: str
    first: str = Field(json_schema_extra={"format": "date"})
    last: str = Field(json_schema_extra={"format": "date"})


class PeriodFiguresOf(PeriodSpan):
    """One period's figures: the report's sections, the phone section with ``handle_seconds``."""

    model_config = ConfigDict(extra="allow")
    phone: dict[str, Any]
    email: dict[str, Any]
    survey: dict[str, Any]
    survey_headline: dict[str, Any]


class PeriodFigures(PeriodFiguresOf):
    """Any period's figures computed now, per queue, beside the period before and a year
    before (docs/api.md, "Any period")."""

    organisation: str
    timezone: str
    definitions_version: str
    computed_at: str = Field(json_schema_extra={"format": "date-time"})
    queues: dict[str, dict[str, Any]]
    previous: PeriodFiguresOf
    year_before: PeriodFiguresOf


def component_schemas(ref: str = "#/components/schemas/{model}") -> dict[str, Any]:
    """Every schema of the document, generated; ``Event`` is the discriminated union."""
    from pydantic.json_schema import models_json_schema

    models: list[type[BaseModel]] = [
        Batch,
        Accepted,
        Problem,
        Health,
        Report,
        ReportList,
        Comparison,
        BenchmarkMessage,
        BenchmarkReceived,
        PeriodFigures,
    ]
    keys, top = models_json_schema(
        [(m, "validation") for m in models], ref_template=ref, by_alias=True
    )
    schemas: dict[str, Any] = dict(top.get("$defs", {}))
    union = EVENT_ADAPTER.json_schema(ref_template=ref)
    schemas.update(union.pop("$defs", {}))
    schemas["Event"] = union
    return schemas
