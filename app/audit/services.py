"""Recording staff actions. Called inside the service's own transaction (no commit here)."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request
from flask_login import current_user

from app.audit.models import AuditEvent
from app.extensions import db
from app.requestlog import current_request_id


def record(action: str, obj: Any, summary: str = "", *, actor: Any = None,
           office_id: int | None = None, network_id: int | None = None,
           region_code: str | None = None) -> AuditEvent:
    """Add an audit event to the current transaction. ``summary`` must hold no personal data."""
    if actor is None and has_request_context() and getattr(current_user, "is_authenticated", False):
        actor = current_user
    object_id = getattr(obj, "id", None) if obj is not None else None
    if object_id is None and obj is not None:
        object_id = getattr(obj, "code", None)
    event = AuditEvent(
        user_id=getattr(actor, "id", None),
        action=action,
        object_type=type(obj).__name__ if obj is not None else "-",
        object_id=str(object_id) if object_id is not None else None,
        summary=summary[:2000],
        ip=request.remote_addr if has_request_context() else None,
        request_id=current_request_id() if has_request_context() else None,
        office_id=office_id,
        network_id=network_id,
        region_code=region_code,
    )
    db.session.add(event)
    return event
