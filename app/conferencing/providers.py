"""Video providers behind one small interface, chosen per session by ``join_provider``.

- ``link``: the URL staff pasted (Zoom, Meet, Teams or anything else). Those services refuse
  to be framed, so the person is sent to them in a new tab.
- ``jitsi``: a room made for the session on ``JITSI_BASE_URL``; needs no account and may be
  embedded. The room name is an HMAC of the session's uid under ``SECRET_KEY``: stable for
  the session, different for every session, and not guessable from anything public.

Creating, moving or cancelling a room is a no-op for both (the room exists by its name).
Providers with an API (``has_api``: Zoom in ``zoom.py``, Google Meet in ``google_meet.py``)
make, move and delete a real meeting; the background worker calls them (``rooms.py``) and
their join URL is the one stored on the session's ``ConferenceRoom``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any, Protocol
from urllib.parse import urlsplit

from flask import current_app

from app.activities.models import ActivitySession
from app.conferencing.base import RoomDetails
from app.conferencing.google_meet import GoogleMeetProvider
from app.conferencing.zoom import ZoomProvider

JITSI_ROOM_PREFIX = "PuenteLaboral-"


class Provider(Protocol):
    name: str
    embeddable: bool
    has_api: bool

    def join_url(self, session: ActivitySession) -> str | None: ...

    def create_room(self, session: ActivitySession, room: Any = None) -> RoomDetails | None: ...

    def update_room(self, session: ActivitySession, room: Any = None) -> RoomDetails | None: ...

    def cancel_room(self, session: ActivitySession, room: Any = None) -> None: ...


class _NoRoomApi:
    """Providers whose rooms need no API call."""

    has_api = False

    def create_room(self, session: ActivitySession, room: Any = None) -> None:
        return None

    def update_room(self, session: ActivitySession, room: Any = None) -> None:
        return None

    def cancel_room(self, session: ActivitySession, room: Any = None) -> None:
        return None


class LinkProvider(_NoRoomApi):
    name = "link"
    embeddable = False

    def join_url(self, session: ActivitySession) -> str | None:
        url = (session.join_url or "").strip()
        return url if url.lower().startswith(("https://", "http://")) else None


class JitsiProvider(_NoRoomApi):
    name = "jitsi"
    embeddable = True

    @staticmethod
    def base_url() -> str:
        return str(current_app.config.get("JITSI_BASE_URL") or "https://meet.jit.si").rstrip("/")

    @classmethod
    def origin(cls) -> str:
        parts = urlsplit(cls.base_url())
        return f"{parts.scheme}://{parts.netloc}"

    @staticmethod
    def room_name(session: ActivitySession) -> str:
        key = str(current_app.config["SECRET_KEY"]).encode()
        digest = hmac.new(key, f"jitsi-room:{session.uid}".encode(), hashlib.sha256).digest()
        code = base64.b32encode(digest).decode().rstrip("=")[:20]
        return JITSI_ROOM_PREFIX + code

    def join_url(self, session: ActivitySession) -> str | None:
        return f"{self.base_url()}/{self.room_name(session)}"


PROVIDERS: dict[str, Provider] = {p.name: p for p in (LinkProvider(), JitsiProvider(), ZoomProvider(),
                                                       GoogleMeetProvider())}


def provider_for(session: ActivitySession) -> Provider:
    """The session's provider; an unknown name falls back to the pasted link."""
    return PROVIDERS.get(session.join_provider or "link", PROVIDERS["link"])
