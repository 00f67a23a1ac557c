"""Messages written by the worker instead of by the request that queued them.

A request that must answer fast (a registration at the morning peak) queues a message with
a renderer name and a small JSON context (ids and the facts of the moment: the kind of
message, a reason). The worker renders it just before sending: templates, an .ics file,
whatever the renderer makes, is stored on the message, so the outbox viewer and a later
retry see exactly what was sent. Rendering again gives the same text for the same state.

A renderer is a function ``(context) -> Rendered``. It raises ``NothingToSend`` when what
the message was about is gone (the person asked to be deleted): the message is then
cancelled, never sent. It raises ``Hold`` when the message must wait (its campaign is
paused): it goes back on hold, no attempt spent. Domain and core packages register their
renderers at import time.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.outbox.models import Attachment, OutboxMessage, encode_attachments


@dataclass(frozen=True)
class Rendered:
    subject: str
    body_text: str
    body_html: str | None = None
    attachments: Sequence[Attachment] = field(default_factory=tuple)
    payload: dict[str, Any] | None = None  # channel data (a WhatsApp template, email headers)


class NothingToSend(Exception):  # noqa: N818 - a state, not a failure
    """What the message was about no longer exists; the message is cancelled."""


class Hold(Exception):  # noqa: N818 - a state, not a failure
    """Not now (its campaign was paused): the message goes back on hold, no attempt spent."""


Renderer = Callable[[dict[str, Any]], Rendered]

RENDERERS: dict[str, Renderer] = {}


def renderer(name: str) -> Callable[[Renderer], Renderer]:
    """Register a renderer under ``name`` (decorator)."""

    def decorate(fn: Renderer) -> Renderer:
        RENDERERS[name] = fn
        return fn

    return decorate


def render(msg: OutboxMessage) -> Rendered | None:
    """What the message says, without changing it; None when it was written when queued.

    Raises ``NothingToSend``, ``Hold``, ``LookupError`` for an unknown renderer, or whatever the renderer
    raises (a bug: the caller records it)."""
    if not msg.renderer:
        return None
    fn = RENDERERS.get(msg.renderer)
    if fn is None:
        raise LookupError(f"no hay un redactor llamado {msg.renderer!r}")
    return fn(msg.context)


def apply(msg: OutboxMessage, rendered: Rendered) -> None:
    """Store the rendered text on the message; from now on it is an ordinary message."""
    msg.subject = " ".join(rendered.subject.split())[:300]
    msg.body_text = rendered.body_text
    msg.body_html = rendered.body_html
    msg.attachments = encode_attachments(rendered.attachments)
    if rendered.payload is not None:
        msg.payload_json = json.dumps(rendered.payload, separators=(",", ":"), sort_keys=True)
    msg.renderer = None


def render_now(msg: OutboxMessage) -> OutboxMessage:
    """Render and store (in the caller's transaction); a no-op for a message already written."""
    rendered = render(msg)
    if rendered is not None:
        apply(msg, rendered)
    return msg


def preview(msg: OutboxMessage) -> OutboxMessage:
    """The message as it will be sent, for the viewer: rendered in memory and detached from
    the session, so nothing is written by looking at it."""
    from app.extensions import db

    rendered = render(msg)
    if rendered is None:
        return msg
    apply(msg, rendered)
    db.session.expunge(msg)
    return msg
