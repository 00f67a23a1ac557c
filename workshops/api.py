"""Workshops in the JSON API, under /api/v1/workshops.

Thin views: parse (APIFlask validates against ``workshops.api_schemas``), load, call the same
``workshops.services`` functions as the HTML pages (they check permissions through the policy,
validate, write and commit), and answer. A service's refusal becomes problem details:

- a field the user can fix → 422 with ``errors`` shaped like APIFlask's own validation errors
  (``{"json": {"title": ["…"]}}``, or ``{"json": {"session": {"end_local": ["…"]}}}``);
- conflicts → 409 with ``conflicts: [{kind, message, needs_confirmation}]``;
- no permission → 403; a state that does not allow it (publishing a past session) → 409.

Reading is public for published workshops (the same ones /talleres shows); staff also see the
drafts and others the policy lets them see. Writes need a Bearer token or the session plus
``X-CSRFToken``. A retried POST makes a second workshop: idempotency keys come with the
registration issue.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, NoReturn, TypeVar

from apiflask import HTTPError
from flask import Response, g, url_for
from flask_babel import gettext as _
from sqlalchemy import Select, false, func, or_, select, true
from sqlalchemy.orm import contains_eager
from sqlalchemy.sql.elements import ColumnElement

from app.accounts.models import Role, User
from app.accounts.policy import can, coordinated_network_ids, member_network_ids
from app.activities.models import (
    Activity,
    ActivitySession,
    ActivityStatus,
    SessionStatus,
    activity_convening_offices,
    activity_networks,
)
from app.activities.services import ActivityError, SessionInput
from app.api import api_blueprint
from app.api.auth import auth, current_api_user, forbidden, not_found
from app.api.pagination import Page, paginate
from app.extensions import db
from app.territory.models import Comuna, Network, Office, network_offices, network_regions
from app.urls import external_url
from workshops import api_schemas as schemas
from workshops import services
from workshops.models import Topic, Workshop

bp = api_blueprint("workshops_api", __name__, "/api/v1/workshops", tag="Talleres")

T = TypeVar("T")

PUBLIC_READ = [{"bearerAuth": []}, {"sessionCookie": []}, {}]  # {}: also without authentication
FORBIDDEN = {403: "La cuenta no tiene permiso para esto."}
NOT_FOUND = {404: "No existe ese taller (o esa sesión del taller)."}
STATE = {409: "El estado del taller no lo permite (por ejemplo, publicar con una sesión pasada)."}
CONFLICTS = {409: {
    "description": (
        "Hay posibles conflictos: se guarda solo si se reenvía con confirm_warnings: true, y "
        "además confirm_facilitator: true si una persona facilitadora ya tiene otra sesión a "
        "esa hora (needs_confirmation). Nada se guardó."),
    "content": {"application/json": {"schema": {"allOf": [
        {"$ref": "#/components/schemas/Problem"},
        {"type": "object", "properties": {
            "needs_confirmation": {"type": "boolean"},
            "conflicts": {"type": "array", "items": {"type": "object", "properties": {
                "kind": {"type": "string", "enum": ["facilitator", "venue", "topic"]},
                "message": {"type": "string"},
                "needs_confirmation": {"type": "boolean"},
            }}},
        }},
    ]}}},
}}

# Service field names → API field names (session fields live under "session" on create).
SESSION_FIELDS = {"start": "start_local", "end": "end_local", "count": "repeat_weekly",
                  "interval": "repeat_weekly", "timezone": "start_local", "modality": "modality",
                  "capacity": "capacity", "venue_name": "venue_name", "address": "address",
                  "comuna_code": "comuna_code", "join_url": "join_url"}


# --- errors --------------------------------------------------------------------------------


def _refusal(exc: ActivityError, session_key: str | None) -> HTTPError:
    if isinstance(exc, services.ConflictsFound):
        return HTTPError(409, exc.message, extra_data={
            "needs_confirmation": exc.needs_confirmation,
            "conflicts": [{"kind": c.kind, "message": c.message, "needs_confirmation": c.needs_confirmation}
                          for c in exc.conflicts],
        })
    errors: dict[str, Any] | None = None
    if exc.field in SESSION_FIELDS:
        field_errors: dict[str, Any] = {SESSION_FIELDS[exc.field]: [exc.message]}
        errors = {"json": {session_key: field_errors} if session_key else field_errors}
    elif exc.field:
        errors = {"json": {exc.field: [exc.message]}}
    status = 422 if exc.status == 400 and errors else exc.status
    return HTTPError(status, exc.message, detail=errors)


def _run(call: Callable[[], T], *, session_key: str | None = None) -> T:
    """Call a service; its refusal becomes problem details and nothing stays half-written."""
    try:
        return call()
    except ActivityError as exc:
        db.session.rollback()
        raise _refusal(exc, session_key) from exc


# --- who may see what ----------------------------------------------------------------------


def _optional_caller() -> User | None:
    """The caller of a public endpoint: a user, or None. A bad token is still a 401."""
    if g.get("api_auth_failure"):
        raise _AuthFailed
    user = auth.current_user
    return user if isinstance(user, User) else None


class _AuthFailed(Exception):
    pass


@bp.errorhandler(_AuthFailed)
def _auth_failed(_exc: _AuthFailed) -> Response:
    return auth.auth_error_callback(401)  # type: ignore[no-any-return]


def _public() -> ColumnElement[bool]:
    """What /talleres shows (``Activity.is_public``): published once, still or since then."""
    return Activity.status.in_([ActivityStatus.PUBLISHED, ActivityStatus.DONE, ActivityStatus.CANCELLED]) \
        & Activity.published_at.is_not(None)


def _staff_may_view(user: User) -> ColumnElement[bool]:
    """``can(user, "activity.view", activity)`` as a query condition (``policy.rules._on_activity``)."""
    if not can(user, "activity.view"):
        return false()
    if user.role == Role.SENCE_NATIONAL:
        return true()
    if user.role == Role.SENCE_REGIONAL:
        if user.region_code is None:
            return false()
        hosted_in_region = Activity.host_office_id.in_(
            select(Office.id).join(Comuna, Comuna.code == Office.comuna_code)
            .where(Comuna.region_code == user.region_code))
        planned_in_region = Activity.id.in_(
            select(activity_networks.c.activity_id)
            .join(network_regions, network_regions.c.network_id == activity_networks.c.network_id)
            .where(network_regions.c.region_code == user.region_code))
        return or_(hosted_in_region, planned_in_region)
    if user.role != Role.OFFICE_STAFF or user.office_id is None:
        return false()
    conditions: list[ColumnElement[bool]] = [
        Activity.host_office_id == user.office_id,
        Activity.id.in_(select(activity_convening_offices.c.activity_id)
                        .where(activity_convening_offices.c.office_id == user.office_id)),
    ]
    coordinated = coordinated_network_ids(user)
    if coordinated:  # coordinators see the activities of their networks and of their offices
        conditions.append(Activity.id.in_(select(activity_networks.c.activity_id)
                                          .where(activity_networks.c.network_id.in_(coordinated))))
        conditions.append(Activity.host_office_id.in_(select(network_offices.c.office_id)
                                                      .where(network_offices.c.network_id.in_(coordinated))))
    member = member_network_ids(user)
    if member:
        conditions.append(Activity.id.in_(select(activity_networks.c.activity_id)
                                          .where(activity_networks.c.network_id.in_(member))))
    return or_(*conditions)


def visible_workshops(user: User | None) -> Select[tuple[Workshop]]:
    """Workshops the caller may read: the public ones, plus those the policy lets staff see;
    ordered by their first session (workshops without sessions last)."""
    first_start = (select(func.min(ActivitySession.starts_at))
                   .where(ActivitySession.activity_id == Activity.id).scalar_subquery())
    seen = _public() if user is None else or_(_public(), _staff_may_view(user))
    return (select(Workshop).join(Activity, Activity.id == Workshop.activity_id)
            .options(contains_eager(Workshop.activity))
            .where(seen)
            .order_by(first_start.asc().nulls_last(), Activity.id))


def _may_read(user: User | None, workshop: Workshop) -> bool:
    return workshop.activity.is_public or can(user, "activity.view", workshop.activity)


def _load(workshop_id: int) -> Workshop:
    found = db.session.get(Workshop, workshop_id)  # the route caps ids at MAX_ROW_ID
    if found is None:
        not_found(_("No existe el taller %(id)s.", id=workshop_id))
    return found


def _load_session(workshop: Workshop, session_id: int) -> ActivitySession:
    found = db.session.get(ActivitySession, session_id)
    if found is None or found.activity_id != workshop.activity_id:
        not_found(_("El taller %(id)s no tiene la sesión %(sid)s.", id=workshop.activity_id, sid=session_id))
    return found


def _readable(workshop_id: int, user: User | None) -> Workshop:
    workshop = _load(workshop_id)
    if not _may_read(user, workshop):
        if user is None:
            _unauthenticated()
        forbidden(_("Su cuenta no puede ver este taller."))
    return workshop


def _unauthenticated() -> NoReturn:
    raise _AuthFailed


# --- answers -------------------------------------------------------------------------------


def _ref(obj: Any) -> dict[str, Any]:
    return {"id": obj.id, "name": obj.name}


def _topic(topic: Topic) -> dict[str, Any]:
    return {"id": topic.id, "name": topic.name, "slug": topic.slug, "description": topic.description}


def _summary(workshop: Workshop) -> dict[str, Any]:
    activity = workshop.activity
    scheduled = [s for s in activity.sessions if s.status == SessionStatus.SCHEDULED]
    return {
        "id": activity.id,
        "slug": activity.slug,
        "title": activity.title,
        "status": activity.status,
        "topic": _topic(workshop.topic),
        "host_office": _ref(activity.host_office),
        "networks": [_ref(n) for n in activity.networks],
        "timezone": activity.timezone,
        "first_start": min((s.starts_at for s in scheduled), default=None),
        "last_end": max((s.ends_at for s in scheduled), default=None),
        "session_count": len(scheduled),
        "public_url": external_url("workshops.detail", slug=activity.slug) if activity.is_public else None,
    }


def _session(s: ActivitySession, *, with_link: bool) -> dict[str, Any]:
    return {
        "id": s.id, "series_id": s.series_id, "status": s.status, "cancel_reason": s.cancel_reason,
        "starts_at": s.starts_at, "ends_at": s.ends_at, "timezone": s.timezone,
        "local_start": s.local_start, "local_end": s.local_end, "modality": s.modality,
        "capacity": s.capacity, "venue_name": s.venue_name, "address": s.address,
        "comuna_code": s.comuna_code, "join_url": s.join_url if with_link else None,
        "sequence": s.sequence,
    }


def _detail(workshop: Workshop, user: User | None) -> dict[str, Any]:
    activity = workshop.activity
    with_link = can(user, "activity.view", activity)
    return {
        **_summary(workshop),
        "description": activity.description,
        "audience": workshop.audience,
        "language": workshop.language,
        "cancel_reason": activity.cancel_reason,
        "convening_offices": [_ref(o) for o in activity.convening_offices],
        "facilitators": [f.display_name for f in workshop.facilitators],
        "accessibility": {
            "subtitles": workshop.offers_subtitles,
            "sign_language": workshop.offers_sign_language,
            "materials_in_advance": workshop.offers_materials_in_advance,
            "notes": workshop.accessibility_notes,
        },
        "sessions": [_session(s, with_link=with_link) for s in activity.sessions],
        "published_at": activity.published_at,
        "created_at": activity.created_at,
        "updated_at": activity.updated_at,
    }


def _fresh_detail(workshop_id: int, user: User) -> dict[str, Any]:
    db.session.expire_all()  # a series edit may have changed sessions loaded before it
    return _detail(_load(workshop_id), user)


# --- turning bodies into service arguments -------------------------------------------------

WORKSHOP_FIELDS = ("title", "description", "topic_id", "host_office_id", "audience", "language",
                   "network_ids", "convening_office_ids", "facilitator_user_ids", "guest_facilitators",
                   "offers_subtitles", "offers_sign_language", "offers_materials_in_advance",
                   "accessibility_notes")


def _current_data(workshop: Workshop) -> dict[str, Any]:
    activity = workshop.activity
    return {
        "title": activity.title, "description": activity.description, "topic_id": workshop.topic_id,
        "host_office_id": activity.host_office_id, "audience": workshop.audience,
        "language": workshop.language, "network_ids": [n.id for n in activity.networks],
        "convening_office_ids": [o.id for o in activity.convening_offices],
        "facilitator_user_ids": [f.user_id for f in workshop.facilitators if f.user_id is not None],
        "guest_facilitators": [f.guest_name for f in workshop.facilitators
                               if f.user_id is None and f.guest_name],
        "offers_subtitles": workshop.offers_subtitles,
        "offers_sign_language": workshop.offers_sign_language,
        "offers_materials_in_advance": workshop.offers_materials_in_advance,
        "accessibility_notes": workshop.accessibility_notes,
    }


def _workshop_data(body: dict[str, Any], base: dict[str, Any] | None = None) -> services.WorkshopData:
    values = dict(base or {})
    values.update({k: v for k, v in body.items() if k in WORKSHOP_FIELDS})
    values.setdefault("description", "")
    return services.WorkshopData(**values)


def _session_input(body: dict[str, Any], timezone: str) -> SessionInput:
    return SessionInput(
        start_local=body["start_local"], end_local=body["end_local"], timezone=timezone,
        modality=body["modality"], capacity=body["capacity"], venue_name=body.get("venue_name"),
        address=body.get("address"), comuna_code=body.get("comuna_code"), join_url=body.get("join_url"))


def _schedule(body: dict[str, Any], timezone: str) -> services.Schedule:
    return services.Schedule(first=_session_input(body, timezone), count=body.get("repeat_weekly", 1))


def _patched_session(session: ActivitySession, body: dict[str, Any]) -> SessionInput:
    """The session as it is, with the fields the body sends. Moving only the start keeps the
    duration; times are read in the session's own zone."""
    start: datetime = session.local_start.replace(tzinfo=None)
    end: datetime = session.local_end.replace(tzinfo=None)
    if "start_local" in body and "end_local" not in body:
        end = body["start_local"] + (end - start)
    values = {
        "start_local": start, "end_local": end, "modality": session.modality, "capacity": session.capacity,
        "venue_name": session.venue_name, "address": session.address, "comuna_code": session.comuna_code,
        "join_url": session.join_url,
    }
    values.update({k: v for k, v in body.items() if k in values})
    return _session_input(values, session.timezone)


def _host_timezone(host_office_id: int) -> str:
    host = db.session.get(Office, host_office_id)
    # An unknown office is refused by the service, with its own message, before any time is read.
    return host.timezone if host is not None else "America/Santiago"


def _created(workshop_id: int, user: User) -> tuple[dict[str, Any], int, dict[str, str]]:
    location = url_for("workshops_api.get_workshop", workshop_id=workshop_id)
    return _fresh_detail(workshop_id, user), 201, {"Location": location}


# --- reading (public for published workshops) ----------------------------------------------


@bp.get("/topics")
@bp.input(schemas.PageQuery, location="query")
@bp.output(schemas.TopicPage)
def topics(query_data: dict[str, Any]) -> Page:
    """Temas de los talleres

    El catálogo de temas de apresto laboral que se puede elegir al crear un taller (lo editan
    las personas administradoras). Pública.
    """
    page, per_page = query_data["page"], query_data["per_page"]
    active = services.active_topics()
    items = [_topic(t) for t in active[(page - 1) * per_page: page * per_page]]
    return {"items": items, "page": page, "per_page": per_page, "total": len(active)}


@bp.get("")
@bp.auth_required(auth, optional=True)
@bp.input(schemas.WorkshopQuery, location="query")
@bp.output(schemas.WorkshopPage)
@bp.doc(security=PUBLIC_READ)
def list_workshops(query_data: dict[str, Any]) -> Page:
    """Talleres

    Sin autenticación: los talleres publicados (también los ya realizados o cancelados después
    de publicarse), como en /talleres. Con un token o la sesión, además los que la cuenta puede
    ver según su rol: borradores de su oficina, de las oficinas a las que convoca y de las redes
    a las que pertenece o que coordina; SENCE regional, los de su región; SENCE nacional, todos.
    Ordenados por su primera sesión. `status`, `topic` y `network` filtran.
    """
    user = _optional_caller()
    q = visible_workshops(user)
    status = query_data.get("status")
    if status is not None:
        q = q.where(Activity.status == status)
    topic = query_data.get("topic")
    if topic is not None:
        if db.session.get(Topic, topic) is None:
            raise HTTPError(422, detail={"query": {"topic": [_("No existe el tema %(id)s.", id=topic)]}})
        q = q.where(Workshop.topic_id == topic)
    network = query_data.get("network")
    if network is not None:
        if db.session.get(Network, network) is None:
            raise HTTPError(422, detail={"query": {"network": [_("No existe la red %(id)s.", id=network)]}})
        q = q.where(Activity.id.in_(select(activity_networks.c.activity_id)
                                    .where(activity_networks.c.network_id == network)))
    page = paginate(q, query_data["page"], query_data["per_page"], options=[
        contains_eager(Workshop.activity).selectinload(Activity.sessions),
        contains_eager(Workshop.activity).selectinload(Activity.networks),
        contains_eager(Workshop.activity).selectinload(Activity.host_office).selectinload(Office.comuna),
    ])
    page["items"] = [_summary(w) for w in page["items"]]
    return page


@bp.get("/<int:workshop_id>")
@bp.auth_required(auth, optional=True)
@bp.output(schemas.WorkshopDetail)
@bp.doc(security=PUBLIC_READ, responses={**FORBIDDEN, **NOT_FOUND})
def get_workshop(workshop_id: int) -> dict[str, Any]:
    """Un taller

    Con sus sesiones (horas en UTC, la zona horaria de cada sesión y las horas locales), redes,
    oficina que dicta, oficinas convocantes, personas facilitadoras (solo nombres),
    accesibilidad y estado. Un taller publicado es público; el enlace para conectarse se muestra
    solo al personal que puede ver el taller. 404 si no existe; 401 sin autenticación y 403 sin
    permiso si no está publicado (como en /api/v1/offices/{id}: un id equivocado se distingue de
    un permiso que falta).
    """
    user = _optional_caller()
    return _detail(_readable(workshop_id, user), user)


# --- writing -------------------------------------------------------------------------------


@bp.post("")
@bp.auth_required(auth)
@bp.input(schemas.WorkshopCreate)
@bp.output(schemas.WorkshopDetail, status_code=201)
@bp.doc(responses={**FORBIDDEN, **CONFLICTS})
def create_workshop(json_data: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Crear un taller

    Queda en borrador. La oficina que dicta es la de la cuenta, o una de las redes que
    coordina. `session` agrega la primera sesión o una serie semanal (`repeat_weekly`), en la
    zona horaria de la comuna de la oficina que dicta. Si hay conflictos responde 409 con la
    lista en `conflicts`, sin guardar nada; se confirma reenviando con `confirm_warnings` (y
    `confirm_facilitator` si una persona facilitadora queda con dos sesiones a la vez).
    Reenviar la misma solicitud crea otro taller.
    """
    user = current_api_user()
    if not can(user, "activity.create"):
        forbidden()
    data = _workshop_data(json_data)
    session = json_data.get("session")
    schedule = _schedule(session, _host_timezone(data.host_office_id)) if session else None
    workshop = _run(lambda: services.create_workshop(
        data, schedule, actor=user, confirm_warnings=json_data.get("confirm_warnings", False),
        confirm_facilitator=json_data.get("confirm_facilitator", False)), session_key="session")
    return _created(workshop.activity_id, user)


@bp.patch("/<int:workshop_id>")
@bp.auth_required(auth)
@bp.input(schemas.WorkshopPatch)
@bp.output(schemas.WorkshopDetail)
@bp.doc(responses={**FORBIDDEN, **NOT_FOUND})
def update_workshop(workshop_id: int, json_data: dict[str, Any]) -> dict[str, Any]:
    """Modificar los datos de un taller

    Solo los campos enviados cambian; los demás conservan su valor. Las listas (redes,
    oficinas convocantes, personas facilitadoras) se reemplazan completas. Lo hace el personal
    de la oficina que dicta o la coordinación de la red; cambiar la oficina que dicta, solo la
    coordinación, y solo a una oficina para la que podría crear el taller. Una red u oficina
    convocante nueva debe ser una con la que usted trabaja (403 si no); nada cambia si se rechaza.
    """
    user = current_api_user()
    workshop = _load(workshop_id)
    data = _workshop_data(json_data, _current_data(workshop))
    _run(lambda: services.update_workshop(workshop, data, actor=user))
    return _fresh_detail(workshop_id, user)


@bp.post("/<int:workshop_id>/sessions")
@bp.auth_required(auth)
@bp.input(schemas.WorkshopSessionsCreate)
@bp.output(schemas.WorkshopDetail, status_code=201)
@bp.doc(responses={**FORBIDDEN, **NOT_FOUND, **CONFLICTS})
def add_sessions(workshop_id: int, json_data: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Agregar una sesión o una serie semanal

    En la zona horaria de la comuna de la oficina que dicta. `repeat_weekly` = 4 crea cuatro
    sesiones, una por semana. En un taller publicado las sesiones no pueden ser en el pasado.
    Conflictos: 409, como al crear. Responde el taller completo.
    """
    user = current_api_user()
    workshop = _load(workshop_id)
    schedule = _schedule(json_data, workshop.activity.timezone)
    _run(lambda: services.add_sessions(
        workshop, schedule, actor=user, confirm_warnings=json_data.get("confirm_warnings", False),
        confirm_facilitator=json_data.get("confirm_facilitator", False)))
    return _created(workshop_id, user)


@bp.patch("/<int:workshop_id>/sessions/<int:session_id>")
@bp.auth_required(auth)
@bp.input(schemas.WorkshopSessionUpdate)
@bp.output(schemas.WorkshopDetail)
@bp.doc(responses={**FORBIDDEN, **NOT_FOUND, **CONFLICTS})
def update_session(workshop_id: int, session_id: int, json_data: dict[str, Any]) -> dict[str, Any]:
    """Modificar una sesión (o su serie)

    Solo los campos enviados cambian. Con `whole_series: true` el cambio se aplica a esta
    sesión y a las siguientes de su serie, cada una en su fecha. En un taller publicado, un
    cambio de hora, lugar o enlace queda registrado y se avisa a las oficinas y personas
    facilitadoras. Responde el taller completo.
    """
    user = current_api_user()
    workshop = _load(workshop_id)
    session = _load_session(workshop, session_id)
    inp = _patched_session(session, json_data)
    _run(lambda: services.update_session(
        session, inp, actor=user, whole_series=json_data.get("whole_series", False),
        confirm_warnings=json_data.get("confirm_warnings", False),
        confirm_facilitator=json_data.get("confirm_facilitator", False)))
    return _fresh_detail(workshop_id, user)


@bp.post("/<int:workshop_id>/sessions/<int:session_id>/cancel")
@bp.auth_required(auth)
@bp.input(schemas.CancelReason)
@bp.output(schemas.WorkshopDetail)
@bp.doc(responses={**FORBIDDEN, **NOT_FOUND})
def cancel_session(workshop_id: int, session_id: int, json_data: dict[str, Any]) -> dict[str, Any]:
    """Cancelar una sesión

    Con un motivo (`reason`), que se comunica a las personas afectadas si el taller está
    publicado. Cancelar una sesión ya cancelada no cambia nada.
    """
    user = current_api_user()
    workshop = _load(workshop_id)
    session = _load_session(workshop, session_id)
    _run(lambda: services.cancel_session(session, json_data["reason"], actor=user))
    return _fresh_detail(workshop_id, user)


@bp.post("/<int:workshop_id>/publish")
@bp.auth_required(auth)
@bp.output(schemas.WorkshopDetail)
@bp.doc(responses={**FORBIDDEN, **NOT_FOUND, **STATE})
def publish_workshop(workshop_id: int) -> dict[str, Any]:
    """Publicar un taller

    Pasa de borrador a publicado y aparece en /talleres. Necesita al menos una sesión y que
    ninguna haya pasado (409 si no). Publicar un taller ya publicado no cambia nada. Sin cuerpo.
    """
    user = current_api_user()
    workshop = _load(workshop_id)
    _run(lambda: services.publish(workshop, actor=user))
    return _fresh_detail(workshop_id, user)


@bp.post("/<int:workshop_id>/cancel")
@bp.auth_required(auth)
@bp.input(schemas.CancelReason)
@bp.output(schemas.WorkshopDetail)
@bp.doc(responses={**FORBIDDEN, **NOT_FOUND, **STATE})
def cancel_workshop(workshop_id: int, json_data: dict[str, Any]) -> dict[str, Any]:
    """Cancelar un taller

    Cancela todas sus sesiones pendientes, con un motivo (`reason`) que se comunica a las
    oficinas y a las personas afectadas. Un taller ya realizado no se cancela (409).
    """
    user = current_api_user()
    workshop = _load(workshop_id)
    _run(lambda: services.cancel(workshop, json_data["reason"], actor=user))
    return _fresh_detail(workshop_id, user)
