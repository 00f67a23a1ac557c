"""Marshmallow schemas of the workshops API: what goes in (query strings and bodies) and out.

Input schemas check shapes and types only (text, whole numbers, lists, the local date-time
format); every rule about workshops (lengths, capacity, https links, comunas, permissions,
conflicts) is ``workshops.services``'s, whose refusals the API turns into the same 422 shape.
Unknown fields are refused (422 «Campo desconocido.»), as everywhere in the API.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from apiflask.fields import Boolean, DateTime, Enum, Integer, List, Nested, String
from apiflask.validators import Length, Range
from flask_babel import lazy_gettext as _l

from app.activities.models import ActivityStatus, Modality, SessionStatus
from app.api.schemas import ApiSchema, PageQuery, page_of
from app.dbtypes import MAX_ROW_ID

MAX_ID = MAX_ROW_ID  # larger ids cannot exist; refusing them keeps the database out of it
MAX_IDS = 100  # ids per list (networks, offices, facilitators)
MIN_YEAR, MAX_YEAR = 2000, 2100

LOCAL_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S")


class LocalDateTime(String):
    """A wall-clock time without zone, ``YYYY-MM-DDTHH:MM``; the zone comes from the host office."""

    default_error_messages = {
        "invalid_local": _l("Escriba la fecha y hora local como AAAA-MM-DDTHH:MM (por ejemplo "
                            "2026-05-12T10:00), sin zona horaria: se usa la de la comuna de la "
                            "oficina que dicta."),
        "year": _l("La fecha debe estar entre los años %(min)s y %(max)s.",
                   min=MIN_YEAR, max=MAX_YEAR),
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        text = super()._deserialize(value, attr, data, **kwargs)
        for fmt in LOCAL_FORMATS:
            try:
                parsed = datetime.strptime(text, fmt)  # noqa: DTZ007 - naive on purpose: local time
            except ValueError:
                continue
            if not MIN_YEAR <= parsed.year <= MAX_YEAR:
                raise self.make_error("year")
            return parsed
        raise self.make_error("invalid_local")


def _id(description: str, *, strict: bool = True, **kw: Any) -> Integer:
    """An id: a whole number in JSON bodies (``strict``), digits in a query string."""
    return Integer(strict=strict, validate=Range(min=1, max=MAX_ID, error=_l("No existe ese identificador.")),
                   metadata={"description": description}, **kw)


def _ids(description: str) -> List:
    return List(_id(""), validate=Length(max=MAX_IDS, error=_l("Elija como máximo {max}.")),
                metadata={"description": description})


def _flag(description: str) -> Boolean:
    return Boolean(metadata={"description": description})


# --- input: query strings ------------------------------------------------------------------


class WorkshopQuery(PageQuery):
    status = Enum(ActivityStatus, by_value=True,
                  metadata={"description": "Solo los talleres en este estado: draft (borrador), "
                                           "published (publicado), done (realizado) o cancelled."})
    topic = _id("Solo los talleres de este tema (id de /api/v1/workshops/topics).", strict=False)
    network = _id("Solo los talleres de esta red territorial (id de /api/v1/networks).", strict=False)


# --- input: bodies -------------------------------------------------------------------------


class WorkshopSessionPatch(ApiSchema):
    """A session's fields; all optional (PATCH). Times are wall-clock times of the session's zone."""

    start_local = LocalDateTime(metadata={
        "description": "Inicio, hora local de la comuna de la oficina que dicta (AAAA-MM-DDTHH:MM). "
                       "Si se cambia solo el inicio, la sesión conserva su duración.",
        "example": "2026-05-12T10:00"})
    end_local = LocalDateTime(metadata={"description": "Término, hora local (AAAA-MM-DDTHH:MM).",
                                        "example": "2026-05-12T12:00"})
    modality = Enum(Modality, by_value=True,
                    metadata={"description": "remote (remota), in_person (presencial) o hybrid (híbrida)."})
    capacity = Integer(strict=True, metadata={
        "description": "Cupo de la sesión (mayor que cero; una sesión remota puede tener más cupo "
                       "que una sala).", "example": 30})
    venue_name = String(allow_none=True, metadata={"description": "Lugar (presencial o híbrida)."})
    address = String(allow_none=True, metadata={"description": "Dirección (presencial o híbrida)."})
    comuna_code = String(allow_none=True, metadata={
        "description": "Comuna del lugar, código CUT de cinco dígitos (presencial o híbrida).",
        "example": "13120"})
    join_url = String(allow_none=True, metadata={
        "description": "Enlace para conectarse (Zoom, Meet, Teams u otro), siempre https://.",
        "example": "https://us02web.zoom.us/j/123456789"})


class _Confirmations(ApiSchema):
    confirm_warnings = _flag("Guardar aunque haya advertencias de conflicto (lugar ocupado, otro "
                             "taller del mismo tema en la red a la misma hora).")
    confirm_facilitator = _flag("Guardar aunque una persona facilitadora ya tenga otra sesión a esa "
                                "hora (requiere además confirm_warnings).")


class WorkshopSessionUpdate(WorkshopSessionPatch, _Confirmations):
    whole_series = _flag("Aplicar el cambio a esta sesión y a las siguientes de su serie (cada una "
                         "conserva su fecha y toma las horas, modalidad, cupo, lugar y enlace).")


class WorkshopSessionNew(WorkshopSessionPatch):
    """A session or a weekly series: the first session, repeated ``repeat_weekly`` weeks."""

    start_local = LocalDateTime(required=True, metadata={
        "description": "Inicio, hora local de la comuna de la oficina que dicta (AAAA-MM-DDTHH:MM).",
        "example": "2026-05-12T10:00"})
    end_local = LocalDateTime(required=True, metadata={
        "description": "Término, hora local (AAAA-MM-DDTHH:MM), el mismo día.", "example": "2026-05-12T12:00"})
    modality = Enum(Modality, by_value=True, required=True,
                    metadata={"description": "remote (remota), in_person (presencial) o hybrid (híbrida)."})
    capacity = Integer(strict=True, required=True,
                       metadata={"description": "Cupo de cada sesión (mayor que cero).", "example": 30})
    repeat_weekly = Integer(strict=True, metadata={
        "description": "Cuántas sesiones, una por semana el mismo día y a la misma hora local "
                       "(1 a 52; por omisión 1, una sola sesión). 4 = «todos los martes por 4 semanas».",
        "example": 4})


class WorkshopSessionsCreate(WorkshopSessionNew, _Confirmations):
    pass


class WorkshopPatch(ApiSchema):
    """A workshop's details; all optional (PATCH): a field left out keeps its value."""

    title = String(metadata={"description": "Título (hasta 200 caracteres).",
                             "example": "Cómo enfrentar una entrevista de trabajo"})
    description = String(metadata={"description": "Descripción para el público."})
    topic_id = _id("Tema del catálogo (/api/v1/workshops/topics).")
    host_office_id = _id("Oficina que dicta. Cambiarla es de la coordinación de la red, y solo a una oficina "
                         "para la que podría crear el taller (la suya o una de la red que coordina); si no, 403.")
    audience = String(metadata={"description": "A quién está dirigido."})
    language = String(metadata={"description": "Idioma: es, en, ht (criollo haitiano) o arn (mapudungun).",
                                "example": "es"})
    network_ids = _ids("Redes a las que pertenece (varias = taller interredes). Si se omite al "
                       "crear, las redes de la oficina que dicta. Se pueden sumar las redes de su oficina; "
                       "la coordinación, también las de las regiones donde coordina. Otra red: 403. "
                       "Las que el taller ya tiene se conservan.")
    convening_office_ids = _ids("Oficinas convocantes: la suya o las de una red que usted puede sumar (otra "
                                "oficina: 403). Las que el taller ya tiene se conservan.")
    facilitator_user_ids = _ids("Personal que facilita: de la oficina que dicta o de una convocante.")
    guest_facilitators = List(String(), validate=Length(max=MAX_IDS, error=_l("Elija como máximo {max}.")),
                              metadata={"description": "Nombres de personas facilitadoras invitadas."})
    offers_subtitles = _flag("Ofrece subtítulos.")
    offers_sign_language = _flag("Ofrece intérprete de lengua de señas chilena.")
    offers_materials_in_advance = _flag("Entrega los materiales con anticipación.")
    accessibility_notes = String(metadata={"description": "Otras medidas de accesibilidad."})


class WorkshopCreate(WorkshopPatch, _Confirmations):
    title = String(required=True, metadata={"description": "Título (hasta 200 caracteres).",
                                            "example": "Cómo enfrentar una entrevista de trabajo"})
    topic_id = _id("Tema del catálogo (/api/v1/workshops/topics).", required=True)
    host_office_id = _id("Oficina que dicta: la suya, o una de la red que coordina.", required=True)
    session = Nested(WorkshopSessionNew, allow_none=True, metadata={
        "description": "Primera sesión o serie semanal (opcional: se pueden agregar después). "
                       "La zona horaria es la de la comuna de la oficina que dicta."})


class CancelReason(ApiSchema):
    reason = String(required=True, metadata={
        "description": "Motivo; se comunica a las oficinas y a las personas afectadas.",
        "example": "Corte de luz en el edificio"})


# --- output --------------------------------------------------------------------------------


class WorkshopRef(ApiSchema):
    id = Integer(required=True)
    name = String(required=True)


class WorkshopTopic(ApiSchema):
    id = Integer(required=True)
    name = String(required=True, metadata={"example": "Entrevista de trabajo"})
    slug = String(required=True, metadata={"example": "entrevista-de-trabajo"})
    description = String(required=True)


class WorkshopSession(ApiSchema):
    id = Integer(required=True)
    series_id = Integer(allow_none=True, required=True,
                        metadata={"description": "La serie semanal que la creó, si hay una."})
    status = Enum(SessionStatus, by_value=True, required=True)
    cancel_reason = String(allow_none=True, required=True)
    starts_at = DateTime(required=True, metadata={"description": "Inicio en UTC (ISO 8601).",
                                                  "example": "2026-05-12T14:00:00+00:00"})
    ends_at = DateTime(required=True, metadata={"description": "Término en UTC (ISO 8601)."})
    timezone = String(required=True, metadata={"description": "Zona horaria IANA de la sesión.",
                                               "example": "America/Santiago"})
    local_start = DateTime(required=True, metadata={
        "description": "Inicio en la hora local de la sesión, con su desfase (ISO 8601).",
        "example": "2026-05-12T10:00:00-04:00"})
    local_end = DateTime(required=True, metadata={"description": "Término en la hora local."})
    modality = Enum(Modality, by_value=True, required=True)
    capacity = Integer(required=True)
    venue_name = String(allow_none=True, required=True)
    address = String(allow_none=True, required=True)
    comuna_code = String(allow_none=True, required=True)
    join_url = String(allow_none=True, required=True, metadata={
        "description": "Enlace para conectarse; solo para el personal que puede ver el taller "
                       "(el público lo recibe al inscribirse)."})
    sequence = Integer(required=True, metadata={"description": "Crece con cada cambio (iCalendar SEQUENCE)."})


class WorkshopAccessibility(ApiSchema):
    subtitles = Boolean(required=True)
    sign_language = Boolean(required=True, metadata={"description": "Intérprete de lengua de señas chilena."})
    materials_in_advance = Boolean(required=True)
    notes = String(required=True)


class WorkshopSummary(ApiSchema):
    id = Integer(required=True)
    slug = String(required=True)
    title = String(required=True)
    status = Enum(ActivityStatus, by_value=True, required=True)
    topic = Nested(WorkshopTopic, required=True)
    host_office = Nested(WorkshopRef, required=True, metadata={"description": "La oficina que dicta."})
    networks = List(Nested(WorkshopRef), required=True)
    timezone = String(required=True, metadata={"description": "Zona horaria de la oficina que dicta."})
    first_start = DateTime(allow_none=True, required=True,
                           metadata={"description": "Inicio de la primera sesión programada (UTC)."})
    last_end = DateTime(allow_none=True, required=True,
                        metadata={"description": "Término de la última sesión programada (UTC)."})
    session_count = Integer(required=True, metadata={"description": "Sesiones programadas (no canceladas)."})
    public_url = String(allow_none=True, required=True,
                        metadata={"description": "Página pública, si el taller está publicado."})


class WorkshopDetail(WorkshopSummary):
    description = String(required=True)
    audience = String(required=True)
    language = String(required=True)
    cancel_reason = String(allow_none=True, required=True)
    convening_offices = List(Nested(WorkshopRef), required=True, metadata={"description": "Oficinas convocantes."})
    facilitators = List(String(), required=True, metadata={"description": "Nombres de quienes facilitan."})
    accessibility = Nested(WorkshopAccessibility, required=True)
    sessions = List(Nested(WorkshopSession), required=True, metadata={"description": "Todas, también las canceladas."})
    published_at = DateTime(allow_none=True, required=True)
    created_at = DateTime(required=True)
    updated_at = DateTime(required=True)


WorkshopPage = page_of(WorkshopSummary, "WorkshopPage")
TopicPage = page_of(WorkshopTopic, "TopicPage")
