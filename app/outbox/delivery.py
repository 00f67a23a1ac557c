"""Delivering outbox messages, at most once.

A message is *claimed* (pending -> sending, attempts + 1) and that claim committed before
anything leaves the platform; the outcome is recorded in a second transaction. If the worker
dies in between, the message stays ``sending``; ``recover_stale`` later marks it ``unknown``
(it may or may not have gone out) instead of sending it again. Staff may requeue it by hand.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app
from sqlalchemy import select, update

from app.extensions import db
from app.outbox.models import OutboxMessage, OutboxStatus
from app.timeutil import utcnow

log = logging.getLogger("puente.outbox")

STALE_AFTER = timedelta(minutes=10)
BATCH = 100


class TransientError(Exception):
    """Not delivered, known for sure; try again later."""


class PermanentError(Exception):
    """Refused for good (bad address, rejected content); do not retry."""


class UncertainError(Exception):
    """The connection broke while handing the message over: it may have been delivered."""


@dataclass
class Sent:
    transport: str
    provider_message_id: str | None = None


class Transport(Protocol):
    name: str

    def send(self, msg: OutboxMessage) -> Sent: ...


class OutboxViewerTransport:
    """The embedded default: nothing leaves; the outbox page shows the message as sent."""

    name = "outbox-viewer"

    def send(self, msg: OutboxMessage) -> Sent:
        return Sent(self.name, f"<outbox-{msg.id}@puente.local>")


class SmtpTransport:
    """SMTP from ``SMTP_URL``: smtp://user:pass@host:587?starttls=1, or smtps://host:465."""

    name = "smtp"

    def __init__(self, url: str, sender: str, timeout: float = 20.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError("SMTP_URL debe comenzar con smtp:// o smtps://")
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (465 if parts.scheme == "smtps" else 25)
        self.ssl = parts.scheme == "smtps"
        query = parse_qs(parts.query)
        self.starttls = query.get("starttls", ["0"])[0] in ("1", "true", "yes")
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.sender = sender
        self.timeout = timeout

    def build(self, msg: OutboxMessage) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = formataddr((msg.recipient_name or "", msg.recipient))
        email["Subject"] = msg.subject
        # Stable per outbox row: a receiving system can tell a repeat from a new message.
        domain = self.sender.rsplit("@", 1)[-1].strip(">") or "puente.local"
        email["Message-ID"] = f"<outbox-{msg.id}-{msg.dedupe_key.replace(':', '-')}@{domain}>"
        email.set_content(msg.body_text)
        if msg.body_html:
            email.add_alternative(msg.body_html, subtype="html")
        return email

    def send(self, msg: OutboxMessage) -> Sent:
        email = self.build(msg)
        try:
            if self.ssl:
                client: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                                        context=ssl.create_default_context())
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        except OSError as exc:
            raise TransientError(f"no se pudo conectar a {self.host}:{self.port}: {exc}") from exc
        try:
            client.ehlo()
            if self.starttls:
                client.starttls(context=ssl.create_default_context())
                client.ehlo()
            if self.username:
                client.login(self.username, self.password or "")
            refused = client.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentError(f"destinatario rechazado: {_codes(exc.recipients)}") from exc
        except smtplib.SMTPSenderRefused as exc:
            raise _by_code(exc.smtp_code, f"remitente rechazado ({exc.smtp_code})") from exc
        except smtplib.SMTPDataError as exc:
            raise _by_code(exc.smtp_code, f"contenido rechazado ({exc.smtp_code})") from exc
        except smtplib.SMTPAuthenticationError as exc:
            raise TransientError(f"autenticación SMTP rechazada ({exc.smtp_code})") from exc
        except smtplib.SMTPServerDisconnected as exc:
            raise UncertainError(f"el servidor cortó la conexión: {exc}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise TransientError(f"error SMTP: {exc}") from exc
        finally:
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()
        if refused:
            raise PermanentError(f"destinatario rechazado: {_codes(refused)}")
        return Sent(self.name, str(email["Message-ID"]))


def _codes(recipients: dict[str, tuple[int, bytes]]) -> str:
    return ", ".join(str(code) for code, _m in recipients.values())


def _by_code(code: int, text: str) -> Exception:
    return PermanentError(text) if 500 <= code < 600 else TransientError(text)


def transport_for(channel: str) -> Transport:
    if channel == "email" and current_app.config.get("SMTP_URL"):
        return SmtpTransport(current_app.config["SMTP_URL"], current_app.config["MAIL_FROM"])
    return OutboxViewerTransport()


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8 … minutes, capped at 6 hours."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 360))


def claim(message_id: int) -> OutboxMessage | None:
    """Take a due message for sending, committed before it is sent. None if not ours."""
    now = utcnow()
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == OutboxStatus.PENDING,
               OutboxMessage.next_attempt_at <= now)
        .values(status=OutboxStatus.SENDING, claimed_at=now, attempts=OutboxMessage.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return db.session.get(OutboxMessage, message_id, populate_existing=True)


def deliver_one(message_id: int, transport: Transport | None = None) -> OutboxStatus | None:
    msg = claim(message_id)
    if msg is None:
        return None
    transport = transport or transport_for(msg.channel)
    try:
        sent = transport.send(msg)
    except TransientError as exc:
        if msg.attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]:
            msg.status = OutboxStatus.FAILED
        else:
            msg.status = OutboxStatus.PENDING
            msg.next_attempt_at = utcnow() + backoff(msg.attempts)
        msg.last_error = str(exc)[:1000]
    except PermanentError as exc:
        msg.status = OutboxStatus.FAILED
        msg.last_error = str(exc)[:1000]
    except UncertainError as exc:
        msg.status = OutboxStatus.UNKNOWN
        msg.last_error = str(exc)[:1000]
    else:
        msg.status = OutboxStatus.SENT
        msg.sent_at = utcnow()
        msg.transport = sent.transport
        msg.provider_message_id = sent.provider_message_id
        msg.last_error = None
    db.session.commit()
    log.info("outbox id=%s kind=%s status=%s attempts=%s", msg.id, msg.kind, msg.status.value,
             msg.attempts)
    return msg.status


def due_ids(limit: int = BATCH) -> list[int]:
    return list(db.session.scalars(
        select(OutboxMessage.id)
        .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= utcnow())
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    ))


def recover_stale() -> int:
    """Messages stuck in ``sending`` (a worker died mid-send) become ``unknown``, never resent."""
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.SENDING,
               OutboxMessage.claimed_at < utcnow() - STALE_AFTER)
        .values(status=OutboxStatus.UNKNOWN,
                last_error="el envío se interrumpió; puede haber salido: revise antes de reenviar")
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def deliver_due(limit: int = BATCH) -> int:
    """Deliver every due message (one batch). Returns how many were attempted."""
    recover_stale()
    ids = due_ids(limit)
    for message_id in ids:
        deliver_one(message_id)
    return len(ids)


def requeue(msg: OutboxMessage) -> None:
    """Staff decided an ``unknown`` or ``failed`` message should be sent again."""
    if msg.status not in (OutboxStatus.UNKNOWN, OutboxStatus.FAILED):
        raise ValueError("solo se reintentan mensajes fallidos o de estado incierto")
    msg.status = OutboxStatus.PENDING
    msg.next_attempt_at = utcnow()
