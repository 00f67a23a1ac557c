"""Public pages of identity: the answer after the form, confirming a held registration from
the message, and "Mis inscripciones" (asking for one's links again).

None of them says whether a RUT, email or phone is known: see ``app.registration.holds`` and
``app.registration.recovery``.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField

from app.activities.models import ActivitySession
from app.extensions import csrf, limiter
from app.outbox.tasks import kick_delivery
from app.registration import holds, recovery, services
from app.registration.models import Registration
from app.registration.views import _csrf_message, _page

bp = Blueprint("registration_identity", __name__)


def answer(session: ActivitySession, result: services.RegisterResult) -> ResponseReturnValue:
    """The page after a public submission: the same for a newcomer, a known document (held for
    confirmation), a person already registered, or one who cannot be written to. It names
    only what was typed (masked), never what is on file."""
    return _page("registration/received.html", session=session, contact=result.typed_contact,
                 minutes=holds.hold_minutes())


# --- confirming a held registration --------------------------------------------------------


@bp.route("/inscripcion/confirmar/<token>", methods=["GET", "POST"])
def confirm(token: str) -> ResponseReturnValue:
    """GET shows what is being confirmed and a button (link previews and mail scanners open
    links: they must book nothing); POST confirms and shows the person's own page."""
    try:
        found = holds.hold_from_token(token)
    except services.RegistrationError as err:
        kick_delivery()  # an expired hold read late may have promoted someone
        return _page("errors/error.html", err.status, status=err.status, title=_("Enlace no válido"),
                     detail=err.message)
    if isinstance(found, Registration):
        return redirect(url_for("registration.personal", token=services.personal_token(found)), code=303)
    if request.method == "POST":
        try:
            reg = holds.confirm(found)
        except services.RegistrationError as err:
            kick_delivery()
            return _page("errors/error.html", err.status, status=err.status, title=_("No se pudo confirmar"),
                         detail=err.message)
        kick_delivery()
        return redirect(url_for("registration.done", token=services.personal_token(reg), nuevo=1), code=303)
    return _page("registration/confirm_hold.html", hold=found, session=found.session, token=token)


# --- "Mis inscripciones" --------------------------------------------------------------------


class RecoveryForm(FlaskForm):
    who = StringField(_l("Su RUT, correo o celular"))


def _recovery_limit() -> str:
    return str(current_app.config.get("RECOVERY_RATE_LIMIT", "5 per minute; 30 per hour"))


@csrf.exempt  # checked by the form itself, so an expired page keeps what was typed
@bp.route("/mis-inscripciones", methods=["GET", "POST"])
@limiter.limit(_recovery_limit, methods=["POST"])
def recover() -> ResponseReturnValue:
    form = RecoveryForm()
    errors: list[str] = []
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                recovery.request_links(form.who.data or "")
            except recovery.RecoveryError as err:
                form.who.errors = [str(err)]  # type: ignore[misc]
            else:
                kick_delivery()
                return _page("registration/recovery_sent.html")
        elif "csrf_token" in form and form.csrf_token.errors:
            form.csrf_token.errors = []  # type: ignore[misc]
            errors.append(_csrf_message())
        return _page("registration/recovery.html", 400, form=form, errors=errors)
    return Response(render_template("registration/recovery.html", form=form, errors=errors))
