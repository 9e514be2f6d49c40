"""The monthly report by e-mail: a summary in the recipient's language in the body, the XLSX
in that language attached, a link to the Reports page. Sent over SMTP with the settings of the
environment (``SERVICEDESK_SMTP_*``, ``SERVICEDESK_MAIL_FROM``) through ``integrations.smtp``,
the client the citizen surveys use; the retries and the delivery log are the notifications'
(``operations.dispatch``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any
from urllib.parse import urlencode

from flask import current_app
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _

from integrations.notifications import Attempt
from integrations.smtp import MailError, MailSender, SmtpSender
from servicedesk.formatting import apply, month_label
from servicedesk.metrics.catalogue import CARD_GROUPS
from servicedesk.reports.exports import DOCUMENT_FORMATS
from servicedesk.reports.workbook import LANGUAGES, report_xlsx

#: A plain address: something@domain.tld, no spaces, no display name, no line breaks.
ADDRESS = re.compile(r"^[^@\s<>,;\"]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$")


class MailNotConfigured(Exception):
    """No mail server is configured (SERVICEDESK_SMTP_HOST and SERVICEDESK_MAIL_FROM)."""


def valid_address(address: str) -> bool:
    return bool(ADDRESS.fullmatch(address.strip()))


def address_hint(address: str) -> str:
    """What lists show of a recipient: the first letter and the domain ("a…@kumla.se")."""
    local, _at, domain = address.partition("@")
    return f"{local[:1]}…@{domain}"


def configured_sender() -> MailSender:
    """The SMTP client of the environment's settings."""
    config = current_app.config
    if not config.get("SMTP_HOST") or not config.get("MAIL_FROM"):
        raise MailNotConfigured(
            "no mail server: set SERVICEDESK_SMTP_HOST and SERVICEDESK_MAIL_FROM"
        )
    return SmtpSender(
        config["SMTP_HOST"],
        int(config.get("SMTP_PORT") or 587),
        security=config.get("SMTP_SECURITY") or "starttls",
        username=config.get("SMTP_USERNAME") or "",
        password=config.get("SMTP_PASSWORD") or "",
    )


def _one_line(text: Any) -> str:
    """Header-safe text: no line breaks (an organisation's name is someone's input)."""
    return " ".join(str(text).split())


def _month_start(month: str) -> Any:
    from datetime import date

    year, number = month.split("-")
    return date(int(year), int(number), 1)


def summary(doc: Mapping[str, Any]) -> list[str]:
    """The report's figures as lines of text, in the current language: the Month page's cards."""
    lines: list[str] = []
    for heading, figures in CARD_GROUPS:
        lines += ["", str(heading)]
        for fig in figures:
            value: Any = doc
            for part in fig.path.split("."):
                value = value.get(part) if isinstance(value, Mapping) else None
            line = f"- {fig.label}: {apply(value, fig.fmt)}"
            if fig.is_survey:
                figure = doc.get("survey_headline", {}).get(fig.parent.split(".")[-1]) or {}
                n = figure.get("responses") or 0
                extra = [ngettext("%(num)s answer", "%(num)s answers", n)]
                if figure.get("ci95"):
                    low, high = figure["ci95"]["low"], figure["ci95"]["high"]
                    extra.append(
                        _(
                            "95 %% interval %(low)s–%(high)s",
                            low=apply(low, "index"),
                            high=apply(high, "index"),
                        )
                    )
                if n and figure.get("small_sample"):
                    extra.append(_("few answers"))
                line += f" ({', '.join(extra)})"
            lines.append(line)
    return lines


def report_message(
    doc: Mapping[str, Any], to: str, lang: str, *, sender: str, public_url: str
) -> EmailMessage:
    """The e-mail of one frozen report to one recipient, in ``lang``."""
    if lang not in LANGUAGES:
        lang = "en"
    with force_locale(lang):
        name = _one_line(doc.get("organisation_name") or doc.get("organisation"))
        month = month_label(_month_start(str(doc["month"])))
        subject = _(
            "Monthly report %(month)s: %(name)s (version %(v)s)",
            month=month,
            name=name,
            v=doc.get("version"),
        )
        link = ""
        if public_url:
            link = f"{public_url.rstrip('/')}/reports/?{urlencode({'month': doc['month']})}"
        body = [
            _("The monthly report of %(name)s for %(month)s is frozen.", name=name, month=month),
            _(
                "Version %(v)s, checksum (SHA-256) %(sha)s.",
                v=doc.get("version"),
                sha=doc.get("sha256", ""),
            ),
            *summary(doc),
            "",
            _("Every queue's figures, the days and the definitions are in the attached workbook."),
        ]
        if link:
            body.append(_("The report on the Reports page: %(link)s", link=link))
        body += ["", _("This message was sent by servicedesk to the report's recipients.")]
        workbook = report_xlsx(dict(doc), lang)
        filename = f"servicedesk-{doc['organisation']}-{doc['month']}-v{doc['version']}.xlsx"
    message = EmailMessage()
    message["From"] = formataddr((name, sender)) if name else sender
    message["To"] = to
    message["Subject"] = _one_line(subject)
    message["Message-ID"] = make_msgid(domain=sender.partition("@")[2] or None)
    message["Content-Language"] = lang
    message.set_content("\n".join(body) + "\n")
    maintype, subtype = DOCUMENT_FORMATS["xlsx"][1].split("/")
    message.add_attachment(workbook, maintype=maintype, subtype=subtype, filename=filename)
    return message


def send_report(mailer: MailSender, doc: Mapping[str, Any], to: str, lang: str) -> Attempt:
    """One attempt to send the report to one recipient, as the notifications log it."""
    config = current_app.config
    try:
        message = report_message(
            doc,
            to,
            lang,
            sender=str(config.get("MAIL_FROM") or ""),
            public_url=str(config.get("PUBLIC_URL") or ""),
        )
        mailer.send(message)
    except MailError as exc:
        return Attempt(False, error=exc.reason, retry=exc.retry)
    return Attempt(True, status=250)
