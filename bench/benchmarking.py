"""The comparison among many municipalities, as a ratio against reading their reports whole.

The same run makes ``--participants`` organisations (357: every Norwegian municipality) with
13 frozen months each (real report documents: an empty month's report, figures set over it, so
every document is full size, days and comparisons included), all sharing. It times

- the baseline: reading the 12 months' latest report documents whole (what a comparison that
  loaded the reports would have to do at least);
- ``compare`` for one month (each shared figure ranked);
- the Comparison page's data: the month and the places of the last 12 months (``history``);

warm, best of ``--repeat``. Goal: the page's data within the baseline (it reads only the three
sections a shared figure comes from).

    python bench/benchmarking.py [--participants 357] [--database-url URL] [--repeat 3]
"""

from __future__ import annotations

import argparse
import copy
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from random import Random
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402
from sqlmodel import Session, col  # noqa: E402

from bench.common import best_of, write_section  # noqa: E402
from servicedesk import create_app  # noqa: E402
from servicedesk.benchmarking.comparison import compare, history  # noqa: E402
from servicedesk.benchmarking.periods import Period, last_months  # noqa: E402
from servicedesk.benchmarking.sharing import share  # noqa: E402
from servicedesk.cache import cache  # noqa: E402
from servicedesk.db import make_engine  # noqa: E402
from servicedesk.metrics.arithmetic import rate, rounded  # noqa: E402
from servicedesk.metrics.periods import Month  # noqa: E402
from servicedesk.migrate import upgrade  # noqa: E402
from servicedesk.orgs.operations import create_organisation  # noqa: E402
from servicedesk.reports.models import Report, totals_of  # noqa: E402
from servicedesk.reports.service import document_sha256, generate_report  # noqa: E402

LAST = Month(2026, 12)


def _document(template: dict[str, Any], slug: str, month: Month, rng: Random) -> dict[str, Any]:
    doc = copy.deepcopy(template)
    offered = rng.randint(300, 6000)
    direct = rng.randint(offered // 3, offered)
    received = rng.randint(100, 2000)
    within = rng.randint(received // 2, received)
    doc.update(organisation=slug, month=str(month))
    doc["phone"].update(
        offered=offered,
        direct_answers=direct,
        direct_answer_rate=rate(direct, offered),
        service_level=rate(direct, offered),
        abandon_rate=rate(offered - direct, offered),
    )
    doc["email"].update(
        received=received,
        within_1_working_day=rate(within, received),
        within_2_working_days=rate(within, received),
    )
    for part in doc["survey_headline"].values():
        if "index" in part:
            n = rng.randint(5, 400)
            part.update(responses=n, index=rounded(25 * rng.randint(n, 4 * n) / n))
    doc["sha256"] = document_sha256(doc)
    return doc


def _load(engine: sa.Engine, participants: int) -> None:
    rng = Random(2026)
    with Session(engine) as session:
        org = create_organisation(session, slug="template", name="Template", country="NO")
        template = generate_report(session, org, LAST, trigger="bench")[0].document
        session.rollback()
    months = last_months(LAST, 13)
    for n in range(participants):
        with Session(engine) as session:
            org = create_organisation(
                session, slug=f"k{n:03d}", name=f"Kommune {n:03d}", country="NO"
            )
            for month in months:
                doc = _document(template, org.slug, month, rng)
                session.add(
                    Report(
                        organisation_id=org.id,
                        month=str(month),
                        version=1,
                        generated_at=datetime(2026, 1, 1, tzinfo=UTC),
                        definitions_version=doc["definitions_version"],
                        trigger="bench",
                        figures_sha256=doc["sha256"],
                        sha256=doc["sha256"],
                        document=doc,
                        totals=totals_of(doc),
                    )
                )
            share(session, org, anonymous=n % 5 == 0, group=f"KG {n % 16 + 1}")
            session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--participants", type=int, default=357)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="do not update docs/benchmarks.md")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="bench-benchmarking-")
    url = args.database_url or f"sqlite:///{folder}/bench.sqlite"
    upgrade(url)
    engine = make_engine(url)
    started = time.perf_counter()
    _load(engine, args.participants)
    print(f"loaded {args.participants} x 13 months in {time.perf_counter() - started:.0f} s")
    months = last_months(LAST, 12)
    # An app for the shared cache, as a deployment without Redis has it: a directory.
    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "bench-secret-key-0123456789",
            "PSEUDONYM_KEY": "bench-pseudonym-key-0123456789",
            "CACHE_DIR": f"{folder}/cache",
        }
    )
    with app.app_context(), Session(engine) as session:
        size = session.scalar(
            sa.select(sa.func.avg(sa.func.length(sa.cast(col(Report.document), sa.Text))))
        )

        def baseline() -> None:
            docs = session.scalars(
                sa.select(col(Report.document)).where(
                    col(Report.month).in_([str(m) for m in months])
                )
            ).all()
            assert len(docs) == 12 * args.participants

        def one_month() -> None:
            result = compare(session, Period.of_month(LAST), "k007")
            assert result.participants == args.participants

        def page() -> None:
            compare(session, Period.of_month(LAST), "k007")
            places = history(session, months, "k007")
            assert len(places["phone.direct_answer_rate"]) == 12

        base = best_of(baseline, args.repeat)
        cache.clear()
        cold = best_of(page, 1)  # nothing read of these reports yet
        month_time = best_of(one_month, args.repeat)
        page_time = best_of(page, args.repeat)
    engine_name = engine.dialect.name
    engine.dispose()
    rows = "\n".join(
        f"| {what} | {seconds * 1000:,.0f} ms | {seconds / base:.2f} |"
        for what, seconds in (
            ("baseline: 12 months of documents, read whole", base),
            ("the Comparison page's data, first time (each report's totals read)", cold),
            ("`compare`, one month (9 figures ranked), warm", month_time),
            ("the Comparison page's data (the month, 12 months of places), warm", page_time),
        )
    )
    text = f"""## Comparison among {args.participants} organisations ({engine_name})

`python bench/benchmarking.py` ({engine_name}), {datetime.now(UTC):%Y-%m-%d %H:%M} UTC,
{platform.machine()}, Python {platform.python_version()}.
{args.participants} organisations sharing, 13 frozen months each (full report documents,
{size or 0:,.0f} characters on average, days and comparisons included). Baseline: reading the
12 months' report documents whole; warm, best of {args.repeat}.

| measure | time | x baseline |
|---|---|---|
{rows}

First time: each report's organisation totals are read (`reports.totals`, about 1.5 kB, kept
apart from the document since migration 0024), not the whole documents. Warm: what was read of
each frozen version is in the shared cache (a directory here, as without Redis), under the
report's id and checksum. Goal: the page's data, warm, within the
baseline: {page_time / base:.2f}x.
"""
    print(text)
    if not args.no_write:
        write_section(f"benchmarking-{engine_name}", text)


if __name__ == "__main__":
    main()
