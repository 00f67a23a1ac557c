"""The personal join page (/inscripcion/<token>/conectarse) and the staff host page.

The join page answers only to the registration's signed personal link. It shows the session,
a countdown computed on the server (static/js/join.js may keep it ticking), how to prepare,
and the join button, active from ``JOIN_OPENS_MINUTES`` before the start until the end. The
provider's URL never reaches a page outside that window. Clicking join is a POST (CSRF) that
records attendance evidence (``record_join``) and sends the person on: a redirect for pasted
links (Zoom, Meet, Teams open outside the platform), an embedded room for Jitsi.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, Response, abort, current_app, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.accounts.policy import can
from app.activities.models import ActivitySession
from app.calendar import is_cancelled
from app.conferencing import join_page_accessibility
from app.conferencing.providers import JitsiProvider, provider_for
from app.extensions import db
from app.registration import services
from app.registration.models import Registration, RegistrationStatus
from app.security import CSP
from app.timeutil import utcnow

bp = Blueprint("conferencing", __name__)

EARLY, OPEN, ENDED = "early", "open", "ended"


def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _page(template: str, code: int = 200, **ctx: Any) -> Response:
    return _private(Response(render_template(template, **ctx), status=code))


def _error(status: int, title: str, detail: str) -> Response:
    return _page("errors/error.html", status, status=status, title=title, detail=detail)


def _reg_or_error(token: str) -> Registration | Response:
    try:
        return services.registration_from_token(token)
    except services.RegistrationError as err:
        return _error(err.status, _("Enlace no válido"), err.message)


def opens_at(session: ActivitySession) -> datetime:
    minutes = int(current_app.config.get("JOIN_OPENS_MINUTES", 15))
    return session.starts_at - timedelta(minutes=minutes)


def window_state(session: ActivitySession, now: datetime | None = None) -> str:
    now = now or utcnow()
    if now < opens_at(session):
        return EARLY
    if now > session.ends_at:
        return ENDED
    return OPEN


def countdown_text(session: ActivitySession, now: datetime | None = None) -> str:
    """"Comienza en 2 horas y 5 minutos", computed on the server (works without JavaScript)."""
    now = now or utcnow()
    if now >= session.ends_at:
        return _("La sesión ya terminó.")
    if now >= session.starts_at:
        return _("La sesión ya comenzó.")
    total = int((session.starts_at - now).total_seconds() // 60) + 1  # round up: never "0 minutos"
    days, rest = divmod(total, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = []
    if days:
        parts.append(ngettext("%(num)d día", "%(num)d días", days))
    if hours:
        parts.append(ngettext("%(num)d hora", "%(num)d horas", hours))
    if minutes and not days:
        parts.append(ngettext("%(num)d minuto", "%(num)d minutos", minutes))
    joined = parts[0] if len(parts) == 1 else _("%(first)s y %(second)s", first=parts[0], second=parts[1])
    return _("Comienza en %(time)s", time=joined)


@dataclass
class Blocked:
    title: str
    detail: str


def blocked_reason(reg: Registration) -> Blocked | None:
    """Why this registration may not join this session at all (None: it may)."""
    session = reg.session
    if is_cancelled(session):
        return Blocked(_("Sesión cancelada"), _("Esta sesión fue cancelada: no hay sala a la que conectarse."))
    if reg.status == RegistrationStatus.CANCELLED:
        return Blocked(_("Inscripción cancelada"),
                       _("Su inscripción está cancelada, así que no puede conectarse a esta sesión."))
    if reg.status == RegistrationStatus.WAITLISTED:
        return Blocked(_("Está en la lista de espera"),
                       _("Todavía no tiene cupo. Si se libera uno le avisaremos, y entonces podrá "
                         "conectarse desde esta página."))
    if not session.is_remote:
        return Blocked(_("Sesión presencial"),
                       _("Esta sesión es solo presencial: no tiene conexión en línea. Revise el lugar "
                         "en su página de inscripción."))
    return None


def _accessibility(session: ActivitySession) -> list[str]:
    offered: list[str] = []
    for _receiver, result in join_page_accessibility.send(session):
        offered.extend(str(item) for item in (result or []))
    return offered


def _join_page(reg: Registration, token: str, code: int = 200) -> Response:
    session = reg.session
    blocked = blocked_reason(reg)
    provider = provider_for(session)
    state = window_state(session)
    response = _page(
        "conferencing/join.html", code, reg=reg, token=token, session=session, blocked=blocked,
        provider=provider, state=state, countdown=countdown_text(session),
        has_url=provider.join_url(session) is not None,
        opens_minutes=int(current_app.config.get("JOIN_OPENS_MINUTES", 15)),
        starts_iso=session.starts_at.isoformat(), opens_iso=opens_at(session).isoformat(),
        accessibility=_accessibility(session),
    )
    url = provider.join_url(session)
    if state == OPEN and blocked is None and url and not provider.embeddable:
        # The join form redirects to the provider (Zoom, Meet, Teams); browsers apply the
        # page's form-action to that redirect, so open it to that origin only, and only
        # while the window is open (before it, not even the provider's host is revealed).
        response.headers["Content-Security-Policy"] = _with_form_action(_origin(url))
    return response


def _origin(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _with_form_action(origin: str) -> str:
    parts = [p for p in CSP.split("; ") if not p.startswith("form-action")]
    parts.append(f"form-action 'self' {origin}")
    return "; ".join(parts)


@bp.get("/inscripcion/<token>/conectarse")
def join(token: str) -> ResponseReturnValue:
    reg = _reg_or_error(token)
    if isinstance(reg, Response):
        return reg
    return _join_page(reg, token)


@bp.post("/inscripcion/<token>/conectarse")
def join_now(token: str) -> ResponseReturnValue:
    reg = _reg_or_error(token)
    if isinstance(reg, Response):
        return reg
    if blocked_reason(reg) is not None:
        return _join_page(reg, token, 409)
    state = window_state(reg.session)
    if state != OPEN:
        return _join_page(reg, token, 409)
    provider = provider_for(reg.session)
    url = provider.join_url(reg.session)
    if url is None:
        return _join_page(reg, token, 409)
    services.record_join(reg)
    if provider.embeddable:
        return _private(redirect(url_for("conferencing.room", token=token), 303))
    return _private(redirect(url, 303))


def _embed_csp(origin: str) -> str:
    """The global policy with frame-src opened to the provider's origin only."""
    parts = [p for p in CSP.split("; ") if not p.startswith("frame-src")]
    parts.append(f"frame-src {origin}")
    return "; ".join(parts)


@bp.get("/inscripcion/<token>/conectarse/sala")
def room(token: str) -> ResponseReturnValue:
    """The embedded room (Jitsi), reached after clicking join, only inside the window."""
    reg = _reg_or_error(token)
    if isinstance(reg, Response):
        return reg
    provider = provider_for(reg.session)
    if blocked_reason(reg) is not None or window_state(reg.session) != OPEN or not provider.embeddable:
        return redirect(url_for("conferencing.join", token=token))
    services.record_join(reg)  # reloading the room counts as joining too; first time kept
    url = provider.join_url(reg.session)
    response = _page("conferencing/room.html", reg=reg, token=token, session=reg.session, room_url=url)
    origin = JitsiProvider.origin()
    response.headers["Content-Security-Policy"] = _embed_csp(origin)
    response.headers["Permissions-Policy"] = (
        f'camera=(self "{origin}"), microphone=(self "{origin}"), '
        f'display-capture=(self "{origin}"), fullscreen=(self "{origin}"), geolocation=()')
    return response


# --- staff ---------------------------------------------------------------------------------------


@bp.get("/gestion/sesiones/<int:session_id>/conexion")
@login_required
def host(session_id: int) -> ResponseReturnValue:
    session = db.session.get(ActivitySession, session_id)
    if session is None:
        abort(404)
    if not can(current_user, "activity.edit", session.activity):
        abort(403)
    provider = provider_for(session)
    joined = list(db.session.scalars(
        select(Registration).options(joinedload(Registration.person))
        .where(Registration.session_id == session.id, Registration.status == RegistrationStatus.CONFIRMED,
               Registration.joined_at.is_not(None))
        .order_by(Registration.joined_at)))
    response = Response(render_template("conferencing/host.html", session=session, provider=provider,
                                        host_url=provider.join_url(session), joined=joined))
    response.headers["Cache-Control"] = "no-store"
    return response
