"""Writing messages to the outbox. Delivery lives in ``app.outbox.delivery``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select

from app.extensions import db
from app.outbox.models import Attachment, OutboxMessage, OutboxStatus, encode_attachments
from app.timeutil import utcnow


def enqueue_email(*, dedupe_key: str, to: str, subject: str, body_text: str,
                  body_html: str | None = None, kind: str, to_name: str | None = None,
                  office_id: int | None = None,
                  attachments: Sequence[Attachment] | None = None) -> OutboxMessage:
    """Add an email to the current transaction; the caller commits with its own change.

    Idempotent by ``dedupe_key``: the same key returns the message already queued, also when
    another transaction queues the same key at the same moment (the insert skips a conflict
    instead of failing, so the caller's own change is never lost because of its email).
    Nothing is committed here: if the caller rolls back, no message exists.
    ``attachments`` travel with the email (an .ics invitation, for instance).
    """
    existing = _by_key(dedupe_key)
    if existing is not None:
        return existing
    values: dict[str, Any] = {
        "dedupe_key": dedupe_key,
        "channel": "email",
        "recipient": to.strip(),
        "recipient_name": to_name,
        # A header cannot hold a line break; a subject from a template may end with one.
        "subject": " ".join(subject.split()),
        "body_text": body_text,
        "body_html": body_html,
        "kind": kind,
        "status": OutboxStatus.PENDING,
        "attempts": 0,
        "next_attempt_at": utcnow(),
        "created_at": utcnow(),
        "office_id": office_id,
    }
    encoded = encode_attachments(attachments)
    if encoded is not None:
        values["attachments"] = encoded
    dialect = db.session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        else:
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        db.session.execute(
            dialect_insert(OutboxMessage).values(**values)
            .on_conflict_do_nothing(index_elements=[OutboxMessage.dedupe_key])
        )
    else:  # pragma: no cover - only the two supported databases are tested
        db.session.execute(insert(OutboxMessage).values(**values))
    msg = _by_key(dedupe_key)
    assert msg is not None
    return msg


def _by_key(dedupe_key: str) -> OutboxMessage | None:
    return db.session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == dedupe_key))


def requeue_message(msg: OutboxMessage, *, actor: Any) -> None:
    """Staff send a failed or uncertain message again: one transaction with its audit record.

    Raises ValueError when the message is no longer failed or unknown (nothing is written)."""
    from app.audit.services import record
    from app.outbox.delivery import requeue
    from app.territory.models import Office

    previous = msg.status
    try:
        requeue(msg)
    except ValueError:
        db.session.rollback()
        raise
    office = db.session.get(Office, msg.office_id) if msg.office_id is not None else None
    record("outbox.requeue", msg, f"tipo={msg.kind} estado_anterior={previous.value}", actor=actor,
           office_id=msg.office_id, region_code=office.comuna.region_code if office is not None else None)
    db.session.commit()
