"""Public registration: the form, the confirmation, and the person's own page."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select

from app.activities.models import ActivitySession
from app.extensions import db, limiter
from app.outbox.tasks import kick_delivery
from app.people.services import PersonError, masked_contact
from app.registration import services
from app.registration.forms import PersonForm
from app.registration.models import RegistrationStatus, Source
from app.territory.models import Comuna, Region

bp = Blueprint("registration", __name__)


def comuna_choices() -> list[tuple[str, list[tuple[str, str]]] | tuple[str, str]]:
    regions = db.session.scalars(select(Region).order_by(Region.position)).all()
    comunas = db.session.scalars(select(Comuna).order_by(Comuna.name)).all()
    by_region: dict[str, list[tuple[str, str]]] = {}
    for c in comunas:
        by_region.setdefault(c.region_code, []).append((c.code, c.name))
    return [("", _("Elija su comuna"))] + [(r.name, by_region.get(r.code, [])) for r in regions]  # type: ignore[list-item]


def _public_limit() -> str:
    return str(current_app.config.get("REGISTRATION_RATE_LIMIT", "20 per minute"))


def apply_person_errors(form: PersonForm, err: PersonError) -> None:
    for name, message in err.errors.items():
        if name in form:
            form[name].errors = [message]  # type: ignore[misc]


@bp.route("/inscripcion/sesion/<int:session_id>", methods=["GET", "POST"])
@limiter.limit(_public_limit, methods=["POST"])
def register(session_id: int) -> ResponseReturnValue:
    session = db.session.get(ActivitySession, session_id)
    try:
        services.check_open(session)
    except services.RegistrationError as err:
        if session is None or err.status == 404:
            abort(404)
        return render_template("registration/closed.html", session=session, message=err.message), err.status
    assert session is not None
    form = PersonForm()
    form.comuna_code.choices = comuna_choices()
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            try:
                result = services.register(session.id, form.to_input(), source=Source.PUBLIC)
            except PersonError as err:
                apply_person_errors(form, err)
            except services.RegistrationError as err:
                errors.append(err.message)
                status = err.status
            else:
                kick_delivery()
                return redirect(url_for("registration.done", token=services.personal_token(result.registration),
                                        nuevo=1 if result.created else 0))
    return render_template("registration/form.html", form=form, session=session, activity=session.activity,
                           errors=errors), status


@bp.get("/inscripcion/<token>/listo")
def done(token: str) -> ResponseReturnValue:
    reg = _reg_or_error(token)
    if isinstance(reg, Response):
        return reg
    return render_template("registration/done.html", reg=reg, token=token, created=request.args.get("nuevo") == "1",
                           position=services.waitlist_position(reg), contact=masked_contact(reg.person))


def _reg_or_error(token: str):  # type: ignore[no-untyped-def]
    try:
        return services.registration_from_token(token)
    except services.RegistrationError as err:
        return Response(render_template("errors/error.html", status=err.status, title=_("Enlace no válido"),
                                        detail=err.message), status=err.status)


@bp.get("/inscripcion/<token>")
def personal(token: str) -> ResponseReturnValue:
    reg = _reg_or_error(token)
    if isinstance(reg, Response):
        return reg
    return render_template("registration/personal.html", reg=reg, token=token,
                           position=services.waitlist_position(reg), contact=masked_contact(reg.person))


@bp.post("/inscripcion/<token>/cancelar")
def cancel(token: str) -> ResponseReturnValue:
    reg = _reg_or_error(token)
    if isinstance(reg, Response):
        return reg
    if reg.status != RegistrationStatus.CANCELLED:
        services.cancel(reg, reason=_("Cancelada por la persona"))
        kick_delivery()
        flash(_("Su inscripción quedó cancelada. Gracias por avisar: su cupo pasa a otra persona."), "success")
    return redirect(url_for("registration.personal", token=token))
