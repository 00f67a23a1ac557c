"""Registrations in the JSON API, under /api/v1/registrations.

Thin views: parse (APIFlask validates against ``app.registration.api_schemas``), call the same
``app.registration.services`` functions as the HTML pages, answer. A refusal becomes problem
details: ``PersonError`` → 422 with ``errors`` shaped like APIFlask's own validation errors
(``{"json": {"person": {"document_number": ["…"]}}}``); ``RegistrationError`` → its status.

Who calls:

- **Anyone** registers (POST, no account needed, rate-limited per address with
  ``REGISTRATION_RATE_LIMIT``; honours ``Idempotency-Key``). The source is ``api``.
- **Staff** (Bearer token, or session plus ``X-CSRFToken``) registering someone who phoned or
  came to the counter use the same POST: the source is ``staff`` and the registration records
  their office (credit for convening) and themselves, as the staff form does. The policy's
  ``registration.create`` decides (host, coordinating and convening offices, national admins);
  any other account gets 403, never a silent anonymous registration. The rate limit applies
  to them too.
- **The person** reads and cancels with the personal token from the 201 answer, sent in the
  ``X-Registration-Token`` header (never in the URL; answers are ``Cache-Control: no-store``).
- **Staff** list a session's registrants and mark attendance as the policy allows
  (``app.accounts.policy.registrant_access``): host-office staff, coordinators of the activity's
  networks and national admins see every row, convening-office staff the people their office
  registered; RUT and contact are masked on rows the caller may not identify.
"""

from __future__ import annotations

from typing import Any

from apiflask import APIKeyHeaderAuth, HTTPError
from flask import Response, current_app, g, request
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.accounts.policy import can, registrant_access, visible_registrations
from app.activities.models import ActivitySession
from app.api import api_blueprint
from app.api.auth import auth, current_api_user, forbidden, not_found
from app.api.idempotency import IDEMPOTENCY_RESPONSES, KEY_REUSED_DESCRIPTION, idempotent
from app.api.pagination import Page, paginate
from app.extensions import db, limiter
from app.outbox.tasks import kick_delivery
from app.people.services import PersonError, PersonInput, masked_contact
from app.registration import api_schemas as schemas
from app.registration import services
from app.registration.exports import mask_document, mask_email, mask_phone
from app.registration.models import Attendance, Registration, RegistrationStatus, Source

bp = api_blueprint("registration_api", __name__, "/api/v1/registrations", tag="Inscripciones")

TOKEN_HEADER = "X-Registration-Token"  # noqa: S105 - a header name, not a secret
MAX_TOKEN_LENGTH = 200

PUBLIC_OR_STAFF = [{}, {"bearerAuth": []}, {"sessionCookie": []}]  # {}: no account needed
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}

registration_token = APIKeyHeaderAuth(
    name="registrationToken",
    param_name=TOKEN_HEADER,
    description=(
        "El token personal de una inscripción (campo personal_token de la respuesta 201 de POST "
        "/api/v1/registrations), en el encabezado X-Registration-Token. Solo da acceso a esa "
        "inscripción; vence 30 días después de la sesión y deja de valer si la persona cancela y "
        "se vuelve a inscribir."),
)


@registration_token.verify_token
def _registration_for_token(token: str) -> Registration | None:
    token = (token or "").strip()
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        return services.registration_from_token(token)
    except services.RegistrationError as err:
        if err.status == 410:  # genuine but expired, replaced or erased: say so
            raise HTTPError(410, err.message) from err
        return None


@registration_token.error_processor
def _token_error(_error: HTTPError) -> Response:
    from app.errors import problem

    if request.headers.get(TOKEN_HEADER, "").strip():
        detail = _("El token de inscripción no es válido: revise que lo copió completo.")
    else:
        detail = _("Envíe el token personal de la inscripción (personal_token) en el encabezado "
                   "%(header)s.", header=TOKEN_HEADER)
    return problem(401, detail, headers={"WWW-Authenticate": f'ApiKey realm="Puente Laboral", header="{TOKEN_HEADER}"'})


def _registration_limit() -> str:
    return str(current_app.config.get("REGISTRATION_RATE_LIMIT", "20 per minute"))


# --- helpers ---------------------------------------------------------------------------------


def _person_input(person: dict[str, Any]) -> PersonInput:
    return PersonInput(**{name: ("" if value is None else value) for name, value in person.items()})


def _refused(exc: PersonError | services.RegistrationError) -> HTTPError:
    """A service's refusal as problem details; nothing stays half-written."""
    db.session.rollback()
    if isinstance(exc, PersonError):
        return HTTPError(422, detail={"json": {"person": {f: [m] for f, m in exc.errors.items()}}})
    detail = {"json": {exc.field: [exc.message]}} if exc.field else None
    return HTTPError(exc.status, exc.message, detail=detail)


def _session(s: ActivitySession) -> dict[str, Any]:
    activity = s.activity
    return {
        "id": s.id, "activity_id": activity.id, "activity_kind": activity.kind,
        "activity_title": activity.title, "status": s.status, "starts_at": s.starts_at, "ends_at": s.ends_at,
        "timezone": s.timezone, "local_start": s.local_start, "local_end": s.local_end, "modality": s.modality,
        "venue_name": s.venue_name, "address": s.address, "comuna_code": s.comuna_code,
    }


def _mine(reg: Registration) -> dict[str, Any]:
    return {
        "id": reg.id, "status": reg.status, "waitlist_position": services.waitlist_position(reg),
        "first_names": reg.person.first_names, "contact": masked_contact(reg.person),
        "created_at": reg.created_at, "cancelled_at": reg.cancelled_at, "joined_at": reg.joined_at,
        "session": _session(reg.session),
    }


def _registrant(reg: Registration, identified: bool) -> dict[str, Any]:
    """The person on a staff row; RUT and contact masked unless the caller may identify them."""
    p = reg.person
    return {
        "first_names": p.first_names, "last_names": p.last_names, "document_type": p.document_type,
        "document_number": p.document_number if identified else mask_document(p),
        "email": p.email if identified else (mask_email(p.email) or None),
        "phone": p.phone if identified else (mask_phone(p.phone) or None),
        "comuna_code": p.comuna_code, "preferred_channel": p.preferred_channel,
        "needs_subtitles": p.needs_subtitles, "needs_sign_language": p.needs_sign_language,
        "uses_screen_reader": p.uses_screen_reader, "accessibility_other": p.accessibility_other,
        "connectivity": p.connectivity, "rural": p.rural, "consent_recording": p.consent_recording,
    }


def _staff_item(reg: Registration, positions: dict[int, int], identified: bool) -> dict[str, Any]:
    return {
        "id": reg.id, "session_id": reg.session_id, "status": reg.status,
        "waitlist_position": positions.get(reg.id), "source": reg.source,
        "office": {"id": reg.office.id, "name": reg.office.name} if reg.office else None,
        "created_at": reg.created_at, "confirmed_at": reg.confirmed_at, "cancelled_at": reg.cancelled_at,
        "cancel_reason": reg.cancel_reason, "joined_at": reg.joined_at, "attendance": reg.attendance,
        "identified": identified, "person": _registrant(reg, identified),
    }


def _load_session(session_id: int) -> ActivitySession:
    session = db.session.get(ActivitySession, session_id)  # the route caps ids at MAX_ROW_ID
    if session is None:
        not_found(_("No existe la sesión %(id)s.", id=session_id))
    return session


# --- the public (and staff-assisted) registration --------------------------------------------


@bp.post("")
@limiter.limit(_registration_limit)
@bp.auth_required(auth, optional=True)
@idempotent
@bp.input(schemas.RegistrationIn)
@bp.output(schemas.RegistrationCreated, status_code=201,
           description="Con cuenta del personal: inscripción creada, confirmada o en lista de espera")
@bp.doc(security=PUBLIC_OR_STAFF, responses={
    **IDEMPOTENCY_RESPONSES,
    403: "Con credenciales: la cuenta no puede inscribir personas en esta sesión.",
    200: {"description": "Con cuenta del personal: la persona ya estaba inscrita en esta sesión (la misma "
                         "inscripción, sin token). Nada cambió.",
          "content": {"application/json": {"schema": schemas.RegistrationCreated}}},
    202: {"description": "Sin cuenta: solicitud recibida, la misma respuesta para todos (vea «detail»); "
                         "el enlace personal llega por mensaje.",
          "content": {"application/json": {"schema": schemas.RegistrationCreated}}},
    404: "La sesión no existe o no está publicada.",
    409: "La sesión no admite inscripciones: cancelada, ya realizada o inscripciones cerradas; "
         "o (con Idempotency-Key) otra solicitud con la misma clave aún se procesa (Retry-After).",
    422: "Datos no válidos: vea «errors» (p. ej. errors.json.person.document_number), "
         + KEY_REUSED_DESCRIPTION + ".",
    429: "Demasiadas inscripciones seguidas desde esta dirección: espere Retry-After segundos.",
    503: "Demasiada demanda en este instante: reintente (con la misma Idempotency-Key).",
})
def register(json_data: dict[str, Any]) -> Any:
    """Inscribir a una persona en una sesión

    Pública: no necesita cuenta. Aplica las mismas reglas que el formulario público: RUT con
    dígito verificador (o pasaporte / documento extranjero), correo y/o celular válidos, comuna
    existente, consentimiento obligatorio. Una persona es su documento: un correo o celular que
    ya usa otra persona (un teléfono de la familia) no las junta.

    Sin cuenta, la respuesta es siempre **202** y la misma, se conozca o no el documento, el
    correo o el celular: no trae identificador ni token. Si el documento es nuevo, la persona
    queda inscrita (con cupo o en lista de espera) y recibe su enlace personal por mensaje en el
    contacto que dio. Si el documento ya estaba registrado, nada cambia en sus datos: se le
    reserva un cupo por `REGISTRATION_HOLD_MINUTES` minutos y el mensaje va al correo o celular
    que ya teníamos, con un enlace para confirmar. Envíe `Idempotency-Key` para que un reintento
    reciba exactamente la primera respuesta.

    Con una cuenta del personal (Bearer, o sesión y `X-CSRFToken`) la inscripción queda a nombre
    de su oficina y de usted (origen `staff`), como en el formulario de atención. Límite por
    dirección IP: `REGISTRATION_RATE_LIMIT` (20 por minuto por omisión); después 429 con
    Retry-After.
    """
    if g.get("api_auth_failure"):  # a token was sent and refused: never register anonymously instead
        return auth.auth_error_callback(401)
    staff = auth.current_user if isinstance(auth.current_user, User) else None
    if staff is not None:
        session = db.session.get(ActivitySession, json_data["session_id"])
        if session is not None and not can(staff, "registration.create", session):
            forbidden(_("Su cuenta no puede inscribir personas en esta sesión. Para inscribirse usted "
                        "misma o mismo, envíe la solicitud sin credenciales."))
    try:
        result = services.register(
            json_data["session_id"], _person_input(json_data["person"]),
            source=Source.STAFF if staff else Source.API,
            office=staff.office if staff else None, staff_user=staff)
    except (PersonError, services.RegistrationError) as exc:
        raise _refused(exc) from exc
    kick_delivery()
    if staff is None:
        # The same answer for everyone, known or not: the personal link travels only by
        # message, to the contact typed (a newcomer) or to the one on file (a known document,
        # held until confirmed from that message). See app/registration/holds.py.
        return {"id": None, "status": None, "waitlist_position": None, "personal_token": None,
                "session": _session(db.session.get(ActivitySession, json_data["session_id"])),
                "contact": result.typed_contact, "detail": _received_detail(result.typed_contact)}, 202, NO_STORE
    reg = result.registration
    assert reg is not None  # staff register directly, never through a hold
    body = {
        "id": reg.id, "status": reg.status, "waitlist_position": services.waitlist_position(reg),
        # Staff see the person; the personal link itself still goes to the person's contact.
        "personal_token": services.personal_token(reg) if result.created and not result.recognised else None,
        "session": _session(reg.session), "contact": masked_contact(reg.person), "detail": "",
    }
    return body, 201 if result.created else 200, NO_STORE


def _received_detail(contact: str) -> str:
    where = _(" a %(contact)s", contact=contact) if contact else ""
    return _("Si los datos son correctos, le llegará un mensaje%(where)s con su inscripción y el enlace a su "
             "página personal. Si la persona ya se había inscrito antes, el mensaje llega al correo o celular "
             "que dio esa vez, con un enlace para confirmar.", where=where)


# --- the person, with their personal token ---------------------------------------------------


@bp.get("/me")
@bp.auth_required(registration_token)
@bp.output(schemas.MyRegistration)
@bp.doc(responses={410: "El token venció (30 días después de la sesión), fue reemplazado o los datos "
                        "se eliminaron a pedido de la persona."})
def mine() -> Any:
    """Mi inscripción

    La inscripción del token enviado en `X-Registration-Token`: estado, lugar en la lista de
    espera, la sesión, y a dónde le llegan los avisos (en parte oculto). 401 si el token no es
    válido.
    """
    reg: Registration = registration_token.current_user
    return _mine(reg), 200, NO_STORE


@bp.post("/me/cancel")
@bp.auth_required(registration_token)
@bp.output(schemas.MyRegistration, description="La inscripción, ya cancelada")
@bp.doc(responses={410: "El token venció, fue reemplazado o los datos se eliminaron."})
def cancel_mine() -> Any:
    """Cancelar mi inscripción

    Cancela la inscripción del token enviado en `X-Registration-Token`. Si tenía cupo, el cupo
    pasa en el mismo momento a la primera persona en lista de espera, a quien se le avisa.
    Cancelar de nuevo no cambia nada y responde lo mismo.
    """
    reg: Registration = registration_token.current_user
    if reg.status != RegistrationStatus.CANCELLED:
        services.cancel(reg, reason=_("Cancelada por la persona"))
        kick_delivery()
    return _mine(reg), 200, NO_STORE


# --- staff -----------------------------------------------------------------------------------


@bp.get("")
@bp.auth_required(auth)
@bp.input(schemas.RegistrationQuery, location="query")
@bp.output(schemas.StaffRegistrationPage)
@bp.doc(responses={403: "La cuenta no puede ver a las personas inscritas en esta sesión.",
                   404: "No existe esa sesión."})
def registrants(query_data: dict[str, Any]) -> Any:
    """Inscripciones de una sesión

    Las inscripciones de la sesión `session_id` (filtre con `status`), en orden de llegada,
    con el lugar en la lista de espera, la oficina que inscribió a cada persona y sus datos de
    contacto y accesibilidad. La oficina que dicta, la coordinación de sus redes y SENCE
    nacional ven todas; una oficina convocante, las personas que ella inscribió. El RUT, el
    correo y el celular van en parte ocultos (`identified: false`) en las filas de personas que
    la cuenta no debe identificar (la coordinación, en las inscritas por otras oficinas).
    SENCE regional ve solo los totales (en las páginas del sitio): aquí, 403.
    """
    user = current_api_user()
    session = _load_session(query_data["session_id"])
    access = registrant_access(user, session.activity)
    if not can(user, "registration.view", session) or access.rows == "none":
        forbidden(_("Su cuenta no puede ver a las personas inscritas en esta sesión."))
    q = visible_registrations(user, session)
    if query_data.get("status"):
        q = q.where(Registration.status == RegistrationStatus(query_data["status"]))
    page: Page = paginate(q, query_data["page"], query_data["per_page"],
                          options=[selectinload(Registration.person), selectinload(Registration.office)])
    positions = services.waitlist_positions(session.id)
    page["items"] = [_staff_item(r, positions, access.sees_personal(r)) for r in page["items"]]
    return page, 200, NO_STORE


@bp.post("/<int:registration_id>/attendance")
@bp.auth_required(auth)
@bp.input(schemas.AttendanceIn)
@bp.output(schemas.StaffRegistrationDetail, description="La inscripción con su asistencia")
@bp.doc(responses={403: "La cuenta no puede gestionar esta inscripción.",
                   404: "No existe esa inscripción.",
                   409: "La inscripción está cancelada, o la sesión todavía no es hoy."})
def attendance(registration_id: int, json_data: dict[str, Any]) -> Any:
    """Marcar asistencia

    `present` (asistió), `absent` (no asistió) o `null` (borrar la marca), desde el día de la
    sesión; no en una inscripción cancelada. Queda registrado quién la marcó. Para quien puede
    gestionar la inscripción (las mismas cuentas que la ven en la lista).
    """
    user = current_api_user()
    reg = db.session.get(Registration, registration_id)
    if reg is None:
        not_found(_("No existe la inscripción %(id)s.", id=registration_id))
    if not can(user, "registration.manage", reg):
        forbidden(_("Su cuenta no puede gestionar esta inscripción."))
    value = json_data["attendance"]
    try:
        services.staff_mark_attendance(reg, Attendance(value) if value else None, actor=user)
    except services.RegistrationError as exc:
        raise _refused(exc) from exc
    access = registrant_access(user, reg.session.activity)
    return _staff_item(reg, services.waitlist_positions(reg.session_id), access.sees_personal(reg)), 200, NO_STORE
