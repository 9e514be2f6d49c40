"""Today as a wall screen: the last working day on a day off, targets colouring it, the hourly
chart of an empty day, and the queues a scoped team leader sees named in the title."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from servicedesk.dashboard.targets import set_targets
from tests.helpers import event, post

TZ = ZoneInfo("Europe/Stockholm")


def at(day: int, hour: int, minute: int = 0) -> str:
    return datetime(2026, 6, day, hour, minute, tzinfo=TZ).isoformat()


@pytest.fixture
def friday(client, org, token):
    """Friday 12 June 2026: two calls in Bygglov, one answered after 30 s, one abandoned."""
    events = [
        event("call.queued", "f1", at(12, 9), queue="Bygglov"),
        event("call.answered", "f1", at(12, 9)[:16] + ":30+02:00", queue="Bygglov"),
        event("call.ended", "f1", at(12, 9, 5), queue="Bygglov", direct_answer=True),
        event("call.queued", "f2", at(12, 10), queue="Bygglov"),
        event("call.ended", "f2", at(12, 10, 2), queue="Bygglov"),
        event("call.queued", "v1", at(12, 11), queue="Växel"),
    ]
    assert post(client, token, {"events": events}).status_code == 202


def test_a_saturday_shows_the_friday_and_says_so(client, org, friday, signed_in):
    with time_machine.travel(datetime(2026, 6, 13, 11, 0, tzinfo=TZ), tick=False):
        signed_in(org, "team_leader")
        html = client.get("/").get_data(as_text=True)
        assert "<h1>Fredag 12 juni 2026" in html
        assert "Lördag 13 juni är ingen arbetsdag (helg)" in html
        assert 'data-figure="offered">3<' in html
        assert "Samtal per timme, fredag 12 juni" in html
        # Today itself, on request: nothing yet.
        today = client.get("/?today=1").get_data(as_text=True)
        assert "I dag, lördag 13 juni 2026" in today
        assert 'data-figure="offered">0<' in today
        assert "today=1" in today  # the live part keeps showing today


def test_a_saturday_with_calls_of_its_own_shows_itself(client, org, token, friday, signed_in):
    """A weekend service or an emergency line: once a call comes in on the day off, Today is
    that day's, not the last working day's."""
    saturday = [event("call.queued", "s1", at(13, 10), queue="Växel")]
    assert post(client, token, {"events": saturday}).status_code == 202
    with time_machine.travel(datetime(2026, 6, 13, 11, 0, tzinfo=TZ), tick=False):
        signed_in(org, "team_leader")
        html = client.get("/").get_data(as_text=True)
        assert "I dag, lördag 13 juni 2026" in html
        assert "ingen arbetsdag" not in html
        assert 'data-figure="offered">1<' in html


def test_a_holiday_is_named(client, org, friday, signed_in):
    # Midsommarafton, Friday 19 June 2026: the last working day is Thursday the 18th.
    with time_machine.travel(datetime(2026, 6, 19, 11, 0, tzinfo=TZ), tick=False):
        signed_in(org, "team_leader")
        html = client.get("/").get_data(as_text=True)
        assert "<h1>Torsdag 18 juni 2026" in html
        assert "Midsommarafton" in html


def test_targets_colour_today(client, org, friday, signed_in, db):
    set_targets(db, org, {"phone.service_level": 80, "phone.abandon_rate": 40})
    db.commit()
    with time_machine.travel(datetime(2026, 6, 12, 16, 0, tzinfo=TZ), tick=False):
        signed_in(org, "team_leader")
        html = client.get("/today/live").get_data(as_text=True)
    # 1 of 3 within 60 s: 33.3 % < 80 (bad); abandoned 2 of 3 = 66.7 % > 40 (bad).
    cards = re.findall(r'<div class="card (\w+)"><span class="label">([^<]+)</span>', html)
    kinds = dict((label, kind) for kind, label in cards)
    assert kinds["Servicenivå"] == "bad"
    assert kinds["Avbrutna samtal"] == "bad"
    assert "mål 80,0" in html


def test_an_empty_day_counts_in_whole_calls(client, org, signed_in):
    with time_machine.travel(datetime(2026, 6, 10, 7, 0, tzinfo=TZ), tick=False):
        signed_in(org, "team_leader")
        html = client.get("/today/live").get_data(as_text=True)
    svg = html[html.index("<svg") : html.index("</svg>")]
    labels = re.findall(r'<text[^>]*class="[^"]*"[^>]*>(\d+)</text>', svg)
    assert labels[:6] == ["0", "1", "2", "3", "4", "5"] or {"0", "5"} <= set(labels)
    assert labels.count("1") <= 1


def test_a_scoped_team_leader_sees_the_queue_named(client, org, friday, signed_in, db):
    with time_machine.travel(datetime(2026, 6, 12, 16, 0, tzinfo=TZ), tick=False):
        signed_in(org, "team_leader", queue_names=["Bygglov"])
        for url in ("/", "/period?period=2026-W24", "/intervals", "/month"):
            html = client.get(url).get_data(as_text=True)
            title = re.search(r"<title>(.*?)</title>", html).group(1)
            assert "Bygglov" in title, (url, title)
            assert "Växel" not in title
