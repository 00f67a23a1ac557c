"""What a workshop does: plan it, schedule its sessions, coordinate it, and tell people.

Each public function here is one transaction: it checks permission through the policy,
validates, writes, records an audit event and commits; it raises ``ActivityError`` (or
``ConflictsFound``) with a Spanish message and leaves nothing half-written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import render_template
from flask_babel import gettext as _
from sqlalchemy import select

from app.accounts.models import Role, User
from app.accounts.policy import can, refused_link
from app.activities import services as core
from app.activities.models import (
    Activity,
    ActivityChange,
    ActivityKind,
    ActivitySession,
    ActivityStatus,
    SessionStatus,
)
from app.activities.services import ActivityError, SessionInput
from app.activities.signals import session_changed
from app.audit.services import record
from app.conferencing import join_page_accessibility
from app.extensions import db
from app.outbox.services import enqueue_email
from app.territory.models import Network, Office
from app.text import file_name, multi_line, slugify
from app.timeutil import utcnow
from app.urls import external_url
from workshops.models import Facilitator, Material, StaffNote, Topic, Workshop

LANGUAGES = ("es", "en", "ht", "arn")  # Spanish, English, Haitian Creole, Mapudungun


@dataclass
class WorkshopData:
    title: str
    description: str
    topic_id: int
    host_office_id: int
    audience: str = ""
    language: str = "es"
    network_ids: list[int] = field(default_factory=list)
    convening_office_ids: list[int] = field(default_factory=list)
    facilitator_user_ids: list[int] = field(default_factory=list)
    guest_facilitators: list[str] = field(default_factory=list)
    offers_subtitles: bool = False
    offers_sign_language: bool = False
    offers_materials_in_advance: bool = False
    accessibility_notes: str = ""


@dataclass
class Schedule:
    """The first session, repeated weekly ``count`` times (1 = a single session)."""

    first: SessionInput
    count: int = 1
    interval: int = 1


@dataclass
class Conflict:
    kind: str  # facilitator, venue, topic
    message: str
    needs_confirmation: bool


class ConflictsFound(ActivityError):
    def __init__(self, conflicts: list[Conflict]) -> None:
        super().__init__(_("Revise los posibles conflictos antes de guardar."), status=409)
        self.conflicts = conflicts

    @property
    def needs_confirmation(self) -> bool:
        return any(c.needs_confirmation for c in self.conflicts)


def _forbid() -> ActivityError:
    return ActivityError(_("No tiene permiso para hacer esto."), status=403)


def _check_links(refs: dict[str, Any], actor: User, activity: Activity | None = None) -> None:
    """Refuse (403) a network or convening office the actor may not tie the workshop to."""
    refused = refused_link(actor, host=refs["host"], networks=refs["networks"], convening=refs["convening"],
                           activity=activity)
    if refused is None:
        return
    field_name, obj = refused
    if field_name == "network_ids":
        message = _("No puede sumar el taller a «%(name)s»: elija una red con la que trabaje su oficina.",
                    name=obj.name)
    else:
        message = _("No puede pedir a «%(name)s» que convoque: elija una oficina con la que trabaje su red.",
                    name=obj.name)
    raise ActivityError(message, field=field_name, status=403)


def _get(model: Any, ident: Any, field_name: str, message: str) -> Any:
    obj = db.session.get(model, ident) if ident is not None else None
    if obj is None:
        raise ActivityError(message, field=field_name)
    return obj


def active_topics() -> list[Topic]:
    return list(db.session.scalars(select(Topic).where(Topic.active.is_(True)).order_by(Topic.position, Topic.name)))


def _resolve(data: WorkshopData, keep_topic_id: int | None = None) -> dict[str, Any]:
    """Load and check every referenced object; raises on unknown ids. A deactivated topic is
    refused, except the one a workshop already has (``keep_topic_id``)."""
    topic = _get(Topic, data.topic_id, "topic_id", _("Elija un tema de la lista."))
    if not topic.active and topic.id != keep_topic_id:
        raise ActivityError(_("Ese tema ya no está disponible."), field="topic_id")
    host = _get(Office, data.host_office_id, "host_office_id", _("Elija la oficina que dicta el taller."))
    networks = [_get(Network, i, "network_ids", _("Una de las redes elegidas no existe.")) for i in
                dict.fromkeys(data.network_ids)]
    if not networks:
        networks = list(host.networks)
    convening = [_get(Office, i, "convening_office_ids", _("Una de las oficinas convocantes no existe."))
                 for i in dict.fromkeys(data.convening_office_ids)]
    allowed_offices = {host.id} | {o.id for o in convening}
    facilitators: list[User] = []
    for uid in dict.fromkeys(data.facilitator_user_ids):
        user = _get(User, uid, "facilitator_user_ids", _("Una de las personas facilitadoras no existe."))
        if user.role != Role.OFFICE_STAFF or user.office_id not in allowed_offices or not user.active:
            raise ActivityError(
                _("%(name)s no pertenece a la oficina que dicta ni a una convocante. "
                  "Agregue su oficina como convocante o regístrela como invitada.", name=user.name),
                field="facilitator_user_ids")
        facilitators.append(user)
    guests = [g for g in (core.line_field(g, "guest_facilitators") for g in data.guest_facilitators) if g]
    if any(len(g) > 160 for g in guests):
        raise ActivityError(_("El nombre de una persona invitada es demasiado largo."), field="guest_facilitators")
    if data.language not in LANGUAGES:
        raise ActivityError(_("Elija un idioma de la lista."), field="language")
    for name, limit in (("audience", 2000), ("accessibility_notes", 2000)):
        if len(getattr(data, name) or "") > limit:
            raise ActivityError(_("El texto es demasiado largo (máximo %(n)s caracteres).", n=limit), field=name)
    return {"topic": topic, "host": host, "networks": networks, "convening": convening,
            "facilitators": facilitators, "guests": guests}


def _apply(workshop: Workshop, data: WorkshopData, refs: dict[str, Any]) -> None:
    activity = workshop.activity
    activity.networks = refs["networks"]
    activity.convening_offices = [o for o in refs["convening"] if o.id != refs["host"].id]
    workshop.topic = refs["topic"]
    workshop.audience = multi_line(data.audience)
    workshop.language = data.language
    workshop.offers_subtitles = data.offers_subtitles
    workshop.offers_sign_language = data.offers_sign_language
    workshop.offers_materials_in_advance = data.offers_materials_in_advance
    workshop.accessibility_notes = multi_line(data.accessibility_notes)
    wanted_users = {u.id for u in refs["facilitators"]}
    wanted_guests = list(refs["guests"])
    for f in list(workshop.facilitators):
        keep = f.user_id in wanted_users if f.user_id is not None else f.guest_name in wanted_guests
        if not keep:
            workshop.facilitators.remove(f)
    have_users = {f.user_id for f in workshop.facilitators if f.user_id}
    have_guests = {f.guest_name for f in workshop.facilitators if f.user_id is None}
    for u in refs["facilitators"]:
        if u.id not in have_users:
            workshop.facilitators.append(Facilitator(user=u))
    for g in wanted_guests:
        if g not in have_guests:
            workshop.facilitators.append(Facilitator(guest_name=g))


# --- conflicts -----------------------------------------------------------------------------


def _fmt(s: ActivitySession) -> str:
    return f"{s.local_start:%d-%m-%Y %H:%M}–{s.local_end:%H:%M}"


def find_conflicts(*, workshop_id: int | None, spans: list[tuple[Any, Any, SessionInput | ActivitySession]],
                   facilitator_user_ids: list[int], topic_id: int, network_ids: list[int]) -> list[Conflict]:
    """Conflicts of the given session spans with other live activities' sessions."""
    found: list[Conflict] = []
    seen: set[tuple[str, int]] = set()
    for starts_at, ends_at, src in spans:
        overlapping = core.overlapping_sessions(starts_at, ends_at, exclude_activity_id=workshop_id)
        if facilitator_user_ids:
            q = overlapping.join(Facilitator, Facilitator.workshop_id == ActivitySession.activity_id).where(
                Facilitator.user_id.in_(facilitator_user_ids)).add_columns(Facilitator.user_id)
            for other, user_id in db.session.execute(q):
                if ("facilitator", other.id) in seen:
                    continue
                seen.add(("facilitator", other.id))
                user = db.session.get(User, user_id)
                found.append(Conflict("facilitator", _(
                    "%(name)s ya facilita «%(title)s» el %(when)s.", name=user.name if user else "?",
                    title=other.activity.title, when=_fmt(other)), needs_confirmation=True))
        venue = getattr(src, "venue_name", None)
        if venue and src.modality.value in ("in_person", "hybrid"):
            for other in db.session.scalars(core.same_venue(overlapping, venue, src.comuna_code)):
                if ("venue", other.id) in seen:
                    continue
                seen.add(("venue", other.id))
                found.append(Conflict("venue", _(
                    "El lugar «%(venue)s» ya está ocupado por «%(title)s» el %(when)s.", venue=venue,
                    title=other.activity.title, when=_fmt(other)), needs_confirmation=False))
        if network_ids:
            from app.activities.models import activity_networks

            q = (overlapping.join(Workshop, Workshop.activity_id == ActivitySession.activity_id)
                 .join(activity_networks, activity_networks.c.activity_id == ActivitySession.activity_id)
                 .where(Workshop.topic_id == topic_id, activity_networks.c.network_id.in_(network_ids)))
            for other in db.session.scalars(q):
                if ("topic", other.id) in seen:
                    continue
                seen.add(("topic", other.id))
                found.append(Conflict("topic", _(
                    "La red ya tiene otro taller del mismo tema a esa hora: «%(title)s» el %(when)s.",
                    title=other.activity.title, when=_fmt(other)), needs_confirmation=False))
    return found


def _guard_conflicts(conflicts: list[Conflict], confirm_warnings: bool, confirm_facilitator: bool) -> None:
    if not conflicts:
        return
    if not confirm_warnings or (any(c.needs_confirmation for c in conflicts) and not confirm_facilitator):
        raise ConflictsFound(conflicts)


def _schedule_spans(schedule: Schedule) -> list[tuple[Any, Any, SessionInput]]:
    first = schedule.first
    spans = []
    duration = first.end_local - first.start_local
    for d in core.weekly_dates(first.start_local.date(), schedule.count, schedule.interval):
        start = datetime.combine(d, first.start_local.time())
        starts_at = core.to_utc(start, first.timezone)
        ends_at = core.to_utc(start + duration, first.timezone)
        spans.append((starts_at, ends_at, first))
    return spans


# --- workshops -----------------------------------------------------------------------------


def create_workshop(data: WorkshopData, schedule: Schedule | None, *, actor: User,
                    confirm_warnings: bool = False, confirm_facilitator: bool = False) -> Workshop:
    refs = _resolve(data)
    if not can(actor, "activity.create", refs["host"]):
        raise _forbid()
    _check_links(refs, actor)
    if schedule is not None:
        core.validate_session_input(schedule.first)
        spans = _schedule_spans(schedule)
        _guard_conflicts(find_conflicts(
            workshop_id=None, spans=spans, facilitator_user_ids=[u.id for u in refs["facilitators"]],
            topic_id=refs["topic"].id, network_ids=[n.id for n in refs["networks"]]),
            confirm_warnings, confirm_facilitator)
    activity = core.new_activity(kind=ActivityKind.WORKSHOP, title=data.title, description=data.description,
                                 host_office=refs["host"], networks=refs["networks"],
                                 convening_offices=refs["convening"], created_by=actor)
    workshop = Workshop(activity=activity, topic=refs["topic"])
    db.session.add(workshop)
    _apply(workshop, data, refs)
    db.session.flush()
    if schedule is not None:
        _add_schedule(activity, schedule)
    _audit("workshop.create", activity, actor)
    db.session.commit()
    return workshop


def _add_schedule(activity: Activity, schedule: Schedule) -> list[ActivitySession]:
    if schedule.count == 1:
        return [core.add_session(activity, schedule.first)]
    _series, sessions = core.add_weekly_series(activity, schedule.first, count=schedule.count,
                                               interval=schedule.interval)
    return sessions


def _audit(action: str, activity: Activity, actor: User, summary: str = "") -> None:
    nets = activity.networks
    record(action, activity, summary or activity.title[:200], actor=actor, office_id=activity.host_office_id,
           network_id=nets[0].id if len(nets) == 1 else None, region_code=activity.host_office.comuna.region_code)


def _check_edit(workshop: Workshop, actor: User) -> None:
    if not can(actor, "activity.edit", workshop.activity):
        raise _forbid()


def update_workshop(workshop: Workshop, data: WorkshopData, *, actor: User) -> Workshop:
    _check_edit(workshop, actor)
    refs = _resolve(data, keep_topic_id=workshop.topic_id)
    activity = workshop.activity
    if refs["host"].id != activity.host_office_id:
        if not can(actor, "activity.assign_host", activity):
            raise ActivityError(_("Solo la coordinación de la red puede cambiar la oficina que dicta."),
                                field="host_office_id", status=403)
        if not can(actor, "activity.create", refs["host"]):  # the same check as creating it there
            raise ActivityError(_("No puede trasladar el taller a «%(name)s»: elija su oficina o una de la red "
                                  "que coordina.", name=refs["host"].name), field="host_office_id", status=403)
    _check_links(refs, actor, activity)
    if refs["host"].id != activity.host_office_id:
        activity.host_office = refs["host"]
    title = core.line_field(data.title, "title")
    if not title:
        raise ActivityError(_("Escriba un título."), field="title")
    if len(title) > 200:
        raise ActivityError(_("El título no puede superar 200 caracteres."), field="title")
    if len(data.description or "") > 20_000:
        raise ActivityError(_("La descripción es demasiado larga."), field="description")
    if title != activity.title and activity.status == ActivityStatus.DRAFT:
        activity.slug = core.unique_slug(title, activity.kind, exclude_id=activity.id)
    activity.title = title
    activity.description = multi_line(data.description)
    activity.updated_at = utcnow()  # workshop-only fields and lists change the calendars too
    _apply(workshop, data, refs)
    _audit("workshop.update", activity, actor)
    db.session.commit()
    return workshop


def add_sessions(workshop: Workshop, schedule: Schedule, *, actor: User, confirm_warnings: bool = False,
                 confirm_facilitator: bool = False) -> list[ActivitySession]:
    _check_edit(workshop, actor)
    activity = workshop.activity
    if activity.status in (ActivityStatus.CANCELLED, ActivityStatus.DONE):
        raise ActivityError(_("No se agregan sesiones a un taller cancelado o realizado."), status=409)
    allow_past = activity.status == ActivityStatus.DRAFT
    core.validate_session_input(schedule.first, allow_past=allow_past)
    _guard_conflicts(find_conflicts(
        workshop_id=activity.id, spans=_schedule_spans(schedule),
        facilitator_user_ids=[f.user_id for f in workshop.facilitators if f.user_id],
        topic_id=workshop.topic_id, network_ids=[n.id for n in activity.networks]),
        confirm_warnings, confirm_facilitator)
    sessions = _add_schedule(activity, schedule)
    _audit("workshop.sessions_add", activity, actor, f"{len(sessions)} sesiones")
    db.session.commit()
    return sessions


def update_session(session: ActivitySession, inp: SessionInput, *, actor: User, whole_series: bool = False,
                   confirm_warnings: bool = False, confirm_facilitator: bool = False) -> list[ActivityChange]:
    workshop = db.session.get(Workshop, session.activity_id)
    assert workshop is not None
    _check_edit(workshop, actor)
    starts_at, ends_at = core.validate_session_input(inp)
    spans: list[tuple[Any, Any, SessionInput | ActivitySession]] = [(starts_at, ends_at, inp)]
    series = whole_series and session.series_id is not None
    if series:  # every session the change reaches, each on its own date
        spans = []
        for s in core.series_sessions(session.series_id, from_session=session):  # type: ignore[arg-type]
            each = core.series_template(s, inp)
            spans.append((core.to_utc(each.start_local, each.timezone), core.to_utc(each.end_local, each.timezone),
                          each))
    _guard_conflicts(find_conflicts(
        workshop_id=session.activity_id, spans=spans,
        facilitator_user_ids=[f.user_id for f in workshop.facilitators if f.user_id],
        topic_id=workshop.topic_id, network_ids=[n.id for n in workshop.activity.networks]),
        confirm_warnings, confirm_facilitator)
    if series:  # this session and the ones after it
        changes = core.update_series(session.series_id, inp, actor=actor,  # type: ignore[arg-type]
                                     from_session=session)
    else:
        changes = core.update_session(session, inp, actor=actor)
    _audit("workshop.session_update", workshop.activity, actor, f"sesión {session.id}")
    db.session.commit()
    return changes


def cancel_session(session: ActivitySession, reason: str, *, actor: User) -> None:
    workshop = db.session.get(Workshop, session.activity_id)
    assert workshop is not None
    _check_edit(workshop, actor)
    core.cancel_session(session, reason, actor=actor)
    _audit("workshop.session_cancel", workshop.activity, actor, f"sesión {session.id}")
    db.session.commit()


def publish(workshop: Workshop, *, actor: User) -> None:
    _check_edit(workshop, actor)
    core.publish(workshop.activity, actor=actor)
    _audit("workshop.publish", workshop.activity, actor)
    db.session.commit()


def cancel(workshop: Workshop, reason: str, *, actor: User) -> None:
    _check_edit(workshop, actor)
    core.cancel_activity(workshop.activity, reason, actor=actor)
    _audit("workshop.cancel", workshop.activity, actor)
    db.session.commit()


def mark_done(workshop: Workshop, *, actor: User) -> None:
    _check_edit(workshop, actor)
    core.mark_done(workshop.activity)
    _audit("workshop.done", workshop.activity, actor)
    db.session.commit()


def add_note(workshop: Workshop, text: str, *, actor: User) -> StaffNote:
    if not can(actor, "activity.note", workshop.activity):
        raise _forbid()
    text = multi_line(text)
    if not text:
        raise ActivityError(_("Escriba la nota."), field="text")
    if len(text) > 5000:
        raise ActivityError(_("La nota no puede superar 5.000 caracteres."), field="text")
    note = StaffNote(workshop=workshop, office_id=actor.office_id, author_id=actor.id, text=text)
    db.session.add(note)
    _audit("workshop.note", workshop.activity, actor)
    db.session.commit()
    return note


def add_material(workshop: Workshop, upload: Any, *, filename: str, title: str, actor: User) -> Material:
    from app.storage import save_upload

    _check_edit(workshop, actor)
    title = core.line_field(title, "title") or file_name(filename, "")[:200]
    if not title:
        raise ActivityError(_("Dé un título al material."), field="title")
    if len(title) > 200:
        raise ActivityError(_("El título no puede superar 200 caracteres."), field="title")
    stored = save_upload(upload, filename=filename, purpose="material",
                         office_id=workshop.activity.host_office_id, uploaded_by=actor)
    material = Material(workshop=workshop, file=stored, title=title)
    db.session.add(material)
    _audit("workshop.material_add", workshop.activity, actor)
    db.session.commit()
    return material


def remove_material(material: Material, *, actor: User) -> None:
    from app.storage import discard

    _check_edit(material.workshop, actor)
    stored = material.file
    db.session.delete(material)
    _audit("workshop.material_remove", material.workshop.activity, actor)
    db.session.flush()
    discard(stored)
    db.session.commit()


# --- topics (admins) -----------------------------------------------------------------------


def save_topic(topic: Topic | None, *, name: str, description: str, active: bool, actor: User) -> Topic:
    if not can(actor, "topic.manage"):
        raise _forbid()
    name = core.line_field(name, "name")
    if not name:
        raise ActivityError(_("Escriba el nombre del tema."), field="name")
    if len(name) > 120:
        raise ActivityError(_("El nombre no puede superar 120 caracteres."), field="name")
    clash = db.session.scalar(select(Topic).where(Topic.name == name))
    if clash is not None and (topic is None or clash.id != topic.id):
        raise ActivityError(_("Ya existe un tema con ese nombre."), field="name", status=409)
    if topic is None:
        position = (db.session.scalar(select(Topic.position).order_by(Topic.position.desc()).limit(1)) or 0) + 1
        topic = Topic(name=name, slug=slugify(name), position=position)
        db.session.add(topic)
    topic.name, topic.description, topic.active = name, (description or "")[:2000], active
    record("topic.save", topic, name, actor=actor)
    db.session.commit()
    return topic


# --- telling people about changes ----------------------------------------------------------


@session_changed.connect
def _notify_staff_of_change(session: ActivitySession, *, changes: list[ActivityChange], actor: Any,
                            **_kw: Any) -> None:
    """Queue a message to the workshop's facilitators and offices (registrants: next issue)."""
    workshop = db.session.get(Workshop, session.activity_id)
    if workshop is None or not changes:
        return
    activity = workshop.activity
    recipients: dict[str, tuple[str, int | None]] = {}
    for f in workshop.facilitators:
        if f.user is not None and f.user.active:
            recipients[f.user.email] = (f.user.name, f.user.office_id)
    for office in [activity.host_office, *activity.convening_offices]:
        if office.email:
            recipients.setdefault(office.email.lower(), (office.name, office.id))
    link = external_url("workshops.detail", slug=activity.slug)
    cancelled = any(c.kind == "cancelled" for c in changes)
    subject = (_("Sesión cancelada: %(title)s", title=activity.title) if cancelled
               else _("Cambio en una sesión: %(title)s", title=activity.title))
    ctx = {"activity": activity, "session": session, "changes": changes, "link": link, "cancelled": cancelled}
    body = render_template("email/session_changed.txt", **ctx)
    key = "-".join(str(c.id) for c in changes)
    for email, (name, office_id) in sorted(recipients.items()):
        enqueue_email(dedupe_key=f"session-change:{key}:{email}", to=email, to_name=name, subject=subject,
                      body_text=body, kind="session_change", office_id=office_id)


@join_page_accessibility.connect
def _accessibility_offered(session: ActivitySession, **_kw: Any) -> list[str]:
    """What the workshop offers, listed on each registrant's join page."""
    workshop = db.session.get(Workshop, session.activity_id)
    if workshop is None:
        return []
    offered = []
    if workshop.offers_subtitles:
        offered.append(_("Subtítulos"))
    if workshop.offers_sign_language:
        offered.append(_("Intérprete de lengua de señas chilena"))
    if workshop.offers_materials_in_advance:
        offered.append(_("Materiales disponibles antes del taller"))
    if (workshop.accessibility_notes or "").strip():
        offered.append(workshop.accessibility_notes.strip()[:500])
    return offered


def scheduled_sessions(activity: Activity) -> list[ActivitySession]:
    return [s for s in activity.sessions if s.status == SessionStatus.SCHEDULED]
