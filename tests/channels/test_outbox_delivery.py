"""The channel transports inside the outbox worker: what each outcome leaves in the database."""

from __future__ import annotations

from typing import Any

import pytest

from app.channels.sms import SmsTransport
from app.channels.whatsapp import WhatsAppTransport
from app.outbox.delivery import deliver_one
from app.outbox.models import OutboxMessage, OutboxStatus
from tests.channels.conftest import FakeProvider, Reply

_seq = iter(range(1, 1_000_000))


def queue(channel: str, **kw: Any) -> OutboxMessage:
    from app.extensions import db
    from app.outbox.services import enqueue

    fields: dict[str, Any] = {"dedupe_key": f"canal:{channel}:{next(_seq)}", "channel": channel,
                              "to": "+56987654321", "to_name": "Ñandú Peña", "kind": "campaign",
                              "body_text": "Taller de apresto en Ñuñoa, martes 10:00."}
    fields.update(kw)
    msg_id = enqueue(**fields)
    db.session.commit()
    msg = db.session.get(OutboxMessage, msg_id)
    assert msg is not None
    return msg


def reload(msg: OutboxMessage) -> OutboxMessage:
    from app.extensions import db

    db.session.expire_all()
    fresh = db.session.get(OutboxMessage, msg.id)
    assert fresh is not None
    return fresh


@pytest.fixture
def whatsapp(graph: FakeProvider) -> WhatsAppTransport:
    return WhatsAppTransport(token="tok", phone_number_id="123", api_base=graph.url, read_timeout=0.3)


def test_accepted_template_is_sent_with_the_providers_id(app: Any, graph: FakeProvider,
                                                         whatsapp: WhatsAppTransport) -> None:
    msg = queue("whatsapp", payload={"template": {"name": "anuncio_taller", "language": "es",
                                                  "body_params": ["Taller de CV"]}})
    assert deliver_one(msg.id, transport=whatsapp) == OutboxStatus.SENT
    msg = reload(msg)
    assert msg.transport == "whatsapp-cloud"
    assert msg.provider_message_id == "wamid.HBgLNTY5MTIzNDU2NzgVAgARGBI"
    assert graph.only().json()["template"]["name"] == "anuncio_taller"


def test_refusal_outside_the_window_fails_with_the_reason(app: Any, graph: FakeProvider,
                                                          whatsapp: WhatsAppTransport) -> None:
    graph.script(Reply(400, {"error": {"message": "(#131047) Re-engagement message", "code": 131047}}))
    msg = queue("whatsapp")
    assert deliver_one(msg.id, transport=whatsapp) == OutboxStatus.FAILED
    assert "24 horas" in (reload(msg).last_error or "")


def test_rate_limited_message_waits_for_another_attempt(app: Any, graph: FakeProvider,
                                                        whatsapp: WhatsAppTransport) -> None:
    graph.script(Reply(429, {"error": {"message": "Too many", "code": 130429}}, {"Retry-After": "3"}))
    msg = queue("whatsapp")
    assert deliver_one(msg.id, transport=whatsapp) == OutboxStatus.PENDING
    assert reload(msg).attempts == 1


def test_a_timeout_after_sending_is_never_resent_automatically(app: Any, graph: FakeProvider,
                                                               whatsapp: WhatsAppTransport) -> None:
    graph.script(Reply(200, delay=1.0))
    msg = queue("whatsapp")
    assert deliver_one(msg.id, transport=whatsapp) == OutboxStatus.UNKNOWN
    assert deliver_one(msg.id, transport=whatsapp) is None
    assert len(graph.requests) == 1


def test_an_sms_over_the_limit_fails_without_calling(app: Any, sms_api: FakeProvider) -> None:
    transport = SmsTransport(api_url=sms_api.url + "/Messages.json", max_segments=1)
    msg = queue("sms", body_text="Inscripción " * 10)
    assert deliver_one(msg.id, transport=transport) == OutboxStatus.FAILED
    assert "máximo permitido es 1" in (reload(msg).last_error or "")
    assert sms_api.requests == []
