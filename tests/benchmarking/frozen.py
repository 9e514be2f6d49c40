"""Hand-made frozen reports: only the parts a shared figure is read from, with chosen counts."""

from __future__ import annotations

from typing import Any

from servicedesk.metrics.arithmetic import rate, rounded
from servicedesk.metrics.definitions import DEFINITIONS_VERSION
from servicedesk.metrics.queries import empty_figures
from servicedesk.reports.models import Report, totals_of
from servicedesk.reports.service import document_sha256
from servicedesk.timeutil import utcnow


def survey(n: int, index_sum: int) -> dict[str, Any]:
    return {"responses": n, "index": rounded(index_sum / n) if n else None}


def document(
    org: Any,
    month: str,
    version: int = 1,
    *,
    direct: tuple[int, int] = (0, 0),
    within1: tuple[int, int] = (0, 0),
    ease: tuple[int, int] = (0, 0),
    email_survey: tuple[int, int] = (0, 0),
) -> dict[str, Any]:
    """``direct``: (direct answers, calls offered); ``within1``: (answered within a working day,
    e-mails received); ``ease``: (answers, sum of answer values) of the phone survey;
    ``email_survey``: the same of the e-mail survey."""
    base = empty_figures(org)  # every figure a report has, then the chosen ones over it
    headline = base["survey_headline"]
    for key, answers in (
        ("phone_ease", ease),
        ("phone_treatment", ease),
        ("email_ease", email_survey),
        ("email_clarity", email_survey),
    ):
        headline[key] |= survey(*answers)
    doc: dict[str, Any] = {
        "organisation": org.slug,
        "month": month,
        "version": version,
        "generated_at": "2026-07-03T04:00:00Z",
        "definitions_version": DEFINITIONS_VERSION,
        "organisation_name": org.name,
        "phone": base["phone"]
        | {
            "offered": direct[1],
            "answered": direct[1],
            "direct_answers": direct[0],
            "direct_answer_rate": rate(*direct),
            "service_level": rate(*direct),
            "abandon_rate": rate(0, direct[1]),
        },
        "email": base["email"]
        | {
            "received": within1[1],
            "within_1_working_day": rate(*within1),
            "within_2_working_days": rate(*within1),
        },
        "survey": base["survey"],
        "survey_headline": headline,
        "queues": {},
        "counts": {},
    }
    doc["sha256"] = document_sha256(doc)
    return doc


def freeze(db: Any, org: Any, month: str, version: int = 1, **figures: Any) -> Report:
    doc = document(org, month, version, **figures)
    report = Report(
        organisation_id=org.id,
        month=month,
        version=version,
        generated_at=utcnow(),
        definitions_version=DEFINITIONS_VERSION,
        trigger="cli",
        figures_sha256=doc["sha256"],
        sha256=doc["sha256"],
        document=doc,
        totals=totals_of(doc),
    )
    db.add(report)
    db.commit()
    return report
