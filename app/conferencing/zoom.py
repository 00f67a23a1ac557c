"""Zoom: meetings through the REST API (Server-to-Server OAuth) and the Meeting SDK signature.

``ZoomClient`` is the HTTP client on its own: an access token from the account credentials
grant (``POST {ZOOM_OAUTH_URL}?grant_type=account_credentials&account_id=…`` with HTTP Basic
client id:secret), cached per app until a minute before it expires; then create (``POST
/users/{user}/meetings``), update (``PATCH /meetings/{id}``) and delete (``DELETE
/meetings/{id}``, a 404 meaning already gone). Failures are classified (see ``base``):
connection errors, 5xx and 429 are retryable; other 4xx are permanent with a Spanish reason.

``ZoomProvider`` maps a session to a meeting: its title, start in its own zone, duration,
waiting room and cloud recording on, nobody before the host.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from datetime import datetime
from typing import Any

import jwt
import requests
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from app.activities.models import ActivitySession
from app.conferencing.base import (
    DialIn,
    PermanentRoomError,
    RetryableRoomError,
    RoomDetails,
    RoomGone,
    UncertainRoomError,
)
from app.conferencing.credentials import ZoomCredentials, zoom_for
from app.extensions import db

log = logging.getLogger("puente.conferencing.zoom")

TOKEN_MARGIN_SECONDS = 60
MIN_SDK_TOKEN_SPAN = 1800  # Zoom refuses SDK signatures whose exp - iat is under 30 minutes

_tokens: dict[str, tuple[str, float]] = {}
_tokens_lock = threading.Lock()


def clear_token_cache() -> None:
    with _tokens_lock:
        _tokens.clear()


def _describe(response: requests.Response) -> str:
    """Zoom's own reason, short: ``{"code": 124, "message": "Invalid access token."}``."""
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    if isinstance(body, dict):
        reason = body.get("message") or body.get("reason") or body.get("error_description") or body.get("error")
        code = body.get("code") or body.get("error")
        if reason:
            return f"HTTP {response.status_code}, {code}: {str(reason)[:200]}" if code else str(reason)[:200]
    return f"HTTP {response.status_code}"


def never_sent(exc: BaseException) -> bool:
    """True when the request cannot have reached Zoom: no connection was ever made."""
    from urllib3.exceptions import NewConnectionError

    if isinstance(exc, requests.ConnectTimeout):
        return True
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        item = todo.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, NewConnectionError):  # refused, unreachable, name not resolved
            return True
        todo.extend([item.__cause__, item.__context__, getattr(item, "reason", None),
                     *(a for a in getattr(item, "args", ()) if isinstance(a, BaseException))])
    return False


class ZoomClient:
    """Zoom's REST API for one OAuth app."""

    def __init__(self, creds: ZoomCredentials, *, api_base: str, oauth_url: str, timeout: float) -> None:
        self.creds = creds
        self.api_base = api_base.rstrip("/")
        self.oauth_url = oauth_url
        self.timeout = timeout
        self.http = requests.Session()

    @classmethod
    def from_config(cls, creds: ZoomCredentials) -> ZoomClient:
        cfg = current_app.config
        return cls(creds, api_base=cfg["ZOOM_API_BASE"], oauth_url=cfg["ZOOM_OAUTH_URL"],
                   timeout=float(cfg.get("CONFERENCE_HTTP_TIMEOUT", 15)))

    # --- the token ---------------------------------------------------------------------------

    def _fetch_token(self) -> tuple[str, float]:
        try:
            resp = self.http.post(self.oauth_url,
                                  params={"grant_type": "account_credentials", "account_id": self.creds.account_id},
                                  auth=(self.creds.client_id, self.creds.client_secret), timeout=self.timeout)
        except requests.RequestException as exc:
            raise RetryableRoomError(_("No se pudo contactar a Zoom para autenticarse (%(err)s). Se reintentará.",
                                       err=type(exc).__name__)) from exc
        if resp.status_code >= 500 or resp.status_code == 429:
            raise RetryableRoomError(_("Zoom no respondió a la autenticación (%(why)s). Se reintentará.",
                                       why=_describe(resp)))
        if resp.status_code != 200:
            raise PermanentRoomError(_("Zoom rechazó las credenciales (%(why)s). Revise el Account ID, Client ID y "
                                       "Client Secret de la aplicación Server-to-Server OAuth.", why=_describe(resp)))
        try:
            body = resp.json()
            token = str(body["access_token"])
            expires_in = float(body.get("expires_in") or 3599)
        except (ValueError, KeyError, TypeError) as exc:
            raise RetryableRoomError(_("Zoom respondió a la autenticación sin un token. Se reintentará.")) from exc
        return token, time.monotonic() + max(expires_in - TOKEN_MARGIN_SECONDS, 0)

    def token(self, *, fresh: bool = False) -> str:
        key = self.creds.cache_key(self.oauth_url)
        with _tokens_lock:
            cached = _tokens.get(key)
            if cached and not fresh and cached[1] > time.monotonic():
                return cached[0]
        token, until = self._fetch_token()
        with _tokens_lock:
            _tokens[key] = (token, until)
        return token

    def _forget_token(self) -> None:
        with _tokens_lock:
            _tokens.pop(self.creds.cache_key(self.oauth_url), None)

    # --- calls -------------------------------------------------------------------------------

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> requests.Response:
        """One API call; a 401 with a cached token fetches a fresh one and tries once more."""
        for attempt in (1, 2):
            headers = {"Authorization": f"Bearer {self.token(fresh=attempt == 2)}"}
            try:
                resp = self.http.request(method, self.api_base + path, json=body, headers=headers,
                                         timeout=self.timeout)
            except requests.RequestException as exc:
                if never_sent(exc):
                    raise RetryableRoomError(_("No se pudo conectar con Zoom (%(err)s). Se reintentará.",
                                               err=type(exc).__name__)) from exc
                raise self._broken(method, exc) from exc
            if resp.status_code == 401 and attempt == 1:
                self._forget_token()
                continue
            return resp
        return resp

    @staticmethod
    def _broken(method: str, exc: Exception) -> Exception:
        """The request went out but no answer came back: for a create, Zoom may have made the
        meeting (retrying could make a second one); updates and deletes are safe to repeat."""
        if method == "POST":
            return UncertainRoomError(_("Zoom no respondió a tiempo al crear la reunión (%(err)s): puede que se "
                                        "haya creado. Revise en Zoom antes de reintentar, o pegue el enlace a mano.",
                                        err=type(exc).__name__))
        return RetryableRoomError(_("Zoom no respondió a tiempo (%(err)s). Se reintentará.", err=type(exc).__name__))

    def check(self, resp: requests.Response, what: str) -> None:
        if resp.status_code < 300:
            return
        if resp.status_code >= 500 or resp.status_code == 429:
            raise RetryableRoomError(_("Zoom no pudo %(what)s ahora (%(why)s). Se reintentará.", what=what,
                                       why=_describe(resp)))
        if resp.status_code == 404:
            raise RoomGone(_("La reunión ya no existe en Zoom."))
        if resp.status_code == 401:
            raise PermanentRoomError(_("Zoom no aceptó el token de acceso (%(why)s). Revise que la aplicación "
                                       "esté activada.", why=_describe(resp)))
        if resp.status_code == 403:
            raise PermanentRoomError(_("Zoom no permite %(what)s con esta aplicación (%(why)s). Revise sus "
                                       "permisos (scopes meeting:write).", what=what, why=_describe(resp)))
        raise PermanentRoomError(_("Zoom rechazó %(what)s (%(why)s).", what=what, why=_describe(resp)))

    def create_meeting(self, user_id: str, body: dict[str, Any]) -> dict[str, Any]:
        resp = self.call("POST", f"/users/{requests.utils.quote(user_id, safe='@.')}/meetings", body)
        self.check(resp, _("crear la reunión"))
        try:
            data = resp.json()
        except ValueError as exc:
            raise PermanentRoomError(_("Zoom creó la reunión pero su respuesta no se pudo leer.")) from exc
        if not isinstance(data, dict) or not data.get("id"):
            raise PermanentRoomError(_("Zoom creó la reunión pero su respuesta no trae el ID."))
        return data

    def update_meeting(self, meeting_id: str, body: dict[str, Any]) -> None:
        resp = self.call("PATCH", f"/meetings/{requests.utils.quote(meeting_id, safe='')}", body)
        self.check(resp, _("actualizar la reunión"))

    def delete_meeting(self, meeting_id: str) -> None:
        resp = self.call("DELETE", f"/meetings/{requests.utils.quote(meeting_id, safe='')}")
        if resp.status_code == 404:
            return  # already gone: that is what we wanted
        self.check(resp, _("eliminar la reunión"))


# --- the provider ----------------------------------------------------------------------------


def meeting_body(session: ActivitySession) -> dict[str, Any]:
    """The meeting as Zoom's API takes it: local wall-clock start in the session's own zone."""
    minutes = max(1, math.ceil((session.ends_at - session.starts_at).total_seconds() / 60))
    return {
        "topic": session.activity.title[:200],
        "type": 2,  # scheduled
        "start_time": session.local_start.strftime("%Y-%m-%dT%H:%M:%S"),
        "duration": minutes,
        "timezone": session.timezone,
        "agenda": (session.activity.description or "")[:2000],
        "settings": {"waiting_room": True, "auto_recording": "cloud", "join_before_host": False},
    }


def _dial_in(data: dict[str, Any]) -> list[DialIn]:
    settings = data.get("settings") if isinstance(data.get("settings"), dict) else {}
    rows = settings.get("global_dial_in_numbers") if isinstance(settings.get("global_dial_in_numbers"), list) else []
    out = []
    for row in rows[:20]:
        if isinstance(row, dict) and row.get("number"):
            out.append(DialIn(country=str(row.get("country_name") or row.get("country") or "")[:60],
                              number=str(row["number"])[:40], city=str(row.get("city") or "")[:60]))
    return out


class ZoomProvider:
    name = "zoom"
    embeddable = False  # the join URL opens Zoom; the Meeting SDK embed is decided per session
    has_api = True

    @staticmethod
    def credentials(session: ActivitySession) -> ZoomCredentials:
        creds = zoom_for(session.activity.host_office_id)
        if creds is None:
            raise PermanentRoomError(_("No hay credenciales de Zoom para la oficina ni para la plataforma. "
                                       "Configúrelas o pegue un enlace a mano."))
        return creds

    def client(self, session: ActivitySession) -> ZoomClient:
        return ZoomClient.from_config(self.credentials(session))

    def join_url(self, session: ActivitySession) -> str | None:
        from app.conferencing.models import ConferenceRoom

        return db.session.scalar(select(ConferenceRoom.join_url).where(
            ConferenceRoom.session_id == session.id, ConferenceRoom.provider == self.name,
            ConferenceRoom.external_id.is_not(None)))

    def create_room(self, session: ActivitySession, room: Any = None) -> RoomDetails:
        creds = self.credentials(session)
        data = ZoomClient.from_config(creds).create_meeting(creds.user_id, meeting_body(session))
        return RoomDetails(external_id=str(data["id"]), join_url=str(data.get("join_url") or "") or None,
                           passcode=str(data["password"]) if data.get("password") else None,
                           phone_passcode=str(data["pstn_password"]) if data.get("pstn_password") else None,
                           dial_in=_dial_in(data))

    def update_room(self, session: ActivitySession, room: Any = None) -> RoomDetails | None:
        if room is None or not room.external_id:
            return None
        self.client(session).update_meeting(room.external_id, meeting_body(session))
        return None  # Zoom answers 204: the join URL, passcode and numbers stay

    def cancel_room(self, session: ActivitySession, room: Any = None) -> None:
        if room is None or not room.external_id:
            return None
        self.client(session).delete_meeting(room.external_id)
        return None


# --- the Meeting SDK signature ---------------------------------------------------------------


def sdk_signature(creds: ZoomCredentials, meeting_number: str, *, not_after: datetime | None = None,
                  now: float | None = None) -> tuple[str, int]:
    """A Meeting SDK JWT (HS256 under the SDK secret) to join ``meeting_number`` as an attendee.

    Valid ``ZOOM_SDK_SIGNATURE_SECONDS`` (default 5 minutes, at least 30 seconds), and not past
    ``not_after`` except by that 30-second minimum at the very end of a session. Zoom
    wants ``exp - iat`` of at least 30 minutes, so ``iat`` is put that far before ``exp``
    rather than making the token live longer. Returns (token, exp).
    """
    if not creds.has_sdk:
        raise PermanentRoomError(_("Zoom Meeting SDK no está configurado."))
    now = time.time() if now is None else now
    lifetime = max(30, int(current_app.config.get("ZOOM_SDK_SIGNATURE_SECONDS", 300)))
    exp = int(now) + lifetime
    if not_after is not None:
        exp = max(int(now) + 30, min(exp, int(not_after.timestamp())))
    iat = exp - MIN_SDK_TOKEN_SPAN
    number: int | str = int(meeting_number) if meeting_number.isdecimal() else meeting_number
    payload = {"appKey": creds.sdk_key, "sdkKey": creds.sdk_key, "mn": number, "role": 0,
               "iat": iat, "exp": exp, "tokenExp": exp}
    token = jwt.encode(payload, str(creds.sdk_secret), algorithm="HS256", headers={"typ": "JWT"})
    return token, exp


def passcodes(token: str | None) -> dict[str, str]:
    """The stored passcodes of a room (``passcode``, ``phone_passcode``), decrypted."""
    from app.secrets import SecretError, decrypt_text

    if not token:
        return {}
    try:
        data = json.loads(decrypt_text(token))
    except (SecretError, ValueError):
        return {}
    return {k: str(v) for k, v in data.items() if v} if isinstance(data, dict) else {}
