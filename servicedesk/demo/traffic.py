"""A believable year of a municipal contact centre, as canonical events.

Calls follow office hours with morning and after-lunch peaks; waits grow when it is busy; some
callers give up; answered calls end with or without a direct answer; a share of citizens answer
the SMS survey. E-mails arrive around the clock and are answered in office hours, most within a
working day. The generator is seeded, so a demo is reproducible.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holidays

#: Queue names with their share of the calls and of the e-mails.
QUEUES = {
    "Växel": (0.34, 0.10),
    "Bygglov": (0.16, 0.30),
    "Socialtjänst": (0.18, 0.15),
    "Skola och förskola": (0.20, 0.25),
    "Gata och park": (0.12, 0.20),
    "Överförmyndare": (0.02, 0.0),
}
#: A small queue whose callers seldom answer the survey: a handful of answers a month, so the
#: pages show how a figure from few answers is flagged.
FEW_ANSWERS = {"Överförmyndare": 0.12}
AGENTS = [f"agent-{n:02d}" for n in range(1, 15)]
#: Relative call volume by local hour, office hours 08-16.
HOURLY = {8: 1.2, 9: 1.6, 10: 1.4, 11: 1.0, 12: 0.6, 13: 1.3, 14: 1.1, 15: 0.8}


@dataclass(frozen=True)
class DemoShape:
    calls_per_day: int = 160
    emails_per_day: int = 45
    #: Added to the chance a call is answered directly (a neighbour does better or worse).
    direct_shift: float = 0.0
    #: Added to the share of e-mails answered the same working day.
    same_day_shift: float = 0.0
    #: Added to how good the citizens find the service (0-1).
    mood_shift: float = 0.0
    survey_share: float = 0.3
    citizens: int = 15000


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def _working_days(start: date, end: date, country: str) -> set[date]:
    cal = holidays.country_holidays(
        country,
        years=range(start.year, end.year + 1),
        categories=("public", "de_facto") if country == "SE" else ("public",),
    )
    days, day = set(), start
    while day <= end:
        if day.weekday() < 5 and day not in cal:
            days.add(day)
        day += timedelta(days=1)
    return days


def _score(rng: random.Random, good: float) -> int:
    """A grade 1-5 whose mean rises with ``good`` (0-1)."""
    weights = [0.04, 0.06, 0.15, 0.35 - 0.1 * (1 - good), 0.4 + 0.2 * good]
    return rng.choices([1, 2, 3, 4, 5], weights=weights)[0]


def _caller(rng: random.Random, shape: DemoShape, email: bool) -> str:
    n = rng.randrange(shape.citizens)
    return f"invanare{n}@example.se" if email else f"+4670{n:07d}"


def _calls_of_day(
    rng: random.Random, day: date, tz: ZoneInfo, shape: DemoShape, now: datetime, seq: list[int]
) -> Iterator[dict[str, Any]]:
    # Mondays and the days after holidays are busier, as every service centre knows.
    volume = shape.calls_per_day * (1.25 if day.weekday() == 0 else 1.0) * rng.uniform(0.85, 1.15)
    total_weight = sum(HOURLY.values())
    queues = list(QUEUES)
    phone_weights = [w for w, _ in QUEUES.values()]
    for hour, weight in HOURLY.items():
        count = int(round(volume * weight / total_weight))
        load = weight / max(HOURLY.values())
        for _ in range(count):
            seq[0] += 1
            cid = f"call-{day:%Y%m%d}-{seq[0]:06d}"
            start = datetime.combine(day, time(hour), tzinfo=tz) + timedelta(
                seconds=rng.uniform(0, 3600)
            )
            if start > now:
                continue
            queue = rng.choices(queues, weights=phone_weights)[0]
            caller = _caller(rng, shape, email=False)
            yield {
                "id": f"{cid}-q",
                "type": "call.queued",
                "contact_id": cid,
                "occurred_at": _iso(start),
                "queue": queue,
                "caller": caller,
            }
            wait = rng.lognormvariate(math.log(15 + 40 * load), 0.75)
            patience = rng.expovariate(1 / 600)
            if patience < wait:
                end = start + timedelta(seconds=patience)
                if end <= now:
                    yield {
                        "id": f"{cid}-e",
                        "type": "call.ended",
                        "contact_id": cid,
                        "occurred_at": _iso(end),
                        "queue": queue,
                    }
                continue
            answered = start + timedelta(seconds=wait)
            if answered > now:
                continue
            agent = rng.choice(AGENTS)
            yield {
                "id": f"{cid}-a",
                "type": "call.answered",
                "contact_id": cid,
                "occurred_at": _iso(answered),
                "queue": queue,
                "agent": agent,
            }
            end = answered + timedelta(seconds=rng.lognormvariate(math.log(200), 0.6))
            if end > now:
                continue
            direct = rng.random() < (0.72 if queue == "Växel" else 0.52) + shape.direct_shift
            yield {
                "id": f"{cid}-e",
                "type": "call.ended",
                "contact_id": cid,
                "occurred_at": _iso(end),
                "queue": queue,
                "agent": agent,
                "direct_answer": direct,
            }
            if rng.random() < FEW_ANSWERS.get(queue, shape.survey_share):
                at = end + timedelta(minutes=rng.uniform(1, 90))
                if at <= now:
                    good = (0.9 if direct else 0.5) + shape.mood_shift
                    for question in ("treatment", "ease"):
                        yield {
                            "id": f"{cid}-s-{question}",
                            "type": "survey.response",
                            "contact_id": cid,
                            "occurred_at": _iso(at),
                            "channel": "phone",
                            "question": question,
                            "score": _score(rng, good),
                        }


def _office_time_after(
    rng: random.Random, start: datetime, delay_days: float, tz: ZoneInfo, working: set[date]
) -> datetime:
    """A reply time roughly ``delay_days`` working days after ``start``, in office hours."""
    local = start.astimezone(tz)
    day = local.date()
    whole = int(delay_days)
    steps = 0
    while steps < whole or day not in working:
        day += timedelta(days=1)
        if day in working:
            steps += 1
    reply = datetime.combine(day, time(8), tzinfo=tz) + timedelta(seconds=rng.uniform(0, 8 * 3600))
    if whole == 0 and local.date() == day and reply <= local:
        reply = local + timedelta(minutes=rng.uniform(20, 180))
    return reply


def _emails_of_day(
    rng: random.Random,
    day: date,
    tz: ZoneInfo,
    shape: DemoShape,
    now: datetime,
    working: set[date],
    seq: list[int],
) -> Iterator[dict[str, Any]]:
    volume = shape.emails_per_day * (1.0 if day in working else 0.25) * rng.uniform(0.8, 1.2)
    queues = list(QUEUES)
    mail_weights = [w for _, w in QUEUES.values()]
    for _ in range(int(round(volume))):
        seq[0] += 1
        cid = f"mail-{day:%Y%m%d}-{seq[0]:06d}"
        received = datetime.combine(day, time(0), tzinfo=tz) + timedelta(
            seconds=rng.triangular(6 * 3600, 23 * 3600, 10 * 3600)
        )
        if received > now:
            continue
        queue = rng.choices(queues, weights=mail_weights)[0]
        yield {
            "id": f"{cid}-r",
            "type": "email.received",
            "contact_id": cid,
            "occurred_at": _iso(received),
            "queue": queue,
            "caller": _caller(rng, shape, email=True),
        }
        roll = rng.random()
        if roll < 0.03:
            continue  # never answered
        same_day = 0.62 + shape.same_day_shift
        delay = 0 if roll < same_day else (1 if roll < 0.9 else rng.choice([2, 3, 5]))
        reply = _office_time_after(rng, received, delay, tz, working)
        if reply > now:
            continue
        agent = rng.choice(AGENTS)
        yield {
            "id": f"{cid}-p",
            "type": "email.replied",
            "contact_id": cid,
            "occurred_at": _iso(reply),
            "queue": queue,
            "agent": agent,
        }
        if rng.random() < shape.survey_share * 0.6:
            at = reply + timedelta(hours=rng.uniform(1, 30))
            if at <= now:
                good = (0.85 if delay == 0 else 0.4) + shape.mood_shift
                for question in ("clarity", "ease"):
                    yield {
                        "id": f"{cid}-s-{question}",
                        "type": "survey.response",
                        "contact_id": cid,
                        "occurred_at": _iso(at),
                        "channel": "email",
                        "question": question,
                        "score": _score(rng, good),
                    }


def demo_events(
    *,
    country: str,
    timezone: str,
    days: int,
    now: datetime,
    seed: int = 2026,
    shape: DemoShape | None = None,
    closed: frozenset[date] = frozenset(),
) -> Iterator[dict[str, Any]]:
    """Canonical events for the ``days`` days up to ``now``, day by day (no calls on the
    ``closed`` days, whose e-mails wait for the next working day)."""
    shape = shape or DemoShape()
    rng = random.Random(seed)
    tz = ZoneInfo(timezone)
    last = now.astimezone(tz).date()
    first = last - timedelta(days=days - 1)
    working = _working_days(first, last + timedelta(days=30), country) - closed
    seq = [0]
    day = first
    while day <= last:
        if day in working:
            yield from _calls_of_day(rng, day, tz, shape, now, seq)
        yield from _emails_of_day(rng, day, tz, shape, now, working, seq)
        day += timedelta(days=1)


def demo_closed_day(today: date, country: str) -> date | None:
    """A closed working day for the demo: the last working Friday of the month before this one
    (a staff day), so the latest frozen month shows one."""
    month_start = today.replace(day=1)
    start = (month_start - timedelta(days=1)).replace(day=1)
    working = _working_days(start, month_start, country)
    fridays = [d for d in sorted(working) if d.weekday() == 4 and d < month_start]
    return fridays[-1] if fridays else None
