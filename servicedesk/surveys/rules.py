"""The citizen's protections as plain functions: sampling, hidden numbers, quiet hours, delay.

Nothing here reads the database; ``capture`` and ``dispatch`` apply these to their rows.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from servicedesk.privacy import normalise_caller
from servicedesk.timeutil import to_utc

#: How long a captured number or address may be kept unsent (the issue's and privacy.md's limit).
RECIPIENT_HOURS = 48
#: A contact older than this when its event arrives is not surveyed (a backlog, an import).
CAPTURE_MAX_AGE = timedelta(hours=24)
#: How long the survey link works after it was sent.
LINK_DAYS = 7

#: What telephony systems put in the caller field of a call whose number is hidden.
HIDDEN_CALLERS = frozenset(
    {"anonymous", "restricted", "private", "unknown", "unavailable", "hidden", "withheld",
     "undisclosed", "blocked", "okänt", "skyddat", "hemmelig", "ukjent"}
)  # fmt: skip
#: Twilio's stand-ins for a withheld number (its "Anonymous" numbers).
_TWILIO_ANONYMOUS = frozenset({"+266696687", "+7378742833", "+2562533", "+8656696"})
_E164 = re.compile(r"^\+[1-9]\d{7,14}$")
_NO_REPLY = re.compile(r"^(no-?reply|do-?not-?reply|mailer-daemon|postmaster)@", re.I)


def sample_value(key: bytes, organisation_id: int, channel: str, contact_id: str) -> float:
    """A number in [0, 1) that is random to anyone without the key, and the same every time a
    contact's events arrive, so a contact is drawn once however many events it has."""
    digest = hmac.new(
        key, f"survey-sample:{organisation_id}:{channel}:{contact_id}".encode(), hashlib.sha256
    ).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def sampled(key: bytes, organisation_id: int, channel: str, contact_id: str, share: float) -> bool:
    """Whether the contact is among the ``share`` per cent surveyed."""
    if share <= 0:
        return False
    if share >= 100:
        return True
    return sample_value(key, organisation_id, channel, contact_id) < share / 100


def sms_number(caller: str, country: str) -> str | None:
    """The number to text, in E.164; None for hidden, short, landline-only or odd values."""
    raw = caller.strip()
    if not raw or raw.lower().strip("<>") in HIDDEN_CALLERS or "@" in raw:
        return None
    number = normalise_caller(raw, country)
    if not _E164.match(number) or number in _TWILIO_ANONYMOUS:
        return None
    return number


def mail_address(caller: str) -> str | None:
    """The address to write to; None for what is no person's mailbox."""
    address = caller.strip().strip("<>").lower()
    if address.count("@") != 1 or _NO_REPLY.match(address) or any(c.isspace() for c in address):
        return None
    local, _, domain = address.partition("@")
    if not local or "." not in domain:
        return None
    return address


def recipient_of(channel: str, caller: str, country: str) -> str | None:
    return sms_number(caller, country) if channel == "phone" else mail_address(caller)


def _clock(value: str) -> time:
    hours, _, minutes = value.partition(":")
    return time(int(hours), int(minutes or 0))


def in_quiet_hours(local: datetime, quiet_start: str, quiet_end: str) -> bool:
    """Whether a local wall-clock time falls in the quiet window (which may wrap midnight)."""
    start, end = _clock(quiet_start), _clock(quiet_end)
    now = local.time().replace(tzinfo=None)
    if start == end:
        return False
    if start < end:
        return start <= now < end
    return now >= start or now < end


def next_send_time(
    due: datetime,
    timezone: str,
    quiet_start: str,
    quiet_end: str,
    working_day: Callable[[date], bool] | None,
) -> datetime:
    """The first instant at or after ``due`` outside quiet hours, and (when ``working_day`` is
    given) on a working day, by the organisation's wall clock.

    Stepped in wall-clock time through the zone, so a daylight-saving change moves nothing:
    quiet hours end at 08:00 local on both sides of it.
    """
    zone = ZoneInfo(timezone)
    local = to_utc(due).astimezone(zone)
    for _ in range(60):  # at most two months of closed days ahead
        if working_day is not None and not working_day(local.date()):
            local = datetime.combine(local.date() + timedelta(days=1), _clock(quiet_end), zone)
            continue
        if in_quiet_hours(local, quiet_start, quiet_end):
            end = _clock(quiet_end)
            day = (
                local.date()
                if local.time().replace(tzinfo=None) < end
                else (local.date() + timedelta(days=1))
            )
            local = datetime.combine(day, end, zone)
            continue
        return to_utc(local)
    return to_utc(local)
