"""After the session: the attendee's survey and certificate (behind the personal link), the
public verification of a certificate, and the survey results for staff.

Thin views: load, ask the service (or the policy), render. The personal pages are private
(not cached, indexed or sent as a referrer), like the rest of ``/inscripcion/<token>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_number
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField

from app.accounts.models import User
from app.accounts.policy import can
from app.activities.models import Activity, ActivitySession
from app.extensions import csrf, db, limiter
from app.registration import certificate, survey
from app.registration.models import Registration
from app.registration.services import LINK_VALID_AFTER_END
from app.registration.views import _csrf_message, _page, _private, _reg_or_error
from app.timeutil import utcnow

bp = Blueprint("registration_after", __name__)


class SurveyForm(FlaskForm):
    # Checked by the service (``survey.clean_answer``), so the rules live in one place.
    rating = StringField(_l("¿Qué tan útil le resultó el taller?"))
    comment = TextAreaField(_l("¿Algo más que quiera contarnos? (opcional)"))


# --- the personal page's "after the session" block ---------------------------------------------


@dataclass(frozen=True)
class AfterSession:
    survey_open: bool
    answered: bool
    link_expires: datetime


@bp.app_template_global()
def after_session(reg: Registration) -> AfterSession | None:
    """What the personal page offers once the session is over: None unless the person attended."""
    if not certificate.is_available(reg):
        return None
    return AfterSession(survey_open=survey.is_open(reg), answered=survey.response_of(reg) is not None,
                        link_expires=reg.session.ends_at + LINK_VALID_AFTER_END)


# --- the survey ---------------------------------------------------------------------------


def _error_page(status: int, title: str, detail: str) -> Response:
    return _page("errors/error.html", status, status=status, title=title, detail=detail)


def _survey_page(reg: Registration, token: str, form: SurveyForm, errors: list[str], status: int) -> Response:
    return _page("registration/after/survey.html", status, reg=reg, token=token, form=form, errors=errors,
                 labels=survey.RATING_LABELS, ratings=survey.RATINGS, comment_max=survey.COMMENT_MAX,
                 comment_max_text=format_number(survey.COMMENT_MAX),
                 answered=survey.response_of(reg), closes_at=survey.closes_at(reg.session))


# The form checks its own CSRF token (as the registration form does), so a page left open too
# long answers with the form and what was typed, not with an error page.
@csrf.exempt
@bp.route("/inscripcion/<token>/encuesta", methods=["GET", "POST"])
def survey_page(token: str) -> ResponseReturnValue:
    reg = _reg_or_error(token)
    if isinstance(reg, Response):
        return reg
    try:
        survey.check_can_answer(reg)
    except survey.SurveyError as err:
        return _error_page(err.status, _("Encuesta no disponible"), err.message)
    if request.method == "GET":
        existing = survey.response_of(reg)
        data = {"rating": str(existing.rating), "comment": existing.comment} if existing else {}
        return _survey_page(reg, token, SurveyForm(formdata=None, data=data), [], 200)
    form = SurveyForm()
    if not form.validate_on_submit():
        return _survey_page(reg, token, form, [_csrf_message()], 400)
    try:
        _response, first = survey.answer(reg, form.rating.data, form.comment.data)
    except survey.SurveyError as err:
        db.session.rollback()
        if not err.errors:
            return _error_page(err.status, _("Encuesta no disponible"), err.message)
        form.rating.errors = [err.errors["rating"]] if "rating" in err.errors else []  # type: ignore[misc]
        form.comment.errors = [err.errors["comment"]] if "comment" in err.errors else []  # type: ignore[misc]
        return _survey_page(reg, token, form, [], 400)
    flash(_("¡Gracias por responder! Su opinión ayuda a mejorar los talleres.") if first
          else _("Guardamos su nueva respuesta. Gracias."), "success")
    return redirect(url_for("registration.personal", token=token), code=303)


# --- the certificate ------------------------------------------------------------------------


@bp.get("/inscripcion/<token>/certificado.pdf")
def certificate_pdf(token: str) -> ResponseReturnValue:
    reg = _reg_or_error(token)
    if isinstance(reg, Response):
        return reg
    try:
        cert = certificate.issue(reg)
    except certificate.CertificateError as err:
        db.session.rollback()
        return _error_page(err.status, _("Certificado no disponible"), err.message)
    body = certificate.render_pdf(certificate.content(reg, cert))
    response = _private(Response(body, content_type="application/pdf"))
    response.headers["Content-Disposition"] = f'attachment; filename="{certificate.filename(reg)}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _verify_limit() -> str:
    return str(current_app.config.get("CERTIFICATE_VERIFY_RATE_LIMIT", "30 per minute"))


@bp.get("/certificados/")
@limiter.limit(_verify_limit)
def verify_lookup() -> ResponseReturnValue:
    """A small form for a code read from a printed certificate (GET, no JavaScript)."""
    typed = request.args.get("codigo", "").strip()
    error = None
    if typed:
        code = certificate.normalise_code(typed)
        if code is not None:
            return redirect(url_for("registration_after.verify", code=code), code=303)
        error = _("Ese código no tiene el formato de un certificado: son 10 letras y números, por ejemplo "
                  "K7QF2-MZPXA.")
    return _page("registration/after/verify_lookup.html", 400 if error else 200, typed=typed, error=error)


@bp.get("/certificados/<code>")
@limiter.limit(_verify_limit)
def verify(code: str) -> ResponseReturnValue:
    found = certificate.verify(code)
    if found is None:
        return _page("registration/after/verify_lookup.html", 404, typed=code, error=None, not_found=True)
    return _page("registration/after/verify.html", found=found, display_code=certificate.display_code(found.code))


# --- results for staff ----------------------------------------------------------------------


def _require_view(target: Activity | ActivitySession) -> None:
    if not can(cast(User, current_user._get_current_object()), "registration.view", target):  # type: ignore[attr-defined]
        abort(403)


@bp.get("/gestion/encuestas/sesion/<int:session_id>")
@login_required
def session_results(session_id: int) -> ResponseReturnValue:
    session = db.get_or_404(ActivitySession, session_id)
    _require_view(session)
    return _private(Response(render_template(
        "registration/after/results.html", activity=session.activity, session=session,
        results=survey.session_results(session), sessions=None, ended=session.ends_at <= utcnow(),
        format_average=survey.format_average, labels=survey.RATING_LABELS)))


@bp.get("/gestion/encuestas/taller/<int:activity_id>")
@login_required
def activity_results(activity_id: int) -> ResponseReturnValue:
    activity = db.get_or_404(Activity, activity_id)
    _require_view(activity)
    results, sessions = survey.activity_results(activity)
    return _private(Response(render_template(
        "registration/after/results.html", activity=activity, session=None, results=results, sessions=sessions,
        ended=True, format_average=survey.format_average, labels=survey.RATING_LABELS)))
