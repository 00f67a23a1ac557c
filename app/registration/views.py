"""Public registration: the form, the confirmation, and the person's own page.

The personal page (``/inscripcion/<token>``) and everything under it answer only to the
signed link: status and waitlist position, the session, an invitation for the calendar,
cancelling, "Mis datos" (see and correct what is stored) and "Eliminar mis datos". These
pages are private: not indexed, not cached, no referrer sent, no personal data in a URL.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select
from wtforms import SelectChoice

from app.activities.models import ActivitySession
from app.calendar import is_cancelled
from app.extensions import csrf, db, limiter
from app.i18n import format_day
from app.outbox.tasks import kick_delivery
from app.people.models import Person
from app.people.services import PersonError, masked_contact
from app.registration import extras, self_service, series, services
from app.registration.forms import ExtrasForm, PersonForm, QuickForm
from app.registration.models import Registration, RegistrationStatus, Source
from app.territory.data import comuna_codes
from app.territory.models import Comuna, Office, Region
from app.text import slugify

bp = Blueprint("registration", __name__)

# Fields the person may change through "Mis datos" (the document and the consent stay).
EDITABLE_FIELDS = ("first_names", "last_names", "email", "phone", "comuna_code", "preferred_channel",
                   "needs_subtitles", "needs_sign_language", "uses_screen_reader", "accessibility_other",
                   "connectivity", "rural", "soft_skills", "availability", "consent_recording", "opt_in_future")


def comuna_choices() -> list[SelectChoice]:
    """Comunas grouped by region (north to south), after an empty "choose" option."""
    regions = {r.code: r.name for r in db.session.scalars(select(Region).order_by(Region.position))}
    order = {code: n for n, code in enumerate(regions)}
    comunas = sorted(db.session.scalars(select(Comuna)), key=lambda c: (order.get(c.region_code, 99), slugify(c.name)))
    return [SelectChoice("", _("Elija su comuna"))] + [
        SelectChoice(c.code, c.name, optgroup=regions.get(c.region_code)) for c in comunas]


_OPTIONS_HTML: dict[str, Markup] = {}


def comuna_options_html() -> Markup:
    """``comuna_choices()`` as <optgroup>/<option> markup, built once per process and language
    (comunas are reference data, changed only by a migration)."""
    locale = str(get_locale())
    if locale not in _OPTIONS_HTML:
        parts: list[Markup] = []
        group = None
        for choice in comuna_choices():
            if choice.optgroup != group:
                if group:
                    parts.append(Markup("</optgroup>"))
                parts.append(Markup('<optgroup label="{}">').format(choice.optgroup))
                group = choice.optgroup
            parts.append(Markup('<option value="{}">{}</option>').format(choice.value, choice.label))
        if group:
            parts.append(Markup("</optgroup>"))
        _OPTIONS_HTML[locale] = Markup("").join(parts)
    return _OPTIONS_HTML[locale]


def _public_limit() -> str:
    return str(current_app.config.get("REGISTRATION_RATE_LIMIT", "20 per minute"))


def apply_person_errors(form: Any, err: PersonError) -> None:
    for name, message in err.errors.items():
        if name in form:
            form[name].errors = [message]  # type: ignore[misc]


def _csrf_failed(form: Any) -> bool:
    """The form's own CSRF check failed: say so in Spanish, at the top, and keep what was typed."""
    if "csrf_token" in form and form.csrf_token.errors:
        form.csrf_token.errors = []  # type: ignore[misc]
        return True
    return False


def _csrf_message() -> str:
    return _("El formulario caducó o le falta su código de seguridad. Revise sus datos y envíelo de nuevo.")


def _prefill_comuna(form: QuickForm, session: ActivitySession) -> None:
    """The comuna the home search passed (``?comuna=13120``), else the host office's."""
    asked = (request.args.get("comuna") or "").strip()
    form.comuna_code.data = asked if asked in comuna_codes() else session.activity.host_office.comuna_code


def _date_choices(dates: list[ActivitySession]) -> list[tuple[int, str]]:
    return [(str(s.id), f"{format_day(s.local_start)}, {s.local_start:%H:%M}") for s in dates]


# The form checks its own CSRF token (below) instead of the global check, so that a page left
# open too long answers with the form and what was typed, not with an error page.
@csrf.exempt
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
    form = QuickForm()
    form.comuna_code.choices = []  # the options come pre-rendered (comuna_options_html)
    form.comuna_code.options_html = comuna_options_html()  # type: ignore[attr-defined]
    dates = series.series_sessions(session)
    form.sessions.choices = _date_choices(dates) if len(dates) > 1 else []
    errors: list[str] = []
    status = 200
    if request.method == "GET":
        _prefill_comuna(form, session)
        form.sessions.data = [str(s.id) for s in dates] if request.args.get("todas") == "1" else [str(session.id)]
    else:
        status = 400
        chosen = [session.id]
        if len(dates) > 1:
            chosen = [s.id for s in dates] if request.form.get("fechas") == "todas" else \
                [int(v) for v in form.sessions.data or [] if str(v).isdigit()]
        valid = form.validate_on_submit()
        if valid and chosen != [session.id]:
            try:
                outcome = series.register_series(session, chosen, form.to_input(), source=Source.PUBLIC,
                                                  campaign_code=request.args.get("c"))
            except PersonError as err:
                apply_person_errors(form, err)
            except services.RegistrationError as err:
                if err.field == "sessions":
                    form.sessions.errors = [err.message]  # type: ignore[misc]
                else:
                    errors.append(err.message)
                status = err.status
            else:
                kick_delivery()
                # The same answer as a single date (identity_views.answer): the page never shows
                # whether the document was known; links and the dates come in the message.
                from app.registration.identity_views import answer

                return answer(session, services.RegisterResult(
                    None, created=bool(outcome.created), recognised=outcome.recognised,
                    typed_contact=outcome.typed_contact))
        elif valid:
            try:
                result = services.register(session.id, form.to_input(), source=Source.PUBLIC,
                                           campaign_code=request.args.get("c"))
            except PersonError as err:
                apply_person_errors(form, err)
            except services.RegistrationError as err:
                errors.append(err.message)
                status = err.status
            else:
                kick_delivery()
                # One answer for everyone, known or not (app/registration/identity_views.py).
                from app.registration.identity_views import answer

                return answer(session, result)
        elif _csrf_failed(form):
            errors.append(_csrf_message())
    return render_template("registration/form.html", form=form, session=session, activity=session.activity,
                           errors=errors, dates=dates if len(dates) > 1 else []), status


def _extras_form(person: Person) -> ExtrasForm:
    return ExtrasForm(formdata=None, data=extras.extras_of(person))


@csrf.exempt
@bp.route("/inscripcion/<token>/mas-datos", methods=["GET", "POST"])
@limiter.limit(_public_limit, methods=["POST"])
def more_details(token: str) -> ResponseReturnValue:
    """The optional second page: accessibility, connectivity, profile and opt-ins."""
    reg = _reg_or_error(token)
    if isinstance(reg, Response):
        return reg
    if request.method == "GET":
        return _page("registration/extras.html", reg=reg, token=token, form=_extras_form(reg.person), errors=[])
    form = ExtrasForm()
    errors: list[str] = []
    if form.validate_on_submit():
        try:
            extras.save_extras(reg, {name: form[name].data for name in extras.EXTRA_FIELDS})
        except PersonError as err:
            apply_person_errors(form, err)
            errors += [m for name, m in err.errors.items() if name not in form]
        else:
            flash(_("Guardamos sus datos. Puede cambiarlos cuando quiera desde su página personal."), "success")
            return redirect(url_for("registration.personal", token=token), code=303)
    elif _csrf_failed(form):
        errors.append(_csrf_message())
    return _page("registration/extras.html", 400, reg=reg, token=token, form=form, errors=errors)


def _private(response: Response) -> Response:
    """A page or file behind a personal link: never cached, indexed or sent as a referrer."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _page(template: str, code: int = 200, **ctx: Any) -> Response:
    return _private(Response(render_template(template, **ctx), status=code))


def _reg_or_error(token: str) -> Registration | Response:
    try:
        return services.registration_from_token(token)
    except services.RegistrationError as err:
        title = _("Datos eliminados") if err.status == 410 and "eliminad" in err.message else _("Enlace no válido")
        return _page("errors/error.html", err.status, status=err.status, title=title, detail=err.message)


@bp.get("/inscripcion/<token>/listo")
def done(token: str) -> ResponseReturnValue:
    reg = _reg_or_error(token)
    if isinstance(reg, Response):
        return reg
    created = request.args.get("nuevo") == "1"
    return _page("registration/done.html", reg=reg, token=token, created=created,
                 position=services.waitlist_position(reg), contact=masked_contact(reg.person),
                 extras=_extras_form(reg.person) if created else None)


def _can_add_to_calendar(reg: Registration) -> bool:
    return reg.status == RegistrationStatus.CONFIRMED and not is_cancelled(reg.session)


@bp.get("/inscripcion/<token>")
def personal(token: str) -> ResponseReturnValue:
    """All of the person's registrations (upcoming, past, cancelled), each with its actions."""
    reg = _reg_or_error(token)
    if isinstance(reg, Response):
        return reg
    mine = self_service.overview(reg.person)
    has_other_dates = {e.reg.id: bool(self_service.other_dates(e.reg)) for e in mine.upcoming
                       if e.can_change or e.session_cancelled}
    return _page("registration/personal.html", reg=reg, token=token, mine=mine, has_other_dates=has_other_dates,
                 contact=masked_contact(reg.person), calendar_links=self_service.calendar_links)


@bp.get("/inscripcion/<token>/invitacion.ics")
def invitation(token: str) -> ResponseReturnValue:
    """"Apple / otro calendario": the invitation (METHOD:REQUEST, the person as ATTENDEE)."""
    reg = _reg_or_error(token)
    if isinstance(reg, Response):
        return reg
    if not _can_add_to_calendar(reg):
        if reg.status == RegistrationStatus.WAITLISTED:
            detail = _("Está en la lista de espera: cuando su inscripción se confirme podrá agregarla a su calendario.")
        else:
            detail = _("Esta inscripción o la sesión están canceladas: no hay nada que agregar a su calendario.")
        return _page("errors/error.html", 409, status=409, title=_("No disponible"), detail=detail)
    body = services.invitation_ics(reg, "REQUEST")
    response = Response(body, content_type="text/calendar; charset=utf-8")
    day = reg.session.local_start.strftime("%Y-%m-%d")
    response.headers["Content-Disposition"] = f'attachment; filename="sesion-{day}.ics"'
    return _private(response)


def _not_changeable(reg: Registration, token: str) -> Response:
    flash(_("Esta inscripción ya no se puede cambiar ni cancelar: la sesión ya comenzó o fue cancelada."), "error")
    return _private(redirect(url_for("registration.personal", token=token), code=303))


@bp.route("/inscripcion/<token>/cancelar", methods=["GET", "POST"])
def cancel(token: str) -> ResponseReturnValue:
    """Asks once (GET: "Su cupo pasará a otra persona"), cancels (POST), then offers other dates."""
    reg = _reg_or_error(token)
    if isinstance(reg, Response):
        return reg
    if reg.status == RegistrationStatus.CANCELLED:
        return _private(redirect(url_for("registration.change_date", token=token), code=303))
    if not self_service.changeable(reg):
        return _not_changeable(reg, token)
    if request.method == "GET":
        return _page("registration/cancel.html", reg=reg, token=token)
    services.cancel(reg, reason=_("Cancelada por la persona"))
    kick_delivery()
    flash(_("Su inscripción quedó cancelada. Gracias por avisar: su cupo pasa a otra persona."), "success")
    return _private(redirect(url_for("registration.change_date", token=token), code=303))


def _dates_page(reg: Registration, token: str, code: int = 200, error: str | None = None) -> Response:
    return _page("registration/change_date.html", code, reg=reg, token=token, error=error,
                 active=reg.status != RegistrationStatus.CANCELLED,
                 dates=self_service.other_dates(reg), position=services.waitlist_position(reg))


@bp.route("/inscripcion/<token>/cambiar-fecha", methods=["GET", "POST"])
def change_date(token: str) -> ResponseReturnValue:
    """Other dates of the same workshop; choosing one moves the person there in one step.

    A date that filled up meanwhile leaves the person where they were, and says so; its
    waitlist is taken only when chosen explicitly (``espera=si``). After cancelling, the
    same page offers the other dates (a new registration for the same person)."""
    reg = _reg_or_error(token)
    if isinstance(reg, Response):
        return reg
    active = reg.status != RegistrationStatus.CANCELLED
    if active and not self_service.changeable(reg) and not is_cancelled(reg.session):
        return _not_changeable(reg, token)
    if request.method == "GET":
        return _dates_page(reg, token)
    raw = request.form.get("sesion", "")
    if not raw.isdecimal():
        return _dates_page(reg, token, 400, _("Elija una de las fechas de la lista."))
    waitlist = request.form.get("espera") == "si"
    try:
        result = services.move(reg, int(raw), if_full="waitlist" if waitlist else "stay", same_activity=True)
    except services.RegistrationError as err:
        db.session.rollback()
        db.session.refresh(reg)
        return _dates_page(reg, token, err.status, err.message)
    kick_delivery()
    new = result.registration
    when = f"{format_day(new.session.local_start)}, {new.session.local_start:%H:%M}"
    if new.status == RegistrationStatus.CONFIRMED:
        flash(_("Listo: su inscripción quedó confirmada para el %(when)s.", when=when), "success")
    else:
        flash(_("Listo: quedó en la lista de espera del %(when)s, en el lugar %(n)s.", when=when,
                n=services.waitlist_position(new)), "success")
    return _private(redirect(url_for("registration.personal", token=services.personal_token(new)), code=303))


# --- "Mis datos": see and correct what is stored --------------------------------------------


def _form_from(person: Person) -> PersonForm:
    data: dict[str, Any] = {name: getattr(person, name) for name in EDITABLE_FIELDS}
    for name in ("preferred_channel", "connectivity"):
        data[name] = data[name].value
    data["email"] = data["email"] or ""
    data["phone"] = data["phone"] or ""
    data["comuna_code"] = data["comuna_code"] or ""
    return PersonForm(data=data)


def _data_page(reg: Registration, token: str, form: PersonForm, errors: list[str], status: int) -> Response:
    person = reg.person
    office = db.session.get(Office, person.office_id) if person.office_id else None
    return _page("registration/my_data.html", status, reg=reg, token=token, person=person, form=form,
                 errors=errors, office=office, registrations=services.person_registrations(person),
                 messages=services.person_messages(person))


@csrf.exempt
@bp.route("/inscripcion/<token>/datos", methods=["GET", "POST"])
def my_data(token: str) -> ResponseReturnValue:
    """Everything stored about the person (access), and a form to correct it (rectification)."""
    reg = _reg_or_error(token)
    if isinstance(reg, Response):
        return reg
    if request.method == "GET":
        form = _form_from(reg.person)
        form.comuna_code.choices = comuna_choices()
        return _data_page(reg, token, form, [], 200)
    form = PersonForm()
    form.comuna_code.choices = comuna_choices()
    errors: list[str] = []
    if form.validate_on_submit():
        try:
            services.update_details(reg, form.to_input())
        except PersonError as err:
            db.session.rollback()
            apply_person_errors(form, err)
        else:
            flash(_("Guardamos sus datos."), "success")
            return redirect(url_for("registration.my_data", token=token), code=303)
    elif _csrf_failed(form):
        errors.append(_csrf_message())
    return _data_page(reg, token, form, errors, 400)


# --- "Eliminar mis datos" ------------------------------------------------------------------


@bp.route("/inscripcion/<token>/eliminar-datos", methods=["GET", "POST"])
def erase(token: str) -> ResponseReturnValue:
    """A confirmation page (GET), then the deletion (POST with ``confirmar=si``)."""
    reg = _reg_or_error(token)
    if isinstance(reg, Response):
        return reg
    if request.method == "POST":
        if request.form.get("confirmar") == "si":
            services.erase_personal_data(reg)
            kick_delivery()  # people promoted from the waitlist are told
            return redirect(url_for("registration.erased"), code=303)
        return _page("registration/erase.html", 400, reg=reg, token=token,
                     error=_("Marque la casilla para confirmar que quiere eliminar sus datos."))
    return _page("registration/erase.html", reg=reg, token=token, error=None)


@bp.get("/inscripcion/datos-eliminados")
def erased() -> ResponseReturnValue:
    return _page("registration/erased.html")
