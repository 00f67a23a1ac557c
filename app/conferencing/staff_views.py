"""Staff pages of conferencing: a session's connection (provider, room state, retry, a link
pasted by hand) and an office's video credentials.

Each view loads, asks the policy, calls one service and renders; a service error goes next to
its field with its status, and what was typed is kept (except secrets, never written back).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.accounts.guards import current_account, require
from app.accounts.policy import can
from app.activities.models import ActivitySession
from app.conferencing import credentials, rooms
from app.conferencing.forms import (
    ClearForm,
    DefaultProviderForm,
    GoogleCredentialsForm,
    ProviderForm,
    RetryForm,
    ZoomCredentialsForm,
)
from app.conferencing.models import ConferenceRoom, RoomStatus
from app.conferencing.providers import Provider, provider_for
from app.extensions import db
from app.registration.models import Registration, RegistrationStatus
from app.territory.models import Office

bp = Blueprint("conferencing_staff", __name__)


# --- a session's connection ----------------------------------------------------------------------


@dataclass
class RoomPanel:
    session: ActivitySession
    provider: str
    provider_label: str
    room: ConferenceRoom | None
    status_label: str
    join_url: str | None
    options: list[tuple[str, str]]
    can_edit: bool
    form: ProviderForm
    errors: list[str] = field(default_factory=list)

    @property
    def retryable(self) -> bool:
        return self.room is not None and self.room.status in (RoomStatus.FAILED, RoomStatus.UNKNOWN)


def panel_for(session: ActivitySession, form: ProviderForm | None = None,
              errors: list[str] | None = None) -> RoomPanel:
    provider = provider_for(session)
    labels = rooms.provider_labels()
    room = rooms.room_for(session)
    options = [(name, labels[name]) for name in credentials.available_providers(session.activity.host_office_id)]
    if form is None:
        form = ProviderForm(formdata=None, provider=provider.name,
                            join_url=session.join_url if provider.name == "link" else "")
    form.provider.choices = options
    status_label = rooms.status_labels()[room.status.value] if room is not None else ""
    return RoomPanel(session=session, provider=provider.name, provider_label=labels.get(provider.name, provider.name),
                     room=room, status_label=status_label, join_url=provider.join_url(session), options=options,
                     can_edit=can(current_account(), "activity.edit", session.activity), form=form,
                     errors=errors or [])


def _session_or_404(session_id: int) -> ActivitySession:
    session = db.session.get(ActivitySession, session_id)
    if session is None:
        abort(404)
    return session


def _safe_next(default: str) -> str:
    target = (request.form.get("next") or "").strip()
    if target.startswith("/gestion/") and "//" not in target and "\\" not in target and len(target) < 500:
        return target
    return default


def render_host(session: ActivitySession, *, provider: Provider | None = None,
                joined: list[Registration] | None = None, form: ProviderForm | None = None,
                errors: list[str] | None = None, status: int = 200) -> Response:
    provider = provider or provider_for(session)
    if joined is None:
        joined = joined_list(session)
    panel = panel_for(session, form, errors)
    response = Response(render_template("conferencing/host.html", session=session, provider=provider,
                                        host_url=provider.join_url(session), joined=joined, panel=panel),
                        status=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def joined_list(session: ActivitySession) -> list[Registration]:
    """Confirmed people who clicked "join" (or whom Zoom reported), in the order they came."""
    return list(db.session.scalars(
        select(Registration).options(joinedload(Registration.person))
        .where(Registration.session_id == session.id, Registration.status == RegistrationStatus.CONFIRMED,
               Registration.joined_at.is_not(None))
        .order_by(Registration.joined_at)))


@bp.get("/gestion/sesiones/<int:session_id>/conexion")
@login_required
def host(session_id: int) -> ResponseReturnValue:
    """The facilitator's page: the host link, the room panel and who joined."""
    session = _session_or_404(session_id)
    require("activity.edit", session.activity)
    return render_host(session)


@bp.get("/gestion/sesiones/<int:session_id>/conexion/conectados")
@login_required
def joined_fragment(session_id: int) -> ResponseReturnValue:
    """The "who joined" list alone: the host page's script fetches it every few seconds."""
    session = _session_or_404(session_id)
    require("activity.edit", session.activity)
    response = Response(render_template("conferencing/_joined.html", session=session, joined=joined_list(session)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/gestion/sesiones/<int:session_id>/conexion/proveedor")
@login_required
def set_provider(session_id: int) -> ResponseReturnValue:
    session = _session_or_404(session_id)
    require("activity.edit", session.activity)
    form = ProviderForm()
    if not form.validate_on_submit():
        errors = [_("El formulario venció; vuelva a intentarlo.")] if form.csrf_token.errors else None
        return render_host(session, form=form, errors=errors, status=400)
    try:
        rooms.set_provider(session, str(form.provider.data or ""), actor=current_account(),
                           join_url=form.join_url.data)
    except rooms.RoomServiceError as err:
        db.session.rollback()
        target = form.join_url if err.field == "join_url" else form.provider
        if err.field in ("join_url", "provider"):
            target.errors = [*target.errors, err.message]
            return render_host(session, form=form, status=err.status)
        return render_host(session, form=form, errors=[err.message], status=err.status)
    flash(_("Se guardó la conexión de la sesión."), "success")
    return redirect(_safe_next(url_for("conferencing_staff.host", session_id=session.id)))


@bp.post("/gestion/sesiones/<int:session_id>/conexion/reintentar")
@login_required
def retry(session_id: int) -> ResponseReturnValue:
    session = _session_or_404(session_id)
    require("activity.edit", session.activity)
    form = RetryForm()
    if not form.validate_on_submit():
        return render_host(session, errors=[_("El formulario venció; vuelva a intentarlo.")], status=400)
    room = rooms.room_for(session)
    if room is None:
        abort(404)
    try:
        rooms.retry(room, actor=current_account())
    except rooms.RoomServiceError as err:
        return render_host(session, errors=[err.message], status=err.status)
    flash(_("Se volverá a intentar en unos instantes."), "success")
    return redirect(_safe_next(url_for("conferencing_staff.host", session_id=session.id)))


# --- an office's credentials ---------------------------------------------------------------------


def _office_or_404(office_id: int) -> Office:
    office = db.session.get(Office, office_id)
    if office is None:
        abort(404)
    require("office.conferencing", office)
    return office


def _default_choices(office: Office) -> list[tuple[str, str]]:
    labels = rooms.provider_labels()
    return [("", _("Ninguno: cada sesión usa el enlace que se pegue")),
            *((p, labels[p]) for p in credentials.available_providers(office.id) if p != "link")]


def _render_credentials(office: Office, *, zoom_form: ZoomCredentialsForm | None = None,
                        google_form: GoogleCredentialsForm | None = None,
                        default_form: DefaultProviderForm | None = None, errors: list[str] | None = None,
                        status: int = 200) -> ResponseReturnValue:
    current = credentials.masked(office)
    zoom_form = zoom_form or ZoomCredentialsForm(formdata=None, prefix="zoom")
    google_form = google_form or GoogleCredentialsForm(formdata=None, prefix="google")
    default_form = default_form or DefaultProviderForm(formdata=None, prefix="default",
                                                       default_provider=current.default_provider or "")
    default_form.default_provider.choices = _default_choices(office)
    response = Response(render_template(
        "conferencing/credentials.html", office=office, current=current, zoom_form=zoom_form,
        google_form=google_form, default_form=default_form, clear_form=ClearForm(formdata=None),
        errors=errors or [], provider_labels=rooms.provider_labels()), status=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _field_error(form: Any, err: credentials.CredentialsError) -> list[str]:
    if err.field and err.field in form:
        form[err.field].errors = [*form[err.field].errors, err.message]
        return []
    return [err.message]


@bp.get("/gestion/oficinas/<int:office_id>/videoconferencia")
@login_required
def office_credentials(office_id: int) -> ResponseReturnValue:
    return _render_credentials(_office_or_404(office_id))


@bp.post("/gestion/oficinas/<int:office_id>/videoconferencia/zoom")
@login_required
def save_zoom(office_id: int) -> ResponseReturnValue:
    office = _office_or_404(office_id)
    form = ZoomCredentialsForm(prefix="zoom")
    if not form.validate_on_submit():
        return _render_credentials(office, zoom_form=form, errors=[_("El formulario venció; vuelva a intentarlo.")],
                                   status=400)
    inp = credentials.ZoomInput(**{name: str(form[name].data or "") for name in (
        "account_id", "client_id", "client_secret", "user_id", "sdk_key", "sdk_secret", "webhook_secret")})
    try:
        credentials.save_zoom(office, inp, actor=current_account())
    except credentials.CredentialsError as err:
        db.session.rollback()
        return _render_credentials(office, zoom_form=form, errors=_field_error(form, err), status=err.status)
    flash(_("Se guardaron las credenciales de Zoom de la oficina."), "success")
    return redirect(url_for("conferencing_staff.office_credentials", office_id=office.id))


@bp.post("/gestion/oficinas/<int:office_id>/videoconferencia/google")
@login_required
def save_google(office_id: int) -> ResponseReturnValue:
    office = _office_or_404(office_id)
    form = GoogleCredentialsForm(prefix="google")
    if not form.validate_on_submit():
        return _render_credentials(office, google_form=form,
                                   errors=[_("El formulario venció; vuelva a intentarlo.")], status=400)
    inp = credentials.GoogleInput(service_account_json=str(form.service_account_json.data or ""),
                                  calendar_id=str(form.calendar_id.data or ""),
                                  delegated_user=str(form.delegated_user.data or ""))
    try:
        credentials.save_google(office, inp, actor=current_account())
    except credentials.CredentialsError as err:
        db.session.rollback()
        form.service_account_json.data = ""  # a private key is never written back into the page
        return _render_credentials(office, google_form=form, errors=_field_error(form, err), status=err.status)
    flash(_("Se guardaron las credenciales de Google de la oficina."), "success")
    return redirect(url_for("conferencing_staff.office_credentials", office_id=office.id))


@bp.post("/gestion/oficinas/<int:office_id>/videoconferencia/predeterminado")
@login_required
def save_default(office_id: int) -> ResponseReturnValue:
    office = _office_or_404(office_id)
    form = DefaultProviderForm(prefix="default")
    if not form.validate_on_submit():
        return _render_credentials(office, default_form=form,
                                   errors=[_("El formulario venció; vuelva a intentarlo.")], status=400)
    try:
        credentials.set_default_provider(office, str(form.default_provider.data or ""), actor=current_account())
    except credentials.CredentialsError as err:
        db.session.rollback()
        return _render_credentials(office, default_form=form, errors=_field_error(form, err), status=err.status)
    flash(_("Se guardó el proveedor por defecto."), "success")
    return redirect(url_for("conferencing_staff.office_credentials", office_id=office.id))


@bp.post("/gestion/oficinas/<int:office_id>/videoconferencia/borrar/<provider>")
@login_required
def clear_credentials(office_id: int, provider: str) -> ResponseReturnValue:
    office = _office_or_404(office_id)
    if provider not in credentials.API_PROVIDERS:
        abort(404)
    form = ClearForm()
    if not form.validate_on_submit():
        return _render_credentials(office, errors=[_("El formulario venció; vuelva a intentarlo.")], status=400)
    credentials.clear(office, provider, actor=current_account())
    flash(_("Se borraron las credenciales de %(provider)s de la oficina.",
            provider="Zoom" if provider == "zoom" else "Google"), "success")
    return redirect(url_for("conferencing_staff.office_credentials", office_id=office.id))
