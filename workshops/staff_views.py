"""Staff pages to plan workshops, under /gestion/talleres.

Each view loads its objects, asks the policy, reads the form into the shapes the services
take (``WorkshopData``, ``Schedule``, ``SessionInput``), calls one service and renders. A
service's ``ActivityError`` goes next to its field (or into the summary) with its status;
``ConflictsFound`` shows the conflicts and asks for a second, explicit click (409). What the
user typed is always kept. After a state change that queued messages, delivery is kicked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from wtforms import SelectChoice

from app.accounts.guards import current_account, require
from app.accounts.models import Role, User
from app.accounts.policy import (
    can,
    linkable_networks,
    linkable_offices,
    visible_activities,
    visible_networks,
    visible_offices,
)
from app.activities.models import Activity, ActivityKind, ActivitySession, ActivityStatus, SessionStatus
from app.activities.services import ActivityError
from app.extensions import db
from app.i18n import DEFAULT_TZ
from app.outbox.tasks import kick_delivery
from app.storage import StorageError, download_url
from app.territory.forms import comuna_choices
from app.territory.models import Network, Office, Region
from app.timeutil import utcnow
from workshops import services
from workshops.forms import (
    FilterForm,
    MaterialForm,
    NoteForm,
    ReasonForm,
    SessionEditForm,
    SessionFields,
    SessionNewForm,
    TopicForm,
    WorkshopForm,
    WorkshopNewForm,
    language_labels,
    modality_labels,
    read_ids,
    read_int,
    show_error,
    status_labels,
)
from workshops.models import Material, Topic, Workshop

bp = Blueprint("workshops_staff", __name__, url_prefix="/gestion/talleres")

PER_PAGE = 25
MAX_PAGE = 100_000


_me = current_account
_require = require


def _failed(form: Any, err: ActivityError | StorageError, field: str | None = None) -> tuple[list[str], int]:
    """Undo what the failed service call left in the session; put its message on the form."""
    db.session.rollback()
    if field is not None and isinstance(err, StorageError):
        if field in form:
            form[field].errors = [*form[field].errors, err.message]
            return [], err.status
        return [err.message], err.status
    return show_error(form, err), err.status


# --- what the templates show -------------------------------------------------------------------


def zone_label(tz: str) -> str:
    labels = {"America/Santiago": _("Hora de Chile continental (Santiago)"),
              "America/Punta_Arenas": _("Hora de Punta Arenas (Magallanes)"),
              "Pacific/Easter": _("Hora de Isla de Pascua (Rapa Nui)")}
    return labels.get(tz, _("Hora de %(zone)s", zone=tz))


def session_when(s: ActivitySession) -> str:
    """«martes, 14 de abril de 2026, 10:00–12:00» in the session's own zone."""
    start, end = s.local_start, s.local_end
    day = format_date(start.date(), "full")
    return f"{day}, {start:%H:%M}–{end:%H:%M}"


@bp.context_processor
def _helpers() -> dict[str, object]:
    return {"zone_label": zone_label, "session_when": session_when, "modality_labels": modality_labels(),
            "status_labels": status_labels(), "language_labels": language_labels()}


# --- loading -----------------------------------------------------------------------------------


def _workshop_or_404(workshop_id: int) -> Workshop:
    workshop = db.session.get(Workshop, workshop_id)
    if workshop is None or workshop.activity.kind != ActivityKind.WORKSHOP:
        abort(404)
    return workshop


def _session_or_404(workshop: Workshop, session_id: int) -> ActivitySession:
    session = db.session.get(ActivitySession, session_id)
    if session is None or session.activity_id != workshop.activity_id:
        abort(404)
    return session


# --- choices -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    note: str = ""  # shown muted after the label


def _host_offices(me: User, current: Office | None = None) -> list[Office]:
    """Offices where the user may host a workshop (and the current host, when editing)."""
    offices = [o for o in db.session.scalars(visible_offices(me)) if can(me, "activity.create", o)]
    if current is not None and current not in offices:
        offices.insert(0, current)
    return offices


def _office_label(office: Office, with_zone: bool) -> str:
    label = f"{office.name} ({office.comuna.name})"
    return f"{label} · {zone_label(office.timezone)}" if with_zone else label


def _topic_choices(current: Topic | None = None) -> list[SelectChoice]:
    topics = services.active_topics()
    if current is not None and current not in topics:
        topics.append(current)
    return [SelectChoice("", _("Elija un tema")), *(SelectChoice(str(t.id), t.name) for t in topics)]


def _all_regions() -> list[Region]:
    return list(db.session.scalars(select(Region).order_by(Region.position)))


def _session_choices(form: SessionFields) -> None:
    form.modality.choices = list(modality_labels().items())
    form.comuna_code.choices = comuna_choices(_all_regions())


def _selected(values: list[str] | None) -> set[int]:
    return set(read_ids(values) or [])


@dataclass
class WorkshopChoices:
    """The options of the workshop form's selects and checkbox groups."""

    networks: list[Option]
    convening: list[Option]
    facilitators: list[Option]
    host_zone: str
    host_name: str | None


def _fill_workshop_choices(form: WorkshopForm, me: User, activity: Activity | None,
                           topic: Topic | None = None) -> WorkshopChoices:
    form.topic_id.choices = _topic_choices(topic)
    form.language.choices = list(language_labels().items())
    host_id = read_int(form.host_office_id.data) if "host_office_id" in form else None
    if activity is not None and host_id is None:
        host_id = activity.host_office_id
    if "host_office_id" in form:
        hosts = _host_offices(me, activity.host_office if activity is not None else None)
        mixed_zones = len({o.timezone for o in hosts}) > 1
        form.host_office_id.choices = [SelectChoice("", _("Elija una oficina"))] + [
            SelectChoice(str(o.id), _office_label(o, mixed_zones)) for o in hosts]
    host = db.session.get(Office, host_id) if host_id else None

    # Networks: those the user may tie the workshop to, plus those the workshop already has.
    networks: list[Network] = list(db.session.scalars(linkable_networks(me)))
    if activity is not None:
        networks += [n for n in activity.networks if n not in networks]
    chosen_networks = _selected(form.network_ids.data)
    network_options = [Option(str(n.id), n.name) for n in networks]

    # Convening offices: those the user may ask to convene (in-network first), minus the host.
    offices: list[Office] = list(db.session.scalars(linkable_offices(me)))
    if activity is not None:
        offices += [o for o in activity.convening_offices if o not in offices]
    in_networks = {o.id for n in networks if n.id in chosen_networks for o in n.offices}
    offices = [o for o in offices if host is None or o.id != host.id]
    offices.sort(key=lambda o: (o.id not in in_networks, o.name))
    convening_options = [Option(str(o.id), f"{o.name} ({o.comuna.name})",
                                "" if o.id in in_networks or not chosen_networks else _("otra red"))
                         for o in offices]

    # Facilitators: active staff of the host and the ticked convening offices.
    office_ids = _selected(form.convening_office_ids.data) | ({host.id} if host else set())
    people = list(db.session.scalars(
        select(User).where(User.office_id.in_(office_ids or {-1}), User.role == Role.OFFICE_STAFF,
                           User.active.is_(True)).order_by(User.name))) if office_ids else []
    for extra_id in sorted(_selected(form.facilitator_user_ids.data) - {u.id for u in people}):
        extra = db.session.get(User, extra_id)  # ticked, though now outside: keep it, the service says why
        if extra is not None and extra.role == Role.OFFICE_STAFF:
            people.append(extra)
    facilitator_options = [Option(str(u.id), u.name, u.office.name if u.office else "") for u in people]
    return WorkshopChoices(network_options, convening_options, facilitator_options,
                           host.timezone if host else DEFAULT_TZ, host.name if host else None)


def _conflict_context(err: services.ConflictsFound | None, form: Any) -> dict[str, Any]:
    if err is None:
        return {"conflicts": [], "needs_confirmation": False}
    if form.warnings_confirmed and err.needs_confirmation and not form.confirm_facilitator.data:
        form.confirm_facilitator.errors = [
            *form.confirm_facilitator.errors,
            _("Marque la casilla para confirmar que la persona facilitadora puede estar en ambas sesiones.")]
    form.confirm_warnings.data = "1"
    return {"conflicts": err.conflicts, "needs_confirmation": err.needs_confirmation}


# --- list --------------------------------------------------------------------------------------


def _page_number() -> int:
    raw = request.args.get("page", "1").strip()
    return int(raw) if raw.isdecimal() and 1 <= int(raw) <= MAX_PAGE else 1


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    _require("activity.view")
    me = _me()
    form = FilterForm(request.args)
    form.status.choices = [SelectChoice("", _("Todos los estados")),
                           *(SelectChoice(k, v) for k, v in status_labels().items())]
    topics = list(db.session.scalars(select(Topic).order_by(Topic.position, Topic.name)))
    form.topic.choices = [SelectChoice("", _("Todos los temas")), *(SelectChoice(str(t.id), t.name) for t in topics)]
    query = visible_activities(me, kind=ActivityKind.WORKSHOP)
    status = 200
    filtered = bool(form.status.data or form.topic.data)
    if filtered and not form.validate():
        status = 400
    elif filtered:
        if form.status.data:
            query = query.where(Activity.status == ActivityStatus(form.status.data))
        if form.topic.data:
            query = query.where(Activity.id.in_(
                select(Workshop.activity_id).where(Workshop.topic_id == read_int(form.topic.data))))
    query = query.options(joinedload(Activity.host_office).joinedload(Office.comuna),
                          selectinload(Activity.sessions))
    pagination = db.paginate(query, page=_page_number(), per_page=PER_PAGE, max_per_page=PER_PAGE,
                             error_out=False)
    activities = list(pagination.items)
    workshops = {w.activity_id: w for w in db.session.scalars(
        select(Workshop).where(Workshop.activity_id.in_([a.id for a in activities] or [-1])))}
    return render_template("workshops/staff/index.html", form=form, pagination=pagination,
                           activities=activities, workshops=workshops, filtered=filtered,
                           can_create=can(me, "activity.create"), can_topics=can(me, "topic.manage"),
                           args={k: v for k, v in (("status", form.status.data), ("topic", form.topic.data)) if v},
                           next_session=_next_session), status


def _next_session(activity: Activity) -> ActivitySession | None:
    scheduled = [s for s in activity.sessions if s.status == SessionStatus.SCHEDULED]
    upcoming = [s for s in scheduled if s.ends_at > utcnow()]
    return (upcoming or scheduled or [None])[0]


# --- create ------------------------------------------------------------------------------------


def _render_workshop_form(form: WorkshopForm, activity: Activity | None, *, errors: list[str] | None = None,
                          conflict: services.ConflictsFound | None = None, status: int = 200,
                          topic: Topic | None = None) -> ResponseReturnValue:
    me = _me()
    choices = _fill_workshop_choices(form, me, activity, topic)
    if isinstance(form, SessionFields):
        _session_choices(form)
    return render_template("workshops/staff/workshop_form.html", form=form, activity=activity, choices=choices,
                           errors=errors or [], with_session=isinstance(form, SessionFields),
                           **_conflict_context(conflict, form)), status


@bp.route("/nuevo", methods=["GET", "POST"])
@login_required
def new() -> ResponseReturnValue:
    _require("activity.create")
    me = _me()
    form = WorkshopNewForm()
    if request.method == "GET":
        hosts = _host_offices(me)
        host = next((o for o in hosts if o.id == me.office_id), hosts[0] if len(hosts) == 1 else None)
        if host is not None:
            form.host_office_id.data = str(host.id)
            seen = {n.id for n in db.session.scalars(visible_networks(me))}
            form.network_ids.data = [str(n.id) for n in host.networks if n.id in seen]
        return _render_workshop_form(form, None)
    if request.form.get("refresh"):  # "update the lists" without JavaScript: nothing is saved
        return _render_workshop_form(form, None)
    if not form.validate_on_submit():
        return _render_workshop_form(form, None, status=400)
    host = db.session.get(Office, read_int(form.host_office_id.data))
    tz = host.timezone if host is not None else DEFAULT_TZ
    try:
        workshop = services.create_workshop(
            form.to_data(), form.to_schedule(form.to_input(tz)), actor=me,
            confirm_warnings=form.warnings_confirmed, confirm_facilitator=bool(form.confirm_facilitator.data))
    except services.ConflictsFound as err:
        db.session.rollback()
        return _render_workshop_form(form, None, conflict=err, status=err.status)
    except ActivityError as err:
        errors, status = _failed(form, err)
        return _render_workshop_form(form, None, errors=errors, status=status)
    n = len(workshop.activity.sessions)
    flash(_("Se creó el taller «%(title)s» en borrador con %(n)s sesiones. Revíselo y publíquelo.",
            title=workshop.activity.title, n=n) if n != 1 else
          _("Se creó el taller «%(title)s» en borrador. Revíselo y publíquelo.", title=workshop.activity.title),
          "success")
    return redirect(url_for("workshops_staff.detail", workshop_id=workshop.activity_id))


# --- the staff page ----------------------------------------------------------------------------


def _render_detail(workshop: Workshop, *, note_form: NoteForm | None = None,
                   material_form: MaterialForm | None = None, cancel_form: ReasonForm | None = None,
                   errors: list[str] | None = None, status: int = 200) -> ResponseReturnValue:
    me = _me()
    activity = workshop.activity
    can_edit = can(me, "activity.edit", activity)
    live = activity.status in (ActivityStatus.DRAFT, ActivityStatus.PUBLISHED)
    return render_template(
        "workshops/staff/detail.html", workshop=workshop, activity=activity, can_edit=can_edit, live=live,
        can_note=can(me, "activity.note", activity),
        note_form=note_form or NoteForm(formdata=None, prefix="note"),
        material_form=material_form or MaterialForm(formdata=None, prefix="material"),
        cancel_form=cancel_form or ReasonForm(formdata=None, prefix="cancel"),
        downloads={m.id: download_url(m.file) for m in workshop.materials},
        errors=errors or [],
        public_url=(url_for("workshops.detail", slug=activity.slug)
                    if activity.status in (ActivityStatus.PUBLISHED, ActivityStatus.DONE) else None),
    ), status


@bp.get("/<int:workshop_id>")
@login_required
def detail(workshop_id: int) -> ResponseReturnValue:
    workshop = _workshop_or_404(workshop_id)
    _require("activity.view", workshop.activity)
    return _render_detail(workshop)


def _editable(workshop_id: int) -> Workshop:
    workshop = _workshop_or_404(workshop_id)
    _require("activity.edit", workshop.activity)
    return workshop


def _back(workshop: Workshop, anchor: str | None = None) -> ResponseReturnValue:
    return redirect(url_for("workshops_staff.detail", workshop_id=workshop.activity_id, _anchor=anchor))


@bp.post("/<int:workshop_id>/publicar")
@login_required
def publish(workshop_id: int) -> ResponseReturnValue:
    workshop = _editable(workshop_id)
    try:
        services.publish(workshop, actor=_me())
    except ActivityError as err:
        db.session.rollback()
        return _render_detail(workshop, errors=[err.message], status=err.status)
    kick_delivery()
    flash(_("El taller está publicado y ya aparece en la página pública."), "success")
    return _back(workshop)


@bp.post("/<int:workshop_id>/realizado")
@login_required
def mark_done(workshop_id: int) -> ResponseReturnValue:
    workshop = _editable(workshop_id)
    try:
        services.mark_done(workshop, actor=_me())
    except ActivityError as err:
        db.session.rollback()
        return _render_detail(workshop, errors=[err.message], status=err.status)
    flash(_("El taller quedó marcado como realizado."), "success")
    return _back(workshop)


@bp.post("/<int:workshop_id>/cancelar")
@login_required
def cancel(workshop_id: int) -> ResponseReturnValue:
    workshop = _editable(workshop_id)
    form = ReasonForm(prefix="cancel")
    if not form.validate_on_submit():
        return _render_detail(workshop, cancel_form=form, status=400)
    try:
        services.cancel(workshop, form.reason.data or "", actor=_me())
    except ActivityError as err:
        errors, status = _failed(form, err)
        return _render_detail(workshop, cancel_form=form, errors=errors, status=status)
    kick_delivery()
    flash(_("El taller fue cancelado. Se avisó a las oficinas y personas facilitadoras."), "success")
    return _back(workshop)


@bp.post("/<int:workshop_id>/notas")
@login_required
def add_note(workshop_id: int) -> ResponseReturnValue:
    workshop = _workshop_or_404(workshop_id)
    _require("activity.note", workshop.activity)
    form = NoteForm(prefix="note")
    if not form.validate_on_submit():
        return _render_detail(workshop, note_form=form, status=400)
    try:
        services.add_note(workshop, form.text.data or "", actor=_me())
    except ActivityError as err:
        errors, status = _failed(form, err)
        return _render_detail(workshop, note_form=form, errors=errors, status=status)
    flash(_("Se agregó la nota."), "success")
    return _back(workshop, "notas")


@bp.post("/<int:workshop_id>/materiales")
@login_required
def add_material(workshop_id: int) -> ResponseReturnValue:
    workshop = _editable(workshop_id)
    form = MaterialForm(prefix="material")
    if not form.validate_on_submit():
        return _render_detail(workshop, material_form=form, status=400)
    upload = form.file.data
    try:
        material = services.add_material(workshop, upload.stream, filename=upload.filename or "",
                                         title=form.title.data or "", actor=_me())
    except StorageError as err:
        errors, status = _failed(form, err, field="file")
        return _render_detail(workshop, material_form=form, errors=errors, status=status)
    except ActivityError as err:
        errors, status = _failed(form, err)
        return _render_detail(workshop, material_form=form, errors=errors, status=status)
    flash(_("Se subió «%(title)s».", title=material.title), "success")
    return _back(workshop, "materiales")


@bp.post("/<int:workshop_id>/materiales/<int:material_id>/eliminar")
@login_required
def remove_material(workshop_id: int, material_id: int) -> ResponseReturnValue:
    workshop = _editable(workshop_id)
    material = db.session.get(Material, material_id)
    if material is None or material.workshop_id != workshop.activity_id:
        abort(404)
    title = material.title
    try:
        services.remove_material(material, actor=_me())
    except ActivityError as err:
        db.session.rollback()
        return _render_detail(workshop, errors=[err.message], status=err.status)
    flash(_("Se eliminó «%(title)s».", title=title), "success")
    return _back(workshop, "materiales")


# --- edit the details --------------------------------------------------------------------------


def _workshop_values(workshop: Workshop) -> dict[str, Any]:
    a = workshop.activity
    return {
        "title": a.title, "description": a.description, "topic_id": str(workshop.topic_id),
        "audience": workshop.audience, "language": workshop.language, "host_office_id": str(a.host_office_id),
        "network_ids": [str(n.id) for n in a.networks],
        "convening_office_ids": [str(o.id) for o in a.convening_offices],
        "facilitator_user_ids": [str(f.user_id) for f in workshop.facilitators if f.user_id],
        "guest_facilitators": "\n".join(f.guest_name or "" for f in workshop.facilitators if f.user_id is None),
        "offers_subtitles": workshop.offers_subtitles, "offers_sign_language": workshop.offers_sign_language,
        "offers_materials_in_advance": workshop.offers_materials_in_advance,
        "accessibility_notes": workshop.accessibility_notes,
    }


@bp.route("/<int:workshop_id>/editar", methods=["GET", "POST"])
@login_required
def edit(workshop_id: int) -> ResponseReturnValue:
    workshop = _editable(workshop_id)
    activity = workshop.activity
    form = WorkshopForm(**_workshop_values(workshop))
    may_move = can(_me(), "activity.assign_host", activity)
    if not may_move:
        del form.host_office_id
    topic = workshop.topic
    if request.method == "GET" or request.form.get("refresh"):
        return _render_workshop_form(form, activity, topic=topic)
    if not form.validate_on_submit():
        return _render_workshop_form(form, activity, status=400, topic=topic)
    try:
        services.update_workshop(workshop, form.to_data(None if may_move else activity.host_office_id),
                                 actor=_me())
    except ActivityError as err:
        errors, status = _failed(form, err)
        return _render_workshop_form(form, workshop.activity, errors=errors, status=status, topic=workshop.topic)
    flash(_("Se guardaron los cambios del taller."), "success")
    return _back(workshop)


# --- sessions ----------------------------------------------------------------------------------


def _render_session_form(workshop: Workshop, form: SessionFields, session: ActivitySession | None, *,
                         cancel_form: ReasonForm | None = None, errors: list[str] | None = None,
                         conflict: services.ConflictsFound | None = None, status: int = 200) -> ResponseReturnValue:
    _session_choices(form)
    if isinstance(form, SessionEditForm):
        form.scope.choices = [("one", _("Solo esta sesión")),
                              ("series", _("Esta y todas las siguientes de la serie"))]
    tz = session.timezone if session is not None else workshop.activity.timezone
    return render_template(
        "workshops/staff/session_form.html", workshop=workshop, activity=workshop.activity, form=form,
        session=session, tz=tz, errors=errors or [], with_repeat="count" in form,
        in_series=session is not None and session.series_id is not None,
        cancel_form=cancel_form or ReasonForm(formdata=None, prefix="cancel"),
        **_conflict_context(conflict, form)), status


@bp.route("/<int:workshop_id>/sesiones/nueva", methods=["GET", "POST"])
@login_required
def add_sessions(workshop_id: int) -> ResponseReturnValue:
    workshop = _editable(workshop_id)
    activity = workshop.activity
    form = SessionNewForm()
    if request.method == "GET":
        scheduled = services.scheduled_sessions(activity)
        if scheduled:  # start from the last session, a week later
            form.fill_from(scheduled[-1])
            last = scheduled[-1].local_start
            form.date.data = f"{last + timedelta(days=7):%Y-%m-%d}"
        return _render_session_form(workshop, form, None)
    if not form.validate_on_submit():
        return _render_session_form(workshop, form, None, status=400)
    try:
        sessions = services.add_sessions(
            workshop, form.to_schedule(form.to_input(activity.timezone)), actor=_me(),
            confirm_warnings=form.warnings_confirmed, confirm_facilitator=bool(form.confirm_facilitator.data))
    except services.ConflictsFound as err:
        db.session.rollback()
        return _render_session_form(workshop, form, None, conflict=err, status=err.status)
    except ActivityError as err:
        errors, status = _failed(form, err)
        return _render_session_form(workshop, form, None, errors=errors, status=status)
    flash(_("Se agregaron %(n)s sesiones.", n=len(sessions)) if len(sessions) != 1
          else _("Se agregó la sesión."), "success")
    return _back(workshop, "sesiones")


@bp.route("/<int:workshop_id>/sesiones/<int:session_id>/editar", methods=["GET", "POST"])
@login_required
def edit_session(workshop_id: int, session_id: int) -> ResponseReturnValue:
    workshop = _editable(workshop_id)
    session = _session_or_404(workshop, session_id)
    form = SessionEditForm()
    if request.method == "GET":
        form.fill_from(session)
        return _render_session_form(workshop, form, session)
    if not form.validate_on_submit():
        return _render_session_form(workshop, form, session, status=400)
    tz = session.timezone
    try:
        changes = services.update_session(
            session, form.to_input(tz), actor=_me(), whole_series=form.whole_series and session.series_id is not None,
            confirm_warnings=form.warnings_confirmed, confirm_facilitator=bool(form.confirm_facilitator.data))
    except services.ConflictsFound as err:
        db.session.rollback()
        return _render_session_form(workshop, form, session, conflict=err, status=err.status)
    except ActivityError as err:
        errors, status = _failed(form, err)
        return _render_session_form(workshop, form, session, errors=errors, status=status)
    if changes:
        kick_delivery()
        flash(_("Se guardaron los cambios y se avisó a las personas afectadas."), "success")
    else:
        flash(_("Se guardaron los cambios de la sesión."), "success")
    return _back(workshop, "sesiones")


@bp.post("/<int:workshop_id>/sesiones/<int:session_id>/cancelar")
@login_required
def cancel_session(workshop_id: int, session_id: int) -> ResponseReturnValue:
    workshop = _editable(workshop_id)
    session = _session_or_404(workshop, session_id)
    form = ReasonForm(prefix="cancel")
    if not form.validate_on_submit():
        edit_form = SessionEditForm(formdata=None)
        edit_form.fill_from(session)
        return _render_session_form(workshop, edit_form, session, cancel_form=form, status=400)
    try:
        services.cancel_session(session, form.reason.data or "", actor=_me())
    except ActivityError as err:
        errors, status = _failed(form, err)
        edit_form = SessionEditForm(formdata=None)
        edit_form.fill_from(session)
        return _render_session_form(workshop, edit_form, session, cancel_form=form, errors=errors, status=status)
    kick_delivery()
    flash(_("La sesión del %(when)s fue cancelada.", when=session_when(session)), "success")
    return _back(workshop, "sesiones")


# --- topics (admins) ---------------------------------------------------------------------------


@bp.get("/temas")
@login_required
def topics() -> ResponseReturnValue:
    _require("topic.manage")
    rows = list(db.session.scalars(select(Topic).order_by(Topic.position, Topic.name)))
    return render_template("workshops/staff/topics.html", topics=rows)


def _save_topic(form: TopicForm, topic: Topic | None) -> ResponseReturnValue:
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            try:
                saved = services.save_topic(topic, name=form.name.data or "", description=form.description.data or "",
                                            active=bool(form.active.data), actor=_me())
            except ActivityError as err:
                errors, status = _failed(form, err)
            else:
                flash(_("Se guardó el tema «%(name)s».", name=saved.name), "success")
                return redirect(url_for("workshops_staff.topics"))
    return render_template("workshops/staff/topic_form.html", form=form, topic=topic, errors=errors), status


@bp.route("/temas/nuevo", methods=["GET", "POST"])
@login_required
def topic_new() -> ResponseReturnValue:
    _require("topic.manage")
    return _save_topic(TopicForm(), None)


@bp.route("/temas/<int:topic_id>/editar", methods=["GET", "POST"])
@login_required
def topic_edit(topic_id: int) -> ResponseReturnValue:
    _require("topic.manage")
    topic = db.get_or_404(Topic, topic_id)
    return _save_topic(TopicForm(name=topic.name, description=topic.description, active=topic.active), topic)

