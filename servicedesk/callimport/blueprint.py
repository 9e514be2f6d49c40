"""Settings → Call lists: upload, pick or edit a mapping, preview, import, see and download
the result. Administrators only, of their own organisation."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlmodel import Session, col
from werkzeug.exceptions import RequestEntityTooLarge

from servicedesk.audit import record
from servicedesk.auth.access import SETTINGS, current_org, roles_required
from servicedesk.auth.forms import EmptyForm
from servicedesk.callimport.exports import refused_csv
from servicedesk.callimport.forms import CUSTOM, UploadForm, mapping_choices
from servicedesk.callimport.mapping import Mapping, MappingError, parse_mapping, presets
from servicedesk.callimport.models import CallImport
from servicedesk.callimport.readers import FileProblem
from servicedesk.callimport.service import (
    PREVIEW_ROWS,
    drop_stale_previews,
    dry_run,
    file_sha256,
    keep_refused_upload,
    run_import,
    start_import,
)
from servicedesk.db import get_session, unit_of_work

bp = Blueprint("settings_calls", __name__, url_prefix="/settings/calls")

#: Refused rows listed on a page (all of the kept ones are in the download).
REFUSED_SHOWN = 50


def _write(fn: Any) -> Any:
    """Run ``fn`` in a unit of work of the request's session (each chunk of an import is one)."""
    with unit_of_work() as db:
        return fn(db)


def _imports() -> list[CallImport]:
    return list(
        get_session().scalars(
            sa.select(CallImport)
            .where(
                col(CallImport.organisation_id) == current_org().id,
                col(CallImport.status) != "preview",
            )
            .order_by(col(CallImport.id).desc())
            .limit(20)
        )
    )


def _last_mapping() -> str | None:
    return (
        get_session()
        .scalars(
            sa.select(col(CallImport.mapping_text))
            .where(
                col(CallImport.organisation_id) == current_org().id,
                col(CallImport.status) != "preview",
            )
            .order_by(col(CallImport.id).desc())
            .limit(1)
        )
        .first()
    )


def _form() -> UploadForm:
    form = UploadForm()
    form.mapping.choices = mapping_choices(_last_mapping() is not None)
    if form.mapping_text.data is None and not form.is_submitted():
        form.mapping_text.data = presets()["generic"].text
    return form


def _index(form: UploadForm, error: str | None = None, status: int = 200) -> Any:
    limit = current_app.config["CALL_IMPORT_MAX_BYTES"]
    return (
        render_template(
            "callimport/index.html",
            form=form,
            imports=_imports(),
            error=error,
            limit_mb=limit / 1_000_000,
            presets=presets(),
        ),
        status,
    )


@bp.get("/")
@roles_required(*SETTINGS)
def index() -> Any:
    return _index(_form())


def _chosen_mapping(form: UploadForm) -> Mapping:
    choice = form.mapping.data
    if choice == CUSTOM:
        return parse_mapping(form.mapping_text.data or "")
    if choice == "last":
        text = _last_mapping()
        if text is None:
            raise MappingError(_("There is no earlier import to take the mapping from."))
        return parse_mapping(text)
    return presets()[choice]


@bp.post("/preview")
@roles_required(*SETTINGS)
def preview() -> Any:
    limit = current_app.config["CALL_IMPORT_MAX_BYTES"]
    # The form's other fields and the multipart framing come on top of the file itself.
    request.max_content_length = limit + 100_000
    too_large = _("The file is larger than %(mb)s MB. Import it with the command line instead.")
    try:
        form = _form()
        submitted = form.validate_on_submit()
    except RequestEntityTooLarge:
        return _index(UploadForm(formdata=None), too_large % {"mb": limit // 1_000_000}, 413)
    if not submitted:
        return _index(form, _("Choose a file and a mapping."))
    data = form.file.data.read(limit + 1)
    if len(data) > limit:
        return _index(form, too_large % {"mb": limit // 1_000_000}, 413)
    try:
        mapping = _chosen_mapping(form)
    except MappingError as exc:
        return _index(form, _("The mapping cannot be used: %(why)s", why=str(exc)), 422)
    org = current_org()
    try:
        # Read once here, so a file that cannot be read is said at once, on the upload form.
        dry_run(get_session(), org, data, mapping, preview_rows=0)
    except FileProblem as exc:
        reason = str(exc)
        _write(lambda db: keep_refused_upload(db, org, data, reason))
        return _index(form, _("The file cannot be read: %(why)s", why=reason), 422)
    file_name = (form.file.data.filename or "calls")[:255]

    def keep(db: Session) -> int:
        drop_stale_previews(db)
        row = CallImport(
            organisation_id=org.id,
            file_sha256=file_sha256(data),
            file_name=file_name,
            size_bytes=len(data),
            mapping_name=mapping.name,
            mapping_text=mapping.text,
            status="preview",
            created_by=current_user.email,
            upload=data,
        )
        db.add(row)
        db.flush()
        return int(row.id)

    # Shown by a GET of its own, so a reload or a change of language shows it again.
    return redirect(url_for(".show_preview", import_id=_write(keep)), 303)


@bp.get("/<int:import_id>/preview")
@roles_required(*SETTINGS)
def show_preview(import_id: int) -> Any:
    row = _own(import_id)
    if row.status != "preview":
        return redirect(url_for(".result", import_id=import_id), 303)
    mapping = parse_mapping(row.mapping_text)
    org = current_org()
    summary = dry_run(get_session(), org, row.upload or b"", mapping, preview_rows=PREVIEW_ROWS)
    return render_template(
        "callimport/preview.html",
        summary=summary,
        mapping=mapping,
        file_name=row.file_name,
        preview_id=row.id,
        button=EmptyForm(),
        refused=summary.refusals[:REFUSED_SHOWN],
        zone=mapping.timezone(org.timezone),
    )


def _own(import_id: int) -> CallImport:
    row = get_session().get(CallImport, import_id)
    if row is None or row.organisation_id != current_user.organisation_id:
        abort(404)
    return row


@bp.post("/<int:import_id>/import")
@roles_required(*SETTINGS)
def run(import_id: int) -> Any:
    if not EmptyForm().validate_on_submit():
        abort(400)
    row = _own(import_id)
    if row.status != "preview":
        # Imported already (the button pressed twice, or the page reloaded): show the result.
        return redirect(url_for(".result", import_id=import_id), 303)
    data, file_name = row.upload or b"", row.file_name
    try:
        mapping = parse_mapping(row.mapping_text)
    except MappingError:  # pragma: no cover - it was parsed before it was stored
        abort(422)
    org = current_org()
    actor = current_user.email

    def begin(db: Session) -> int:
        preview = db.get(CallImport, import_id)
        started = start_import(
            db, org, data, mapping, file_name=file_name, created_by=actor, preview=preview
        )
        details = {"import": started.id, "file": file_name, "mapping": mapping.name}
        record(db, org.id, actor, "calls.import", details)
        return int(started.id)

    started_id = _write(begin)
    try:
        summary = run_import(
            _write,
            org,
            started_id,
            data,
            mapping,
            pseudonym_key=current_app.config["PSEUDONYM_KEY"],
        )
    except (FileProblem, MappingError) as exc:  # pragma: no cover - read once in the preview
        flash(_("The file cannot be read: %(why)s", why=str(exc)), "error")
        return redirect(url_for(".index"), 303)
    flash(
        _(
            "Imported: %(new)s new calls, %(dup)s already stored, %(refused)s rows refused.",
            new=summary.imported,
            dup=summary.duplicates,
            refused=summary.refused,
        ),
        "success",
    )
    return redirect(url_for(".result", import_id=started_id), 303)


@bp.get("/<int:import_id>")
@roles_required(*SETTINGS)
def result(import_id: int) -> Any:
    row = _own(import_id)
    if row.status == "preview":
        abort(404)
    return render_template(
        "callimport/result.html", row=row, refused=row.refused_rows[:REFUSED_SHOWN]
    )


@bp.get("/<int:import_id>/refused.csv")
@roles_required(*SETTINGS)
def refused(import_id: int) -> Response:
    row = _own(import_id)
    if row.status == "preview":
        abort(404)
    body = refused_csv(row.refused_rows, {"line": _("Line"), "reason": _("Reason")})
    response = Response("\ufeff" + body, mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="call-import-{row.id}-refused.csv"'
    )
    return response
