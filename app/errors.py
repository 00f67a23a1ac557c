"""Error answers: an HTML page in plain Spanish, or ``application/problem+json`` under /api."""

from __future__ import annotations

import logging
from typing import Any

from apiflask import APIFlask
from apiflask.exceptions import HTTPError
from flask import Flask, Response, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.requestlog import current_request_id

log = logging.getLogger("puente.errors")


def _titles() -> dict[int, str]:
    return {
        400: _("Solicitud no válida"),
        401: _("Debe iniciar sesión"),
        403: _("No tiene permiso para esto"),
        404: _("No encontramos esta página"),
        405: _("Método no permitido"),
        409: _("Conflicto con el estado actual"),
        410: _("Este enlace ya no es válido"),
        413: _("El envío es demasiado grande"),
        415: _("Tipo de contenido no admitido"),
        422: _("Los datos enviados no son válidos"),
        429: _("Demasiados intentos"),
        500: _("Error interno"),
        503: _("Servicio no disponible"),
    }


def wants_problem_json() -> bool:
    return request.path.startswith(("/api/", "/webhooks/"))


def error_response(status: int, detail: str | None = None) -> Response:
    """The error answer this request expects: problem details under /api/ and /webhooks/,
    the Spanish HTML page elsewhere."""
    return problem(status, detail) if wants_problem_json() else _html(status, detail)


def problem(status: int, detail: str | None = None, *, title: str | None = None,
            extra: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> Response:
    """An RFC 9457 problem details response."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or _titles().get(status, "Error"),
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if current_request_id():
        body["request_id"] = current_request_id()
    if extra:
        body.update(extra)
    resp = jsonify(body)
    resp.status_code = status
    resp.mimetype = "application/problem+json"
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def _html(status: int, detail: str | None, headers: dict[str, str] | None = None) -> Response:
    resp = Response(
        render_template("errors/error.html", status=status, title=_titles().get(status, "Error"),
                        detail=detail),
        status=status,
    )
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def _api_detail_for(exc: HTTPException) -> str | None:
    """Details for API clients: what went wrong with *this request*, in Spanish."""
    if exc.code == 404:
        return _("No existe ese recurso en la API. Revise la dirección; las rutas disponibles "
                 "están en /api/v1/openapi.json.")
    if exc.code == 405:
        return _("Este recurso no admite el método %(method)s.", method=request.method)
    if exc.code == 413:
        return _("Los datos enviados superan el tamaño permitido.")
    if exc.code == 415:
        return _("Envíe los datos como JSON, con el encabezado Content-Type: application/json.")
    if exc.code == 400:
        return _("La solicitud no se pudo entender. Revise los datos enviados.")
    return _detail_for(exc)


def _detail_for(exc: HTTPException) -> str | None:
    if exc.code == 429:
        return _("Hizo demasiados intentos seguidos. Espere unos minutos y vuelva a intentarlo.")
    if exc.code == 413:
        return _("El archivo o los datos enviados superan el tamaño permitido.")
    if exc.code == 404:
        return _("Revise la dirección o vuelva a la página de inicio.")
    if exc.code == 405:
        return None
    desc = exc.description
    # Werkzeug's stock English descriptions are not shown to users.
    if desc and desc != type(exc).description:
        return str(desc)
    return None


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError) -> Response:
        detail = _(
            "El formulario caducó o no trae su código de seguridad. "
            "Vuelva a la página, recárguela y envíelo de nuevo."
        )
        if wants_problem_json():
            return problem(400, _(
                "Falta el código de seguridad en el encabezado X-CSRFToken o ya no es válido. "
                "Recargue la página e inténtelo de nuevo, o use un token personal (Bearer)."))
        return _html(400, detail)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        code = exc.code or 500
        headers = {k: v for k, v in exc.get_headers() if k.lower() in ("retry-after", "allow", "www-authenticate")}
        if wants_problem_json():
            title = _("No existe ese recurso") if code == 404 else None
            return problem(code, _api_detail_for(exc), title=title, headers=headers)
        return _html(code, _detail_for(exc), headers)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        if isinstance(exc, HTTPException):
            return _http(exc)
        log.exception("unhandled error request_id=%s", current_request_id())
        if app.config.get("PROPAGATE_EXCEPTIONS"):
            raise exc
        # A failed flush leaves the session needing a rollback; the error page itself reads
        # the database (the signed-in user for the header), so roll back before rendering it.
        _rollback()
        if wants_problem_json():
            return problem(500, _("Ocurrió un error inesperado. Ya quedó registrado."))
        return _html(500, _("Ocurrió un error inesperado. Ya quedó registrado."))

    if isinstance(app, APIFlask):
        # APIFlask's own errors (``HTTPError``: validation, auth, ``abort``) become problem
        # details. The callback is assigned, not set with ``@app.error_processor``: that
        # decorator also takes over every Werkzeug HTTPException, which would turn the HTML
        # error pages into JSON.
        def _apiflask_errors(error: HTTPError) -> Response:
            if not wants_problem_json():
                message = error.message if error.message != _reason(error.status_code) else None
                return _html(error.status_code, message, dict(error.headers or {}))
            return problem_from_http_error(error)

        app.error_callback = _apiflask_errors


def _rollback() -> None:
    from app.extensions import db

    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the connection itself may be gone; the page must still render
        log.exception("rollback after an unhandled error failed")


def problem_from_http_error(error: HTTPError) -> Response:
    """Problem details for an APIFlask ``HTTPError``; field errors go under ``errors``."""
    extra: dict[str, Any] = dict(error.extra_data or {})
    if error.detail:
        from app.api.messages import spanish_errors

        extra["errors"] = spanish_errors(error.detail)
    message = str(error.message or "")
    stock_validation = ("", "Validation error", _reason(422),
                        current_app.config.get("VALIDATION_ERROR_DESCRIPTION"))
    if error.status_code == 422 and message in stock_validation:
        detail: str | None = _("Revise los campos indicados en «errors».")
    elif message in ("", _reason(error.status_code)):
        detail = None  # the stock English reason phrase; the title already says it in Spanish
    else:
        detail = message
    return problem(error.status_code, detail, extra=extra, headers=dict(error.headers or {}))


def _reason(status: int) -> str:
    from apiflask.helpers import get_reason_phrase

    return get_reason_phrase(status, "")
