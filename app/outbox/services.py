"""Writing messages to the outbox. Delivery lives in ``app.outbox.delivery``."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.outbox.models import OutboxMessage, OutboxStatus
from app.timeutil import utcnow


def enqueue_email(*, dedupe_key: str, to: str, subject: str, body_text: str,
                  body_html: str | None = None, kind: str, to_name: str | None = None,
                  office_id: int | None = None) -> OutboxMessage:
    """Add an email to the current transaction; the caller commits with its own change.

    Idempotent by ``dedupe_key``: the same key returns the message already queued.
    """
    existing = db.session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == dedupe_key))
    if existing is not None:
        return existing
    msg = OutboxMessage(
        dedupe_key=dedupe_key,
        channel="email",
        recipient=to,
        recipient_name=to_name,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        kind=kind,
        status=OutboxStatus.PENDING,
        next_attempt_at=utcnow(),
        office_id=office_id,
    )
    db.session.add(msg)
    return msg
