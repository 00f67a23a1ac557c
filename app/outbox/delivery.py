"""Delivering outbox messages, at most once.

A message is *claimed* (pending -> sending, attempts + 1) and that claim committed before
anything leaves the platform; the outcome is recorded in a second transaction. If the worker
dies in between, the message stays ``sending``; ``recover_stale`` later marks it ``unknown``
(it may or may not have gone out) instead of sending it again. Staff may requeue it by hand.

A transport says what happened by what it raises:

- nothing: the provider accepted the message -> ``sent``;
- ``TransientError``: known *not* to have been accepted, worth trying again -> ``pending``
  with back-off (or ``failed`` once ``OUTBOX_MAX_ATTEMPTS`` is reached);
- ``PermanentError``: refused for good -> ``failed``, never retried;
- ``UncertainError`` or anything unexpected: it may have been accepted -> ``unknown``, never
  retried automatically.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import smtplib
import ssl
import time
from dataclasses import dataclass
from datetime import timedelta
from email.errors import MessageError
from email.generator import BytesGenerator
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app
from sqlalchemy import select, update

from app.channels import rate_limiter
from app.extensions import db
from app.outbox.models import Attachment, OutboxMessage, OutboxStatus
from app.outbox.rendering import Hold, NothingToSend, render_now
from app.timeutil import utcnow

log = logging.getLogger("puente.outbox")

STALE_AFTER = timedelta(minutes=10)
BATCH = 100
EXTRA_HEADERS = frozenset({"List-Unsubscribe", "List-Unsubscribe-Post", "List-Id"})
MAX_RATE_WAIT = 2.0  # seconds a delivery run waits for a rate-limited channel's next slot
REQUEUEABLE = (OutboxStatus.UNKNOWN, OutboxStatus.FAILED)


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


_MSGID_UNSAFE = re.compile(r"[^A-Za-z0-9.-]")


def message_id_for(msg: OutboxMessage, sender: str) -> str:
    """A Message-ID that is the same on every attempt for one outbox row.

    A receiving system (or a person) can then tell a repeat from a new message.
    """
    domain = _MSGID_UNSAFE.sub("", parseaddr(sender)[1].rpartition("@")[2]) or "puente.local"
    digest = hashlib.sha256(msg.dedupe_key.encode("utf-8")).hexdigest()[:16]
    return f"<outbox-{msg.id}.{digest}@{domain}>"


class SmtpTransport:
    """SMTP from ``SMTP_URL``: smtp://user:pass@host:587?starttls=1, or smtps://host:465.

    The SMTP conversation is split in stages so that a failure is classified by what the
    server can have done: until the end of the DATA body nothing can have been accepted
    (transient or permanent, by reply code); a broken connection or a timeout while waiting
    for the reply to the body is *uncertain* (the server may have queued the message).
    """

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
        self.envelope_from = parseaddr(sender)[1]
        if not self.envelope_from:
            raise ValueError("MAIL_FROM debe tener una dirección de correo")
        self.timeout = timeout

    def build(self, msg: OutboxMessage) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = Address(display_name=msg.recipient_name or "", addr_spec=msg.recipient)
        email["Subject"] = msg.subject
        email["Message-ID"] = message_id_for(msg, self.sender)
        email["Date"] = format_datetime(utcnow())
        email["Auto-Submitted"] = "auto-generated"
        # Announcements carry RFC 2369 / RFC 8058 one-click unsubscribe headers in their payload.
        for name, value in ((msg.payload or {}).get("headers") or {}).items():
            if name in EXTRA_HEADERS and isinstance(value, str) and "\n" not in value and "\r" not in value:
                email[name] = value
        # Quoted-printable keeps the message 7-bit: any relay takes it, accents survive.
        email.set_content(msg.body_text, cte="quoted-printable")
        if msg.body_html:
            email.add_alternative(msg.body_html, subtype="html", cte="quoted-printable")
        for attachment in msg.attachment_list:
            _attach(email, attachment)
        return email

    def _connect(self) -> smtplib.SMTP:
        try:
            if self.ssl:
                return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                        context=ssl.create_default_context())
            return smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        except smtplib.SMTPResponseException as exc:  # a 4xx/5xx greeting
            raise TransientError(
                f"el servidor {self.host}:{self.port} no atiende ({exc.smtp_code})") from exc
        except OSError as exc:
            raise TransientError(f"no se pudo conectar a {self.host}:{self.port}: {exc}") from exc

    def send(self, msg: OutboxMessage) -> Sent:
        try:
            email = self.build(msg)
            data = _flatten(email)
        except (ValueError, TypeError, IndexError, MessageError) as exc:
            raise PermanentError(f"el mensaje no se puede armar: {exc}") from exc
        message_id = str(email["Message-ID"])
        client = self._connect()
        try:
            self._envelope(client, msg.recipient)
            self._data(client, data)
        finally:
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()
        return Sent(self.name, message_id)

    def _envelope(self, client: smtplib.SMTP, recipient: str) -> None:
        """EHLO, STARTTLS, AUTH, MAIL, RCPT: nothing can have been delivered yet."""
        try:
            client.ehlo()
            if self.starttls:
                client.starttls(context=ssl.create_default_context())
                client.ehlo()
            if self.username:
                client.login(self.username, self.password or "")
            code, reply = client.mail(self.envelope_from)
            if code != 250:
                raise _by_code(code, f"remitente rechazado ({code} {_text(reply)})")
            code, reply = client.rcpt(recipient)
            if code not in (250, 251):
                raise _by_code(code, f"destinatario rechazado ({code} {_text(reply)})")
        except (TransientError, PermanentError):
            raise
        except smtplib.SMTPAuthenticationError as exc:
            raise TransientError(f"autenticación SMTP rechazada ({exc.smtp_code})") from exc
        except UnicodeError as exc:
            raise PermanentError("la dirección tiene caracteres que el servidor no admite") from exc
        except smtplib.SMTPResponseException as exc:
            raise _by_code(exc.smtp_code, f"error SMTP ({exc.smtp_code} {_text(exc.smtp_error)})"
                           ) from exc
        except (smtplib.SMTPException, OSError) as exc:  # includes disconnects and timeouts
            raise TransientError(f"error SMTP antes del envío: {exc}") from exc

    def _data(self, client: smtplib.SMTP, data: bytes) -> None:
        """DATA: a refusal is certain; a broken connection after the body is not."""
        try:
            code, reply = client.data(data)
        except smtplib.SMTPDataError as exc:  # refused the DATA command, body not sent
            raise _by_code(exc.smtp_code, f"contenido rechazado ({exc.smtp_code} "
                                          f"{_text(exc.smtp_error)})") from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise UncertainError(f"la conexión se cortó al entregar el mensaje: {exc}") from exc
        if code == 250:
            return
        if 400 <= code < 600:
            raise _by_code(code, f"contenido rechazado ({code} {_text(reply)})")
        raise UncertainError(f"respuesta ilegible del servidor al entregar el mensaje ({code})")


def _attach(email: EmailMessage, attachment: Attachment) -> None:
    """Add a file part (base64, so the message stays 7-bit).

    Content-type parameters are kept: ``text/calendar; method=REQUEST; charset=utf-8`` is
    what makes mail programs offer an invitation (or remove the event on METHOD=CANCEL).
    """
    main, _sep, rest = attachment.content_type.partition(";")
    maintype, slash, subtype = main.strip().lower().partition("/")
    if not slash or not maintype or not subtype:
        raise ValueError(f"tipo de adjunto no válido: {attachment.content_type!r}")
    params: dict[str, str] = {}
    for item in rest.split(";"):
        key, eq, value = item.partition("=")
        if eq and key.strip():
            params[key.strip().lower()] = value.strip().strip('"')
    params.setdefault("name", attachment.filename)
    email.add_attachment(attachment.content, maintype=maintype, subtype=subtype,
                         filename=attachment.filename, params=params)


def _flatten(email: EmailMessage) -> bytes:
    buf = io.BytesIO()
    BytesGenerator(buf).flatten(email, linesep="\r\n")
    return buf.getvalue()


def _text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return " ".join(text.split())[:300]


def _by_code(code: int, text: str) -> Exception:
    return PermanentError(text) if 500 <= code < 600 else TransientError(text)


def transport_for(channel: str) -> Transport:
    """The real transport for a channel when it is configured; else the outbox viewer (the
    embedded default: the message is kept and shown, nothing leaves the platform)."""
    if channel == "email":
        if current_app.config.get("SMTP_URL"):
            return SmtpTransport(current_app.config["SMTP_URL"], current_app.config["MAIL_FROM"])
        return OutboxViewerTransport()
    if channel == "facebook":
        from app.dissemination.transports import FacebookPageTransport

        return FacebookPageTransport()
    from app.channels import transport_for_channel

    return transport_for_channel(channel) or OutboxViewerTransport()


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8 … minutes, capped at 6 hours."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 360))


def claim(message_id: int) -> OutboxMessage | None:
    """Take a due message for sending, committed before it is sent. None if not ours.

    The conditional UPDATE is the lock: of two workers racing for one row, exactly one
    changes it (PostgreSQL re-checks the condition after the row lock; SQLite serialises
    writers), so exactly one sends it.
    """
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
    """Claim one message, hand it to its transport and record the outcome.

    Returns the new status, or None when the message was not due or another worker has it.
    """
    if transport is None:
        # Resolved before the claim: a broken SMTP_URL raises here and leaves the message
        # pending (the error is loud, nothing is marked as maybe-sent).
        channel = db.session.scalar(
            select(OutboxMessage.channel).where(OutboxMessage.id == message_id))
        if channel is None:
            return None
        transport = transport_for(channel)
    msg = claim(message_id)
    if msg is None:
        return None
    msg.transport = transport.name
    if not _render(msg):
        db.session.commit()
        return msg.status
    try:
        sent = transport.send(msg)
    except TransientError as exc:
        if msg.attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]:
            msg.status = OutboxStatus.FAILED
        else:
            msg.status = OutboxStatus.PENDING
            # The provider's own Retry-After (a rate limit) when it is longer than our back-off.
            retry_after = getattr(exc, "retry_after", None) or 0
            delay = max(backoff(msg.attempts), timedelta(seconds=min(float(retry_after), 6 * 3600)))
            msg.next_attempt_at = utcnow() + delay
        msg.last_error = str(exc)[:1000]
    except PermanentError as exc:
        msg.status = OutboxStatus.FAILED
        msg.last_error = str(exc)[:1000]
    except UncertainError as exc:
        msg.status = OutboxStatus.UNKNOWN
        msg.last_error = str(exc)[:1000]
    except Exception as exc:
        # A bug in a transport: we cannot tell whether anything left, so never resend it
        # automatically. Recorded now rather than left in ``sending`` for recover_stale.
        log.exception("outbox id=%s transport=%s raised unexpectedly", msg.id, transport.name)
        msg.status = OutboxStatus.UNKNOWN
        msg.last_error = f"error inesperado ({type(exc).__name__}): revise antes de reenviar"
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


def _render(msg: OutboxMessage) -> bool:
    """Write a message queued with a renderer (``app.outbox.rendering``) before it is sent.

    False when it must not be sent now: what it was about is gone (cancelled), it must wait
    (held: its campaign was paused after it was queued), or rendering failed (failed, with the
    reason; staff can retry it once the cause is fixed). Nothing has left the platform."""
    try:
        render_now(msg)
    except Hold:
        msg.status = OutboxStatus.HELD
        msg.attempts = max(msg.attempts - 1, 0)
        msg.claimed_at = None
        return False
    except NothingToSend as exc:
        msg.status = OutboxStatus.CANCELLED
        msg.last_error = str(exc)[:1000] or "ya no hay nada que enviar"
        return False
    except Exception as exc:
        log.exception("outbox id=%s renderer=%s failed", msg.id, msg.renderer)
        msg.status = OutboxStatus.FAILED
        msg.last_error = f"no se pudo redactar el mensaje ({type(exc).__name__}: {exc})"[:1000]
        return False
    return True


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
    """Deliver every due message (one batch). Returns how many were attempted: fewer than
    ``limit`` when the batch was short or a channel's rate limit held some back."""
    recover_stale()
    rows = due_messages(limit)
    limiter = rate_limiter()
    attempted = 0
    for message_id, channel in rows:
        # Providers' rate limits: wait a little for the next slot; a longer wait leaves the
        # message pending for the next run (nothing is claimed, no attempt is spent).
        wait = limiter.acquire(channel)
        if wait > MAX_RATE_WAIT:
            continue
        if wait > 0:
            time.sleep(wait)
            if limiter.acquire(channel) > 0:
                continue
        deliver_one(message_id)
        attempted += 1
    return attempted


def due_messages(limit: int = BATCH) -> list[tuple[int, str]]:
    """(id, channel) of due messages, oldest first."""
    return [(row.id, row.channel) for row in db.session.execute(
        select(OutboxMessage.id, OutboxMessage.channel)
        .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= utcnow())
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit))]


def requeue(msg: OutboxMessage) -> None:
    """Staff decided an ``unknown`` or ``failed`` message should be sent again.

    Joins the caller's transaction (the caller records the audit event and commits). The
    UPDATE is conditional, so a requeue racing with another one, or with the delivery that
    follows it, can never turn a ``sent`` message back into ``pending``. The message gets a
    fresh allowance of attempts.
    """
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == msg.id, OutboxMessage.status.in_(REQUEUEABLE))
        .values(status=OutboxStatus.PENDING, next_attempt_at=utcnow(), attempts=0,
                claimed_at=None)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise ValueError("solo se reintentan mensajes fallidos o de estado incierto")
    db.session.refresh(msg)
