"""Login, logout, password reset, invitations and the personal profile (API tokens)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from app.accounts import passwords, services, sessions
from app.accounts.forms import (
    AcceptInvitationForm,
    ChangePasswordForm,
    ForgotPasswordForm,
    LoginForm,
    NewPasswordForm,
    TokenForm,
)
from app.accounts.guards import current_account
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
            try:
                user = services.authenticate(form.email.data or "", form.password.data or "")
            except services.LoginThrottled as err:
                return render_template("auth/login.html", form=form, errors=[err.message]), 429
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
    sessions.log_out(current_account())  # a copy of this cookie stops working too
    logout_user()
    flash(_("Cerró su sesión. Si había ingresado en otros equipos, allí también se cerró."),
          "success")
    return redirect(url_for("public.home"))


@bp.route("/cuenta/olvide-mi-contrasena", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def forgot_password() -> ResponseReturnValue:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        passwords.request_password_reset(form.email.data or "")
        kick_delivery()
        flash(_("Si hay una cuenta con ese correo, le enviamos un enlace para cambiar la contraseña."),
              "success")
        return redirect(url_for("accounts.login"))
    return render_template("auth/forgot.html", form=form), (400 if request.method == "POST" else 200)


@bp.route("/cuenta/contrasena/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> ResponseReturnValue:
    try:
        passwords.user_from_reset_token(token)
    except services.AccountError as err:
        return render_template("errors/error.html", status=err.status, title=_("Enlace no válido"),
                               detail=err.message), err.status
    form = NewPasswordForm()
    errors: list[str] = []
    if form.validate_on_submit():
        try:
            passwords.reset_password(token, form.password.data or "")
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


def _profile(*, form: TokenForm | None = None, password_form: ChangePasswordForm | None = None,
             new_secret: str | None = None, status: int = 200) -> ResponseReturnValue:
    tokens = db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == current_user.id).order_by(ApiToken.created_at.desc())
    ).all()
    return render_template("accounts/profile.html", tokens=tokens,
                           form=form or TokenForm(formdata=None),
                           password_form=password_form or ChangePasswordForm(formdata=None),
                           new_secret=new_secret), status


@bp.route("/cuenta/", methods=["GET"])
@login_required
def profile() -> ResponseReturnValue:
    return _profile()


@bp.post("/cuenta/cambiar-contrasena")
@login_required
@limiter.limit(_login_limit)
def change_password() -> ResponseReturnValue:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_account()
        try:
            passwords.change_password(user, form.current.data or "", form.password.data or "")
        except services.AccountError as err:
            target = form[err.field] if err.field and err.field in form else form.password
            target.errors = [*target.errors, err.message]  # type: ignore[misc]
        else:
            login_user(user)  # this session stays, with the new stamp
            flash(_("Cambió su contraseña. Sus sesiones en otros equipos se cerraron."), "success")
            return redirect(url_for("accounts.profile"))
    return _profile(password_form=form, status=400)


@bp.post("/cuenta/sesiones/cerrar-otras")
@login_required
def end_other_sessions() -> ResponseReturnValue:
    user = current_account()
    sessions.end_other_sessions(user)
    login_user(user)  # this session stays, with the new stamp
    flash(_("Cerró sus sesiones en los demás equipos. Esta sigue abierta."), "success")
    return redirect(url_for("accounts.profile"))


@bp.post("/cuenta/tokens")
@login_required
def create_token() -> ResponseReturnValue:
    if not can(current_user, "token.manage", current_user):
        abort(403)
    form = TokenForm()
    if not form.validate_on_submit():
        return _profile(form=form, status=400)
    _token, secret = services.create_api_token(current_user, form.name.data or "")
    # The secret is shown once, on this response only; it is never stored nor logged.
    return _profile(new_secret=secret)


@bp.post("/cuenta/tokens/<int:token_id>/revocar")
@login_required
def revoke_token(token_id: int) -> ResponseReturnValue:
    try:
        services.revoke_api_token(current_user, token_id)
    except services.AccountError as err:
        abort(err.status)
    flash(_("El token quedó revocado."), "success")
    return redirect(url_for("accounts.profile"))
