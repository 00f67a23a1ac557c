"""The outbox viewer under /gestion/mensajes: every message as its recipient sees it.

Thin: parse, ask the policy, call ``app.outbox.delivery``, render. The rows a user sees come
from ``visible_outbox_messages``; a single message is checked with ``can``.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import Field, SelectField
from wtforms.validators import ValidationError

from app.accounts.policy import can, visible_outbox_messages
from app.extensions import db
from app.i18n import DEFAULT_TZ
from app.outbox import delivery, rendering, services
from app.outbox.models import OutboxMessage, OutboxStatus
from app.outbox.tasks import kick_delivery
from app.territory.models import Comuna, Office

log = logging.getLogger("puente.outbox")

bp = Blueprint("outbox", __name__, url_prefix="/gestion/mensajes")

PER_PAGE = 50
MAX_PAGE = 100_000

# The HTML body is someone else's markup: it runs in an opaque origin, with no scripts,
# forms, plugins or network access (images only as data: URIs), framed only by our pages.
HTML_BODY_CSP = ("sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                 "frame-ancestors 'self'")

STATUS_LABELS: dict[OutboxStatus, Any] = {
    OutboxStatus.PENDING: _l("Pendiente"),
    OutboxStatus.SENDING: _l("Enviándose"),
    OutboxStatus.SENT: _l("Enviado"),
    OutboxStatus.FAILED: _l("Fallido"),
    OutboxStatus.UNKNOWN: _l("Incierto"),
    OutboxStatus.CANCELLED: _l("Anulado"),
    OutboxStatus.HELD: _l("En pausa"),
}

# Known kinds get a readable name; a kind added elsewhere shows as its code until it is here.
KIND_LABELS: dict[str, Any] = {
    "invitation": _l("Invitación"),
    "password_reset": _l("Cambio de contraseña"),
    "session_change": _l("Cambio de sesión (equipos)"),
    "registration_confirmation": _l("Inscripción confirmada"),
    "registration_waitlisted": _l("Lista de espera"),
    "registration_promoted": _l("Cupo liberado"),
    "registration_changed": _l("Cambio de sesión"),
    "registration_cancelled": _l("Sesión cancelada"),
    "registration_reminder_24h": _l("Recordatorio 24 horas"),
    "registration_reminder_1h": _l("Recordatorio 1 hora"),
    "registration_withdrawn": _l("Inscripción cancelada"),
    "registration_survey": _l("Encuesta de satisfacción"),
    "registration_series": _l("Inscripción en varias fechas"),
    "campaign_announcement": _l("Difusión: anuncio"),
    "campaign_seats_left": _l("Difusión: quedan cupos"),
    "campaign_last_call": _l("Difusión: última llamada"),
    "campaign_facebook": _l("Difusión: publicación en Facebook"),
    "campaign_test": _l("Difusión: prueba"),
}


def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))


def status_label(status: OutboxStatus) -> str:
    return str(STATUS_LABELS.get(status, status.value))


class FilterForm(FlaskForm):
    """The list's filters, read from the query string (GET: no CSRF token)."""

    class Meta:
        csrf = False

    status = SelectField(_l("Estado"), validate_choice=False)
    kind = SelectField(_l("Tipo de mensaje"), validate_choice=False)

    def validate_status(self, field: Field) -> None:
        if field.data and field.data not in {value for value, _label in field.choices or []}:
            raise ValidationError(_("Elija un estado de la lista."))

    def validate_kind(self, field: Field) -> None:
        if field.data and field.data not in {value for value, _label in field.choices or []}:
            raise ValidationError(_("Elija un tipo de mensaje de la lista."))


def _page_number() -> tuple[int, str | None]:
    raw = request.args.get("page", "1").strip()
    if not raw.isdecimal() or not 1 <= int(raw) <= MAX_PAGE:
        return 1, _("El número de página no es válido; le mostramos la primera página.")
    return int(raw), None


def _timezones(office_ids: set[int]) -> dict[int, str]:
    """Each office's time zone (Punta Arenas and Rapa Nui differ from Santiago)."""
    if not office_ids:
        return {}
    rows = db.session.execute(
        select(Office.id, Comuna.timezone).join(Comuna, Comuna.code == Office.comuna_code)
        .where(Office.id.in_(office_ids)))
    return {office_id: tz for office_id, tz in rows}


def _load(message_id: int, action: str) -> OutboxMessage:
    if not can(current_user, "outbox.read"):
        abort(403)
    msg = db.session.get(OutboxMessage, message_id)
    if msg is None:
        abort(404)
    if not can(current_user, action, msg):
        abort(403)
    return msg


def _viewable(msg: OutboxMessage) -> tuple[OutboxMessage, str | None]:
    """A message the worker has not written yet is shown as it will be sent (rendered now, in
    memory only), with a note; if it cannot be rendered, the note says why."""
    if not msg.renderer:
        return msg, None
    try:
        return rendering.preview(msg), _("Vista previa: el texto se redacta al enviarse, con los datos de ese momento.")
    except rendering.NothingToSend:
        return msg, _("Este mensaje ya no se enviará: la información a la que se refería ya no existe.")
    except rendering.Hold:
        return msg, _("Este mensaje espera: su campaña está en pausa.")
    except Exception:  # a renderer's bug must not hide the message from staff
        log.exception("outbox id=%s preview failed", msg.id)
        return msg, _("No se pudo preparar la vista previa de este mensaje.")


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    if not can(current_user, "outbox.read"):
        abort(403)
    visible = visible_outbox_messages(current_user)
    kinds = db.session.scalars(
        visible.with_only_columns(OutboxMessage.kind).distinct().order_by(None)
        .order_by(OutboxMessage.kind)).all()
    form = FilterForm(formdata=request.args)
    form.status.choices = [("", _("Todos"))] + [(s.value, status_label(s)) for s in OutboxStatus]
    form.kind.choices = [("", _("Todos"))] + [(k, kind_label(k)) for k in kinds]
    form.validate()
    page, page_error = _page_number()
    errors = [page_error] if page_error else []

    query = visible
    if form.status.data and not form.status.errors:
        query = query.where(OutboxMessage.status == OutboxStatus(form.status.data))
    if form.kind.data and not form.kind.errors:
        query = query.where(OutboxMessage.kind == form.kind.data)
    pagination = db.paginate(query, page=page, per_page=PER_PAGE, max_per_page=PER_PAGE,
                             error_out=False)
    messages = list(pagination.items)
    zones = _timezones({m.office_id for m in messages if m.office_id is not None})
    filters = {k: v for k, v in (("status", form.status.data), ("kind", form.kind.data))
               if v and not getattr(form, k).errors}
    invalid = bool(form.errors or errors)
    return render_template(
        "outbox/index.html", form=form, errors=errors, messages=messages, pagination=pagination,
        page=page, filters=filters, zones=zones, default_tz=DEFAULT_TZ,
        status_label=status_label, kind_label=kind_label,
    ), (400 if invalid else 200)


@bp.get("/<int:message_id>")
@login_required
def detail(message_id: int) -> ResponseReturnValue:
    msg = _load(message_id, "outbox.read")
    office = db.session.get(Office, msg.office_id) if msg.office_id is not None else None
    may_requeue = msg.status in delivery.REQUEUEABLE and can(current_user, "outbox.requeue", msg)
    msg, render_note = _viewable(msg)
    return render_template(
        "outbox/detail.html", msg=msg, office=office, render_note=render_note,
        tz=office.timezone if office is not None else DEFAULT_TZ,
        may_requeue=may_requeue,
        status_label=status_label, kind_label=kind_label, sender=current_app.config["MAIL_FROM"],
    )


@bp.get("/<int:message_id>/html")
@login_required
def html_body(message_id: int) -> ResponseReturnValue:
    msg, _note = _viewable(_load(message_id, "outbox.read"))
    if not msg.body_html:
        abort(404)
    resp = Response(msg.body_html, mimetype="text/html")
    # Set here, before the global after_request (which only fills in missing headers).
    resp.headers["Content-Security-Policy"] = HTML_BODY_CSP
    resp.headers["X-Frame-Options"] = "SAMEORIGIN"
    resp.headers["Referrer-Policy"] = "no-referrer"
    resp.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return resp


@bp.post("/<int:message_id>/reintentar")
@login_required
def requeue(message_id: int) -> ResponseReturnValue:
    msg = _load(message_id, "outbox.requeue")
    try:
        services.requeue_message(msg, actor=current_user)
    except ValueError:
        flash(_("Este mensaje ya no está fallido ni en estado incierto; no se reintentó."), "info")
        return redirect(url_for("outbox.detail", message_id=message_id), 303)
    kick_delivery()
    flash(_("El mensaje quedó en cola para enviarse de nuevo."), "success")
    return redirect(url_for("outbox.detail", message_id=message_id), 303)
