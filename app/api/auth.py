"""Who is calling the API: a personal Bearer token, or the browser's Flask-Login session.

- ``Authorization: Bearer pl_…`` — scripts. The token alone decides: a revoked or unknown
  token is refused (401) even if the same client also carries a session cookie.
- no ``Authorization`` header — the session user, if any. Unsafe methods (POST, PUT, PATCH,
  DELETE) must then carry the session's CSRF token in ``X-CSRFToken``; the API blueprint is
  exempt from Flask-WTF's form check, so this is the check.

Views declare ``@bp.auth_required(auth)`` (APIFlask puts the scheme in the OpenAPI document),
read the caller with ``current_api_user()`` and refuse with ``forbidden()``.
"""

from __future__ import annotations

from typing import Any, NoReturn

from apiflask import HTTPError, HTTPTokenAuth
from flask import Response, g, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from wtforms import ValidationError

from app.accounts.models import User

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
CSRF_HEADER = "X-CSRFToken"
BEARER_SCHEME_NAME = "bearerAuth"
SESSION_SCHEME_NAME = "sessionCookie"


class ApiAuth(HTTPTokenAuth):
    """HTTPTokenAuth that falls back to the Flask-Login session when no header is sent."""

    def authenticate(self, auth: Any, stored_password: Any) -> User | None:
        g.api_auth_failure = None
        if "Authorization" in request.headers:
            token = getattr(auth, "token", None)  # None when the scheme is not Bearer
            if not token:
                g.api_auth_failure = "malformed"
                return None
            user = _user_for_token(str(token).strip())
            if user is None:
                g.api_auth_failure = "invalid_token"
                return None
            return user
        if getattr(current_user, "is_authenticated", False):
            if request.method not in SAFE_METHODS:
                _check_csrf_header()
            return current_user._get_current_object()  # type: ignore[no-any-return]
        return None


def _user_for_token(secret: str) -> User | None:
    from app.accounts.services import user_for_api_token

    return user_for_api_token(secret)


def _check_csrf_header() -> None:
    try:
        validate_csrf(request.headers.get(CSRF_HEADER, ""))
    except ValidationError as exc:
        raise CSRFError(str(exc)) from exc


auth = ApiAuth(
    scheme="Bearer",
    realm="Puente Laboral",
    security_scheme_name=BEARER_SCHEME_NAME,
    description=(
        "Token personal: créelo en su cuenta (/cuenta/, «Tokens de la API») o con "
        "`flask --app wsgi create-token CORREO`, y envíelo en cada solicitud como "
        "`Authorization: Bearer <token>`. Se muestra una sola vez; puede revocarlo cuando quiera."
    ),
)


@auth.error_processor
def _auth_error(error: HTTPError) -> Response:
    from app.errors import problem

    if error.status_code == 403:
        return problem(403, _("Su cuenta no tiene permiso para esto."))
    failure = g.get("api_auth_failure")
    if failure == "invalid_token":
        detail = _("El token no es válido o fue revocado. Cree uno nuevo en /cuenta/.")
        challenge = 'Bearer realm="Puente Laboral", error="invalid_token"'
    elif failure == "malformed":
        detail = _("El encabezado Authorization debe tener la forma «Bearer <token>».")
        challenge = 'Bearer realm="Puente Laboral", error="invalid_request"'
    else:
        detail = _("Inicie sesión o envíe un token personal en el encabezado "
                   "Authorization: Bearer <token>.")
        challenge = 'Bearer realm="Puente Laboral"'
    return problem(401, detail, headers={"WWW-Authenticate": challenge})


def current_api_user() -> User:
    """The authenticated caller of a view protected with ``@bp.auth_required(auth)``."""
    user = auth.current_user
    if user is None:  # only reachable from a view that forgot @auth_required
        raise HTTPError(401)
    return user  # type: ignore[no-any-return]


def forbidden(detail: str | None = None) -> NoReturn:
    raise HTTPError(403, detail or _("Su cuenta no tiene permiso para esto."))


def not_found(detail: str | None = None) -> NoReturn:
    raise HTTPError(404, detail or _("No existe ese recurso."))
