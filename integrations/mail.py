"""E-mail threading shared by the inbound e-mail adapters (Mailgun, Postmark).

A citizen's message starts or continues a contact (``email.received``); a message from one of the
service desk's own addresses answers it (``email.replied``). Messages are tied into one contact by
Message-ID / In-Reply-To / References; when a mail program dropped those, by the plus-address
token the desk put in its Reply-To, and last by the citizen's address with the subject.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any, ClassVar, Self

from integrations.base import (
    AdapterStorage,
    MemoryThreadIndex,
    OptionsAdapter,
    ThreadIndex,
    bounded,
    rfc3339,
)

_MSG_ID = re.compile(r"<([^<>\s]+)>")
_REPLY_PREFIX = re.compile(
    r"^\s*((re|sv|svar|aw|antw|fw|fwd|vb|vs|wg|tr|ref)\s*(\[\d+\])?\s*:\s*|\[[^\]]{1,40}\]\s*)+",
    re.IGNORECASE,
)
#: A Date header further from the arrival than this is not believed (wrong clocks, old drafts).
DATE_TRUST_PAST = timedelta(days=2)
DATE_TRUST_FUTURE = timedelta(minutes=5)


def message_ids(value: str | None) -> list[str]:
    """The ids in a Message-ID / In-Reply-To / References header, without angle brackets."""
    if not value:
        return []
    found = _MSG_ID.findall(value)
    if found:
        return found
    bare = value.strip()
    return [bare] if bare and " " not in bare else []


def normalise_subject(subject: str | None) -> str:
    """The subject without reply/forward prefixes and tags, lower-case, spaces folded."""
    text = _REPLY_PREFIX.sub("", subject or "")
    return " ".join(text.split()).lower()


def is_reply_subject(subject: str | None) -> bool:
    return bool(subject) and bool(_REPLY_PREFIX.match(subject or ""))


def addresses(value: str | Sequence[str] | None) -> list[str]:
    """Bare, lower-case addresses from header text (or a list of header texts)."""
    if not value:
        return []
    values = [value] if isinstance(value, str) else list(value)
    return [addr.lower() for _, addr in getaddresses(values) if "@" in addr]


def split_plus(address: str) -> tuple[str, str | None]:
    """``kontakt+4711@kumla.se`` -> (``kontakt@kumla.se``, ``4711``)."""
    local, _, domain = address.partition("@")
    base, plus, token = local.partition("+")
    return f"{base}@{domain}", (token or None) if plus else None


@dataclass
class InboundMessage:
    """The parts of one e-mail that threading and the metrics need."""

    message_id: str | None
    in_reply_to: list[str]
    references: list[str]
    sender: str | None
    recipients: list[str]
    subject: str | None
    date: datetime | None
    arrived_at: datetime
    reply_to: list[str] = field(default_factory=list)
    #: The plus-address token the provider already split out (Postmark's MailboxHash).
    mailbox_hash: str | None = None
    #: The provider's own id for the message, used when there is no Message-ID.
    provider_id: str | None = None


def parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo is not None else None


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def _contact_id(message_id: str) -> str:
    return message_id if len(message_id) <= 256 else "msg:" + _digest(message_id)


class MailAdapter(OptionsAdapter):
    """What the inbound e-mail adapters share: each thread's messages found again through the
    core's thread index (every worker sees it), so verifying and parsing write."""

    name: ClassVar[str]
    channel = "email"
    stateful = True

    def __init__(
        self, options: Mapping[str, Any] | None = None, *, threads: ThreadIndex | None = None
    ) -> None:
        super().__init__(options)
        self.threader = Threader(self.name, self.options, threads or MemoryThreadIndex())

    @classmethod
    def build(cls, options: Mapping[str, Any], storage: AdapterStorage) -> Self:
        return cls(options, threads=storage.threads())


class Threader:
    """Turns inbound messages into email events, per integration options.

    Options: ``desk_addresses`` (the service desk's own addresses), ``desk_domains`` (every
    address at these domains is the desk's), ``queues`` (desk address -> queue), ``queue``.
    """

    def __init__(
        self, provider: str, options: Mapping[str, Any], index: ThreadIndex | None = None
    ) -> None:
        self.provider = provider
        self.desk_addresses = {a.lower() for a in options.get("desk_addresses", [])}
        self.desk_domains = {d.lower().lstrip("@") for d in options.get("desk_domains", [])}
        self.queues = {k.lower(): v for k, v in (options.get("queues") or {}).items()}
        self.default_queue = options.get("queue")
        self.index: ThreadIndex = index if index is not None else MemoryThreadIndex()

    def is_desk(self, address: str | None) -> bool:
        if not address:
            return False
        base, _ = split_plus(address.lower())
        return base in self.desk_addresses or base.partition("@")[2] in self.desk_domains

    def _subject_key(self, citizen: str | None, subject: str | None) -> str | None:
        normal = normalise_subject(subject)
        if not citizen or not normal:
            return None
        return "subj:" + _digest(split_plus(citizen)[0] + "\n" + normal)

    def _plus_tokens(self, msg: InboundMessage) -> list[str]:
        """Plus-address tokens the message was sent to (``kontakt+4711@``, Postmark's
        MailboxHash). Only looked up: a token joins a contact only when the desk issued it in
        the Reply-To of one of its own replies; any other is just the part after the +."""
        tokens = []
        if msg.mailbox_hash:
            tokens.append(msg.mailbox_hash)
        for address in msg.recipients:
            base, token = split_plus(address)
            if token and self.is_desk(base):
                tokens.append(token)
        return ["plus:" + t for t in dict.fromkeys(tokens)]

    def _queue(self, msg: InboundMessage, query_queue: str | None) -> str | None:
        for address in [*msg.recipients, msg.sender or ""]:
            queue = self.queues.get(split_plus(address)[0])
            if queue:
                return bounded(queue, 128)
        return bounded(query_queue or self.default_queue, 128)

    def _occurred_at(self, msg: InboundMessage) -> datetime:
        date = msg.date
        if date is not None and (
            msg.arrived_at - DATE_TRUST_PAST <= date <= msg.arrived_at + DATE_TRUST_FUTURE
        ):
            return date
        return msg.arrived_at

    def events(
        self, msg: InboundMessage, *, query_queue: str | None = None
    ) -> list[dict[str, Any]]:
        """The one event this message stands for (none for the desk's own new messages)."""
        from_desk = self.is_desk(msg.sender)
        citizen = (
            next((a for a in msg.recipients if not self.is_desk(a)), None)
            if from_desk
            else msg.sender
        )
        own_id = msg.message_id or msg.provider_id
        if not own_id:
            own_id = "nomid:" + _digest(f"{msg.sender}|{msg.subject}|{msg.date}")
        linked = [*reversed(msg.references), *msg.in_reply_to]
        tokens = self._plus_tokens(msg)
        subject_key = self._subject_key(citizen, msg.subject)
        keys = ["msg:" + m for m in linked] + tokens
        if subject_key and (from_desk or is_reply_subject(msg.subject)):
            # The last resort, also when the ids it names are unknown: the citizen's message
            # had no Message-ID, or the desk's mailbox saw one its provider never passed on.
            keys.append(subject_key)
        contact = self.index.find(keys)
        if contact is None:
            if msg.references:
                contact = _contact_id(msg.references[0])
            elif msg.in_reply_to:
                contact = _contact_id(msg.in_reply_to[0])
            elif from_desk:
                # The desk writing first is not a citizen's contact.
                return []
            else:
                contact = _contact_id(own_id)
        remember = ["msg:" + own_id]
        if subject_key:
            remember.append(subject_key)
        if from_desk:
            # The desk's Reply-To plus token lets a citizen's fresh message join this contact.
            for address in msg.reply_to:
                base, token = split_plus(address)
                if token and self.is_desk(base):
                    remember.append("plus:" + token)
        self.index.remember(remember, contact)
        event: dict[str, Any] = {
            "id": f"{self.provider}:" + _digest(own_id),
            "type": "email.replied" if from_desk else "email.received",
            "contact_id": contact,
            "occurred_at": rfc3339(self._occurred_at(msg)),
        }
        queue = self._queue(msg, query_queue)
        if queue:
            event["queue"] = queue
        if not from_desk and msg.sender:
            event["caller"] = bounded(msg.sender, 320)
        elif from_desk and citizen:
            # The desk's answer names its recipient: the citizen, when it goes back to whoever
            # wrote. Pseudonymised on arrival like every caller; the survey takes the address
            # from here only when it is the contact's own sender's (surveys/capture.py).
            event["caller"] = bounded(citizen, 320)
        return [event]


__all__ = ["InboundMessage", "MemoryThreadIndex", "Threader", "ThreadIndex"]
