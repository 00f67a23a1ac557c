"""``Idempotency-Key`` for POST endpoints: a retried request gets the first answer, never a second effect.

A client that may retry (a lost connection, a timeout, a double tap) sends a key of its own
choosing, e.g. a UUID, in ``Idempotency-Key``; the same key with the same request gets the
same answer, however many times it arrives. Without the header the endpoint behaves as usual.

How (one row of ``IdempotentRequest`` per scope and key, unique):

1. The key must be 1 to 200 printable ASCII characters, else 400.
2. The scope is the caller: ``user:<id>`` for an authenticated account, otherwise ``ip:`` and
   a keyed hash of the client address (the address itself is never stored).
3. Before the view runs, a row with the request's hash (method, path and query, body bytes) and
   ``status_code`` NULL (in flight) is inserted and committed in its own transaction. If the
   unique constraint refuses it another request with this key exists:
   - a different request hash → 422 (a key names one request, never two);
   - still in flight → 409 with ``Retry-After: 1``;
   - finished → its stored status and body again, with ``Idempotent-Replayed: true``.
4. After the view, its status, body, media type and ``Location`` are stored, except for
   409, 429 and 5xx answers and exceptions: those delete the row, so a retry runs again.
5. Keys live 24 hours (``KEY_TTL``): an older row is ignored and replaced when its key comes
   back, and ``purge_expired()`` deletes them in bulk. A row left in flight for more than
   ``IN_FLIGHT_TIMEOUT`` (a worker killed mid-request) is treated as abandoned and replaced.

The key protects against repeating the *request*; the domain must still make the effect unique
(a registration is unique per person and session), because a client may also retry without a key.

Place ``@idempotent`` under ``@bp.auth_required(...)`` (so the caller is known and a refused
login is never stored) and above ``@bp.input`` (so a validation error is the stored answer too).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar, cast

from apiflask import HTTPError
from apiflask.fields import String
from flask import Response, current_app, g, request
from flask_babel import gettext as _
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from werkzeug.exceptions import HTTPException

from app.accounts.models import User
from app.api.schemas import ApiSchema
from app.errors import problem
from app.extensions import db
from app.registration.models import IdempotentRequest
from app.timeutil import utcnow

log = logging.getLogger("puente.api.idempotency")

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_TTL = timedelta(hours=24)
IN_FLIGHT_TIMEOUT = timedelta(minutes=2)  # far beyond gunicorn's 30 s worker timeout
MAX_KEY_LENGTH = 200
NOT_STORED = frozenset({409, 429})  # and every 5xx: answers meant to be retried
KEPT_HEADERS = ("Location", "Content-Location", "Cache-Control")
_KEY = re.compile(r"^[\x20-\x7e]{1,%d}$" % MAX_KEY_LENGTH)  # noqa: UP031 - a regex, not a message
_CLAIM_ATTEMPTS = 4

F = TypeVar("F", bound=Callable[..., Any])

# For the endpoint's @bp.doc(responses=...): what the header can add to its answers.
IDEMPOTENCY_RESPONSES: dict[int, str] = {
    400: "El encabezado Idempotency-Key no es válido (1 a 200 caracteres ASCII imprimibles).",
    409: "Otra solicitud con la misma Idempotency-Key aún se está procesando: reintente después "
         "de Retry-After segundos. Nada se guardó por esta.",
}
KEY_REUSED_DESCRIPTION = ("o la Idempotency-Key ya se usó con otra solicitud (otro cuerpo o "
                          "dirección): cada clave nombra una sola solicitud")


class IdempotencyHeaders(ApiSchema):
    """The request header, for the OpenAPI document (the decorator does the checking)."""

    idempotency_key = String(
        data_key=HEADER,
        metadata={
            "description": (
                "Opcional. Una clave única por operación que elija el cliente (por ejemplo un "
                "UUID), de 1 a 200 caracteres ASCII imprimibles. Si la solicitud se repite con "
                "la misma clave durante 24 horas, se responde lo mismo que la primera vez (con "
                "el encabezado `Idempotent-Replayed: true`) y la operación no se repite. La "
                "misma clave con otro cuerpo: 422. Mientras la primera sigue en curso: 409 con "
                "Retry-After. Las respuestas 409, 429 y 5xx no se guardan: reintente con la "
                "misma clave."),
            "example": "5f0c2a4e-8d1b-4c36-9a57-3e2f1b7d9c10",
        },
    )


def idempotent(view: F) -> F:
    """Honour ``Idempotency-Key`` on a POST view (see the module docstring)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        raw = request.headers.get(HEADER)
        if raw is None:
            return view(*args, **kwargs)
        if g.get("api_auth_failure"):  # credentials sent but refused: answer that, store nothing
            from app.api.auth import auth

            return auth.auth_error_callback(401)
        key = raw.strip()
        if not _KEY.match(key):
            return problem(400, _("El encabezado Idempotency-Key debe tener entre 1 y %(n)s caracteres "
                                  "ASCII imprimibles, por ejemplo un UUID.", n=MAX_KEY_LENGTH))
        claim = _claim(request_scope(), key, request_hash())
        if isinstance(claim, Response):
            return claim
        try:
            rv = view(*args, **kwargs)
        except (HTTPException, HTTPError) as exc:  # a refusal is an answer like any other
            rv = current_app.handle_user_exception(exc)
        except BaseException:
            _settle(claim, None)
            raise
        response = current_app.make_response(rv)
        _settle(claim, response)
        return response

    _document(wrapper)
    return cast(F, wrapper)


def _document(view: Callable[..., Any]) -> None:
    """Add the header to the operation's parameters in the OpenAPI document.

    APIFlask keeps what its decorators declare in ``view._spec``; a header parameter is an
    ``(schema, "headers")`` pair in ``args``, documented without being parsed."""
    spec: dict[str, Any] = view.__dict__.setdefault("_spec", {})
    args = spec.setdefault("args", [])
    if not any(isinstance(schema, IdempotencyHeaders) for schema, _loc in args):
        args.append((IdempotencyHeaders(), "headers"))


# --- who asks, and what ---------------------------------------------------------------------


def request_scope() -> str:
    """``user:<id>`` for an authenticated account, else ``ip:`` + a keyed hash of the address."""
    user = g.get("flask_httpauth_user")
    if isinstance(user, User):
        return f"user:{user.id}"
    address = (request.remote_addr or "unknown").encode()
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return "ip:" + hmac.new(secret, address, hashlib.sha256).hexdigest()[:40]


def request_hash() -> str:
    """SHA-256 of the method, path with query string, and the exact body bytes."""
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(b"\n")
    digest.update(request.path.encode())
    digest.update(b"?")
    digest.update(request.query_string)
    digest.update(b"\n")
    digest.update(request.get_data(cache=True))
    return digest.hexdigest()


# --- the row ---------------------------------------------------------------------------------


def _claim(scope: str, key: str, digest: str) -> int | Response:
    """Insert the in-flight row (own transaction) and return its id, or the answer to give
    instead: a replay, 409 (in flight) or 422 (the key was used for another request)."""
    db.session.rollback()  # nothing of the caller's rides along with this commit
    table = IdempotentRequest.__table__
    for _attempt in range(_CLAIM_ATTEMPTS):
        now = utcnow()
        try:
            row_id = db.session.execute(
                insert(table).values(scope=scope, key=key, request_hash=digest, status_code=None,
                                     body=None, created_at=now).returning(table.c.id)).scalar_one()
            db.session.commit()
            return int(row_id)
        except IntegrityError:
            db.session.rollback()
        found = db.session.execute(
            select(table.c.id, table.c.request_hash, table.c.status_code, table.c.body, table.c.created_at)
            .where(table.c.scope == scope, table.c.key == key)).first()
        if found is None:  # released (a 409 or an error) since our insert failed: try again
            continue
        expired = found.created_at < now - KEY_TTL
        abandoned = found.status_code is None and found.created_at < now - IN_FLIGHT_TIMEOUT
        if expired or abandoned:
            db.session.execute(delete(table).where(table.c.id == found.id,
                                                   table.c.created_at == found.created_at))
            db.session.commit()
            continue
        db.session.rollback()
        if not hmac.compare_digest(found.request_hash, digest):
            return problem(422, _("Esta Idempotency-Key ya se usó con otra solicitud (otro cuerpo o "
                                  "dirección). Use una clave nueva para cada operación."))
        if found.status_code is None:
            return _in_flight()
        return _replay(int(found.status_code), found.body or "")
    return _in_flight()


def _in_flight() -> Response:
    return problem(409, _("Una solicitud con esta Idempotency-Key todavía se está procesando. "
                          "Vuelva a intentarlo en un momento con la misma clave."),
                   headers={"Retry-After": "1"})


def _settle(row_id: int, response: Response | None) -> None:
    """Store the answer, or delete the row when the answer is meant to be retried."""
    table = IdempotentRequest.__table__
    try:
        db.session.rollback()  # the view committed what it meant to; nothing else is kept
        if response is None or not _storable(response):
            db.session.execute(delete(table).where(table.c.id == row_id))
        else:
            db.session.execute(update(table).where(table.c.id == row_id).values(
                status_code=response.status_code, body=_envelope(response)))
        db.session.commit()
    except SQLAlchemyError:
        # The view's work is done and committed; the client still gets its answer. The row
        # stays in flight and is replaced after IN_FLIGHT_TIMEOUT.
        db.session.rollback()
        log.exception("could not record the answer of an idempotent request id=%s", row_id)


def _storable(response: Response) -> bool:
    status = response.status_code
    return not (status in NOT_STORED or status >= 500 or response.is_streamed or response.direct_passthrough)


def _envelope(response: Response) -> str:
    """What a replay needs: media type, the headers that name a resource, and the body."""
    return json.dumps({
        "mimetype": response.mimetype,
        "headers": {h: response.headers[h] for h in KEPT_HEADERS if h in response.headers},
        "body": response.get_data(as_text=True),
    }, ensure_ascii=False)


def _replay(status: int, stored: str) -> Response:
    data = json.loads(stored)
    response = Response(data["body"], status=status, mimetype=data["mimetype"])
    for name, value in data["headers"].items():
        response.headers[name] = value
    response.headers[REPLAYED_HEADER] = "true"
    return response


def purge_expired(now: Any = None) -> int:
    """Delete the rows older than ``KEY_TTL``; returns how many. Run it daily (worker or cron)."""
    table = IdempotentRequest.__table__
    cutoff = (now or utcnow()) - KEY_TTL
    result = db.session.execute(delete(table).where(table.c.created_at < cutoff))
    db.session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
