"""Accounts: authentication, invitations and personal API tokens (passwords: passwords.py).

Every function that changes state commits once (its own transaction) and raises
``AccountError`` with a message fit to show the user.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, render_template
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.accounts.models import ApiToken, Invitation, Role, User
from app.accounts.throttle import account_throttle
from app.audit.services import record
from app.extensions import db, login_manager
from app.outbox.services import enqueue_email
from app.territory.models import Office, SenceUnit
from app.text import TextError, clean_line
from app.timeutil import utcnow
from app.urls import external_url

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 10
TOKEN_PREFIX = "pl_"  # noqa: S105 - a public prefix, not a secret


class AccountError(ValueError):
    """A user-facing refusal. ``field`` names the form field it belongs to, if any."""

    def __init__(self, message: str, field: str | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status


class LoginThrottled(AccountError):
    """Too many login attempts for one account (typed email), from any address."""


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The session's user, if the cookie's stamp ("id:session_version") is still current.

    A cookie without a version (issued before versions existed) or with an older one, kept
    after a logout, a password change or reset, or "cerrar las demás sesiones", loads nobody.
    """
    raw_id, sep, raw_version = str(user_id).partition(":")
    if not sep or not raw_id.isdecimal() or not raw_version.isdecimal():
        return None
    user = db.session.get(User, int(raw_id))
    if user is None or not user.active or user.session_version != int(raw_version):
        return None
    return user


def bump_session_version(user: User) -> None:
    """End every session issued so far for ``user`` (the caller commits)."""
    user.session_version = User.session_version + 1  # in SQL: concurrent bumps both count


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            _("La contraseña debe tener al menos %(n)s caracteres.", n=MIN_PASSWORD_LENGTH),
            field="password")
    if len(password) > 200:
        raise AccountError(_("La contraseña no puede tener más de 200 caracteres."), field="password")


# A hash of a random password, so unknown emails cost the same time as known ones.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, or None (same cost either way).

    Raises ``LoginThrottled`` (429) once the typed email has used up its attempts
    (``LOGIN_ACCOUNT_RATE_LIMIT``, from any address), known account or not.
    """
    throttle = account_throttle()
    if not throttle.attempt(email):
        raise LoginThrottled(
            _("Hubo demasiados intentos fallidos de ingreso con este correo. Por seguridad, espere "
              "%(n)s minutos y vuelva a intentarlo, o pida un enlace para cambiar su contraseña.",
              n=throttle.minutes_left(email)), status=429)
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    stored = user.password_hash if user is not None and user.password_hash else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active or not user.password_hash:
        return None
    if _hasher.check_needs_rehash(stored):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = utcnow()
    record("auth.login", user, actor=user, office_id=user.office_id, region_code=user.region_code)
    db.session.commit()
    throttle.clear(email)
    return user


def _line(value: str | None, field: str) -> str:
    """A person's or a token's name on one line (``app.text.clean_line``)."""
    try:
        return clean_line(value)
    except TextError as exc:
        raise AccountError(exc.message, field=field) from None


def create_user(*, email: str, name: str, password: str | None, role: Role,
                office: Office | None = None, sence_unit: SenceUnit | None = None,
                commit: bool = True) -> User:
    _check_role_target(role, office, sence_unit)
    email = normalise_email(email)
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise AccountError(_("Ya existe una cuenta con ese correo."), field="email", status=409)
    user = User(email=email, name=_line(name, "name"), role=role, office=office, sence_unit=sence_unit,
                password_hash=hash_password(password) if password else None, active=True)
    db.session.add(user)
    if commit:
        db.session.commit()
    return user


def _check_role_target(role: Role, office: Office | None, sence_unit: SenceUnit | None) -> None:
    if role == Role.OFFICE_STAFF and office is None:
        raise AccountError(_("Indique la oficina de la persona."), field="office_id")
    if role in (Role.SENCE_REGIONAL, Role.SENCE_NATIONAL) and sence_unit is None:
        raise AccountError(_("Indique la unidad SENCE de la persona."), field="sence_unit_id")
    if role == Role.SENCE_REGIONAL and sence_unit is not None and sence_unit.region_code is None:
        raise AccountError(_("Una cuenta SENCE regional debe pertenecer a una Dirección Regional."),
                           field="sence_unit_id")
    if role == Role.SENCE_NATIONAL and sence_unit is not None and sence_unit.region_code is not None:
        raise AccountError(_("Una cuenta SENCE nacional debe pertenecer al nivel nacional."),
                           field="sence_unit_id")


# --- invitations ---------------------------------------------------------------------------


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def invite_staff(*, inviter: User, email: str, name: str, role: Role,
                 office: Office | None = None, sence_unit: SenceUnit | None = None) -> Invitation:
    """Record an invitation and queue its email, in one transaction."""
    email = normalise_email(email)
    name = _line(name, "name")
    if not name:
        raise AccountError(_("Escriba el nombre de la persona invitada."), field="name")
    _check_role_target(role, office, sence_unit)
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise AccountError(_("Ya existe una cuenta con ese correo."), field="email", status=409)
    pending = db.session.scalar(
        select(Invitation).where(
            func.lower(Invitation.email) == email,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > utcnow(),
        )
    )
    if pending is not None:
        raise AccountError(
            _("Esa persona ya tiene una invitación vigente. Puede reenviarla desde la lista."),
            field="email", status=409)
    hours = current_app.config["INVITATION_MAX_AGE_HOURS"]
    inv = Invitation(email=email, name=name, role=role, office=office, sence_unit=sence_unit,
                     nonce=secrets.token_urlsafe(24), invited_by_id=inviter.id,
                     expires_at=utcnow() + timedelta(hours=hours))
    db.session.add(inv)
    db.session.flush()
    _queue_invitation_email(inv, inviter, attempt=1)
    record("staff.invite", inv, f"rol={role.value}", actor=inviter,
           office_id=office.id if office else None, region_code=_invitation_region(inv))
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise AccountError(_("La invitación no se pudo guardar; inténtelo otra vez."), status=409) from exc
    return inv


def _invitation_region(inv: Invitation) -> str | None:
    """The region an invitation's audit events belong to (its office's, or its SENCE unit's)."""
    if inv.office is not None:
        return inv.office.comuna.region_code
    return inv.sence_unit.region_code if inv.sence_unit is not None else None


def invitation_link(inv: Invitation) -> str:
    token = _serializer("invitation").dumps({"i": inv.id, "n": inv.nonce})
    return external_url("accounts.accept_invitation", token=token)


def _queue_invitation_email(inv: Invitation, inviter: User, attempt: int) -> None:
    link = invitation_link(inv)
    where = inv.office.name if inv.office else (inv.sence_unit.name if inv.sence_unit else "")
    ctx: dict[str, Any] = {"inv": inv, "inviter": inviter, "link": link, "where": where,
                           "hours": current_app.config["INVITATION_MAX_AGE_HOURS"]}
    enqueue_email(
        dedupe_key=f"invitation:{inv.id}:{attempt}",
        to=inv.email,
        to_name=inv.name,
        subject=_("Invitación a Puente Laboral"),
        body_text=render_template("email/invitation.txt", **ctx),
        body_html=render_template("email/invitation.html", **ctx),
        kind="invitation",
        office_id=inv.office_id,
    )


def resend_invitation(inv: Invitation, actor: User) -> Invitation:
    if inv.accepted_at is not None or inv.revoked_at is not None:
        raise AccountError(_("Esta invitación ya fue usada o anulada."), status=409)
    inv.nonce = secrets.token_urlsafe(24)
    inv.expires_at = utcnow() + timedelta(hours=current_app.config["INVITATION_MAX_AGE_HOURS"])
    db.session.flush()
    _queue_invitation_email(inv, actor, attempt=_next_invitation_attempt(inv))
    record("staff.invite_resend", inv, actor=actor, office_id=inv.office_id,
           region_code=_invitation_region(inv))
    db.session.commit()
    return inv


def _next_invitation_attempt(inv: Invitation) -> int:
    from app.outbox.models import OutboxMessage

    n = db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.dedupe_key.like(f"invitation:{inv.id}:%")))
    return int(n or 0) + 1


def revoke_invitation(inv: Invitation, actor: User) -> None:
    if inv.accepted_at is not None:
        raise AccountError(_("La invitación ya fue aceptada."), status=409)
    if inv.revoked_at is not None:
        raise AccountError(_("Esta invitación ya estaba anulada."), status=409)
    inv.revoked_at = utcnow()
    record("staff.invite_revoke", inv, actor=actor, office_id=inv.office_id,
           region_code=_invitation_region(inv))
    db.session.commit()


def invitation_from_token(token: str) -> Invitation:
    """The invitation a link points to, or AccountError (expired, tampered or used: 410/400)."""
    max_age = current_app.config["INVITATION_MAX_AGE_HOURS"] * 3600
    try:
        data = _serializer("invitation").loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise AccountError(_("El enlace de invitación venció. Pida a quien le invitó que lo reenvíe."),
                           status=410) from exc
    except BadSignature as exc:
        raise AccountError(_("El enlace de invitación no es válido. Revise que lo copió completo."),
                           status=400) from exc
    inv = db.session.get(Invitation, data.get("i")) if isinstance(data, dict) else None
    if inv is None or not secrets.compare_digest(inv.nonce, str(data.get("n", ""))):
        raise AccountError(_("El enlace de invitación no es válido. Revise que lo copió completo."),
                           status=400)
    if inv.accepted_at is not None:
        raise AccountError(_("Esta invitación ya fue usada. Inicie sesión con su correo."), status=410)
    if inv.revoked_at is not None:
        raise AccountError(_("Esta invitación fue anulada."), status=410)
    if inv.expires_at <= utcnow():
        raise AccountError(_("El enlace de invitación venció. Pida a quien le invitó que lo reenvíe."),
                           status=410)
    return inv


def accept_invitation(token: str, *, name: str, password: str) -> User:
    inv = invitation_from_token(token)
    name = _line(name, "name")
    if not name:
        raise AccountError(_("Escriba su nombre."), field="name")
    check_password_strength(password)
    user = create_user(email=inv.email, name=name, password=password, role=inv.role,
                       office=inv.office, sence_unit=inv.sence_unit, commit=False)
    inv.accepted_at = utcnow()
    db.session.flush()
    inv.user_id = user.id
    record("staff.invite_accept", user, actor=user, office_id=user.office_id,
           region_code=inv.office.comuna.region_code if inv.office else None)
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise AccountError(_("Ya existe una cuenta con ese correo."), status=409) from exc
    return user


def revoke_all_tokens(user: User) -> int:
    """Revoke every live API token of ``user`` (the caller commits); how many there were."""
    n = 0
    for tok in db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id,
                                                         ApiToken.revoked_at.is_(None))):
        tok.revoked_at = utcnow()
        n += 1
    return n


def deactivate_user(user: User, actor: User) -> None:
    if user.id == actor.id:
        raise AccountError(_("No puede desactivar su propia cuenta."), status=409)
    if not user.active:
        raise AccountError(_("Esa cuenta ya estaba desactivada."), status=409)
    user.active = False
    bump_session_version(user)  # a later reactivation does not revive old cookies
    revoke_all_tokens(user)
    record("staff.deactivate", user, actor=actor, office_id=user.office_id,
           region_code=user.region_code)
    db.session.commit()


# --- personal API tokens -------------------------------------------------------------------


def _hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_token(user: User, name: str) -> tuple[ApiToken, str]:
    """Create a token; returns it and its secret, which is never stored nor shown again."""
    name = _line(name, "name")
    if not name:
        raise AccountError(_("Dé un nombre al token para reconocerlo después."), field="name")
    if len(name) > 80:
        raise AccountError(_("El nombre del token no puede superar 80 caracteres."), field="name")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, token_hash=_hash_token(secret), prefix=secret[:10])
    db.session.add(token)
    db.session.flush()
    record("token.create", token, actor=user, office_id=user.office_id)
    db.session.commit()
    return token, secret


def revoke_api_token(user: User, token_id: int) -> ApiToken:
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise AccountError(_("Ese token no existe."), status=404)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        record("token.revoke", token, actor=user, office_id=user.office_id)
        db.session.commit()
    return token


def user_for_api_token(secret: str) -> User | None:
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash_token(secret)))
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
        token.last_used_at = now
        db.session.commit()
    return token.user
