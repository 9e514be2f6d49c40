"""The column mapping: which column of a suite's call list holds what, as a small TOML file.

An administrator can write one (docs/integrations.md describes every key); the presets in
``presets/`` are such files, each naming the public document its columns come from.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import tzinfo
from functools import cache
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

#: What a row's outcome can be (the mapping lists the file's words for each); "talked" is
#: answered when the row has talk time (or an answer time), else abandoned.
OUTCOMES = ("answered", "abandoned", "transferred", "callback", "talked", "skip")
#: The fields a mapping can take from columns.
FIELDS = (
    "call_id",
    "start",
    "queue",
    "agent",
    "caller",
    "outcome",
    "wait_seconds",
    "answered_at",
    "talk_seconds",
    "end",
    "direct_answer",
)
#: The largest mapping accepted (a mapping is a few hundred bytes; this bounds a pasted one).
MAX_MAPPING_BYTES = 20_000
_TOP_KEYS = {
    "format",
    "name",
    "title",
    "source",
    "notes",
    "sheet",
    "header_row",
    "encoding",
    "delimiter",
    "columns",
    "call_id_from",
    "time",
    "outcome",
    "direct_answer",
    "queue",
    "skip",
}
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


class MappingError(ValueError):
    """A mapping that cannot be used; the message names the key."""


def normalise_header(name: str) -> str:
    """A column name compared case- and spacing-insensitively ("Call  Start" = "call start")."""
    return " ".join(str(name).split()).casefold()


def _words(values: Any, key: str) -> frozenset[str]:
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, list) or not all(isinstance(v, str | int) for v in values):
        raise MappingError(f"{key}: a list of words")
    return frozenset(str(v).strip().casefold() for v in values)


@dataclass(frozen=True)
class Mapping:
    """A validated mapping."""

    name: str
    title: str
    columns: dict[str, str]
    source: str = ""
    notes: str = ""
    sheet: str | None = None
    header_row: int = 1
    encoding: str | None = None
    delimiter: str | None = None
    call_id_from: tuple[str, ...] = ()
    zone: str = "organisation"
    formats: tuple[str, ...] = ()
    duration_unit_seconds: float = 1.0
    outcomes: dict[str, frozenset[str]] = field(default_factory=dict)
    direct_yes: frozenset[str] = frozenset()
    direct_no: frozenset[str] = frozenset()
    default_queue: str | None = None
    skip_column: str | None = None
    skip_values: frozenset[str] = frozenset()
    text: str = ""

    def timezone(self, org_timezone: str) -> tzinfo:
        return ZoneInfo(org_timezone if self.zone == "organisation" else self.zone)

    def outcome_of(self, value: str) -> str | None:
        """The outcome the file's word stands for; a listed word ending in * is a prefix."""
        word = " ".join(value.split()).casefold()
        for outcome, words in self.outcomes.items():
            if word in words:
                return outcome
        for outcome, words in self.outcomes.items():
            if any(w.endswith("*") and word.startswith(w[:-1]) for w in words):
                return outcome
        return None


def parse_mapping(text: str) -> Mapping:
    """A mapping from its TOML text, checked key by key."""
    if len(text.encode()) > MAX_MAPPING_BYTES:
        raise MappingError(f"the mapping is longer than {MAX_MAPPING_BYTES} bytes")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(f"not valid TOML: {exc}") from None
    unknown = sorted(set(raw) - _TOP_KEYS)
    if unknown:
        raise MappingError(f"{unknown[0]}: unknown key")
    if raw.get("format", 1) != 1:
        raise MappingError("format: only format 1 is known")
    name = raw.get("name", "custom")
    if not isinstance(name, str) or not _NAME.match(name):
        raise MappingError("name: lower-case letters, digits and dashes")
    columns = raw.get("columns")
    if not isinstance(columns, dict) or not columns:
        raise MappingError("columns: a table naming the file's column for each field")
    for key, value in columns.items():
        if key not in FIELDS:
            raise MappingError(f"columns.{key}: unknown field (known: {', '.join(FIELDS)})")
        if not isinstance(value, str) or not value.strip() or len(value) > 200:
            raise MappingError(f"columns.{key}: the column's name in the file's header row")
    if "start" not in columns:
        raise MappingError("columns.start: required (the call's start date and time)")
    call_id_from = raw.get("call_id_from", [])
    if not isinstance(call_id_from, list) or not all(
        isinstance(c, str) and c.strip() for c in call_id_from
    ):
        raise MappingError("call_id_from: a list of column names")
    if "call_id" not in columns and not call_id_from:
        raise MappingError(
            "columns.call_id or call_id_from: name the call id column, or the columns that "
            "together identify a call (e.g. its start, caller and queue)"
        )
    time = raw.get("time", {})
    if not isinstance(time, dict) or set(time) - {"zone", "formats", "duration_unit"}:
        raise MappingError("time: a table of zone, formats and duration_unit")
    zone = time.get("zone", "organisation")
    if zone != "organisation":
        try:
            ZoneInfo(str(zone))
        except (ZoneInfoNotFoundError, ValueError):
            raise MappingError(f"time.zone: {zone!r} is not a time zone (e.g. UTC)") from None
    formats = time.get("formats", [])
    if isinstance(formats, str):
        formats = [formats]
    if not isinstance(formats, list) or not all(isinstance(f, str) and "%" in f for f in formats):
        raise MappingError('time.formats: strptime formats, e.g. "%d/%m/%Y %H:%M"')
    unit = time.get("duration_unit", "seconds")
    units = {"seconds": 1.0, "minutes": 60.0}
    if unit not in units:
        raise MappingError("time.duration_unit: seconds or minutes")
    outcome = raw.get("outcome", {})
    if not isinstance(outcome, dict) or set(outcome) - set(OUTCOMES):
        raise MappingError(f"outcome: a table with the keys {', '.join(OUTCOMES)}")
    outcomes = {key: _words(value, f"outcome.{key}") for key, value in outcome.items()}
    seen: dict[str, str] = {}
    for key, words in outcomes.items():
        for word in words:
            if word in seen:
                raise MappingError(f"outcome.{key}: {word!r} is listed under {seen[word]} too")
            seen[word] = key
    if "outcome" in columns and not outcomes:
        raise MappingError("outcome: list the file's words for answered, abandoned, ...")
    direct = raw.get("direct_answer", {})
    if not isinstance(direct, dict) or set(direct) - {"yes", "no"}:
        raise MappingError("direct_answer: a table with the keys yes and no")
    direct_yes = _words(direct.get("yes", ["1", "yes", "ja", "true"]), "direct_answer.yes")
    no_words = ["0", "2", "no", "nej", "nei", "false"]
    direct_no = _words(direct.get("no", no_words), "direct_answer.no")
    if direct_yes & direct_no:
        raise MappingError("direct_answer: a word cannot be both yes and no")
    queue = raw.get("queue", {})
    if not isinstance(queue, dict) or set(queue) - {"default"}:
        raise MappingError("queue: a table with the key default")
    default_queue = queue.get("default")
    if default_queue is not None and (
        not isinstance(default_queue, str) or not 0 < len(default_queue.strip()) <= 128
    ):
        raise MappingError("queue.default: a queue name of 1-128 characters")
    skip = raw.get("skip", {})
    if not isinstance(skip, dict) or set(skip) - {"column", "values"}:
        raise MappingError("skip: a table with the keys column and values")
    if bool(skip.get("column")) != bool(skip.get("values")):
        raise MappingError("skip: give both column and values")
    header_row = raw.get("header_row", 1)
    if not isinstance(header_row, int) or not 1 <= header_row <= 1000:
        raise MappingError("header_row: the row number of the header, 1-1000")
    delimiter = raw.get("delimiter")
    if delimiter is not None and (not isinstance(delimiter, str) or len(delimiter) != 1):
        raise MappingError("delimiter: one character")
    encoding = raw.get("encoding")
    if encoding is not None:
        import codecs

        try:
            codecs.lookup(str(encoding))
        except LookupError:
            raise MappingError(f"encoding: {encoding!r} is not an encoding") from None
    for key in ("title", "source", "notes", "sheet"):
        if key in raw and not isinstance(raw[key], str):
            raise MappingError(f"{key}: text")
    return Mapping(
        name=name,
        title=raw.get("title", name),
        source=raw.get("source", ""),
        notes=raw.get("notes", ""),
        columns={k: v.strip() for k, v in columns.items()},
        sheet=raw.get("sheet"),
        header_row=header_row,
        encoding=encoding,
        delimiter=delimiter,
        call_id_from=tuple(c.strip() for c in call_id_from),
        zone=zone,
        formats=tuple(formats),
        duration_unit_seconds=units[unit],
        outcomes=outcomes,
        direct_yes=direct_yes,
        direct_no=direct_no,
        default_queue=default_queue.strip() if default_queue else None,
        skip_column=skip.get("column"),
        skip_values=_words(skip.get("values", []), "skip.values"),
        text=text,
    )


@cache
def presets() -> dict[str, Mapping]:
    """The shipped presets by name."""
    found: dict[str, Mapping] = {}
    for entry in sorted(resources.files("servicedesk.callimport.presets").iterdir(), key=str):
        if entry.name.endswith(".toml"):
            mapping = parse_mapping(entry.read_text(encoding="utf-8"))
            found[mapping.name] = mapping
    return found


def load_mapping(name_or_text: str) -> Mapping:
    """A preset by its name, else the text of a mapping."""
    if name_or_text in presets():
        return presets()[name_or_text]
    return parse_mapping(name_or_text)
