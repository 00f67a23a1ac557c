"""Signals the core sends so domain packages can react without being imported."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: sender: the ActivitySession; kwargs: change (ActivityChange), actor (User | None).
#: Sent inside the transaction, before commit: receivers add rows (outbox messages) to it.
session_changed = _signals.signal("session-changed")

#: sender: the Activity; kwargs: actor. Sent inside the transaction when it is published.
activity_published = _signals.signal("activity-published")

#: sender: the Activity; kwargs: reason, actor. Sent inside the transaction.
activity_cancelled = _signals.signal("activity-cancelled")
