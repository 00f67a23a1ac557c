"""The JSON API under /api/v1, documented by the OpenAPI document APIFlask generates.

Conventions every endpoint (core or domain) follows:

- authentication: ``@bp.auth_required(auth)`` from ``app.api.auth`` (Bearer token, or the
  browser session plus ``X-CSRFToken`` on unsafe methods); permissions from the policy;
- errors: ``application/problem+json`` (``app.errors.problem``), 422 with ``errors`` per field;
- bodies: JSON only, at most ``MAX_JSON_BYTES``, checked before the view runs;
- lists: ``{items, page, per_page, total}`` with ``?page=`` and ``?per_page=`` (≤ 100).

A domain package adds endpoints with its own blueprint from ``api_blueprint()`` and
``register_api()``; it never edits this package.
"""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from flask import Flask

from app.api.auth import BEARER_SCHEME_NAME, SESSION_SCHEME_NAME
from app.api.guards import install_guards

API_PREFIX = "/api/v1"

API_DESCRIPTION = """\
API de Puente Laboral para las oficinas municipales de intermediación laboral (OMIL), sus
redes territoriales y SENCE.

**Autenticación.** Los scripts envían un token personal en `Authorization: Bearer <token>`
(se crea en /cuenta/ o con `flask --app wsgi create-token CORREO`). El navegador usa la
sesión iniciada en el sitio (cookie `session`); en ese caso, toda solicitud que modifica datos
(POST, PUT, PATCH, DELETE) debe llevar el código CSRF de la página en el encabezado
`X-CSRFToken`. Con un token Bearer no se necesita.

**Errores.** Toda respuesta de error es `application/problem+json` (RFC 9457): `type`,
`title`, `status`, `detail` en español, `request_id`, y `errors` con los mensajes por campo
cuando los datos no son válidos (422). Sin autenticación: 401 con `WWW-Authenticate: Bearer`;
sin permiso: 403.

**Cuerpos.** Solo JSON (`Content-Type: application/json`, si no 415), de hasta 256 KiB
por omisión (si no 413); un JSON mal formado es 400.

**Listas.** Toda lista responde `{items, page, per_page, total}`; se pagina con `?page=`
(desde 1) y `?per_page=` (1 a 100, por omisión 50).
"""


def create_api_blueprint() -> APIBlueprint:
    from app.api import routes

    return routes.bp


def api_blueprint(name: str, import_name: str, url_prefix: str, tag: str | None = None) -> APIBlueprint:
    """A blueprint for more endpoints under /api/v1, with the body checks already attached."""
    if not url_prefix.startswith(API_PREFIX + "/"):
        raise ValueError(f"API blueprints live under {API_PREFIX}/, not {url_prefix!r}")
    return install_guards(APIBlueprint(name, import_name, url_prefix=url_prefix, tag=tag))


def register_api(app: Flask, bp: APIBlueprint) -> None:
    from app.extensions import csrf

    csrf.exempt(bp)  # session callers are checked against X-CSRFToken in app.api.auth
    app.register_blueprint(bp)
    _configure_spec(app)


def _configure_spec(app: Flask) -> None:
    from app.api import schemas

    if "puente_api" in app.extensions:  # once per app, however many API blueprints
        return
    app.extensions["puente_api"] = True
    if not app.config.get("DESCRIPTION"):
        app.config["DESCRIPTION"] = API_DESCRIPTION
    app.config.update(
        HTTP_ERROR_SCHEMA=schemas.Problem,
        VALIDATION_ERROR_SCHEMA=schemas.ValidationProblem,
        SUCCESS_DESCRIPTION="Respuesta correcta",
        AUTO_SERVERS=False,
        SERVERS=[{"url": app.config["BASE_URL"] or "/"}],
        NOT_FOUND_DESCRIPTION="No existe",
        AUTH_ERROR_DESCRIPTION="Falta autenticación, o el token no es válido o fue revocado",
        VALIDATION_ERROR_DESCRIPTION="Datos no válidos: vea «errors»",
        SECURITY_SCHEMES={
            SESSION_SCHEME_NAME: {
                "type": "apiKey",
                "in": "cookie",
                "name": app.config.get("SESSION_COOKIE_NAME") or "session",
                "description": (
                    "La sesión del navegador, iniciada en /cuenta/ingresar. Las solicitudes "
                    "POST, PUT, PATCH y DELETE deben llevar además el código CSRF de la página "
                    "en el encabezado X-CSRFToken."
                ),
            }
        },
    )
    app.spec_callback = _finish_spec  # type: ignore[attr-defined]


def _finish_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """Error responses are problem+json; every Bearer-protected operation also takes the session."""
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for status, response in operation["responses"].items():
                content = response.get("content") or {}
                if str(status)[:1] in "45" and "application/json" in content:
                    response["content"] = {"application/problem+json": content["application/json"]}
            security = operation.get("security")
            if security and any(BEARER_SCHEME_NAME in s for s in security) \
                    and not any(SESSION_SCHEME_NAME in s for s in security):
                operation["security"] = [*security, {SESSION_SCHEME_NAME: []}]
    return spec
