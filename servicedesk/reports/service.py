"""Making, freezing and reading monthly reports (domain functions: they flush, never commit).

A report version is written once and never changed. ``generate_report`` recomputes the month's
figures and writes version n + 1 only when they differ from version n (compared by the sha256 of
their canonical JSON), so re-running it is harmless and late events show up as a new version.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from servicedesk.contacts.models import UNMATCHED, Contact, SurveyResponse
from servicedesk.db import advisory_lock, table_of
from servicedesk.ingest.models import Event
from servicedesk.metrics.coverage import coverage, first_contact_date
from servicedesk.metrics.definitions import DEFINITIONS_VERSION, QUESTIONS
from servicedesk.metrics.periods import Month
from servicedesk.metrics.queries import empty_figures, figures_by, queue_names
from servicedesk.orgs.models import Organisation
from servicedesk.reports.models import Report, totals_of
from servicedesk.surveys.figures import dispatch_figures
from servicedesk.timeutil import local_date, utcnow

#: The parts of a document that are the month's own figures (what a new version is about).
FIGURE_KEYS = (
    "phone",
    "email",
    "survey",
    "survey_headline",
    "survey_dispatch",
    "queues",
    "days",
)


def canonical_json(value: Any) -> bytes:
    """The one byte string a document hashes to: sorted keys, no spaces, UTF-8, no NaN."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def sha256_of(value: Any) -> str:
    return hashlib.sha256(canonical_json(value)).hexdigest()


def document_sha256(document: dict[str, Any]) -> str:
    """The sha256 a report carries: of its canonical JSON without the ``sha256`` field itself."""
    return sha256_of({k: v for k, v in document.items() if k != "sha256"})


def format_instant(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------------------------
# computing


def month_figures(
    session: Session,
    org: Organisation,
    month: Month,
    days: bool = True,
    counts: dict[str, int] | None = None,
) -> dict[str, Any]:
    """The month's figures: organisation, per queue (by name) and, with ``days``, per local day
    (``counts``, when given, receives the contact and event counts of the same pass)."""
    bys: list[str | None] = [None, "queue", "day"] if days else [None, "queue"]
    groups = figures_by(session, org, month.first, month.last, bys, counts=counts)
    names = queue_names(session, org)
    per_queue = groups["queue"]
    queues = {
        names[qid]: per_queue[qid]
        for qid in sorted((q for q in per_queue if q is not None), key=lambda q: names[q])
    }
    result = {
        **groups[None],
        "survey_dispatch": dispatch_figures(session, org, month.first, month.last),
        "queues": queues,
    }
    if days:
        per_day = groups["day"]
        empty = empty_figures(org)
        result["days"] = {d.isoformat(): per_day.get(d, empty) for d in month.days()}
    return result


def answers_before_queue(session: Session, org: Organisation, month: Month) -> dict[str, int]:
    """Calls of the month whose answer came before their queue time (the data-quality counts).

    ``phone_answered_before_queue``: by at most the clock skew the fold allows, counted as
    answered with wait 0. ``phone_answers_before_queue_ignored``: earlier than that, so taken
    for a sender's error: the call has no answer (docs/metrics.md).
    """
    c = table_of(Contact)
    e = table_of(Event)
    in_month = (
        c.c.organisation_id == org.id,
        c.c.channel == "phone",
        c.c.start_date >= month.first,
        c.c.start_date <= month.last,
    )
    adjusted = session.execute(
        sa.select(sa.func.count()).where(*in_month, c.c.answered_at < c.c.started_at)
    ).scalar_one()
    answer_event = (
        sa.select(e.c.id)
        .where(
            e.c.organisation_id == org.id,
            e.c.channel == "phone",
            e.c.contact_id == c.c.contact_id,
            e.c.type == "call.answered",
        )
        .exists()
    )
    ignored = session.execute(
        sa.select(sa.func.count()).where(*in_month, c.c.answered_at.is_(None), answer_event)
    ).scalar_one()
    return {
        "phone_answered_before_queue": int(adjusted),
        "phone_answers_before_queue_ignored": int(ignored),
    }


def unmatched_responses(session: Session, org: Organisation, month: Month) -> int:
    """Survey responses given during the month about contacts never seen (counted nowhere).

    Read from the partial index of unmatched responses (the fold keeps ``matched``).
    """
    sr = table_of(SurveyResponse)
    start, end = month.utc_bounds(org.timezone)
    return int(
        session.execute(
            sa.select(sa.func.count())
            .select_from(sr)
            .where(
                sr.c.organisation_id == org.id,
                sr.c.occurred_at >= start,
                sr.c.occurred_at < end,
                UNMATCHED,
            )
        ).scalar_one()
    )


def _survey_responses(doc: dict[str, Any]) -> int:
    return sum(doc["survey"][q]["responses"] for q in QUESTIONS)


def comparison(
    session: Session, org: Organisation, month: Month, today: date | None = None
) -> dict[str, Any]:
    """Another month's figures to show beside a report: its latest frozen version, else live;
    with the days its data covers (``today``: when the report is made)."""
    report = latest_report(session, org, month)
    if report is not None:
        doc = report.document
        source = {"version": report.version, "generated_at": doc["generated_at"]}
        figs = {k: doc[k] for k in ("phone", "email", "survey", "queues")}
        if "survey_headline" in doc:  # reports of definitions 2026.3 and later
            figs["survey_headline"] = doc["survey_headline"]
    else:
        source = {"version": None, "generated_at": None}
        figs = month_figures(session, org, month, days=False)
    first = first_contact_date(session, org)
    covered = coverage(month, first, today or local_date(utcnow(), org.timezone))
    return {"month": str(month), **source, **figs, "coverage": covered}


# ---------------------------------------------------------------------------------------------
# reading


def latest_report(session: Session, org: Organisation, month: Month) -> Report | None:
    """The newest version of the organisation's report for the month."""
    return session.execute(
        sa.select(Report)
        .where(col(Report.organisation_id) == org.id, col(Report.month) == str(month))
        .order_by(col(Report.version).desc())
        .limit(1)
    ).scalar_one_or_none()


def report_versions(session: Session, org: Organisation, month: Month) -> list[Report]:
    """Every version of the month's report, oldest first."""
    return list(
        session.execute(
            sa.select(Report)
            .where(col(Report.organisation_id) == org.id, col(Report.month) == str(month))
            .order_by(col(Report.version))
        ).scalars()
    )


def report_version(
    session: Session, org: Organisation, month: Month, version: int
) -> Report | None:
    """One frozen version of the organisation's month, or None."""
    return session.scalars(
        sa.select(Report).where(
            col(Report.organisation_id) == org.id,
            col(Report.month) == str(month),
            col(Report.version) == version,
        )
    ).first()


def reported_months(session: Session, org: Organisation) -> set[str]:
    """The months that have at least one report version."""
    rows = session.execute(
        sa.select(col(Report.month)).where(col(Report.organisation_id) == org.id)
    )
    return {row[0] for row in rows}


# ---------------------------------------------------------------------------------------------
# freezing


def generate_report(
    session: Session,
    org: Organisation,
    month: Month,
    *,
    trigger: str = "cli",
    now: datetime | None = None,
) -> tuple[Report, bool]:
    """Freeze the month's figures; returns (the latest version, whether it was made now)."""
    # Every generator of one organisation's month waits for the one before it, then finds the
    # figures unchanged and writes nothing; the unique (organisation, month, version) constraint
    # stays as the last guard.
    advisory_lock(session, f"report:{org.id}:{month}")
    counts: dict[str, int] = {}
    own = month_figures(session, org, month, counts=counts)
    figures_sha = sha256_of({"definitions_version": DEFINITIONS_VERSION, **own})
    latest = latest_report(session, org, month)
    if latest is not None and latest.figures_sha256 == figures_sha:
        return latest, False
    version = latest.version + 1 if latest is not None else 1
    generated_at = (now or utcnow()).replace(microsecond=0)
    today = local_date(generated_at, org.timezone)
    counts["unmatched_survey_responses"] = unmatched_responses(session, org, month)
    counts["survey_responses"] = _survey_responses(own)
    # Data quality: present only when something was found, so clean months read as before.
    counts.update({k: n for k, n in answers_before_queue(session, org, month).items() if n})
    document: dict[str, Any] = {
        "organisation": org.slug,
        "month": str(month),
        "version": version,
        "generated_at": format_instant(generated_at),
        "phone": own["phone"],
        "email": own["email"],
        "survey": own["survey"],
        "survey_headline": own["survey_headline"],
        "survey_dispatch": own["survey_dispatch"],
        "queues": own["queues"],
        "definitions_version": DEFINITIONS_VERSION,
        "organisation_name": org.name,
        "country": org.country,
        "timezone": org.timezone,
        "coverage": coverage(month, first_contact_date(session, org), today),
        "previous_month": comparison(session, org, month.previous(), today),
        "year_before": comparison(session, org, month.year_before(), today),
        "counts": counts,
        "supersedes": latest.version if latest is not None else None,
        "days": own["days"],
    }
    document["sha256"] = document_sha256(document)
    report = Report(
        organisation_id=org.id,
        month=str(month),
        version=version,
        generated_at=generated_at,
        definitions_version=DEFINITIONS_VERSION,
        trigger=trigger,
        figures_sha256=figures_sha,
        sha256=document["sha256"],
        document=document,
        totals=totals_of(document),
    )
    session.add(report)
    session.flush()
    return report, True
