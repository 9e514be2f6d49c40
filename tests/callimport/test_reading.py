"""Reading cells, files and mappings, without a database."""

from __future__ import annotations

import codecs
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from servicedesk.callimport.mapping import MappingError, parse_mapping, presets
from servicedesk.callimport.readers import FileProblem, read_table
from servicedesk.callimport.values import ValueProblem, parse_datetime, parse_seconds

STOCKHOLM = ZoneInfo("Europe/Stockholm")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2026-03-05 08:14", datetime(2026, 3, 5, 7, 14, tzinfo=UTC)),
        ("2026-03-05 08:14:07", datetime(2026, 3, 5, 7, 14, 7, tzinfo=UTC)),
        ("2026-03-05T08:14:07+02:00", datetime(2026, 3, 5, 6, 14, 7, tzinfo=UTC)),
        ("2026-03-05T07:14:07Z", datetime(2026, 3, 5, 7, 14, 7, tzinfo=UTC)),
        ("2026-03-05 08:14:07,250", datetime(2026, 3, 5, 7, 14, 7, 250000, tzinfo=UTC)),
        ("5.3.2026 08:14", datetime(2026, 3, 5, 7, 14, tzinfo=UTC)),
        ("05.03.2026 08.14.07", datetime(2026, 3, 5, 7, 14, 7, tzinfo=UTC)),
        ("2026-07-01 12:00", datetime(2026, 7, 1, 10, 0, tzinfo=UTC)),  # summer time
    ],
)
def test_nordic_dates(text, expected):
    assert parse_datetime(text, STOCKHOLM) == expected


def test_ambiguous_and_invalid_dates_are_explained():
    with pytest.raises(ValueProblem, match="day/month or month/day"):
        parse_datetime("05/03/2026 08:14", STOCKHOLM)
    assert parse_datetime("05/03/2026 08:14", STOCKHOLM, ("%d/%m/%Y %H:%M",)).month == 3
    with pytest.raises(ValueProblem, match="not a valid date"):
        parse_datetime("2026-02-30 08:00", STOCKHOLM)
    with pytest.raises(ValueProblem, match="not a date"):
        parse_datetime("igår", STOCKHOLM)


@pytest.mark.parametrize(
    "value, seconds",
    [("23", 23), ("23,5", 23.5), ("1 234", 1234), ("0:01:05", 65), ("1:05", 65), (12, 12),
     (time(0, 1, 5), 65), (timedelta(minutes=2), 120), ("1\u00a0000,5", 1000.5)],
)  # fmt: skip
def test_durations(value, seconds):
    assert parse_seconds(value) == seconds


@pytest.mark.parametrize("value", ["abc", "-5", "1:75", "12.5.3", "9" * 9])
def test_bad_durations(value):
    with pytest.raises(ValueProblem):
        parse_seconds(value)


CSV = "call_id;start;queue\nc1;2026-03-05 08:14;Växel\n"


@pytest.mark.parametrize(
    "data, encoding",
    [
        (CSV.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + CSV.encode("utf-8"), "utf-8-sig"),
        (CSV.encode("cp1252"), "cp1252"),
        (CSV.replace(";", "\t").encode("utf-16"), "utf-16"),  # Excel's "Unicode text"
    ],
)
def test_encodings(data, encoding):
    table = read_table(data)
    assert table.encoding == encoding
    assert list(table.rows) == [(2, ["c1", "2026-03-05 08:14", "Växel"])]


def test_quoted_fields_keep_their_line_numbers_and_excel_sep_line():
    data = b'sep=,\r\nid,queue,note\r\na,"Bygg, lov","two\r\nlines"\r\nb,X,y\r\n'
    table = read_table(data)
    assert table.delimiter == "," and table.header == ["id", "queue", "note"]
    assert list(table.rows) == [(3, ["a", "Bygg, lov", "two\r\nlines"]), (5, ["b", "X", "y"])]


def test_files_that_are_not_call_lists():
    with pytest.raises(FileProblem, match="empty"):
        read_table(b"  \n")
    with pytest.raises(FileProblem, match=".xls"):
        read_table(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    with pytest.raises(FileProblem, match="XLSX"):
        read_table(b"PK\x03\x04 not really a zip")
    with pytest.raises(FileProblem, match="delimiter"):
        read_table(b"just one column\nand another line\n")


def test_presets_load_and_name_their_sources():
    found = presets()
    assert set(found) == {"generic", "teams-cq-historical", "telia-no-samtalelogg"}
    for name, mapping in found.items():
        if name != "generic":
            assert mapping.source.startswith("https://"), name


@pytest.mark.parametrize(
    "text, key",
    [
        ("nonsense = [", "not valid TOML"),
        ('[columns]\nstart = "s"', "call_id_from"),
        ('[columns]\ncall_id = "id"', "columns.start"),
        ('[columns]\nstart = "s"\ncall_id = "i"\nwho = "x"', "columns.who"),
        ('[columns]\nstart = "s"\ncall_id = "i"\n[time]\nzone = "Mars/Base"', "time.zone"),
        ('[columns]\nstart = "s"\ncall_id = "i"\noutcome = "o"', "outcome"),
        ('[columns]\nstart = "s"\ncall_id = "i"\n[outcome]\nanswered = ["x"]\nabandoned = ["X"]',
         "listed under"),
        ('name = "Bad Name"\n[columns]\nstart = "s"\ncall_id = "i"', "name"),
        ('surprise = 1\n[columns]\nstart = "s"', "surprise"),
    ],
)  # fmt: skip
def test_bad_mappings_name_the_key(text, key):
    with pytest.raises(MappingError, match=key):
        parse_mapping(text)


def test_outcome_prefixes_and_talk_decides():
    mapping = presets()["telia-no-samtalelogg"]
    assert mapping.outcome_of("Satt over til Sentralbord") == "transferred"
    assert mapping.outcome_of("  besvart ") == "answered"
    assert mapping.outcome_of("Tidsavbrudd") == "talked"
    assert mapping.outcome_of("Ukjent") is None
