"""Who may join a session's room, when, and how: the rules of the join page and its routes.

- The window opens ``JOIN_OPENS_MINUTES`` before the start and closes at the end.
- A cancelled session, a cancelled or waitlisted registration and an in-person session block
  joining (``blocked_reason``); ``may_enter`` is the one check every join route asks.
- Zoom's Meeting SDK may show a meeting in the page when its room exists and the credentials
  that made it include an SDK key (``zoom_embed``); dial-in numbers come from the room.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext

from app.activities.models import ActivitySession
from app.calendar import is_cancelled
from app.conferencing import rooms
from app.conferencing.credentials import ZoomCredentials, zoom_for
from app.conferencing.models import ConferenceRoom
from app.conferencing.providers import Provider
from app.conferencing.zoom import passcodes
from app.registration.models import Registration, RegistrationStatus
from app.timeutil import utcnow

EARLY, OPEN, ENDED = "early", "open", "ended"


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


@dataclass
class ZoomEmbed:
    creds: ZoomCredentials
    room: ConferenceRoom


def zoom_embed(session: ActivitySession) -> ZoomEmbed | None:
    """Zoom's Meeting SDK may show this session's meeting in the page: its room is made and
    the credentials that made it include a Meeting SDK key and secret."""
    if session.join_provider != "zoom":
        return None
    room = rooms.room_for(session)
    if room is None or room.provider != "zoom" or not room.external_id or not room.join_url:
        return None
    creds = zoom_for(session.activity.host_office_id)
    if creds is None or not creds.has_sdk:
        return None
    return ZoomEmbed(creds, room)


@dataclass
class PhoneInfo:
    numbers: list[dict[str, str]]
    meeting_id: str | None
    passcode: str | None


def phone_info(session: ActivitySession, provider: Provider) -> PhoneInfo | None:
    """Dial-in numbers the provider gave for this session's room (only shown in the window)."""
    if not provider.has_api:
        return None
    room = rooms.room_for(session)
    if room is None or room.provider != provider.name or not room.external_id or not room.dial_in:
        return None
    codes = passcodes(room.passcode_encrypted)
    if provider.name == "zoom":
        digits = room.external_id
        meeting_id = " ".join(digits[i:i + 4] for i in range(0, len(digits), 4)) if digits.isdigit() else digits
        return PhoneInfo(room.dial_in, meeting_id, codes.get("phone_passcode") or codes.get("passcode"))
    return PhoneInfo(room.dial_in, None, None)


def may_enter(reg: Registration) -> bool:
    """This registration may go into the room now: nothing blocks it and the window is open."""
    return blocked_reason(reg) is None and window_state(reg.session) == OPEN


# --- which platform, and how to get ready for it ----------------------------------------------

ZOOM_TEST_URL = "https://zoom.us/test"


@dataclass(frozen=True)
class Platform:
    """The video platform a session runs on, named for the person, with how to get ready."""

    key: str  # zoom, google_meet, teams, jitsi, other
    name: str
    steps: list[str]
    test_url: str | None
    test_text: str  # what the test link does, or what to do instead when there is none


def platform_key(session: ActivitySession, provider: Provider) -> str:
    """The provider's name, or for a pasted link the platform its address belongs to."""
    if provider.name in ("zoom", "google_meet", "jitsi"):
        return provider.name
    from urllib.parse import urlsplit

    host = (urlsplit((session.join_url or "").strip()).hostname or "").lower()
    if host == "zoom.us" or host.endswith(".zoom.us"):
        return "zoom"
    if host == "meet.google.com":
        return "google_meet"
    if host.startswith("teams.") and (host.endswith(".microsoft.com") or host.endswith(".live.com")):
        return "teams"
    if "jit.si" in host or host.startswith("jitsi."):
        return "jitsi"
    return "other"


def platform_for(session: ActivitySession, provider: Provider, *, embedded: bool) -> Platform:
    platform = _platform(platform_key(session, provider), embedded)
    if not embedded and platform.key in ("zoom", "google_meet", "teams"):
        platform.steps.insert(0, _("La sesión se abre fuera de Puente Laboral: en la aplicación o en una pestaña "
                                   "nueva del navegador."))
    return platform


def _platform(key: str, embedded: bool) -> Platform:
    if key == "zoom":
        steps = [_("En el teléfono, instale antes la aplicación Zoom (gratis; en Play Store o App Store aparece como "
                   "«Zoom Workplace»)."),
                 _("En el computador puede entrar sin instalar nada: si Zoom le ofrece descargar, elija «Entrar "
                   "desde su navegador».")]
        if embedded:
            steps.insert(0, _("La sesión se abre aquí mismo, en Puente Laboral, sin instalar nada."))
        return Platform(key, "Zoom", steps, ZOOM_TEST_URL,
                        _("Zoom tiene una reunión de prueba: entre antes para revisar su cámara, micrófono y "
                          "sonido."))
    if key == "google_meet":
        return Platform(key, "Google Meet", [
            _("En el computador, Meet funciona en el navegador (Chrome, Edge o Firefox) sin instalar nada."),
            _("En el teléfono, instale antes la aplicación Google Meet (gratis)."),
            _("Puede que le pida entrar con una cuenta de Google; si no tiene, escriba su nombre y pida entrar.")],
            None, _("Google Meet no tiene una reunión de prueba. Entre unos minutos antes: antes de unirse verá "
                    "su cámara y podrá revisar el micrófono y el sonido."))
    if key == "teams":
        return Platform(key, "Microsoft Teams", [
            _("En el teléfono, instale antes la aplicación Microsoft Teams (gratis)."),
            _("En el computador no necesita instalar nada: elija «Continuar en este explorador» y escriba su "
              "nombre.")],
            None, _("Teams no tiene una reunión de prueba sin cuenta. Entre unos minutos antes: antes de unirse "
                    "podrá revisar su cámara y su micrófono."))
    if key == "jitsi":
        return Platform(key, "Jitsi Meet", [
            _("La sesión se abre aquí mismo, en el navegador, sin instalar nada ni crear una cuenta."),
            _("Use Chrome, Edge o Firefox; en iPhone, Safari.")],
            None, _("Para probar, abra esta página unos minutos antes en el mismo teléfono o computador que "
                    "usará: al entrar, el navegador le pedirá permiso para la cámara y el micrófono; acepte, y "
                    "verá su imagen antes de unirse."))
    return Platform(key, _("otra plataforma"), [
        _("La sesión se abre fuera de Puente Laboral, en una pestaña nueva del navegador o en la aplicación de "
          "la plataforma.")],
        None, _("Entre unos minutos antes para revisar su cámara y su micrófono."))
