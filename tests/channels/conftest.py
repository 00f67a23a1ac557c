"""A local HTTP server that speaks whatever a test scripts, and records what it was sent.

One server per protocol (Graph API for WhatsApp and Facebook pages, the Twilio-compatible
Messages API for SMS), started once per session on loopback. Each test gets it reset: the
replies it scripts are used in order, then the protocol's default success answer.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask_babel import Babel


@dataclass
class Recorded:
    method: str
    path: str  # without the query string
    query: dict[str, list[str]]
    headers: dict[str, str]  # names lower-cased
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        """The form-encoded body; each field must appear once."""
        fields = parse_qs(self.body.decode("ascii"), keep_blank_values=True, strict_parsing=True)
        assert all(len(v) == 1 for v in fields.values()), fields
        return {k: v[0] for k, v in fields.items()}


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # dict/list -> JSON; str/bytes -> as is
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (to make the client's read time out)
    drop: bool = False  # close the connection without answering, after reading the request

    def encoded(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, "application/octet-stream"
        if isinstance(self.body, str):
            return self.body.encode("utf-8"), "text/html; charset=utf-8"
        return json.dumps(self.body if self.body is not None else {}).encode("utf-8"), "application/json"


class FakeProvider:
    def __init__(self, default: Reply) -> None:
        self.default = default
        self.lock = threading.Lock()
        self.replies: deque[Reply] = deque()
        self.requests: list[Recorded] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def reset(self) -> None:
        with self.lock:
            self.replies.clear()
            self.requests.clear()

    def script(self, *replies: Reply) -> None:
        with self.lock:
            self.replies.extend(replies)

    def only(self) -> Recorded:
        """The one request received (fails when there were none or several)."""
        with self.lock:
            assert len(self.requests) == 1, [f"{r.method} {r.path}" for r in self.requests]
            return self.requests[0]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib's name
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                with provider.lock:
                    provider.requests.append(Recorded(
                        self.command, parts.path, parse_qs(parts.query),
                        {k.lower(): v for k, v in self.headers.items()}, body))
                    reply = provider.replies.popleft() if provider.replies else provider.default
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.drop:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                payload, content_type = reply.encoded()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(payload)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:  # the client gave up waiting
                    pass

            do_GET = do_POST = _serve  # noqa: N815 - BaseHTTPRequestHandler's naming

        return Handler


@pytest.fixture(scope="session")
def graph_server() -> Iterator[FakeProvider]:
    provider = FakeProvider(Reply(200, {"messaging_product": "whatsapp",
                                        "contacts": [{"input": "56987654321", "wa_id": "56987654321"}],
                                        "messages": [{"id": "wamid.HBgLNTY5MTIzNDU2NzgVAgARGBI"}]}))
    provider.thread.start()
    yield provider
    provider.server.shutdown()
    provider.server.server_close()


@pytest.fixture(scope="session")
def sms_server() -> Iterator[FakeProvider]:
    provider = FakeProvider(Reply(201, {"sid": "SM0123456789abcdef0123456789abcdef", "status": "queued",
                                        "error_code": None, "error_message": None}))
    provider.thread.start()
    yield provider
    provider.server.shutdown()
    provider.server.server_close()


@pytest.fixture
def graph(graph_server: FakeProvider) -> FakeProvider:
    graph_server.reset()
    return graph_server


@pytest.fixture
def sms_api(sms_server: FakeProvider) -> FakeProvider:
    sms_server.reset()
    return sms_server


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on: connecting is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def message(**kw: Any) -> Any:
    """What a transport reads of an outbox message (no database needed)."""
    fields: dict[str, Any] = {
        "id": 1, "dedupe_key": "campana:1:whatsapp:7", "channel": "whatsapp",
        "recipient": "+56987654321", "recipient_name": "Ñandú Peña",
        "subject": "Taller de apresto laboral", "body_text": "Hola, le invitamos al taller.",
        "payload": None,
    }
    fields.update(kw)
    return SimpleNamespace(**fields)


def bare_app(**config: Any) -> Flask:
    """A Flask app with Babel and the given settings, without the database (for config lookups)."""
    app = Flask(__name__)
    Babel(app)
    app.config.update(config)
    return app
