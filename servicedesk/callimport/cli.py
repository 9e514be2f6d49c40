"""``servicedesk calls import|presets``: call lists from the command line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup
from sqlmodel import Session

from servicedesk.callimport.mapping import Mapping, MappingError, load_mapping, presets
from servicedesk.callimport.readers import FileProblem
from servicedesk.callimport.service import (
    Summary,
    check_file,
    dry_run,
    keep_refused_upload,
    run_import,
    start_import,
)
from servicedesk.db import get_engine, mark_write, serialized_writes
from servicedesk.orgs.cli import require_org
from servicedesk.secrets import require_keys

calls_cli = AppGroup("calls", help="Call lists exported from contact-centre suites.")

#: Largest file the command reads (the web page has its own, smaller limit).
MAX_FILE_BYTES = 2 * 1024**3


def _mapping(value: str) -> Mapping:
    path = Path(value)
    try:
        if value not in presets() and path.is_file():
            return load_mapping(path.read_text(encoding="utf-8"))
        if value in presets():
            return presets()[value]
    except (MappingError, UnicodeDecodeError, OSError) as exc:
        raise click.ClickException(f"--mapping: {value}: {exc}") from None
    known = ", ".join(sorted(presets()))
    raise click.ClickException(f"--mapping: {value!r} is neither a preset ({known}) nor a file")


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:g} s"


def _echo_summary(summary: Summary, *, dry: bool) -> None:
    where = {"csv": f"CSV, {summary.encoding}, delimiter {summary.delimiter!r}",
             "xlsx": f"XLSX, sheet {summary.sheet!r}"}[summary.kind]  # fmt: skip
    click.echo(f"read as {where}")
    if summary.missing:
        click.echo(
            f"columns of the mapping not in the file (read as empty): {', '.join(summary.missing)}"
        )
    verb = "would be imported" if dry else "imported"
    click.echo(
        f"{summary.rows} rows: {summary.imported} calls {verb}, {summary.duplicates} already "
        f"stored (duplicates), {summary.refused} refused, {summary.skipped} skipped, "
        f"{summary.live} covered by live events"
    )
    for refusal in summary.refusals[:20]:
        click.echo(f"line {refusal.line}: {refusal.reason}", err=True)
    if summary.refused > 20:
        click.echo(f"... and {summary.refused - 20} more refused rows", err=True)


def _echo_preview(summary: Summary) -> None:
    for call in summary.preview:
        wait = None if call.answered_at is None else (call.answered_at - call.start).total_seconds()
        click.echo(
            f"line {call.line}: call {call.contact_id}, start {call.start.isoformat()}, "
            f"{call.outcome}, wait {_seconds(wait)}, queue {call.queue or '-'}, "
            f"agent {call.agent or '-'}, direct answer "
            f"{'-' if call.direct_answer is None else call.direct_answer}"
        )
    for month, phone in summary.figures.items():
        wait = phone["wait_seconds"]
        click.echo(
            f"{month}: offered {phone['offered']}, answered {phone['answered']}, abandoned "
            f"{phone['abandoned']}, service level {phone['service_level']} %, direct answers "
            f"{phone['direct_answer_rate']} %, wait mean {wait['mean']} median {wait['median']} "
            f"p90 {wait['p90']} s"
        )


def write_transaction(fn: Callable[[Session], Any]) -> Any:
    """Run ``fn`` in a write transaction of its own and commit it."""
    engine = get_engine()
    with Session(engine, expire_on_commit=False) as session, serialized_writes(engine):
        mark_write(session)
        result = fn(session)
        session.commit()
        return result


@calls_cli.command("import")
@click.option("--org", "slug", required=True)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--mapping",
    "mapping_name",
    default="generic",
    show_default=True,
    help="A preset (servicedesk calls presets) or a mapping file (TOML).",
)
@click.option(
    "--dry-run", "dry", is_flag=True, help="Show how rows map and what they give; store nothing."
)
def import_(slug: str, file: Path, mapping_name: str, dry: bool) -> None:
    """Import a call list (CSV or XLSX); again is harmless: its calls are duplicates."""
    mapping = _mapping(mapping_name)
    if file.stat().st_size > MAX_FILE_BYTES:
        raise click.ClickException(f"{file}: larger than 2 GB; export a shorter period")
    data = file.read_bytes()
    engine = get_engine()
    try:
        if dry:
            with Session(engine) as session:
                org = require_org(session, slug)
                _echo_summary(summary := dry_run(session, org, data, mapping), dry=True)
                _echo_preview(summary)
            return
        require_keys()
        with Session(engine, expire_on_commit=False) as session:
            org = require_org(session, slug)
        try:
            check_file(data, mapping)
        except FileProblem as exc:
            reason = str(exc)
            write_transaction(lambda s: keep_refused_upload(s, org, data, reason))
            raise
        row = write_transaction(
            lambda s: start_import(s, org, data, mapping, file_name=file.name, created_by="cli")
        )
        total = data.count(b"\n") + 1 if data[:2] != b"PK" else None
        with click.progressbar(
            length=total or 1, label=f"importing {file.name}", file=None, show_pos=True
        ) as bar:
            seen = [0]

            def progress(line: int) -> None:
                if total:
                    bar.update(line - seen[0])
                    seen[0] = line

            summary = run_import(
                write_transaction,
                org,
                row.id,
                data,
                mapping,
                pseudonym_key=current_app.config["PSEUDONYM_KEY"],
                progress=progress,
            )
            bar.update(max(0, (total or 1) - seen[0]))
    except (FileProblem, MappingError) as exc:
        raise click.ClickException(f"{file}: {exc}") from None
    if summary.resumed_after:
        click.echo(f"resumed after line {summary.resumed_after} of an interrupted import")
    _echo_summary(summary, dry=False)
    click.echo(f"import {summary.import_id}, delivery {summary.delivery_id}")


@calls_cli.command("presets")
def presets_() -> None:
    """The shipped mappings, each with the public source of its columns."""
    for name, mapping in sorted(presets().items()):
        click.echo(f"{name}\t{mapping.title}\t{mapping.source}")
