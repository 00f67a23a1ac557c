"""Checks every API request body passes before a view (or a database session) sees it.

Order: size (413) → media type (415) → well-formed JSON (400). A refused body never reaches
the view, so nothing is half-written. The size is checked before anything is parsed: a
declared ``Content-Length`` over the limit is refused unread, and a chunked body is read at
most up to the limit plus one byte.
"""

from __future__ import annotations

from apiflask import APIBlueprint
from flask import Response, current_app, request
from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

from app.errors import problem
from app.inputguard import UnsafeJSONBody

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def is_json_mimetype(mimetype: str) -> bool:
    return mimetype == "application/json" or (
        mimetype.startswith("application/") and mimetype.endswith("+json"))


def _has_body() -> bool:
    if request.content_length:
        return True
    return "chunked" in request.headers.get("Transfer-Encoding", "").lower()


def check_json_body() -> Response | None:
    """``before_request`` for API blueprints: refuse oversized, non-JSON or broken bodies."""
    if request.method not in BODY_METHODS or not _has_body():
        return None
    limit = int(current_app.config["MAX_JSON_BYTES"])
    if request.content_length is not None and request.content_length > limit:
        return _too_big(limit)
    if not is_json_mimetype(request.mimetype):
        return problem(415, _("Envíe los datos como JSON, con el encabezado "
                              "Content-Type: application/json."))
    # A body without Content-Length (chunked) is read through Werkzeug's LimitedStream, which
    # raises 413 once it would pass limit + 1 bytes: a body of exactly ``limit`` bytes passes,
    # and no more than limit + 1 bytes are ever held in memory.
    request.max_content_length = limit + 1
    try:
        data = request.get_data(cache=True)
    except RequestEntityTooLarge:
        return _too_big(limit)
    if len(data) > limit:
        return _too_big(limit)
    try:
        request.get_json()
    except UnsafeJSONBody as exc:  # too deeply nested, or a NUL / lone surrogate in a string
        return problem(400, str(exc.description))
    except BadRequest:
        return problem(400, _("El cuerpo de la solicitud no es JSON válido. Revise comillas, "
                              "comas y llaves, y que el texto esté en UTF-8."))
    return None


def _too_big(limit: int) -> Response:
    return problem(413, _("Los datos enviados superan el máximo de %(kb)s KiB.", kb=limit // 1024))


def install_guards(bp: APIBlueprint) -> APIBlueprint:
    """Attach the body checks to an API blueprint (the core one and any domain's)."""
    bp.before_request(check_json_body)
    return bp
