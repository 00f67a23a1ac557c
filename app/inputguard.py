"""Input no view should ever see: one guard for every request, one parser for every JSON body.

``check_request`` (the first ``before_request`` of the app) refuses a NUL character or a lone
surrogate anywhere in the path, the query string or a form (names and values; an uploaded
file's *name* is cleaned by the storage instead). PostgreSQL cannot store either, so without
this a ``/talleres/%00`` or a name with a NUL in it reaches a query and ends in a 500; SQLite
would store it. Pages get the HTML error page in Spanish, ``/api/`` and ``/webhooks/``
``application/problem+json``.

``loads`` is the only JSON parser for request bodies: it is the app's JSON provider
(``request.get_json``) and what the webhooks call on the body they verified. It refuses a body
nested deeper than ``JSON_MAX_DEPTH`` *before* parsing it (a 100 KB run of ``[`` would make
the parser raise RecursionError) and any string or key holding a NUL or a lone surrogate
(``"\\u0000"``, ``"\\ud800"``), with ``UnsafeInput``, a ``ValueError``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Flask, Request, Response, current_app, request
from flask.json.provider import DefaultJSONProvider
from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest

DEFAULT_MAX_DEPTH = 32
# NUL and the UTF-16 surrogate range: neither can be stored as text in PostgreSQL.
_UNSAFE = re.compile("[\x00\ud800-\udfff]")
# A JSON string (possessive, so a body of unbalanced quotes is scanned in linear time),
# or one bracket.
_JSON_TOKENS = re.compile(r'"(?:[^"\\]++|\\.)*+"|[\[\]{}]')


class UnsafeInput(ValueError):
    """Input refused before any view sees it; ``message`` says why, in Spanish."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnsafeJSONBody(BadRequest):
    """What ``request.get_json`` raises for a body ``loads`` refused (a 400 with its message)."""


def has_unsafe_chars(text: str) -> bool:
    return _UNSAFE.search(text) is not None


def _nul_message() -> str:
    return _("Lo enviado contiene caracteres no permitidos (un carácter nulo o un carácter "
             "Unicode incompleto). Revise lo que escribió o pegó y vuelva a intentarlo.")


def _max_depth() -> int:
    try:
        return int(current_app.config.get("JSON_MAX_DEPTH", DEFAULT_MAX_DEPTH))
    except RuntimeError:  # outside an app context (a worker parsing a stored body)
        return DEFAULT_MAX_DEPTH


def json_too_deep(text: str, limit: int) -> bool:
    """True when arrays and objects nest more than ``limit`` levels (brackets inside strings
    do not count). Stops at the first bracket past the limit."""
    depth = 0
    for match in _JSON_TOKENS.finditer(text):
        piece = match.group()
        if piece in ("[", "{"):
            depth += 1
            if depth > limit:
                return True
        elif piece in ("]", "}"):
            depth -= 1
    return False


def _walk(value: Any) -> None:
    """Raise UnsafeInput if a string or key anywhere in ``value`` holds NUL or a surrogate.
    Iterative: depth is already bounded, but a stack costs nothing."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if has_unsafe_chars(item):
                raise UnsafeInput(_nul_message())
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def loads(data: str | bytes | bytearray, *, max_depth: int | None = None) -> Any:
    """``json.loads`` for bodies from outside; raises ``UnsafeInput`` (too deep, NUL, lone
    surrogate) or ``ValueError`` (not JSON, not UTF-8)."""
    # UTF-8 as RFC 8259 asks; a leading BOM is tolerated, as json.loads does for bytes.
    text = data.decode("utf-8-sig") if isinstance(data, bytes | bytearray) else data
    limit = max_depth if max_depth is not None else _max_depth()
    if json_too_deep(text, limit):
        raise UnsafeInput(_("Los datos JSON tienen demasiados niveles anidados (máximo %(n)s).", n=limit))
    try:
        value = json.loads(text)
    except RecursionError as exc:  # pragma: no cover - the scan above stops this first
        raise UnsafeInput(_("Los datos JSON tienen demasiados niveles anidados.")) from exc
    _walk(value)
    return value


class GuardedJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider whose ``loads`` is the guarded one above (``request.get_json``)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return loads(s)


class GuardedRequest(Request):
    """A refused JSON body is a 400 that says why, not Flask's bare "Bad Request"."""

    def on_json_loading_failed(self, e: ValueError | None) -> Any:
        if isinstance(e, UnsafeInput):
            raise UnsafeJSONBody(e.message)
        if isinstance(e, UnicodeDecodeError):
            raise BadRequest(_("El cuerpo de la solicitud no está en UTF-8."))
        return super().on_json_loading_failed(e)


# --- the request-level guard ----------------------------------------------------------------


def _unsafe_request() -> bool:
    if has_unsafe_chars(request.path):
        return True
    for key, value in request.args.items(multi=True):
        if has_unsafe_chars(key) or has_unsafe_chars(value):
            return True
    if request.method in ("POST", "PUT", "PATCH", "DELETE") and request.mimetype in (
            "application/x-www-form-urlencoded", "multipart/form-data"):
        for key, value in request.form.items(multi=True):
            if has_unsafe_chars(key) or has_unsafe_chars(value):
                return True
        if any(has_unsafe_chars(key) for key in request.files):
            return True
    return False


def check_request() -> Response | None:
    if not _unsafe_request():
        return None
    from app.errors import error_response

    return error_response(400, _nul_message())


def install_input_guard(app: Flask) -> None:
    """Run ``check_request`` before every other ``before_request`` (CSRF, rate limits, login,
    the views' own), parse JSON bodies with ``loads``."""
    app.request_class = GuardedRequest
    app.json = GuardedJSONProvider(app)
    app.before_request_funcs.setdefault(None, []).insert(0, check_request)
