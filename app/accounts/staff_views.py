"""Team pages under /gestion: who works in an office (or a SENCE unit), and invitations.

An office's team is invited as office staff; a SENCE Dirección Regional's as SENCE regional
staff; the national unit's as national admins. The invitation email goes through the
outbox: it is written in the invitation's transaction and delivery is kicked after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from app.accounts import services
from app.accounts.forms import InviteForm
from app.accounts.models import Invitation, Role, User
from app.accounts.policy import can
from app.extensions import db
from app.outbox.tasks import kick_delivery
from app.territory.forms import show_error
from app.territory.models import Office, SenceUnit, SenceUnitLevel
from app.timeutil import utcnow

bp = Blueprint("staff", __name__, url_prefix="/gestion")


class TeamInviteForm(InviteForm):
    """Name and email; the office or unit comes from the page."""

    office_id = None  # type: ignore[assignment]


@dataclass(frozen=True)
class Team:
    """An office or a SENCE unit, seen as a team: what the page and the routes need."""

    target: Office | SenceUnit

    @property
    def is_office(self) -> bool:
        return isinstance(self.target, Office)

    @property
    def role(self) -> Role:
        if isinstance(self.target, Office):
            return Role.OFFICE_STAFF
        if self.target.level == SenceUnitLevel.REGIONAL:
            return Role.SENCE_REGIONAL
        return Role.SENCE_NATIONAL

    def url(self, action: str, **ids: int) -> str:
        if isinstance(self.target, Office):
            return url_for(f"staff.office_{action}", office_id=self.target.id, **ids)
        return url_for(f"staff.sence_{action}", unit_id=self.target.id, **ids)

    def owns_user(self, user: User) -> bool:
        if isinstance(self.target, Office):
            return user.office_id == self.target.id
        return user.sence_unit_id == self.target.id

    def owns_invitation(self, inv: Invitation) -> bool:
        if isinstance(self.target, Office):
            return inv.office_id == self.target.id
        return inv.sence_unit_id == self.target.id

    def members(self) -> list[User]:
        column = User.office_id if isinstance(self.target, Office) else User.sence_unit_id
        return list(db.session.scalars(
            select(User).where(column == self.target.id).order_by(User.active.desc(), User.name)))

    def pending_invitations(self) -> list[Invitation]:
        column = (Invitation.office_id if isinstance(self.target, Office)
                  else Invitation.sence_unit_id)
        return list(db.session.scalars(
            select(Invitation).where(column == self.target.id, Invitation.accepted_at.is_(None),
                                     Invitation.revoked_at.is_(None))
            .order_by(Invitation.created_at.desc())))


def _me() -> User:
    return cast(User, current_user._get_current_object())  # type: ignore[attr-defined]


def _office_team(office_id: int) -> Team:
    return Team(db.get_or_404(Office, office_id))


def _sence_team(unit_id: int) -> Team:
    return Team(db.get_or_404(SenceUnit, unit_id))


def _render(team: Team, form: TeamInviteForm | None = None, errors: list[str] | None = None,
            status: int = 200) -> ResponseReturnValue:
    me = _me()
    if not can(me, "staff.view", team.target):
        abort(403)
    can_invite = can(me, "staff.invite", team.target)
    members = [(m, m.active and m.id != me.id and can(me, "staff.deactivate", m))
               for m in team.members()]
    return render_template(
        "staff/team.html", team=team, target=team.target, members=members,
        invitations=team.pending_invitations() if can_invite else [],
        can_invite=can_invite, form=form or TeamInviteForm(formdata=None),
        errors=errors or [], now=utcnow()), status


def _invite(team: Team) -> ResponseReturnValue:
    me = _me()
    if not can(me, "staff.invite", team.target):
        abort(403)
    form = TeamInviteForm()
    if not form.validate_on_submit():
        return _render(team, form, status=400)
    try:
        inv = services.invite_staff(
            inviter=me, email=form.email.data or "", name=form.name.data or "", role=team.role,
            office=team.target if isinstance(team.target, Office) else None,
            sence_unit=team.target if isinstance(team.target, SenceUnit) else None)
    except services.AccountError as err:
        return _render(team, form, show_error(form, err), err.status)
    kick_delivery()
    flash(_("Enviamos la invitación a %(name)s. El enlace vence en %(hours)s horas.",
            name=inv.name, hours=_invitation_hours()), "success")
    return redirect(team.url("team"))


def _invitation_hours() -> int:
    return int(current_app.config["INVITATION_MAX_AGE_HOURS"])


def _invitation_of(team: Team, inv_id: int) -> Invitation:
    if not can(_me(), "staff.invite", team.target):
        abort(403)
    inv = db.session.get(Invitation, inv_id)
    if inv is None or not team.owns_invitation(inv):
        abort(404)
    return inv


def _resend(team: Team, inv_id: int) -> ResponseReturnValue:
    inv = _invitation_of(team, inv_id)
    try:
        services.resend_invitation(inv, _me())
    except services.AccountError as err:
        return _render(team, errors=[err.message], status=err.status)
    kick_delivery()
    flash(_("Reenviamos la invitación a %(name)s con un enlace nuevo.", name=inv.name), "success")
    return redirect(team.url("team"))


def _revoke(team: Team, inv_id: int) -> ResponseReturnValue:
    inv = _invitation_of(team, inv_id)
    try:
        services.revoke_invitation(inv, _me())
    except services.AccountError as err:
        return _render(team, errors=[err.message], status=err.status)
    flash(_("Anulamos la invitación de %(name)s; su enlace ya no sirve.", name=inv.name),
          "success")
    return redirect(team.url("team"))


def _deactivate(team: Team, user_id: int) -> ResponseReturnValue:
    me = _me()
    member = db.session.get(User, user_id)
    if member is None or not team.owns_user(member):
        abort(404)
    if not can(me, "staff.deactivate", member):
        abort(403)
    try:
        services.deactivate_user(member, me)
    except services.AccountError as err:
        return _render(team, errors=[err.message], status=err.status)
    flash(_("Desactivamos la cuenta de %(name)s: ya no puede ingresar.", name=member.name),
          "success")
    return redirect(team.url("team"))


# --- offices -------------------------------------------------------------------------------


@bp.get("/oficinas/<int:office_id>/equipo")
@login_required
def office_team(office_id: int) -> ResponseReturnValue:
    return _render(_office_team(office_id))


@bp.post("/oficinas/<int:office_id>/equipo")
@login_required
def office_invite(office_id: int) -> ResponseReturnValue:
    return _invite(_office_team(office_id))


@bp.post("/oficinas/<int:office_id>/equipo/invitaciones/<int:inv_id>/reenviar")
@login_required
def office_resend(office_id: int, inv_id: int) -> ResponseReturnValue:
    return _resend(_office_team(office_id), inv_id)


@bp.post("/oficinas/<int:office_id>/equipo/invitaciones/<int:inv_id>/anular")
@login_required
def office_revoke(office_id: int, inv_id: int) -> ResponseReturnValue:
    return _revoke(_office_team(office_id), inv_id)


@bp.post("/oficinas/<int:office_id>/equipo/personas/<int:user_id>/desactivar")
@login_required
def office_deactivate(office_id: int, user_id: int) -> ResponseReturnValue:
    return _deactivate(_office_team(office_id), user_id)


# --- SENCE units ---------------------------------------------------------------------------


@bp.get("/sence/<int:unit_id>/equipo")
@login_required
def sence_team(unit_id: int) -> ResponseReturnValue:
    return _render(_sence_team(unit_id))


@bp.post("/sence/<int:unit_id>/equipo")
@login_required
def sence_invite(unit_id: int) -> ResponseReturnValue:
    return _invite(_sence_team(unit_id))


@bp.post("/sence/<int:unit_id>/equipo/invitaciones/<int:inv_id>/reenviar")
@login_required
def sence_resend(unit_id: int, inv_id: int) -> ResponseReturnValue:
    return _resend(_sence_team(unit_id), inv_id)


@bp.post("/sence/<int:unit_id>/equipo/invitaciones/<int:inv_id>/anular")
@login_required
def sence_revoke(unit_id: int, inv_id: int) -> ResponseReturnValue:
    return _revoke(_sence_team(unit_id), inv_id)


@bp.post("/sence/<int:unit_id>/equipo/personas/<int:user_id>/desactivar")
@login_required
def sence_deactivate(unit_id: int, user_id: int) -> ResponseReturnValue:
    return _deactivate(_sence_team(unit_id), user_id)
