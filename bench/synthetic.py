"""Synthetic contacts for the benchmarks, loaded straight into the tables as the fold leaves them.

Phone (70 %: 90 % answered, waits exponential around 45 s to the millisecond, 55 % direct
answers) and e-mail (95 % answered within 0.2-80 hours), spread over the local working hours of
the days given, with survey answers for a fifth of the answered contacts (their scores copied
onto the contacts, as the fold does). ``load`` bulk-inserts them with the driver's fastest path
and then sets the e-mails' working times with the application's own function.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session

from servicedesk.calendars.contacts import set_email_working_times
from servicedesk.calendars.worktime import local_parts

TZ = "Europe/Stockholm"
QUEUES = ["Växel", "Bygglov", "Skola", "Socialtjänst", "Miljö", "Vatten", "Parkering", "Kultur"]
CONTACT_COLUMNS = [
    "organisation_id", "channel", "contact_id", "queue_id", "agent", "caller_hash", "started_at",
    "start_date", "answered_at", "ended_at", "wait_seconds", "direct_answer", "event_count",
    "updated_at", "start_local_seconds", "answered_local_date", "answered_local_seconds",
    "start_month", "answer_seconds", "handle_seconds", "treatment_score", "ease_score",
    "clarity_score",
]  # fmt: skip
SURVEY_COLUMNS = [
    "organisation_id", "contact_id", "channel", "question", "score", "occurred_at", "event_id",
    "matched",
]  # fmt: skip


def contact_rows(
    org_id: int, queue_ids: list[int], days: list[date], n: int, rng: random.Random
) -> tuple[list, list]:
    """``n`` contacts spread over ``days`` (working days busier) and their survey responses,
    with every column as the fold leaves it (the e-mails' working times come with ``load``)."""
    zone = ZoneInfo(TZ)
    weights = [1.0 if d.weekday() < 5 else 0.15 for d in days]
    now = datetime.now(UTC)
    contacts, surveys = [], []
    chosen_days = rng.choices(days, weights, k=n)
    for i, day in enumerate(chosen_days):
        phone = rng.random() < 0.7
        local = datetime(day.year, day.month, day.day, tzinfo=zone) + timedelta(
            seconds=rng.uniform(7.5 * 3600, 17 * 3600)
        )
        started = local.astimezone(UTC)
        answered = ended = wait = direct = None
        if phone:
            if rng.random() < 0.9:
                wait = round(rng.expovariate(1 / 45), 3)
                answered = started + timedelta(seconds=wait)
                direct = rng.random() < 0.55
                ended = answered + timedelta(seconds=rng.uniform(30, 600))
            else:
                ended = started + timedelta(seconds=rng.uniform(5, 300))
        elif rng.random() < 0.95:
            answered = started + timedelta(hours=rng.uniform(0.2, 80))
        start_seconds = local_parts(started, TZ)[1]
        a_day, a_seconds = local_parts(answered, TZ) if answered else (None, None)
        cid = f"{days[0]}-{'c' if phone else 'm'}{i}"
        scores = dict.fromkeys(("treatment", "ease", "clarity"))
        if answered is not None and rng.random() < 0.2:
            questions = ("treatment", "ease") if phone else ("ease", "clarity")
            for q in questions:
                scores[q] = rng.choices([1, 2, 3, 4, 5], [5, 7, 18, 35, 35])[0]
                surveys.append((
                    org_id, cid, "phone" if phone else "email", q, scores[q],
                    answered + timedelta(hours=1), f"s-{q}-{cid}", True,
                ))  # fmt: skip
        # As the fold leaves them: the e-mails' working times are set from the calendar after
        # loading (servicedesk.calendars.contacts), the scores copied from the responses.
        contacts.append((
            org_id, "phone" if phone else "email", cid, queue_ids[i % len(queue_ids)],
            f"agent-{i % 40}", f"k1:{i:040x}", started, day, answered, ended, wait, direct,
            3 if phone else 2, now, start_seconds, a_day, a_seconds,
            day.year * 100 + day.month, wait,
            (ended - answered).total_seconds() if phone and answered else None, *scores.values(),
        ))  # fmt: skip
    # Rows arrive in time order in real life (events are folded as they come), so the month's
    # contacts lie together in the table; load them so.
    contacts.sort(key=lambda row: row[6])
    surveys.sort(key=lambda row: row[5])
    return contacts, surveys


def load(engine: sa.Engine, org_id: int, contacts: list, surveys: list) -> None:
    """Bulk-load with the driver's fastest path (executemany on SQLite, COPY on PostgreSQL)."""
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        if engine.dialect.name == "postgresql":
            for table, columns, rows in (
                ("contacts", CONTACT_COLUMNS, contacts),
                ("survey_responses", SURVEY_COLUMNS, surveys),
            ):
                with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        else:
            cur.execute("BEGIN")
            for table, columns, rows in (
                ("contacts", CONTACT_COLUMNS, contacts),
                ("survey_responses", SURVEY_COLUMNS, surveys),
            ):
                marks = ", ".join("?" * len(columns))
                cur.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                    [sqlite_row(r) for r in rows],
                )
            cur.execute("COMMIT")
        raw.commit()
    finally:
        raw.close()
    with Session(engine) as session:
        set_email_working_times(session, org_id)
        session.commit()
    with engine.connect() as conn:
        # What autovacuum and the SQLite ANALYZE of a running system would have done: table
        # statistics, and on PostgreSQL the visibility map that index-only scans need.
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.exec_driver_sql("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE")


def sqlite_row(row: tuple) -> tuple:
    """Instants as SQLAlchemy stores them in SQLite: naive UTC 'YYYY-MM-DD HH:MM:SS.ffffff'."""
    return tuple(
        v.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
        if isinstance(v, datetime)
        else (v.isoformat() if isinstance(v, date) else v)
        for v in row
    )
