"""Passwords: changing one on *Mi cuenta* (knowing the current one) and resetting a
forgotten one from an emailed link. Both end every earlier session of the account (the
session version, see ``app/accounts/sessions.py``); a reset also revokes every API token.
"""

from __future__ import annotations

import hashlib
import secrets

from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, render_template
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired
from sqlalchemy import select

from app.accounts import services
from app.accounts.models import User
from app.accounts.throttle import account_throttle
from app.audit.services import record
from app.extensions import db
from app.outbox.services import enqueue_email
from app.urls import external_url


def change_password(user: User, current: str, new: str) -> None:
    """Change the password knowing the current one; every other session ends.

    API tokens stay: the person is logged in and sees them listed beside this form.
    """
    try:
        ok = bool(user.password_hash) and services._hasher.verify(user.password_hash or "", current)
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok:
        raise services.AccountError(_("La contraseña actual no es correcta."), field="current")
    services.check_password_strength(new)
    if current == new:
        raise services.AccountError(_("La contraseña nueva debe ser distinta de la actual."),
                                    field="password")
    user.password_hash = services.hash_password(new)
    services.bump_session_version(user)
    record("auth.password_change", user, actor=user, office_id=user.office_id)
    db.session.commit()


def _reset_fingerprint(user: User) -> str:
    # Changes when the password changes, so a reset link works once.
    return hashlib.sha256((user.password_hash or "none").encode()).hexdigest()[:16]


def request_password_reset(email: str) -> None:
    """Queue a reset link if the account exists. Says nothing either way (no enumeration)."""
    user = db.session.scalar(select(User).where(User.email == services.normalise_email(email)))
    if user is None or not user.active:
        return
    token = services._serializer("password-reset").dumps(
        {"u": user.id, "f": _reset_fingerprint(user)})
    link = external_url("accounts.reset_password", token=token)
    minutes = current_app.config["PASSWORD_RESET_MAX_AGE_MINUTES"]
    ctx = {"user": user, "link": link, "minutes": minutes}
    enqueue_email(
        dedupe_key=f"password-reset:{user.id}:{secrets.token_hex(8)}",
        to=user.email, to_name=user.name,
        subject=_("Cambio de contraseña en Puente Laboral"),
        body_text=render_template("email/password_reset.txt", **ctx),
        body_html=render_template("email/password_reset.html", **ctx),
        kind="password_reset", office_id=None,
    )
    record("auth.password_reset_requested", user, actor=user, office_id=user.office_id)
    db.session.commit()


def user_from_reset_token(token: str) -> User:
    max_age = current_app.config["PASSWORD_RESET_MAX_AGE_MINUTES"] * 60
    try:
        data = services._serializer("password-reset").loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise services.AccountError(
            _("El enlace para cambiar la contraseña venció. Pida uno nuevo."), status=410) from exc
    except BadSignature as exc:
        raise services.AccountError(
            _("El enlace para cambiar la contraseña no es válido."), status=400) from exc
    user = db.session.get(User, data.get("u")) if isinstance(data, dict) else None
    if user is None or not user.active or data.get("f") != _reset_fingerprint(user):
        raise services.AccountError(
            _("El enlace para cambiar la contraseña ya fue usado o no es válido."), status=410)
    return user


def reset_password(token: str, password: str) -> User:
    """Set a new password from an emailed link: every session and every API token ends.

    A reset proves only that the person reads the account's email, which is also what someone
    who lost control of the account does: a token or a session the intruder made must not
    outlive it. The reset page says so before the password is saved.
    """
    user = user_from_reset_token(token)
    services.check_password_strength(password)
    user.password_hash = services.hash_password(password)
    services.bump_session_version(user)
    revoked = services.revoke_all_tokens(user)
    record("auth.password_reset", user, f"tokens_revocados={revoked}" if revoked else "",
           actor=user, office_id=user.office_id)
    db.session.commit()
    account_throttle().clear(user.email)  # the owner proved it: failed attempts no longer lock
    return user
