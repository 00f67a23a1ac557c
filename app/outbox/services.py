"""Writing messages to the outbox. Delivery lives in ``app.outbox.delivery``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select

from app.dbtypes import insert_on_conflict
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
    msg_id = enqueue(dedupe_key=dedupe_key, channel="email", to=to, to_name=to_name, kind=kind,
                     office_id=office_id, subject=subject, body_text=body_text, body_html=body_html,
                     attachments=attachments)
    msg = db.session.get(OutboxMessage, msg_id)
    assert msg is not None
    return msg


def enqueue(*, dedupe_key: str, channel: str, to: str, kind: str, to_name: str | None = None,
            office_id: int | None = None, subject: str = "", body_text: str = "",
            body_html: str | None = None, attachments: Sequence[Attachment] | None = None,
            renderer: str | None = None, context: dict[str, Any] | None = None,
            payload: dict[str, Any] | None = None, campaign_id: int | None = None) -> int:
    """Queue a message on any channel in the current transaction; returns its id.

    With ``renderer`` the body is written later by the worker (``app.outbox.rendering``) from
    ``context`` (JSON: ids and facts, no objects): the request only inserts one row. Same
    idempotency as ``enqueue_email``: one message per ``dedupe_key``.
    """
    now = utcnow()
    values: dict[str, Any] = {
        "dedupe_key": dedupe_key,
        "channel": channel,
        "recipient": to.strip(),
        "recipient_name": to_name,
        # A header cannot hold a line break; a subject from a template may end with one.
        "subject": " ".join(subject.split())[:300],
        "body_text": body_text,
        "body_html": body_html,
        "kind": kind,
        "status": OutboxStatus.PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "office_id": office_id,
        "renderer": renderer,
        "campaign_id": campaign_id,
    }
    encoded = encode_attachments(attachments)
    if encoded is not None:
        values["attachments"] = encoded
    if context is not None:
        values["render_context"] = json.dumps(context, separators=(",", ":"), sort_keys=True)
    if payload is not None:
        values["payload"] = json.dumps(payload, separators=(",", ":"), sort_keys=True)
    table = OutboxMessage.__table__
    new_id = db.session.execute(
        _insert().values(**values)
        .on_conflict_do_nothing(index_elements=[table.c.dedupe_key])
        .returning(table.c.id)
    ).scalar()
    if new_id is not None:
        return int(new_id)
    existing = db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key))
    assert existing is not None
    return int(existing)


def _insert() -> Any:
    return insert_on_conflict(OutboxMessage.__table__)


def insert_many(rows: Sequence[dict[str, Any]]) -> int:
    """Queue many messages in one statement (a campaign's batch), in the caller's transaction.

    Each row holds the table's columns; a dedupe key already queued is skipped. Returns how
    many were new."""
    if not rows:
        return 0
    table = OutboxMessage.__table__
    keys = [row["dedupe_key"] for row in rows]
    already = db.session.scalar(select(func.count()).select_from(table).where(table.c.dedupe_key.in_(keys))) or 0
    # Without RETURNING the driver's own executemany runs (psycopg pipelines it): about ten
    # times faster than one multi-row statement with thousands of parameters.
    db.session.execute(_insert().on_conflict_do_nothing(index_elements=[table.c.dedupe_key]), list(rows))
    return len(set(keys)) - int(already)


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


DELIVERED_STATES = ("delivered", "read")
UNDELIVERED_STATES = ("failed", "undelivered")
_RANK = {"sent": 1, "delivered": 2, "read": 3}


def record_receipt(provider_message_id: str, state: str, *, at: Any = None, reason: str = "") -> str:
    """What a provider reported later about a message it had accepted; one transaction.

    "delivered" / "read" set ``delivered_at`` (never moved back: a late "delivered" after
    "read" changes nothing); "failed" / "undelivered" turn a sent message into a failed one
    with the provider's reason, so staff see it and may send it again. Repeated or unknown
    receipts change nothing. Returns what happened: "updated", "unchanged" or "unknown"."""
    msg = db.session.scalar(select(OutboxMessage).where(OutboxMessage.provider_message_id == provider_message_id)
                            .limit(1))
    if msg is None:
        return "unknown"
    when = at or utcnow()
    changed = False
    if state in DELIVERED_STATES:
        if _RANK.get(state, 0) > _RANK.get(msg.provider_status or "", 0):
            msg.provider_status = state
            changed = True
        if msg.delivered_at is None or when < msg.delivered_at:
            msg.delivered_at = when
            changed = True
    elif state in UNDELIVERED_STATES and msg.delivered_at is None and msg.status == OutboxStatus.SENT:
        msg.status = OutboxStatus.FAILED
        msg.provider_status = state
        msg.last_error = (f"el proveedor informó que no se entregó: {reason}" if reason
                          else "el proveedor informó que no se entregó")[:1000]
        changed = True
    if changed:
        db.session.commit()
        return "updated"
    db.session.rollback()
    return "unchanged"
