"""Staff pages for a session's registrants, under /gestion/inscripciones.

Who sees what is ``app.accounts.policy.registrant_access``: host-office staff and network
coordinators see every registrant, convening-office staff the people their office registered,
SENCE regional staff the counts only; RUT and contact are masked on the rows a viewer may not
identify. Each view loads its objects, asks the policy, calls one service and renders; service
errors go next to their field (or into the summary) with what was typed kept and nothing
written. After a change that queued messages, delivery is kicked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import login_required
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload
from wtforms import SelectChoice

from app.accounts.guards import current_account, require
from app.accounts.models import User
from app.accounts.policy import can, registrant_access, visible_activities, visible_registrations
from app.activities.models import Activity, ActivitySession, ActivityStatus, SessionStatus
from app.extensions import db
from app.outbox.tasks import kick_delivery
from app.people.models import Person
from app.people.services import PersonError, shared_contacts
from app.registration import exports, services
from app.registration.models import Attendance, Registration, RegistrationStatus, Source
from app.registration.staff_forms import (
    AttendanceConfirmForm,
    AttendanceUploadForm,
    FilterForm,
    MoveForm,
    PersonEditForm,
    WalkInForm,
)
from app.registration.views import apply_person_errors, comuna_choices
from app.territory.models import Office
from app.timeutil import utcnow

bp = Blueprint("registration_staff", __name__, url_prefix="/gestion/inscripciones")

PLAN_MAX_AGE = 3600  # seconds an attendance preview stays valid
MOVE_TARGETS_MAX = 80


_me = current_account
_require = require


def _session_or_404(session_id: int) -> ActivitySession:
    return db.get_or_404(ActivitySession, session_id)


def _reg_or_404(reg_id: int) -> Registration:
    return db.get_or_404(Registration, reg_id)


def session_when(s: ActivitySession) -> str:
    """«martes, 14 de abril de 2026, 10:00–12:00» in the session's own zone."""
    return f"{format_date(s.local_start.date(), 'full')}, {s.local_start:%H:%M}–{s.local_end:%H:%M}"


@bp.context_processor
def _helpers() -> dict[str, object]:
    return {"session_when": session_when, "status_labels": exports.status_labels(),
            "source_labels": exports.source_labels(), "attendance_labels": exports.attendance_labels()}


# --- the registrants of a session ------------------------------------------------------------------


@dataclass(frozen=True)
class OfficeCount:
    name: str
    confirmed: int
    waitlisted: int
    present: int


def _office_counts(counts: services.SessionCounts) -> list[OfficeCount]:
    ids = [oid for oid, *_rest in counts.by_office if oid is not None]
    names = {o.id: o.name for o in db.session.scalars(select(Office).where(Office.id.in_(ids or [-1])))}
    rows = [OfficeCount(names.get(oid, "?") if oid is not None else _("Inscripción directa (formulario o API)"),
                        c, w, p) for oid, c, w, p in counts.by_office]
    return sorted(rows, key=lambda r: (-r.confirmed, r.name))


def _filter_form(session: ActivitySession, access: Any) -> FilterForm:
    form = FilterForm(request.args)
    form.status.choices = [SelectChoice("", _("Todos los estados")),
                           *(SelectChoice(k.value, v) for k, v in exports.status_labels().items())]
    office_ids = db.session.scalars(select(Registration.office_id).where(
        Registration.session_id == session.id, Registration.office_id.is_not(None)).distinct())
    offices = db.session.scalars(select(Office).where(Office.id.in_(list(office_ids) or [-1])).order_by(Office.name))
    choices = [SelectChoice("", _("Todas las oficinas"))]
    if access.rows == "all":
        choices.append(SelectChoice("directa", _("Inscripción directa (formulario o API)")))
        choices += [SelectChoice(str(o.id), o.name) for o in offices]
    form.office.choices = choices
    return form


def _filtered(query: Select[tuple[Any]], form: FilterForm) -> tuple[Select[tuple[Any]], bool]:
    """Apply the list filters; False when a value is not one of the choices (a 400)."""
    ok = True
    status = form.status.data or ""
    if status:
        try:
            query = query.where(Registration.status == RegistrationStatus(status))
        except ValueError:
            form.status.errors = [_("Elija un estado de la lista.")]  # type: ignore[misc]
            ok = False
    office = form.office.data or ""
    allowed = {str(c.value) for c in form.office.choices}  # type: ignore[union-attr]
    if office and office not in allowed:
        form.office.errors = [_("Elija una oficina de la lista.")]  # type: ignore[misc]
        ok = False
    elif office == "directa":
        query = query.where(Registration.office_id.is_(None))
    elif office:
        query = query.where(Registration.office_id == int(office))
    return query, ok


def _rows(session: ActivitySession, form: FilterForm) -> tuple[list[exports.RegistrantRow], bool]:
    me = _me()
    access = registrant_access(me, session.activity)
    if access.rows == "none":
        return [], True
    query, ok = _filtered(visible_registrations(me, session), form)
    query = query.options(joinedload(Registration.person).joinedload(Person.comuna),
                          joinedload(Registration.office))
    regs = db.session.scalars(query).unique().all()
    return exports.registrant_rows(regs, access, services.waitlist_positions(session.id)), ok


def _attendance_open(session: ActivitySession) -> bool:
    try:
        services.check_attendance_open(session)
    except services.RegistrationError:
        return False
    return True


def _registration_open(session: ActivitySession) -> bool:
    try:
        services.check_open(session)
    except services.RegistrationError:
        return False
    return True


def _render_list(session: ActivitySession, *, errors: list[str] | None = None,
                 status: int = 200) -> ResponseReturnValue:
    me = _me()
    access = registrant_access(me, session.activity)
    form = _filter_form(session, access)
    rows, ok = _rows(session, form)
    counts = services.session_counts(session)
    # A household phone or email is normal: say so, so nobody "corrects" one person into another.
    shared = shared_contacts([r.person for r in rows if r.full and not r.anonymised])
    return render_template(
        "registration/staff/session.html", session=session, activity=session.activity, access=access,
        shared=shared,
        counts=counts, office_counts=_office_counts(counts), rows=rows, form=form, errors=errors or [],
        filtered=bool(form.status.data or form.office.data),
        args={k: v for k, v in (("status", form.status.data), ("office", form.office.data)) if v},
        can_create=can(me, "registration.create", session) and _registration_open(session),
        can_manage=can(me, "registration.manage", session),
        can_export=can(me, "registration.export", session),
        can_import=can(me, "registration.import_attendance", session),
        attendance_open=_attendance_open(session),
    ), (status if ok else 400)


@bp.get("/sesion/<int:session_id>")
@login_required
def session_list(session_id: int) -> ResponseReturnValue:
    session = _session_or_404(session_id)
    _require("registration.view", session)
    return _render_list(session)



# --- walk-in or phone registration ---------------------------------------------------------------


@bp.route("/sesion/<int:session_id>/nueva", methods=["GET", "POST"])
@login_required
def new(session_id: int) -> ResponseReturnValue:
    session = _session_or_404(session_id)
    _require("registration.create", session)
    me = _me()
    try:
        services.check_open(session)
    except services.RegistrationError as err:
        return render_template("registration/staff/closed.html", session=session, message=err.message), err.status
    form = WalkInForm()
    form.comuna_code.choices = comuna_choices()
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            try:
                result = services.register(session.id, form.to_input(), source=Source.STAFF, office=me.office,
                                           staff_user=me, via=form.via.data)
            except PersonError as err:
                db.session.rollback()
                apply_person_errors(form, err)
            except services.RegistrationError as err:
                db.session.rollback()
                errors.append(err.message)
                status = err.status
            else:
                kick_delivery()
                _flash_outcome(result)
                return redirect(url_for("registration_staff.detail", reg_id=result.registration.id))
    return render_template("registration/staff/new.html", form=form, session=session, activity=session.activity,
                           errors=errors), status


def _flash_outcome(result: services.RegisterResult) -> None:
    reg = result.registration
    name = reg.person.full_name
    if not result.created:
        flash(_("%(name)s ya estaba inscrita o inscrito en esta sesión: no se hizo una segunda inscripción.",
                name=name), "info")
    elif reg.status == RegistrationStatus.CONFIRMED:
        flash(_("Inscripción confirmada para %(name)s. Le enviamos los datos por su canal preferido.", name=name),
              "success")
    else:
        flash(_("La sesión está llena: %(name)s quedó en la lista de espera, en el lugar %(n)s.", name=name,
                n=services.waitlist_position(reg)), "success")
    if result.recognised:
        flash(_("Reconocimos a %(name)s: ya tenía datos en Puente Laboral. Se mantuvieron sus datos guardados "
                "(lo escrito ahora no los reemplaza); si cambiaron, actualícelos desde «Actualizar datos de la "
                "persona».", name=name), "info")


# --- one registration ---------------------------------------------------------------------------


@bp.get("/<int:reg_id>")
@login_required
def detail(reg_id: int) -> ResponseReturnValue:
    reg = _reg_or_404(reg_id)
    _require("registration.view", reg)
    me = _me()
    access = registrant_access(me, reg.session.activity)
    positions = services.waitlist_positions(reg.session_id)
    row = exports.registrant_rows([reg], access, positions)[0]
    return render_template("registration/staff/detail.html", row=row, reg=reg, session=reg.session,
                           can_manage=can(me, "registration.manage", reg),
                           can_edit_person=can(me, "person.edit", reg.person) and reg.person.anonymised_at is None,
                           can_create=can(me, "registration.create", reg.session) and _registration_open(reg.session))


@bp.post("/<int:reg_id>/cancelar")
@login_required
def cancel(reg_id: int) -> ResponseReturnValue:
    reg = _reg_or_404(reg_id)
    _require("registration.manage", reg)
    session = reg.session
    if reg.status == RegistrationStatus.CANCELLED:
        return _render_list(session, errors=[_("Esa inscripción ya estaba cancelada.")], status=409)
    name = reg.person.full_name
    promoted = services.cancel(reg, reason=_("Cancelada por el equipo de la oficina"), actor=_me())
    kick_delivery()
    flash(_("Se canceló la inscripción de %(name)s.", name=name), "success")
    if promoted is not None:
        flash(_("Una persona de la lista de espera pasó a confirmada y recibirá un aviso."), "success")
    return redirect(url_for("registration_staff.session_list", session_id=session.id))


@bp.post("/<int:reg_id>/asistencia")
@login_required
def attendance(reg_id: int) -> ResponseReturnValue:
    reg = _reg_or_404(reg_id)
    _require("registration.manage", reg)
    raw = request.form.get("value", "")
    values = {"present": Attendance.PRESENT, "absent": Attendance.ABSENT, "": None}
    if raw not in values:
        return _render_list(reg.session, errors=[_("Elija presente o ausente.")], status=400)
    try:
        services.staff_mark_attendance(reg, values[raw], actor=_me())
    except services.RegistrationError as err:
        db.session.rollback()
        return _render_list(reg.session, errors=[err.message], status=err.status)
    value = values[raw]
    label = exports.attendance_labels()[value] if value else _("sin marcar")
    flash(_("Asistencia de %(name)s: %(value)s.", name=reg.person.full_name, value=label.lower()), "success")
    return redirect(url_for("registration_staff.session_list", session_id=reg.session_id) + f"#inscripcion-{reg.id}")


@dataclass(frozen=True)
class MoveTarget:
    session: ActivitySession
    label: str


def _move_targets(me: User, reg: Registration) -> list[MoveTarget]:
    """Open sessions the person may be moved to: the same activity's first, then other
    activities the user may register people for."""
    minutes = int(current_app.config.get("REGISTRATION_CLOSES_MINUTES", 60))
    open_after = utcnow() + timedelta(minutes=minutes)
    upcoming = select(ActivitySession.activity_id).where(ActivitySession.status == SessionStatus.SCHEDULED,
                                                         ActivitySession.starts_at > open_after)
    activities = [a for a in db.session.scalars(
        visible_activities(me).where(Activity.status == ActivityStatus.PUBLISHED, Activity.id.in_(upcoming))
        .limit(200)) if can(me, "registration.create", a)]
    by_id = {a.id: a for a in activities}
    sessions = db.session.scalars(
        select(ActivitySession).where(ActivitySession.activity_id.in_(list(by_id) or [-1]),
                                      ActivitySession.status == SessionStatus.SCHEDULED,
                                      ActivitySession.starts_at > open_after,
                                      ActivitySession.id != reg.session_id)
        .order_by(ActivitySession.starts_at).limit(500)).all()
    same = reg.session.activity_id
    ordered = sorted(sessions, key=lambda s: (s.activity_id != same, s.starts_at))[:MOVE_TARGETS_MAX]
    out = []
    for s in ordered:
        free = max(s.capacity - s.confirmed_count, 0)
        seats = (_("%(n)s cupos libres", n=free) if free != 1 else _("1 cupo libre")) if free \
            else _("llena: quedará en lista de espera")
        out.append(MoveTarget(s, f"{by_id[s.activity_id].title} — {session_when(s)} ({seats})"))
    return out


@bp.route("/<int:reg_id>/mover", methods=["GET", "POST"])
@login_required
def move(reg_id: int) -> ResponseReturnValue:
    reg = _reg_or_404(reg_id)
    _require("registration.manage", reg)
    me = _me()
    if reg.status == RegistrationStatus.CANCELLED:
        return _render_list(reg.session, errors=[_("Esa inscripción está cancelada: inscriba de nuevo a la persona "
                                                   "en la sesión que quiera.")], status=409)
    targets = _move_targets(me, reg)
    form = MoveForm()
    form.session_id.choices = [SelectChoice("", _("Elija una sesión"))] + [
        SelectChoice(str(t.session.id), t.label) for t in targets]
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            allowed = {t.session.id: t.session for t in targets}
            raw = form.session_id.data or ""
            target_id = int(raw) if raw.isdecimal() else None
            if target_id not in allowed:
                form.session_id.errors = [_("Elija una de las sesiones de la lista.")]  # type: ignore[misc]
            else:
                old_session_id = reg.session_id
                name = reg.person.full_name
                try:
                    result = services.move(reg, allowed[target_id].id, actor=me)
                except services.RegistrationError as err:
                    db.session.rollback()
                    form.session_id.errors = [err.message]  # type: ignore[misc]
                    status = err.status
                else:
                    kick_delivery()
                    new = result.registration
                    where = session_when(new.session)
                    if new.status == RegistrationStatus.CONFIRMED:
                        flash(_("%(name)s quedó confirmada o confirmado en la sesión del %(when)s y recibirá un "
                                "aviso.", name=name, when=where), "success")
                    else:
                        flash(_("%(name)s quedó en la lista de espera de la sesión del %(when)s, en el lugar %(n)s.",
                                name=name, when=where, n=services.waitlist_position(new)), "success")
                    return redirect(url_for("registration_staff.session_list", session_id=old_session_id))
    return render_template("registration/staff/move.html", reg=reg, session=reg.session, form=form,
                           has_targets=bool(targets), errors=errors), status


# --- the person's stored details -----------------------------------------------------------------


@bp.route("/persona/<int:person_id>/editar", methods=["GET", "POST"])
@login_required
def person_edit(person_id: int) -> ResponseReturnValue:
    person = db.get_or_404(Person, person_id)
    if person.anonymised_at is not None:
        abort(410, _("Los datos de esta persona fueron eliminados a su pedido."))
    _require("person.edit", person)
    back = request.args.get("inscripcion", "")
    back_reg = db.session.get(Registration, int(back)) if back.isdecimal() else None
    if back_reg is not None and (back_reg.person_id != person.id or not can(_me(), "registration.view", back_reg)):
        back_reg = None
    form = PersonEditForm.for_person(person) if request.method == "GET" else PersonEditForm()
    form.comuna_code.choices = comuna_choices()
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            try:
                changed = services.staff_update_person(person, form.to_input(), actor=_me())
            except PersonError as err:
                db.session.rollback()
                apply_person_errors(form, err)
            else:
                if changed:
                    flash(_("Se guardaron los datos de %(name)s.", name=person.full_name), "success")
                else:
                    flash(_("No había cambios que guardar."), "info")
                if back_reg is not None:
                    return redirect(url_for("registration_staff.detail", reg_id=back_reg.id))
                return redirect(url_for("registration_staff.person_edit", person_id=person.id))
    return render_template("registration/staff/person_edit.html", form=form, person=person, back_reg=back_reg,
                           document=exports.format_rut(person.document_number)
                           if person.document_type.value == "rut" else person.document_number,
                           document_label=exports.document_labels()[person.document_type]), status


# --- export --------------------------------------------------------------------------------------


@bp.get("/sesion/<int:session_id>/exportar.csv")
@login_required
def export(session_id: int) -> ResponseReturnValue:
    session = _session_or_404(session_id)
    _require("registration.export", session)
    form = _filter_form(session, registrant_access(_me(), session.activity))
    rows, ok = _rows(session, form)
    if not ok:
        abort(400, _("Revise los filtros: el estado o la oficina no son válidos."))
    body = exports.export_csv(rows, session.timezone)
    services.record_export(session, actor=_me(), rows=len(rows), masked=sum(1 for r in rows if not r.full))
    name = f"inscritos-sesion-{session.id}-{session.local_start:%Y%m%d}.csv"
    return Response(body, mimetype="text/csv", headers={
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": "no-store",
    })


# --- attendance import ---------------------------------------------------------------------------


def _plan_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="attendance-import")


def _render_import(session: ActivitySession, *, upload: AttendanceUploadForm | None = None,
                   confirm: AttendanceConfirmForm | None = None, report: exports.MatchReport | None = None,
                   parsed: exports.ParticipantsFile | None = None, errors: list[str] | None = None,
                   status: int = 200) -> ResponseReturnValue:
    return render_template("registration/staff/attendance.html", session=session, activity=session.activity,
                           upload=upload or AttendanceUploadForm(formdata=None), confirm=confirm, report=report,
                           parsed=parsed, errors=errors or [], attendance_open=_attendance_open(session),
                           max_mb=exports.MAX_IMPORT_BYTES // (1024 * 1024),
                           max_rows=exports.MAX_IMPORT_ROWS), status


@bp.route("/sesion/<int:session_id>/asistencia", methods=["GET", "POST"])
@login_required
def attendance_import(session_id: int) -> ResponseReturnValue:
    session = _session_or_404(session_id)
    _require("registration.import_attendance", session)
    if request.method == "GET":
        return _render_import(session)
    if "plan" in request.form:
        return _confirm_import(session)
    upload = AttendanceUploadForm()
    if not upload.validate_on_submit():
        return _render_import(session, upload=upload, status=400)
    data = upload.file.data.stream.read(exports.MAX_IMPORT_BYTES + 1)
    try:
        parsed = exports.parse_participants(data)
    except exports.ImportFileError as err:
        upload.file.errors = [err.message]  # type: ignore[misc]
        return _render_import(session, upload=upload, status=err.status)
    regs = db.session.scalars(visible_registrations(_me(), session).options(
        joinedload(Registration.person))).unique().all()
    report = exports.match_participants(parsed.participants, regs)
    plan = _plan_signer().dumps({"s": session.id, "u": _me().id, "r": report.registration_ids,
                                 "f": parsed.format_name, "e": len(report.by_email), "n": len(report.by_name),
                                 "x": len(report.unmatched)})
    confirm = AttendanceConfirmForm(formdata=None, plan=plan, reg=[str(i) for i in report.registration_ids])
    return _render_import(session, confirm=confirm, report=report, parsed=parsed)


def _confirm_import(session: ActivitySession) -> ResponseReturnValue:
    me = _me()
    confirm = AttendanceConfirmForm()
    if not confirm.validate_on_submit():
        return _render_import(session, status=400)
    try:
        plan = _plan_signer().loads(confirm.plan.data or "", max_age=PLAN_MAX_AGE)
        planned = {int(i) for i in plan["r"]}
        if plan["s"] != session.id or plan["u"] != me.id:
            raise BadSignature("other session or user")
    except (BadSignature, KeyError, TypeError, ValueError):
        return _render_import(session, errors=[_("La vista previa venció o no es válida. Suba el archivo otra vez.")],
                              status=400)
    chosen = {int(x) for x in (confirm.reg.data or []) if str(x).isdecimal()} & planned
    summary = (f"archivo {plan.get('f', '?')}: {plan.get('e', 0)} por correo, {plan.get('n', 0)} por nombre, "
               f"{plan.get('x', 0)} sin coincidencia")
    try:
        marked = services.mark_present_many(session, chosen, actor=me, summary=summary)
    except services.RegistrationError as err:
        db.session.rollback()
        return _render_import(session, errors=[err.message], status=err.status)
    flash(_("Se marcaron %(n)s personas como presentes.", n=marked) if marked != 1
          else _("Se marcó 1 persona como presente."), "success")
    return redirect(url_for("registration_staff.session_list", session_id=session.id))
