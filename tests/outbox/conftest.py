"""Outbox fixtures: a real SMTP server on loopback (aiosmtpd) and message helpers.

The SMTP server is shared by the module; each test gets it reset, with ``app.config
["SMTP_URL"]`` pointed at it for that test only. A missing aiosmtpd skips locally and fails
in CI.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import importlib
import socket
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from types import ModuleType
from typing import Any

import pytest
from flask import Flask

from tests.conftest import IN_CI


def require(module: str) -> ModuleType:
    """Import a test dependency: skip without it on a laptop, fail without it in CI."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        msg = f"falta la dependencia de pruebas {module!r}: pip install -e '.[test]' ({exc})"
        if IN_CI:
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


class ScriptedHandler:
    """An aiosmtpd handler whose replies a test scripts, recording what it accepted.

    ``rcpt_replies`` / ``data_replies``: replies used one by one (then 250). ``data_delay``:
    seconds to wait before answering the body (to make the client time out after handing
    the message over). A message is recorded as received when the reply to its body is 250.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.received: list[Received] = []  # bodies answered 250
            self.seen: list[Received] = []  # every body, whatever the answer
            self.rcpt_replies: deque[str] = deque()
            self.data_replies: deque[str] = deque()
            self.data_delay = 0.0
            self.transactions = 0

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        with self.lock:
            reply = self.rcpt_replies.popleft() if self.rcpt_replies else "250 OK"
        if reply.startswith("250"):
            envelope.rcpt_tos.append(address)
        return reply

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.transactions += 1
            reply = self.data_replies.popleft() if self.data_replies else "250 2.0.0 Aceptado"
            delay = self.data_delay
            got = Received(envelope.mail_from, list(envelope.rcpt_tos),
                           bytes(envelope.original_content))
            self.seen.append(got)
            if reply.startswith("250"):
                self.received.append(got)
        if delay:
            await asyncio.sleep(delay)
        return reply


@dataclass
class SmtpServer:
    handler: ScriptedHandler
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    @property
    def received(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.received)

    @property
    def seen(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.seen)


@pytest.fixture(scope="module")
def smtp_server() -> Iterator[SmtpServer]:
    controller_mod = require("aiosmtpd.controller")
    handler = ScriptedHandler()
    port = free_port()
    controller = controller_mod.Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer(handler, "127.0.0.1", port)
    finally:
        controller.stop()


@pytest.fixture
def smtp(app: Flask, smtp_server: SmtpServer) -> Iterator[SmtpServer]:
    """The SMTP server, reset, with the app sending through it for this test."""
    smtp_server.handler.reset()
    previous = app.config.get("SMTP_URL")
    app.config["SMTP_URL"] = smtp_server.url
    try:
        yield smtp_server
    finally:
        app.config["SMTP_URL"] = previous


_seq = iter(range(1, 1_000_000))


def make_message(*, commit: bool = True, **kw: Any) -> Any:
    """Queue an email through the real service; keyword arguments override the defaults."""
    from app.extensions import db
    from app.outbox.services import enqueue_email

    n = next(_seq)
    fields: dict[str, Any] = {
        "dedupe_key": f"prueba:{n}",
        "to": f"persona{n}@example.cl",
        "to_name": "Ñandú Peña",
        "subject": "Confirmación de inscripción: taller de apresto",
        "body_text": "Hola, su inscripción quedó confirmada.\nDirección: Pasaje Ñuñoa 123.",
        "body_html": "<p>Hola, su inscripción quedó <strong>confirmada</strong>.</p>",
        "kind": "invitation",
    }
    fields.update(kw)
    msg = enqueue_email(**fields)
    if commit:
        db.session.commit()
    return msg


def reload(msg: Any) -> Any:
    """The row as committed now (another session or thread may have changed it)."""
    from app.extensions import db

    db.session.expire_all()
    return db.session.get(type(msg), msg.id)
