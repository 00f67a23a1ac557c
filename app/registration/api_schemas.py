"""Marshmallow schemas of the registrations API: what goes in and what comes out.

Input schemas check shapes and types only (text, true/false, whole numbers, the allowed values of
a choice); every rule about people and registrations (RUT check digit, email, phone, comuna,
consent, a contact for the chosen channel, open sessions) belongs to ``app.people.services`` and
``app.registration.services``, the same checks the public form runs, whose refusals the API
turns into the same 422 shape. Unknown fields are refused (422 «Campo desconocido.»).
"""

from __future__ import annotations

from apiflask.fields import Boolean, DateTime, Enum, Integer, Nested, String
from apiflask.validators import OneOf, Range
from flask_babel import lazy_gettext as _l

from app.activities.models import ActivityKind, Modality, SessionStatus
from app.api.schemas import ApiSchema, OfficeRef, PageQuery, page_of
from app.dbtypes import MAX_ROW_ID
from app.people.models import Channel, Connectivity, DocumentType
from app.registration.models import Attendance, RegistrationStatus, Source

MAX_ID = MAX_ROW_ID  # larger ids cannot exist; refusing them keeps the database out of it


def _id(description: str, *, strict: bool = True, **kw: object) -> Integer:
    """An id: a whole number in JSON bodies (``strict``), digits in a query string."""
    return Integer(strict=strict, validate=Range(min=1, max=MAX_ID, error=_l("No existe ese identificador.")),
                   metadata={"description": description}, **kw)


def _choice(values: list[str], description: str, default: str) -> String:
    return String(load_default=default, validate=OneOf(values, error=_l("Elija uno de: {choices}.")),
                  metadata={"description": description, "enum": values})


def _text(description: str, example: str | None = None) -> String:
    meta: dict[str, str] = {"description": description}
    if example is not None:
        meta["example"] = example
    return String(load_default="", allow_none=True, metadata=meta)


def _flag(description: str) -> Boolean:
    return Boolean(load_default=False, metadata={"description": description})


# --- input ---------------------------------------------------------------------------------


class PersonIn(ApiSchema):
    """The person registering: the same fields as the public form."""

    first_names = _text("Nombres (obligatorio, hasta 120 caracteres).", "Camila Andrea")
    last_names = _text("Apellidos (obligatorio, hasta 120 caracteres).", "Rojas Muñoz")
    document_type = _choice([d.value for d in DocumentType],
                            "Tipo de documento: RUT, pasaporte o documento extranjero.", DocumentType.RUT.value)
    document_number = _text("RUT con dígito verificador, con o sin puntos (se guarda como 12345678-5), "
                            "o el número del pasaporte o documento extranjero.", "12.345.678-5")
    email = _text("Correo electrónico. Obligatorio si no deja celular, o si prefiere avisos por correo.",
                  "camila@example.cl")
    phone = _text("Celular; sin código de país se entiende +56. Obligatorio si no deja correo, o si "
                  "prefiere avisos por WhatsApp, SMS o llamada.", "+56 9 1234 5678")
    comuna_code = _text("Comuna donde vive: código CUT de cinco dígitos (vea /api/v1/comunas).", "13120")
    preferred_channel = _choice([c.value for c in Channel],
                                "Cómo prefiere recibir los avisos.", Channel.EMAIL.value)
    needs_subtitles = _flag("Necesita subtítulos.")
    needs_sign_language = _flag("Necesita intérprete de lengua de señas chilena.")
    uses_screen_reader = _flag("Usa lector de pantalla.")
    accessibility_other = _text("Otra necesidad de accesibilidad (hasta 2000 caracteres).")
    connectivity = _choice([c.value for c in Connectivity],
                           "Conexión a internet: buena, solo datos del celular, o ninguna (se le "
                           "ofrece participar en persona o por teléfono).", Connectivity.GOOD.value)
    rural = _flag("Vive en un sector rural.")
    soft_skills = _text("Habilidades que quiere destacar (hasta 2000 caracteres).")
    availability = _text("Días y horarios disponibles para trabajar (hasta 2000 caracteres).")
    consent_data = Boolean(load_default=False, metadata={
        "description": "Obligatorio: true. Acepta que la oficina use sus datos para esta actividad "
                       "y para avisarle de ella."})
    consent_recording = _flag("Acepta aparecer en la grabación de la sesión.")
    opt_in_future = _flag("Quiere que le avisen de futuros talleres y ferias.")


class RegistrationIn(ApiSchema):
    session_id = _id("La sesión (fecha) en la que se inscribe.", required=True)
    person = Nested(PersonIn, required=True)


class RegistrationQuery(PageQuery):
    session_id = _id("La sesión cuyas inscripciones se listan.", strict=False, required=True)
    status = String(validate=OneOf([s.value for s in RegistrationStatus], error=_l("Elija uno de: {choices}.")),
                    metadata={"description": "Solo las inscripciones en este estado.",
                              "enum": [s.value for s in RegistrationStatus]})


class AttendanceIn(ApiSchema):
    attendance = String(
        required=True, allow_none=True,
        validate=OneOf([a.value for a in Attendance], error=_l("Elija present, absent o null.")),
        metadata={"description": "present (asistió), absent (no asistió) o null (sin marcar).",
                  "enum": [a.value for a in Attendance]})


# --- output --------------------------------------------------------------------------------


class RegistrationSession(ApiSchema):
    """The session a registration is for, in the words and zone the person sees."""

    id = Integer(required=True)
    activity_id = Integer(required=True)
    activity_kind = Enum(ActivityKind, by_value=True, required=True,
                         metadata={"description": "workshop (taller) o fair (feria)."})
    activity_title = String(required=True)
    status = Enum(SessionStatus, by_value=True, required=True)
    starts_at = DateTime(required=True, metadata={"description": "Inicio en UTC (ISO 8601)."})
    ends_at = DateTime(required=True, metadata={"description": "Término en UTC (ISO 8601)."})
    timezone = String(required=True, metadata={"description": "Zona horaria IANA de la sesión.",
                                               "example": "America/Santiago"})
    local_start = DateTime(required=True, metadata={
        "description": "Inicio en la hora local de la sesión, con su desfase (ISO 8601).",
        "example": "2026-05-12T10:00:00-04:00"})
    local_end = DateTime(required=True, metadata={"description": "Término en la hora local."})
    modality = Enum(Modality, by_value=True, required=True)
    venue_name = String(allow_none=True, required=True)
    address = String(allow_none=True, required=True)
    comuna_code = String(allow_none=True, required=True)


_STATUS_HELP = ("confirmed (tiene cupo), waitlisted (en lista de espera: pasa a confirmed si se libera "
                "un cupo, y se le avisa) o cancelled.")
_POSITION_HELP = "Lugar en la lista de espera (1 es el siguiente); null si no está en espera."


class RegistrationCreated(ApiSchema):
    """The answer to POST /api/v1/registrations. Without an account (202) only ``session``,
    ``contact`` and ``detail`` are filled, the same whether or not the person was known."""

    id = Integer(allow_none=True, required=True, metadata={"description": "null sin cuenta (202)."})
    status = Enum(RegistrationStatus, by_value=True, allow_none=True, required=True,
                  metadata={"description": _STATUS_HELP + " null sin cuenta (202)."})
    waitlist_position = Integer(allow_none=True, required=True, metadata={"description": _POSITION_HELP})
    personal_token = String(allow_none=True, required=True, metadata={
        "description": (
            "El secreto de la persona para GET /api/v1/registrations/me y POST "
            "/api/v1/registrations/me/cancel (encabezado X-Registration-Token). Solo con cuenta del "
            "personal, en la respuesta que crea la inscripción de una persona nueva (201). Sin cuenta "
            "es siempre null: la persona recibe su enlace personal por mensaje. Guárdelo como una "
            "contraseña; nunca en una URL.")})
    session = Nested(RegistrationSession, required=True)
    contact = String(required=True, metadata={
        "description": "A dónde va el mensaje según lo escrito, en parte oculto (sin cuenta), o el "
                       "contacto guardado de la persona (con cuenta).", "example": "c***@example.cl"})
    detail = String(required=True, metadata={"description": "Qué pasa ahora, en palabras para la persona."})


class MyRegistration(ApiSchema):
    """What the person sees of their own registration: no more than the personal page shows."""

    id = Integer(required=True)
    status = Enum(RegistrationStatus, by_value=True, required=True, metadata={"description": _STATUS_HELP})
    waitlist_position = Integer(allow_none=True, required=True, metadata={"description": _POSITION_HELP})
    first_names = String(required=True)
    contact = String(required=True, metadata={
        "description": "Dónde le llegan los avisos, en parte oculto.", "example": "c***@example.cl"})
    created_at = DateTime(required=True)
    cancelled_at = DateTime(allow_none=True, required=True)
    joined_at = DateTime(allow_none=True, required=True,
                         metadata={"description": "Cuándo entró a la sesión desde su página personal."})
    session = Nested(RegistrationSession, required=True)


class Registrant(ApiSchema):
    """A registered person as staff see them; RUT and contact masked where the policy says so."""

    first_names = String(required=True)
    last_names = String(required=True)
    document_type = Enum(DocumentType, by_value=True, required=True)
    document_number = String(required=True, metadata={
        "description": "RUT normalizado (12345678-5) o número de documento; en parte oculto si "
                       "identified es false.", "example": "12345678-5"})
    email = String(allow_none=True, required=True)
    phone = String(allow_none=True, required=True, metadata={"description": "E.164."})
    comuna_code = String(allow_none=True, required=True)
    preferred_channel = Enum(Channel, by_value=True, required=True)
    needs_subtitles = Boolean(required=True)
    needs_sign_language = Boolean(required=True)
    uses_screen_reader = Boolean(required=True)
    accessibility_other = String(required=True)
    connectivity = Enum(Connectivity, by_value=True, required=True)
    rural = Boolean(required=True)
    consent_recording = Boolean(required=True)


class StaffRegistration(ApiSchema):
    id = Integer(required=True)
    session_id = Integer(required=True)
    status = Enum(RegistrationStatus, by_value=True, required=True, metadata={"description": _STATUS_HELP})
    waitlist_position = Integer(allow_none=True, required=True, metadata={"description": _POSITION_HELP})
    source = Enum(Source, by_value=True, required=True, metadata={
        "description": "public (formulario público), api (API sin cuenta) o staff (personal de una oficina)."})
    office = Nested(OfficeRef, allow_none=True, required=True,
                    metadata={"description": "La oficina que inscribió a la persona (convocatoria)."})
    created_at = DateTime(required=True)
    confirmed_at = DateTime(allow_none=True, required=True)
    cancelled_at = DateTime(allow_none=True, required=True)
    cancel_reason = String(allow_none=True, required=True)
    joined_at = DateTime(allow_none=True, required=True)
    attendance = Enum(Attendance, by_value=True, allow_none=True, required=True,
                      metadata={"description": "present, absent o null (sin marcar)."})
    identified = Boolean(required=True, metadata={
        "description": "true si la cuenta ve el RUT, el correo y el celular completos; false si van "
                       "en parte ocultos (p. ej. 12.***.***-5)."})
    person = Nested(Registrant, required=True)


StaffRegistrationPage = page_of(StaffRegistration, "StaffRegistrationPage")


class StaffRegistrationDetail(StaffRegistration):
    """One registration, as in the list (its own name keeps the OpenAPI components distinct)."""
