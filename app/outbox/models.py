"""The outbox: every message the platform sends, written in the transaction that caused it."""

from __future__ import annotations

import base64
import binascii
import enum
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.dbtypes import str_enum
from app.extensions import db
from app.timeutil import UTCDateTime, utcnow


class OutboxStatus(enum.StrEnum):
    """Delivery states.

    pending -> sending -> sent
    sending -> pending (a failure known to have happened before the provider accepted it,
               retried later with back-off) or failed (permanent refusal, or attempts exhausted)
    sending -> unknown (the worker died between handing the message over and recording it:
               it may have gone out, so it is never resent automatically; staff decide)
    pending <-> held (a paused campaign: not sent until it is resumed)
    """

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNKNOWN = "unknown"
    CANCELLED = "cancelled"
    HELD = "held"


@dataclass(frozen=True)
class Attachment:
    """A file sent with an email, e.g. ``invitacion.ics`` as ``text/calendar; method=REQUEST``.

    Stored in ``OutboxMessage.attachments`` as JSON: ``{filename, content_type, content}``
    with the content in base64.
    """

    filename: str
    content_type: str
    content: bytes

    def to_json(self) -> dict[str, str]:
        return {"filename": self.filename, "content_type": self.content_type,
                "content": base64.b64encode(self.content).decode("ascii")}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Attachment:
        try:
            return cls(filename=str(data["filename"]), content_type=str(data["content_type"]),
                       content=base64.b64decode(str(data["content"]), validate=True))
        except (binascii.Error, KeyError, TypeError) as exc:
            raise ValueError(f"adjunto ilegible: {exc!r}") from exc


def encode_attachments(attachments: Sequence[Attachment] | None) -> str | None:
    if not attachments:
        return None
    return json.dumps([a.to_json() for a in attachments])


class OutboxMessage(db.Model):  # type: ignore[name-defined]
    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # A natural key that makes enqueueing idempotent ("invitation:42:1").
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    channel: Mapped[str] = mapped_column(String(20), default="email")
    recipient: Mapped[str] = mapped_column(String(254))
    recipient_name: Mapped[str | None] = mapped_column(String(160))
    subject: Mapped[str] = mapped_column(String(300), default="")
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(40))  # invitation, password_reset, ...
    status: Mapped[OutboxStatus] = mapped_column(
        str_enum(OutboxStatus, "outbox_status", 12),
        default=OutboxStatus.PENDING,
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    transport: Mapped[str | None] = mapped_column(String(20))  # outbox-viewer, smtp, ...
    provider_message_id: Mapped[str | None] = mapped_column(String(300), index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Who may read it in the outbox viewer (office staff see their office's messages).
    office_id: Mapped[int | None] = mapped_column(index=True)
    # Files sent with an email: a JSON list of {filename, content_type, content (base64)}.
    # Deferred: lists of messages do not load the files; delivery reads them on demand.
    attachments: Mapped[str | None] = mapped_column(Text, deferred=True)
    # Written by the worker, not by the request that queued it: the name of a renderer
    # (``app.outbox.rendering``) and the JSON context it needs. While ``renderer`` is set the
    # body is not written yet; delivery renders it, stores it and clears ``renderer``.
    renderer: Mapped[str | None] = mapped_column(String(60))
    render_context: Mapped[str | None] = mapped_column(Text, deferred=True)
    # Channel-specific data as JSON, e.g. a WhatsApp template: {"template": {"name", ...}}.
    payload_json: Mapped[str | None] = mapped_column("payload", Text)
    # What the provider reported later (WhatsApp and SMS status callbacks): "delivered",
    # "read", or "failed"/"undelivered" (then the message is failed, with the reason).
    provider_status: Mapped[str | None] = mapped_column(String(20))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The campaign a message belongs to (dissemination): its delivery report counts these.
    campaign_id: Mapped[int | None] = mapped_column(Integer, index=True)

    @property
    def payload(self) -> dict[str, Any] | None:
        if not self.payload_json:
            return None
        try:
            data = json.loads(self.payload_json)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    @property
    def context(self) -> dict[str, Any]:
        """The renderer's context; empty when there is none or it is unreadable."""
        if not self.render_context:
            return {}
        try:
            data = json.loads(self.render_context)
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    @property
    def attachment_list(self) -> list[Attachment]:
        """The attachments, decoded; raises ValueError when the stored JSON is broken."""
        if not self.attachments:
            return []
        data = json.loads(self.attachments)
        if not isinstance(data, list):
            raise ValueError("los adjuntos deben ser una lista")
        return [Attachment.from_json(item) for item in data]

    @property
    def attachment_names(self) -> list[str]:
        """File names only, for listings (the outbox viewer); empty when unreadable."""
        try:
            return [a.filename for a in self.attachment_list]
        except (ValueError, KeyError, TypeError):
            return []
