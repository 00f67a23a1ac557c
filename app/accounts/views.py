"""Login, logout, password reset, invitations and the personal profile (API tokens)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from app.accounts import services
from app.accounts.forms import (
    AcceptInvitationForm,
    ForgotPasswordForm,
    LoginForm,
    NewPasswordForm,
    TokenForm,
)
from app.accounts.models import ApiToken
from app.accounts.policy import can
from app.extensions import db, limiter, login_manager
from app.outbox.tasks import kick_delivery
from app.public import safe_next

bp = Blueprint("accounts", __name__)

login_manager.login_view = "accounts.login"
login_manager.login_message = "Inicie sesión para continuar."
login_manager.login_message_category = "info"


def _login_limit() -> str:
    return str(current_app.config["LOGIN_RATE_LIMIT"])


@bp.route("/cuenta/ingresar", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("public.gestion_home"))
    form = LoginForm()
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            user = services.authenticate(form.email.data or "", form.password.data or "")
            if user is not None:
                login_user(user)
                return redirect(safe_next(request.args.get("next"), url_for("public.gestion_home")))
            errors.append(_("El correo o la contraseña no son correctos."))
        status = 400
    return render_template("auth/login.html", form=form, errors=errors), status


@bp.errorhandler(429)
def too_many(_exc: Exception) -> ResponseReturnValue:
    if request.endpoint != "accounts.login":
        return render_template("errors/error.html", status=429, title=_("Demasiados intentos"),
                               detail=_("Espere unos minutos y vuelva a intentarlo.")), 429
    form = LoginForm(formdata=None, email=request.form.get("email", "")[:254])
    msg = _("Hizo demasiados intentos de ingreso seguidos. Espere 5 minutos y vuelva a intentarlo.")
    return render_template("auth/login.html", form=form, errors=[msg]), 429


@bp.post("/cuenta/salir")
@login_required
def logout() -> ResponseReturnValue:
    logout_user()
    flash(_("Cerró su sesión."), "success")
    return redirect(url_for("public.home"))


@bp.route("/cuenta/olvide-mi-contrasena", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def forgot_password() -> ResponseReturnValue:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data or "")
        kick_delivery()
        flash(_("Si hay una cuenta con ese correo, le enviamos un enlace para cambiar la contraseña."),
              "success")
        return redirect(url_for("accounts.login"))
    return render_template("auth/forgot.html", form=form), (400 if request.method == "POST" else 200)


@bp.route("/cuenta/contrasena/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> ResponseReturnValue:
    try:
        services.user_from_reset_token(token)
    except services.AccountError as err:
        return render_template("errors/error.html", status=err.status, title=_("Enlace no válido"),
                               detail=err.message), err.status
    form = NewPasswordForm()
    errors: list[str] = []
    if form.validate_on_submit():
        try:
            services.reset_password(token, form.password.data or "")
        except services.AccountError as err:
            errors.append(err.message)
        else:
            flash(_("Cambió su contraseña. Ya puede ingresar."), "success")
            return redirect(url_for("accounts.login"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/reset.html", form=form, errors=errors), status


@bp.route("/cuenta/invitacion/<token>", methods=["GET", "POST"])
def accept_invitation(token: str) -> ResponseReturnValue:
    try:
        inv = services.invitation_from_token(token)
    except services.AccountError as err:
        return render_template("errors/error.html", status=err.status, title=_("Invitación no válida"),
                               detail=err.message), err.status
    form = AcceptInvitationForm()
    if request.method == "GET":
        form.name.data = inv.name
    errors: list[str] = []
    if form.validate_on_submit():
        try:
            user = services.accept_invitation(token, name=form.name.data or "",
                                              password=form.password.data or "")
        except services.AccountError as err:
            if err.field and err.field in form:
                form[err.field].errors = [*form[err.field].errors, err.message]  # type: ignore[misc]
            else:
                errors.append(err.message)
        else:
            login_user(user)
            flash(_("Bienvenida o bienvenido a Puente Laboral. Su cuenta está lista."), "success")
            return redirect(url_for("public.gestion_home"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/accept.html", form=form, inv=inv, errors=errors), status


@bp.route("/cuenta/", methods=["GET"])
@login_required
def profile() -> ResponseReturnValue:
    tokens = db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == current_user.id).order_by(ApiToken.created_at.desc())
    ).all()
    return render_template("accounts/profile.html", tokens=tokens, form=TokenForm(), new_secret=None)


@bp.post("/cuenta/tokens")
@login_required
def create_token() -> ResponseReturnValue:
    if not can(current_user, "token.manage", current_user):
        abort(403)
    form = TokenForm()
    tokens_q = select(ApiToken).where(ApiToken.user_id == current_user.id).order_by(
        ApiToken.created_at.desc())
    if not form.validate_on_submit():
        return render_template("accounts/profile.html", tokens=db.session.scalars(tokens_q).all(),
                               form=form, new_secret=None), 400
    _token, secret = services.create_api_token(current_user, form.name.data or "")
    # The secret is shown once, on this response only; it is never stored nor logged.
    return render_template("accounts/profile.html", tokens=db.session.scalars(tokens_q).all(),
                           form=TokenForm(formdata=None), new_secret=secret)


@bp.post("/cuenta/tokens/<int:token_id>/revocar")
@login_required
def revoke_token(token_id: int) -> ResponseReturnValue:
    try:
        services.revoke_api_token(current_user, token_id)
    except services.AccountError as err:
        abort(err.status)
    flash(_("El token quedó revocado."), "success")
    return redirect(url_for("accounts.profile"))
