"""Google Meet: a Google Calendar event with a Meet conference, through google-api-python-client.

``events.insert`` with ``conferenceDataVersion=1`` and a ``createRequest`` (``hangoutsMeet``)
makes the Meet room; ``events.patch`` moves it; ``events.delete`` removes it. The event id and
the request id are derived from the session (and the room's generation), so repeating an
insert whose answer was lost cannot make a second event: Google answers 409 and the existing
one is used. Credentials: a service account from configuration, usually acting for a
Workspace user (domain-wide delegation), since Meet conferences belong to a user.

The discovery document is the one googleapiclient ships (no network call to discover), and
``GOOGLE_API_BASE_URL`` (the Calendar API base, e.g. ``https://www.googleapis.com/calendar/v3/``)
points a private deployment or a test at its own server.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import socket
from collections.abc import Callable
from typing import Any

import httplib2
from flask import current_app
from flask_babel import gettext as _
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from sqlalchemy import select

from app.activities.models import ActivitySession
from app.conferencing.base import DialIn, PermanentRoomError, RetryableRoomError, RoomDetails, RoomGone
from app.conferencing.credentials import GoogleCredentials, google_for
from app.extensions import db

log = logging.getLogger("puente.conferencing.google")

SCOPES = ["https://www.googleapis.com/auth/calendar.events"]

# Tests (and special deployments) may replace how the HTTP object is made: (credentials) -> http.
HttpFactory = Callable[[GoogleCredentials], Any]


def authorized_http(creds: GoogleCredentials) -> Any:
    """An httplib2 object that signs requests with the service account's token."""
    import google_auth_httplib2
    from google.oauth2 import service_account

    credentials = service_account.Credentials.from_service_account_info(creds.service_account_info, scopes=SCOPES)
    if creds.delegated_user:
        credentials = credentials.with_subject(creds.delegated_user)
    timeout = float(current_app.config.get("CONFERENCE_HTTP_TIMEOUT", 15))
    return google_auth_httplib2.AuthorizedHttp(credentials, http=httplib2.Http(timeout=timeout))


def _key(session: ActivitySession, room: Any, kind: str) -> str:
    generation = getattr(room, "generation", 0) or 0
    return hashlib.sha256(f"{kind}:{session.uid}:{generation}".encode()).digest()[:20].hex()


def event_id(session: ActivitySession, room: Any = None) -> str:
    """Stable per session and generation; base32hex (a-v, 0-9) as Calendar event ids must be."""
    digest = hashlib.sha256(f"event:{session.uid}:{getattr(room, 'generation', 0) or 0}".encode()).digest()
    return base64.b32hexencode(digest[:20]).decode().lower().rstrip("=")


def request_id(session: ActivitySession, room: Any = None) -> str:
    return "puente-" + _key(session, room, "meet-request")


def event_body(session: ActivitySession) -> dict[str, Any]:
    return {
        "summary": session.activity.title[:200],
        "description": (session.activity.description or "")[:8000],
        "start": {"dateTime": session.local_start.isoformat(), "timeZone": session.timezone},
        "end": {"dateTime": session.local_end.isoformat(), "timeZone": session.timezone},
    }


def details(event: dict[str, Any]) -> RoomDetails:
    """The Meet link and phone numbers of an event (join URL None while Google prepares it)."""
    conference = event.get("conferenceData") if isinstance(event.get("conferenceData"), dict) else {}
    create = conference.get("createRequest") if isinstance(conference.get("createRequest"), dict) else {}
    status = (create.get("status") or {}).get("statusCode") if isinstance(create.get("status"), dict) else None
    if status == "failure":
        raise PermanentRoomError(_("Google no pudo crear la sala de Meet. Revise que la cuenta de Google Workspace "
                                   "tenga Google Meet habilitado."))
    url: str | None = None
    dial_in: list[DialIn] = []
    points = conference.get("entryPoints") if isinstance(conference.get("entryPoints"), list) else []
    for point in points:
        if not isinstance(point, dict):
            continue
        if point.get("entryPointType") == "video" and str(point.get("uri", "")).startswith("https://"):
            url = url or str(point["uri"])[:1000]
        elif point.get("entryPointType") == "phone" and point.get("uri"):
            number = str(point.get("label") or str(point["uri"]).removeprefix("tel:"))[:40]
            dial_in.append(DialIn(country=str(point.get("regionCode") or "")[:60], number=number,
                                  pin=str(point.get("pin") or "")[:20]))
    if url is None and str(event.get("hangoutLink", "")).startswith("https://"):
        url = str(event["hangoutLink"])[:1000]
    if status == "pending":
        url = None
    return RoomDetails(external_id=str(event.get("id") or ""), join_url=url, dial_in=dial_in[:20])


def _classify(exc: Exception, what: str) -> Exception:
    """A Google failure as a room error (see ``app.conferencing.base``)."""
    if isinstance(exc, HttpError):
        status = int(getattr(exc.resp, "status", 0) or 0)
        reason = str(exc.reason or "")[:200] if hasattr(exc, "reason") else ""
        if status in (404, 410):
            return RoomGone(_("El evento ya no existe en Google Calendar."))
        rate_limited = status == 403 and "rate" in reason.lower()
        if status >= 500 or status == 429 or rate_limited:
            return RetryableRoomError(_("Google no pudo %(what)s ahora (HTTP %(status)s: %(why)s). Se reintentará.",
                                        what=what, status=status, why=reason))
        if status in (401, 403):
            return PermanentRoomError(_("Google rechazó la cuenta de servicio (HTTP %(status)s: %(why)s). Revise "
                                        "la delegación de dominio y que tenga acceso al calendario.",
                                        status=status, why=reason))
        return PermanentRoomError(_("Google rechazó %(what)s (HTTP %(status)s: %(why)s).", what=what,
                                    status=status, why=reason))
    from google.auth import exceptions as auth_exceptions

    if isinstance(exc, auth_exceptions.RefreshError):
        return PermanentRoomError(_("Google no entregó un token a la cuenta de servicio (%(why)s). Revise la clave "
                                    "y la delegación de dominio.", why=str(exc)[:200]))
    return RetryableRoomError(_("No se pudo conectar con Google (%(err)s). Se reintentará.", err=type(exc).__name__))


TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (httplib2.HttpLib2Error, OSError, socket.timeout)


class GoogleMeetProvider:
    name = "google_meet"
    embeddable = False  # Meet refuses to be framed: it opens in a new tab
    has_api = True

    def __init__(self, http_factory: HttpFactory | None = None) -> None:
        self.http_factory = http_factory

    @staticmethod
    def credentials(session: ActivitySession) -> GoogleCredentials:
        creds = google_for(session.activity.host_office_id)
        if creds is None:
            raise PermanentRoomError(_("No hay credenciales de Google para la oficina ni para la plataforma. "
                                       "Configúrelas o pegue un enlace a mano."))
        return creds

    def _events(self, creds: GoogleCredentials) -> Any:
        from google.auth import exceptions as auth_exceptions

        factory = self.http_factory or authorized_http
        options = {}
        base = current_app.config.get("GOOGLE_API_BASE_URL")
        if base:
            options["api_endpoint"] = base
        try:
            service = build("calendar", "v3", http=factory(creds), static_discovery=True, cache_discovery=False,
                            client_options=options or None)
        except (ValueError, auth_exceptions.GoogleAuthError) as exc:
            raise PermanentRoomError(_("La cuenta de servicio de Google no es válida (%(err)s).",
                                       err=type(exc).__name__)) from exc
        return service.events()

    def _run(self, request: Any, what: str) -> Any:
        from google.auth import exceptions as auth_exceptions

        try:
            return request.execute()
        except (HttpError, auth_exceptions.GoogleAuthError, *TRANSPORT_ERRORS) as exc:
            raise _classify(exc, what) from exc

    def join_url(self, session: ActivitySession) -> str | None:
        from app.conferencing.models import ConferenceRoom

        return db.session.scalar(select(ConferenceRoom.join_url).where(
            ConferenceRoom.session_id == session.id, ConferenceRoom.provider == self.name,
            ConferenceRoom.external_id.is_not(None)))

    def create_room(self, session: ActivitySession, room: Any = None) -> RoomDetails:
        creds = self.credentials(session)
        events = self._events(creds)
        body = event_body(session)
        body["id"] = event_id(session, room)
        body["conferenceData"] = {"createRequest": {"requestId": request_id(session, room),
                                                    "conferenceSolutionKey": {"type": "hangoutsMeet"}}}
        from google.auth import exceptions as auth_exceptions

        request = events.insert(calendarId=creds.calendar_id, body=body, conferenceDataVersion=1, sendUpdates="none")
        try:
            event = request.execute()
        except HttpError as exc:
            status = int(getattr(exc.resp, "status", 0) or 0)
            if status == 409:
                # An earlier attempt made it and its answer was lost: use that event, moved to now.
                log.info("google event %s already exists: reusing it", body["id"])
                event = self._run(events.patch(calendarId=creds.calendar_id, eventId=body["id"],
                                               body=event_body(session), conferenceDataVersion=1,
                                               sendUpdates="none"), _("mover el evento"))
            elif status == 404:
                raise PermanentRoomError(_("Google no encuentra el calendario «%(cal)s».",
                                           cal=creds.calendar_id)) from exc
            else:
                raise _classify(exc, _("crear la sala")) from exc
        except (auth_exceptions.GoogleAuthError, *TRANSPORT_ERRORS) as exc:
            raise _classify(exc, _("crear la sala")) from exc
        return details(event)

    def update_room(self, session: ActivitySession, room: Any = None) -> RoomDetails | None:
        if room is None or not room.external_id:
            return None
        creds = self.credentials(session)
        event = self._run(self._events(creds).patch(calendarId=creds.calendar_id, eventId=room.external_id,
                                                    body=event_body(session), conferenceDataVersion=1,
                                                    sendUpdates="none"), _("mover el evento"))
        return details(event)

    def cancel_room(self, session: ActivitySession, room: Any = None) -> None:
        if room is None or not room.external_id:
            return None
        creds = self.credentials(session)
        try:
            self._run(self._events(creds).delete(calendarId=creds.calendar_id, eventId=room.external_id,
                                                 sendUpdates="none"), _("eliminar el evento"))
        except RoomGone:
            return None  # already gone
        return None
