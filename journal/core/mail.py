"""E-mail to people: invitations, reset links, care-team news. Never clinical words.

A message is handed over only after the unit of work that caused it commits
(`Work.send_mail`), so a refused operation sends nothing. With an SMTP server set
(`smtp_host`), messages go there; without one, each is written as a file in the
instance's `outbox/` folder, readable only by the server's account, for a trial
install and the tests. Either way nobody using the web pages sees a message's
links: they reach the person they are addressed to.

Every message has a plain-text and an HTML part, both rendered from one template
(`templates/mail/message.j2`, the HTML autoescaped) with the clinic's name, and may
carry one attachment (an appointment's calendar file).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import smtplib
import ssl
import time
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

if TYPE_CHECKING:
    from journal.config import Settings

log = logging.getLogger(__name__)

OUTBOX = "outbox"
SMTP_TIMEOUT = 30  # seconds: a server that hangs fails the attempt, which is retried


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # "text/calendar; method=REQUEST"
    data: str


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str
    kind: str  # "invite", "reset", "care_team", ...: what the audit trail and admin see
    key: str  # unique per message: the same key is never sent twice
    user_id: uuid.UUID | None = None
    link_id: uuid.UUID | None = None  # a password link, made when sent: LINK in the body
    attachment: Attachment | None = None


LINK = "[[password link]]"  # where the worker puts a password link's URL as it sends


TEMPLATE = "message.j2"
TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "mail"
# A web address, without the full stop or bracket that may follow it in a sentence.
URL_RE = re.compile(r"https?://[^\s<>\"]*[^\s<>\".,;:!?)]")


@lru_cache(maxsize=2)
def _environment(html: bool) -> Environment:
    # One template makes both parts; only the HTML rendering escapes what it prints.
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=html,  # noqa: S701 (the text part is not HTML; the HTML part escapes)
        keep_trailing_newline=True,
        undefined=StrictUndefined,
    )
    env.filters["linked"] = _linked
    return env


def _linked(line: str) -> Markup:
    """A line of a message as HTML: escaped, its web addresses made links."""
    parts: list[str] = []
    last = 0
    for found in URL_RE.finditer(line):
        url = found.group(0)
        parts += [escape(line[last : found.start()]), Markup('<a href="{0}">{0}</a>').format(url)]
        last = found.end()
    parts.append(escape(line[last:]))
    return Markup("").join(parts)


def render(clinic: str, subject: str, body: str, language: str = "en") -> tuple[str, str]:
    """The plain text and the HTML of a message, from the same template; `language`
    is the one the message is written in (the HTML part's `lang`)."""
    paragraphs = [p.strip("\n").split("\n") for p in body.strip().split("\n\n") if p.strip()]
    values = {"clinic": clinic, "subject": subject, "paragraphs": paragraphs, "lang": language}
    text = _environment(False).get_template(TEMPLATE).render(html=False, **values)
    html = _environment(True).get_template(TEMPLATE).render(html=True, **values)
    return text, html


def compose(
    settings: Settings,
    to: str,
    subject: str,
    body: str,
    key: str,
    headers: dict[str, str] | None = None,
    attachment: Attachment | None = None,
    language: str = "en",
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    # The same for every attempt: a receiving server drops a copy it already has.
    domain = settings.mail_from.rpartition("@")[2].strip("> ") or "localhost"
    message["Message-ID"] = f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"
    for name, value in (headers or {}).items():
        message[name] = value
    text, html = render(settings.clinic_name, subject, body, language)
    message["Content-Language"] = language
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    if attachment is not None:
        maintype, _, rest = attachment.content_type.partition("/")
        subtype, *params = (p.strip() for p in rest.split(";"))
        message.add_attachment(
            attachment.data.encode(),  # bytes, in base64: a calendar's CRLF lines kept as made
            maintype=maintype,
            subtype=subtype,
            filename=attachment.filename,
            params=dict(p.split("=", 1) for p in params if "=" in p),
        )
    return message


def deliver(settings: Settings, message: EmailMessage) -> None:
    """Hand one message to the SMTP server (or the outbox folder); raises on failure."""
    if not settings.smtp_host:
        _to_outbox(settings.instance_path / OUTBOX, message)
        return
    if settings.smtp_security == "tls":
        with smtplib.SMTP_SSL(
            settings.smtp_host,
            settings.smtp_port,
            timeout=SMTP_TIMEOUT,
            context=ssl.create_default_context(),
        ) as smtp:
            _send(smtp, settings, message)
        return
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT) as smtp:
        if settings.smtp_security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        _send(smtp, settings, message)


def _send(smtp: smtplib.SMTP, settings: Settings, message: EmailMessage) -> None:
    if settings.smtp_user:
        smtp.login(settings.smtp_user, settings.smtp_password)
    smtp.send_message(message)


def _to_outbox(folder: Path, message: EmailMessage) -> None:
    folder.mkdir(mode=0o700, exist_ok=True)
    path = folder / f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.eml"  # sorts by time
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(message.as_bytes())
    log.info("no smtp_host set: message kept in %s", path.name)


def outbox_messages(instance_path: Path) -> list[EmailMessage]:
    """The messages kept in the outbox, oldest first (a trial install, the tests)."""
    from email import message_from_bytes, policy

    folder = instance_path / OUTBOX
    if not folder.exists():
        return []
    files = sorted(folder.glob("*.eml"))
    found = []
    for path in files:
        parsed = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        found.append(parsed)
    return found
