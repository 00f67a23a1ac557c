"""The personal join page (/inscripcion/<token>/conectarse) and the staff host page.

The join page answers only to the registration's signed personal link. It shows the session,
a countdown computed on the server (static/js/join.js may keep it ticking), how to prepare,
and the join button, active from ``JOIN_OPENS_MINUTES`` before the start until the end. The
provider's URL never reaches a page outside that window. Clicking join is a POST (CSRF) that
records attendance evidence (``record_join``; the rules of who may join and when are in
``app.conferencing.joining``) and sends the person on: a redirect for pasted
links and Google Meet (they refuse to be framed: a new tab), an embedded room for Jitsi, and
for Zoom either Zoom's Meeting SDK embedded in the page (when the office's or platform's
Zoom credentials include a Meeting SDK key) or a redirect to Zoom. The Meeting SDK signature
is made on the server for this meeting only, short-lived, and only for a registration whose
page is inside the window. Phone dial-in numbers, the meeting id and the passcode appear only
inside the window too.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from app.activities.models import ActivitySession
from app.conferencing import accessibility_offered, rooms
from app.conferencing.joining import (
    OPEN,
    blocked_reason,
    countdown_text,
    may_enter,
    opens_at,
    phone_info,
    platform_for,
    window_state,
    zoom_embed,
)
from app.conferencing.providers import JitsiProvider, provider_for
from app.conferencing.zoom import passcodes, sdk_signature
from app.errors import problem
from app.registration import services
from app.registration.models import Registration
from app.security import CSP
from app.timeutil import utcnow

bp = Blueprint("conferencing", __name__)



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


def _accessibility(session: ActivitySession) -> list[str]:
    return list(accessibility_offered(session))


def _join_page(reg: Registration, token: str, code: int = 200) -> Response:
    session = reg.session
    blocked = blocked_reason(reg)
    provider = provider_for(session)
    state = window_state(session)
    url = provider.join_url(session)
    inside = state == OPEN and blocked is None and url is not None
    embedded = provider.embeddable or zoom_embed(session) is not None
    room = rooms.room_for(session) if provider.has_api else None
    response = _page(
        "conferencing/join.html", code, reg=reg, token=token, session=session, blocked=blocked,
        provider=provider, state=state, countdown=countdown_text(session),
        has_url=url is not None, embedded=embedded,
        phone=phone_info(session, provider) if inside else None,
        offers_phone=bool(room is not None and room.provider == provider.name and room.dial_in),
        opens_minutes=int(current_app.config.get("JOIN_OPENS_MINUTES", 15)),
        # Seconds from now, not clock times: the page counts from when it loaded, so a phone
        # whose clock is wrong neither shows a wrong countdown nor reloads in a loop.
        starts_in=max(int((session.starts_at - utcnow()).total_seconds()), 0),
        opens_in=max(int((opens_at(session) - utcnow()).total_seconds()), 0),
        accessibility=_accessibility(session),
        platform=platform_for(session, provider, embedded=embedded),
        opens_local=opens_at(session).astimezone(session.local_start.tzinfo),
    )
    if inside and url and not embedded:
        # The join form redirects to the provider (Zoom, Meet, Teams); browsers apply the
        # page's form-action to that redirect, so open it to that origin only, and only
        # while the window is open (before it, not even the provider's host is revealed).
        response.headers["Content-Security-Policy"] = _csp_with(form_action=f"'self' {_origin(url)}")
    return response


def _origin(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


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
    if not may_enter(reg):
        return _join_page(reg, token, 409)
    provider = provider_for(reg.session)
    url = provider.join_url(reg.session)
    if url is None:
        return _join_page(reg, token, 409)
    services.record_join(reg)
    if provider.embeddable or zoom_embed(reg.session) is not None:
        return _private(redirect(url_for("conferencing.room", token=token), 303))
    return _private(redirect(url, 303))


def _csp_with(**directives: str) -> str:
    """The global policy with some directives replaced (``script_src`` → ``script-src``)."""
    wanted = {k.replace("_", "-"): v for k, v in directives.items()}
    parts = [p for p in CSP.split("; ") if p.split(" ", 1)[0] not in wanted]
    parts += [f"{k} {v}" for k, v in wanted.items()]
    return "; ".join(parts)


def zoom_sdk_urls() -> list[str]:
    """Zoom's Meeting SDK (component view) and the libraries it needs, from Zoom's CDN."""
    cdn = current_app.config["ZOOM_SDK_CDN"]
    version = current_app.config["ZOOM_SDK_VERSION"]
    vendor = [f"{cdn}/{version}/lib/vendor/{name}.min.js"
              for name in ("react", "react-dom", "redux", "redux-thunk", "lodash")]
    return [*vendor, f"{cdn}/{version}/zoom-meeting-embedded-{version}.min.js"]


def _zoom_room(reg: Registration, token: str) -> Response:
    cdn = _origin(current_app.config["ZOOM_SDK_CDN"])
    response = _page("conferencing/room_zoom.html", reg=reg, token=token, session=reg.session,
                     room_url=provider_for(reg.session).join_url(reg.session), sdk_scripts=zoom_sdk_urls())
    # Opened for Zoom on this page only: the SDK's scripts, its WebAssembly, its styles and
    # its connections to Zoom. Every other page keeps the strict global policy.
    zoom = "https://*.zoom.us wss://*.zoom.us"
    response.headers["Content-Security-Policy"] = _csp_with(
        script_src=f"'self' {cdn} 'wasm-unsafe-eval'", style_src=f"'self' 'unsafe-inline' {cdn}",
        img_src=f"'self' data: blob: {cdn} https://*.zoom.us", font_src=f"'self' data: {cdn}",
        connect_src=f"'self' {cdn} {zoom}", media_src=f"'self' blob: {cdn} https://*.zoom.us",
        worker_src=f"'self' blob: {cdn}", frame_src=f"'self' {cdn} https://*.zoom.us")
    response.headers["Permissions-Policy"] = (
        "camera=(self), microphone=(self), display-capture=(self), fullscreen=(self), geolocation=()")
    return response


@bp.get("/inscripcion/<token>/conectarse/sala")
def room(token: str) -> ResponseReturnValue:
    """The embedded room (Jitsi, or Zoom's Meeting SDK), reached after clicking join, only
    inside the window."""
    reg = _reg_or_error(token)
    if isinstance(reg, Response):
        return reg
    provider = provider_for(reg.session)
    embed = zoom_embed(reg.session)
    if not may_enter(reg) or not (provider.embeddable or embed):
        return redirect(url_for("conferencing.join", token=token))
    if embed is not None:
        return _zoom_room(reg, token)
    url = provider.join_url(reg.session)
    response = _page("conferencing/room.html", reg=reg, token=token, session=reg.session, room_url=url)
    origin = JitsiProvider.origin()
    response.headers["Content-Security-Policy"] = _csp_with(frame_src=origin)
    response.headers["Permissions-Policy"] = (
        f'camera=(self "{origin}"), microphone=(self "{origin}"), '
        f'display-capture=(self "{origin}"), fullscreen=(self "{origin}"), geolocation=()')
    return response


@bp.post("/inscripcion/<token>/conectarse/zoom/firma")
def zoom_signature(token: str) -> ResponseReturnValue:
    """The Meeting SDK signature for this registration's session, as JSON (the room page's
    script asks for it just before joining). 404: no such link or no embedded Zoom here;
    410: the link expired or was replaced; 403: the registration may not join now."""
    try:
        reg = services.registration_from_token(token)
    except services.RegistrationError as err:
        return _private(problem(err.status, err.message))
    embed = zoom_embed(reg.session)
    if embed is None:
        return _private(problem(404, _("Esta sesión no se muestra con Zoom dentro de la página.")))
    if not may_enter(reg):
        return _private(problem(403, _("Solo puede entrar a la sesión desde su página, mientras el acceso está "
                                       "abierto.")))
    meeting_number = str(embed.room.external_id)
    signature, expires = sdk_signature(embed.creds, meeting_number, not_after=reg.session.ends_at)
    person = reg.person
    return _private(jsonify(
        signature=signature, sdkKey=embed.creds.sdk_key, meetingNumber=meeting_number,
        password=passcodes(embed.room.passcode_encrypted).get("passcode", ""),
        userName=(person.full_name or _("Participante"))[:60], userEmail=person.email or "",
        expiresAt=expires, leaveUrl=url_for("conferencing.join", token=token)))


# --- staff ---------------------------------------------------------------------------------------


@bp.app_context_processor
def _conference_panel() -> dict[str, Any]:
    """``conference_panel(session)`` for staff templates (the workshop session page includes
    ``conferencing/_room_panel.html`` with it)."""
    from app.conferencing.staff_views import panel_for

    return {"conference_panel": panel_for}
