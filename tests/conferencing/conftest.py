"""Conferencing fixtures: the registration world, a local server that answers as Zoom's OAuth
and meetings API do, and the settings that point the platform at it."""

from __future__ import annotations

import base64
import itertools
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask

from tests.registration.conftest import published_session, world

__all__ = ["published_session", "world", "FakeZoom", "zoom_api", "zoom_settings", "settings"]

CLIENT_ID = "cli3ntIdAbc123"
CLIENT_SECRET = "s3cretClientValue987654321"
ACCOUNT_ID = "acc0untIdXyz"
SDK_KEY = "sdkKeyPublic1234"
SDK_SECRET = "sdkSecretNeverShown5678abcdefghijklm"


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


@dataclass
class FakeZoom:
    """State of the fake Zoom: what it received, the meetings it holds, and how it misbehaves."""

    url: str = ""
    requests: list[Seen] = field(default_factory=list)
    meetings: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: set[str] = field(default_factory=set)
    expires_in: int = 3599
    outage: int | None = None  # answer every API call with this status (503, 429, 400...)
    token_status: int | None = None  # answer the OAuth call with this status
    delay: float = 0.0  # seconds before answering a create (to make the client time out)
    _ids: Any = field(default_factory=lambda: itertools.count(85746065432))
    _tok: Any = field(default_factory=lambda: itertools.count(1))

    def api(self, method: str | None = None) -> list[Seen]:
        return [r for r in self.requests if r.path.startswith("/v2/") and (method is None or r.method == method)]

    def oauth(self) -> list[Seen]:
        return [r for r in self.requests if r.path == "/oauth/token"]


def _handler(state: FakeZoom) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: Any) -> None:
            return

        def _reply(self, status: int, body: Any = None) -> None:
            raw = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            if raw:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def _handle(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw
            headers = {k.lower(): v for k, v in self.headers.items()}
            seen = Seen(self.command, parts.path, parse_qs(parts.query), headers, body)
            state.requests.append(seen)
            if parts.path == "/oauth/token":
                return self._token(seen)
            if not parts.path.startswith("/v2/"):
                return self._reply(404, {"code": 404, "message": "Not found"})
            auth = seen.headers.get("authorization", "")
            if not auth.startswith("Bearer ") or auth[7:] not in state.tokens:
                return self._reply(401, {"code": 124, "message": "Invalid access token."})
            if state.outage:
                return self._reply(state.outage, {"code": state.outage, "message": "Simulated failure"})
            path = parts.path.removeprefix("/v2")
            if self.command == "POST" and path.startswith("/users/") and path.endswith("/meetings"):
                if state.delay:
                    time.sleep(state.delay)
                return self._create(seen.body)
            if path.startswith("/meetings/"):
                meeting_id = path.removeprefix("/meetings/")
                if meeting_id not in state.meetings:
                    return self._reply(404, {"code": 3001, "message": f"Meeting does not exist: {meeting_id}."})
                if self.command == "PATCH":
                    state.meetings[meeting_id].update(seen.body or {})
                    return self._reply(204)
                if self.command == "DELETE":
                    del state.meetings[meeting_id]
                    return self._reply(204)
            return self._reply(404, {"code": 404, "message": "Not found"})

        def _token(self, seen: Seen) -> None:
            if state.token_status:
                return self._reply(state.token_status, {"reason": "Simulated", "error": "server_error"})
            expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
            if self.command != "POST" or seen.headers.get("authorization") != expected:
                return self._reply(400, {"reason": "Invalid client_id or client_secret", "error": "invalid_client"})
            if seen.query.get("grant_type") != ["account_credentials"] or seen.query.get("account_id") != [ACCOUNT_ID]:
                return self._reply(400, {"reason": "Unsupported grant type", "error": "unsupported_grant_type"})
            token = f"tok-{next(state._tok)}"
            state.tokens.add(token)
            return self._reply(200, {"access_token": token, "token_type": "bearer", "expires_in": state.expires_in,
                                     "scope": "meeting:write:admin", "api_url": state.url})

        def _create(self, body: dict[str, Any]) -> None:
            meeting_id = str(next(state._ids))
            meeting = {**body, "id": int(meeting_id), "join_url": f"https://us06web.zoom.us/j/{meeting_id}?pwd=Zx9",
                       "password": "Ab12cd", "pstn_password": "123456", "h323_password": "123456",
                       "start_url": f"https://us06web.zoom.us/s/{meeting_id}?zak=HOST-SECRET-ZAK",
                       "settings": {**(body.get("settings") or {}), "global_dial_in_numbers": [
                           {"country": "CL", "country_name": "Chile", "city": "Santiago",
                            "number": "+56 23 210 9066", "type": "toll"}]}}
            state.meetings[meeting_id] = meeting
            return self._reply(201, meeting)

        do_GET = do_POST = do_PATCH = do_DELETE = _handle

    return Handler


@pytest.fixture
def zoom_api() -> Iterator[FakeZoom]:
    state = FakeZoom()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def settings(app: Flask) -> Iterator[Any]:
    """``settings(KEY=value, ...)``: change app settings for one test, restored after it."""
    saved: dict[str, Any] = {}

    def _set(**values: Any) -> None:
        for key, value in values.items():
            saved.setdefault(key, app.config.get(key))
            app.config[key] = value

    yield _set
    app.config.update(saved)


@pytest.fixture
def zoom_settings(zoom_api: FakeZoom, settings: Any) -> FakeZoom:
    """Platform-wide Zoom credentials pointing at the local server, no Meeting SDK."""
    from app.conferencing.zoom import clear_token_cache

    clear_token_cache()
    settings(ZOOM_ACCOUNT_ID=ACCOUNT_ID, ZOOM_CLIENT_ID=CLIENT_ID, ZOOM_CLIENT_SECRET=CLIENT_SECRET,
             ZOOM_USER_ID="me", ZOOM_SDK_KEY=None, ZOOM_SDK_SECRET=None,
             ZOOM_API_BASE=zoom_api.url + "/v2", ZOOM_OAUTH_URL=zoom_api.url + "/oauth/token",
             CONFERENCE_HTTP_TIMEOUT=5)
    return zoom_api
