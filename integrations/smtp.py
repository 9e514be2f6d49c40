"""Sending e-mail over SMTP with the standard library, behind a Protocol.

The municipality's own mail server (or its provider's submission service) sends the survey
e-mails: ``starttls`` on port 587 is the usual submission, ``tls`` is implicit TLS on 465, and
``none`` is for a relay on the local network only. Errors never carry the recipient's address.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from typing import Protocol

from integrations.sms import scrub

TIMEOUT_SECONDS = 20.0
SECURITY = ("starttls", "tls", "none")


class MailError(Exception):
    """The message was not accepted. ``retry``: a later attempt may succeed."""

    def __init__(self, reason: str, *, retry: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry = retry


class MailSender(Protocol):
    """Something that sends one e-mail message."""

    def send(self, message: EmailMessage) -> None:
        """Hand the message to the mail system; raise MailError if it was not accepted."""
        ...


def _masked(text: str) -> str:
    """Server text without e-mail addresses or numbers in it."""
    words = ["[address]" if "@" in w else w for w in text.split()]
    return scrub(" ".join(words))


class SmtpSender:
    """A mail server reached over SMTP."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        security: str = "starttls",
        username: str = "",
        password: str = "",
        timeout: float = TIMEOUT_SECONDS,
        context: ssl.SSLContext | None = None,
    ) -> None:
        if security not in SECURITY:
            raise ValueError(f"security must be one of {', '.join(SECURITY)}")
        self.host = host
        self.port = port
        self.security = security
        self.username = username
        self.password = password
        self.timeout = timeout
        self.context = context or ssl.create_default_context()

    def _connect(self) -> smtplib.SMTP:
        if self.security == "tls":
            return smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=self.context
            )
        server = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if self.security == "starttls":
            try:
                server.starttls(context=self.context)
            except BaseException:
                server.close()
                raise
        return server

    def send(self, message: EmailMessage) -> None:
        try:
            with self._connect() as server:
                if self.username:
                    server.login(self.username, self.password)
                server.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            retry = all(400 <= c < 500 for c in codes)
            raise MailError(f"the server refused the recipient ({codes})", retry=retry) from None
        except smtplib.SMTPAuthenticationError as exc:
            raise MailError(f"sign-in refused: {exc.smtp_code}", retry=True) from None
        except smtplib.SMTPResponseException as exc:
            error = exc.smtp_error
            text = error.decode(errors="replace") if isinstance(error, bytes) else str(error or "")
            retry = 400 <= exc.smtp_code < 500
            raise MailError(f"SMTP {exc.smtp_code}: {_masked(text)}", retry=retry) from None
        except (TimeoutError, smtplib.SMTPServerDisconnected) as exc:
            raise MailError(
                f"the mail server did not answer ({type(exc).__name__})", retry=True
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(
                f"the mail server could not be reached ({type(exc).__name__})", retry=True
            ) from None
