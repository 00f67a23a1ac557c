"""Checks for what providers send us (webhooks): signed, but not trusted to fit our columns.

A provider's signature proves who sent a call, not that an id fits ``String(300)`` or holds
no NUL (PostgreSQL refuses NUL in text; lone surrogates cannot be encoded at all). A field
that fails these checks is ignored and logged by name, never stored or looked up.
"""

from __future__ import annotations

import re
from typing import Any

# C0 controls, DEL and UTF-16 surrogates: none belongs in an id, an address or a status.
BAD_CHARS = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")


def clean_text(value: Any, limit: int) -> bool:
    """A string of at most ``limit`` characters with no control character or surrogate."""
    return isinstance(value, str) and len(value) <= limit and not BAD_CHARS.search(value)


def printable(value: str, limit: int) -> str:
    """``value`` cut to ``limit`` characters with control characters and surrogates dropped:
    for free text a provider sends (an error's title) that we keep only to show staff."""
    return BAD_CHARS.sub("", value)[:limit]


def as_list(value: Any) -> list[Any]:
    """``value`` when it is a JSON array, else an empty list (an object, a number or a string
    where an array belongs is read as nothing)."""
    return value if isinstance(value, list) else []
