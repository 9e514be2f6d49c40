"""The monthly report by e-mail: to a local SMTP server (aiosmtpd), the summary in the
recipient's language, the XLSX attached, retries and the delivery log of the notifications."""

from __future__ import annotations

import email
import email.policy
import io
from datetime import timedelta

import openpyxl
import sqlalchemy as sa

from servicedesk.audit.models import AuditEntry
from servicedesk.notify.models import NotificationDelivery, NotificationEndpoint
from servicedesk.notify.operations import add_endpoint, dispatch
from tests.reportfixtures import T0
from tests.smtpserver import closed_port


def _recipient(app, db, org, address="anna.andersson@kumla.se", language=""):
    row, _ = add_endpoint(
        db, org, "email", address, secret_key=app.config["SECRET_KEY"], language=language
    )
    db.commit()
    return row


def _dispatch(app, now=T0):
    with app.app_context():
        return dispatch(app.extensions["servicedesk.engine"], app.config["SECRET_KEY"], now=now)


def _parsed(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


def test_a_frozen_report_arrives_with_the_workbook_in_the_recipients_language(
    app, db, org, report, mail_config
):
    inbox = mail_config()
    _recipient(app, db, org)
    _recipient(app, db, org, "ola@kumla.se", "nb")
    made = report()
    assert _dispatch(app) == {"queued": 2, "delivered": 2, "retrying": 0, "failed": 0}
    assert _dispatch(app)["queued"] == 0, "each report once per recipient"
    by_to = {rcpt[0]: _parsed(raw) for _, rcpt, raw in inbox.messages}
    assert set(by_to) == {"anna.andersson@kumla.se", "ola@kumla.se"}
    sv = by_to["anna.andersson@kumla.se"]
    assert sv["Subject"] == "Månadsrapport Juni 2026: Kumla kommun (version 1)"
    assert sv["From"] == "Kumla kommun <rapporter@kumla.se>"
    body = sv.get_body(("plain",)).get_content()
    assert "Inkommande samtal: 1" in body
    assert "Enkelhet via telefon: –" in body
    assert made.sha256 in body
    assert "https://sd.kumla.se/reports/?month=2026-06" in body
    (attachment,) = list(sv.iter_attachments())
    assert attachment.get_filename() == "servicedesk-kumla-2026-06-v1.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(attachment.get_content()))
    assert book.sheetnames[:2] == ["Rapport", "Telefon"]
    assert book["Telefon"]["D2"].value == 1
    nb = by_to["ola@kumla.se"]
    assert nb["Subject"].startswith("Månedsrapport Juni 2026")
    assert "Innkommende anrop: 1" in nb.get_body(("plain",)).get_content()
    db.rollback()
    deliveries = db.scalars(sa.select(NotificationDelivery)).all()
    assert {(d.status, d.attempts, d.last_status) for d in deliveries} == {("delivered", 1, 250)}


def test_refusals_outages_and_a_missing_server_are_logged_and_retried(
    app, db, org, report, mail_config
):
    _recipient(app, db, org, "fel@kumla.se")
    report()
    # No mail server configured yet: kept and retried, the reason in the log.
    app.config.update(SMTP_HOST="", MAIL_FROM="")
    assert _dispatch(app)["retrying"] == 1
    db.rollback()
    (delivery,) = db.scalars(sa.select(NotificationDelivery)).all()
    assert "SERVICEDESK_SMTP_HOST" in delivery.last_error
    # The server is down: retried after the backoff, the address never in the log.
    mail_config(port=closed_port())
    assert _dispatch(app, T0 + timedelta(minutes=2))["retrying"] == 1
    # The server refuses the recipient for good (550): given up at once.
    mail_config(refuse=True)
    assert _dispatch(app, T0 + timedelta(minutes=10))["failed"] == 1
    db.rollback()
    (delivery,) = db.scalars(sa.select(NotificationDelivery)).all()
    assert delivery.status == "failed" and delivery.attempts == 3
    assert all("fel@" not in (entry["error"] or "") for entry in delivery.log)


def test_cli_adds_recipients_and_mails_on_demand(app, runner, db, org, report, mail_config):
    inbox = mail_config()
    base = ["notify", "add", "--org", "kumla", "--kind", "email"]
    added = runner.invoke(args=[*base, "--to", "karin@kumla.se", "--lang", "en"])
    assert added.exit_code == 0, added.output
    listing = runner.invoke(args=["notify", "list", "--org", "kumla"]).stdout
    assert "k…@kumla.se" in listing and "karin@" not in listing
    db.rollback()
    row = db.scalars(sa.select(NotificationEndpoint)).one()
    assert row.language == "en" and "karin" not in row.url_sealed
    db.rollback()  # end the read before the test's session writes the report
    for bad in (["--to", "not an address"], ["--to", "a@b.se\nBcc: x@y.se"], []):
        refused = runner.invoke(args=[*base, *bad])
        assert refused.exit_code != 0 and "--to" in refused.output
    report()
    sent = runner.invoke(args=["notify", "mail", "--org", "kumla", "--month", "2026-06"])
    assert sent.exit_code == 0, sent.output
    assert "k…@kumla.se\tsent" in sent.stdout
    once = runner.invoke(
        args=["notify", "mail", "--org", "kumla", "--month", "2026-06", "--to", "chef@kumla.se"]
    )
    assert once.exit_code == 0, once.output
    subjects = {rcpt[0]: _parsed(raw)["Subject"] for _, rcpt, raw in inbox.messages}
    assert subjects["karin@kumla.se"].startswith("Monthly report June 2026")
    assert subjects["chef@kumla.se"].startswith("Månadsrapport")  # the country's language
    db.rollback()
    assert (
        db.scalars(sa.select(sa.func.count()).where(AuditEntry.action == "report.mail")).one() == 2
    )
    missing = runner.invoke(args=["notify", "mail", "--org", "kumla", "--month", "2026-01"])
    assert missing.exit_code != 0 and "--month" in missing.output
