"""What a signed Zoom event must look like before anything in it is stored or looked up.

A signature proves who sent an event, not that its fields fit our columns: a meeting id
longer than ``conference_rooms.external_id``, a file size past a 64-bit integer, a NUL or a
lone surrogate in an id would fail in the database (500), and Zoom would retry the same event.
``malformed`` names the first field of the wrong type, length or characters; the endpoint
then answers 200 "ignored" (nothing a retry could fix) and logs the field, never its value.
"""

from __future__ import annotations

import re
from typing import Any

from app.inbound import clean_text

BIGINT_MAX = 2**63 - 1
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


def plausible_timestamp(value: str) -> bool:
    """Seconds since 1970 as plain ASCII digits (no sign, spaces, underscores or exponent)."""
    return _TIMESTAMP.fullmatch(value) is not None


def _optional_text(value: Any, limit: int) -> bool:
    return value is None or clean_text(value, limit)


def _id(value: Any, limit: int, *, optional: bool = True) -> bool:
    """Zoom sends ids as numbers or strings; either must fit ``limit`` characters as text."""
    if value is None or value == "":
        return optional
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value >= 0 and len(str(value)) <= limit
    return clean_text(value, limit)


def _dict(value: Any) -> bool:
    return value is None or isinstance(value, dict)


def _file_problem(item: Any) -> str | None:
    if not isinstance(item, dict):
        return "recording_files[]"
    if not _id(item.get("id"), 128):
        return "recording_files[].id"
    for name, limit in (("file_type", 20), ("download_url", 1000), ("play_url", 1000),
                        ("recording_start", 40), ("recording_end", 40)):
        if not _optional_text(item.get(name), limit):
            return f"recording_files[].{name}"
    size = item.get("file_size")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= BIGINT_MAX):
        return "recording_files[].file_size"
    return None


def malformed(data: dict[str, Any]) -> str | None:
    """The first field of ``data`` (an event already parsed as a JSON object) that does not
    fit, or None when every field the handlers read has the type, length and characters
    they expect."""
    if not clean_text(data.get("event"), 80):
        return "event"
    payload = data.get("payload")
    if not _dict(payload):
        return "payload"
    obj = (payload or {}).get("object")
    if not _dict(obj):
        return "payload.object"
    obj = obj or {}
    if not _id(obj.get("id"), 64):
        return "payload.object.id"
    if not _optional_text(obj.get("start_time"), 40):
        return "payload.object.start_time"
    participant = obj.get("participant")
    if not _dict(participant):
        return "payload.object.participant"
    for name, limit in (("email", 254), ("join_time", 40)):
        if not _optional_text((participant or {}).get(name), limit):
            return f"payload.object.participant.{name}"
    files = obj.get("recording_files")
    if files is not None and not isinstance(files, list):
        return "payload.object.recording_files"
    for item in files or []:
        problem = _file_problem(item)
        if problem:
            return "payload.object." + problem
    return None
