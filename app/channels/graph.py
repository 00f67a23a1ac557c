"""Meta's Graph API error answers, shared by the WhatsApp Cloud API and Facebook pages.

Graph errors look like ``{"error": {"message", "type", "code", "error_subcode",
"error_user_msg", "error_data": {"details"}, "is_transient", "fbtrace_id"}}`` and often come
with HTTP 400 even for rate limits, so the *code* decides, not the status.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import requests
from flask_babel import LazyString
from flask_babel import gettext as _

from app.channels.http import Problem, ProblemReader, json_object, short

DEFAULT_GRAPH_BASE = "https://graph.facebook.com"
DEFAULT_GRAPH_VERSION = "v21.0"

# Throttling: 4 app, 17 user, 32 page, 613 custom, 80007 WhatsApp account, 130429 Cloud API
# throughput, 131056 too many messages to one recipient. 1, 2, 131016 and 133004: temporary.
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, 80007, 130429, 131056})
TEMPORARY_CODES = frozenset({1, 2, 131016, 133004})


@dataclass(frozen=True)
class GraphError:
    message: str
    code: int | None
    subcode: int | None
    fbtrace_id: str | None
    is_transient: bool


def _as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdecimal():
        return int(value)
    return None


def graph_error(response: requests.Response) -> GraphError | None:
    """The ``error`` object of a Graph answer, or None when the body is not one."""
    data = json_object(response)
    error = data.get("error") if data else None
    if not isinstance(error, dict):
        return None
    error_data = error.get("error_data")
    details = error_data.get("details") if isinstance(error_data, dict) else None
    # The most readable text first: the user-facing one, then WhatsApp's details.
    text = next((t for t in (error.get("error_user_msg"), details, error.get("message"))
                 if isinstance(t, str) and t.strip()), "")
    trace = error.get("fbtrace_id")
    return GraphError(message=short(text, 200), code=_as_int(error.get("code")),
                      subcode=_as_int(error.get("error_subcode")),
                      fbtrace_id=trace if isinstance(trace, str) else None,
                      is_transient=error.get("is_transient") is True)


def problem_reader(known: Mapping[int, LazyString | str]) -> ProblemReader:
    """A reader for ``app.channels.http.outcome`` with Spanish reasons for ``known`` codes."""
    return _Reader(known)


class _Reader:
    def __init__(self, known: Mapping[int, LazyString | str]) -> None:
        self.known = known

    def __call__(self, response: requests.Response) -> Problem | None:
        error = graph_error(response)
        if error is None:
            return None
        transient = (error.is_transient or error.code in RATE_LIMIT_CODES
                     or error.code in TEMPORARY_CODES)
        if error.code is None:
            return Problem(error.message, None, transient)
        reason = str(self.known[error.code]) if error.code in self.known else error.message
        ref = _("código %(code)s", code=error.code)
        if error.fbtrace_id:
            ref = f"{ref}, fbtrace {error.fbtrace_id}"
        return Problem(f"{reason} ({ref})" if reason else ref, str(error.code), transient)
