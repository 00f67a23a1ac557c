"""Signals the conferencing core sends so domain packages can react without being imported.

Both are sent inside the webhook's transaction, before commit: receivers may add rows to it.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: sender: the ActivitySession whose provider meeting ended (Zoom ``meeting.ended``).
session_held = _signals.signal("session-held")

#: sender: the ActivitySession; kwargs: recordings (list[ConferenceRecording]), the files
#: the provider just reported (only new ones: a repeated report sends an empty list no more).
recording_available = _signals.signal("recording-available")
