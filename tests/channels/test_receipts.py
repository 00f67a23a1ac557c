"""Delivery receipts from the WhatsApp Cloud API and a Twilio-style SMS status callback: signed
calls only, delivered and failed recorded once, the campaign report counts them."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask

from app.channels.webhooks import twilio_signature
from app.extensions import db
from app.outbox.models import OutboxMessage, OutboxStatus
from app.outbox.services import enqueue
from app.urls import external_url

APP_SECRET = "meta-app-secret-" + "m" * 16
SMS_KEY = "sms-auth-token-" + "t" * 16


@pytest.fixture
def configured(app: Flask) -> Iterator[None]:
    settings = {"WHATSAPP_APP_SECRET": APP_SECRET, "WHATSAPP_WEBHOOK_VERIFY_TOKEN": "verificame",
                "SMS_API_KEY": SMS_KEY, "SMS_WEBHOOK_SECRET": None}
    old = {k: app.config.get(k) for k in settings}
    app.config.update(settings)
    yield
    app.config.update(old)


def sent(channel: str, provider_id: str) -> OutboxMessage:
    msg_id = enqueue(dedupe_key=f"prueba:{provider_id}", channel=channel, to="+56987654321", kind="invitation",
                     body_text="Hola")
    msg = db.session.get(OutboxMessage, msg_id)
    msg.status, msg.provider_message_id, msg.sent_at = OutboxStatus.SENT, provider_id, datetime.now(UTC)
    db.session.commit()
    return msg


def whatsapp_post(client: Any, statuses: list[dict[str, Any]], secret: str = APP_SECRET) -> Any:
    body = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [
        {"field": "messages", "value": {"messaging_product": "whatsapp", "statuses": statuses}}]}]}).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return client.post("/webhooks/whatsapp", data=body, content_type="application/json",
                       headers={"X-Hub-Signature-256": signature})


def sms_post(client: Any, form: dict[str, str], secret: str = SMS_KEY) -> Any:
    with client.application.test_request_context():
        url = external_url("channel_webhooks.sms_status")
    return client.post("/webhooks/sms", data=form, headers={"X-Twilio-Signature": twilio_signature(secret, url, form)})


def test_the_subscription_check_answers_the_challenge_only_with_the_verify_token(client, configured):
    ok = client.get("/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=verificame&hub.challenge=1158201444")
    assert ok.status_code == 200 and ok.data == b"1158201444"
    assert client.get("/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=otro&hub.challenge=1").status_code == 403


def test_whatsapp_delivered_then_read_is_recorded_once_and_never_moves_back(client, configured):
    msg = sent("whatsapp", "wamid.HBgLNTY5ODc2NTQzMjEVAgARGBI")
    ts = "1764230400"
    assert whatsapp_post(client, [{"id": msg.provider_message_id, "status": "delivered", "timestamp": ts}]
                         ).get_json() == {"updated": 1, "unchanged": 0, "unknown": 0, "ignored": 0}
    whatsapp_post(client, [{"id": msg.provider_message_id, "status": "read", "timestamp": "1764230500"}])
    again = whatsapp_post(client, [{"id": msg.provider_message_id, "status": "delivered", "timestamp": ts}])
    assert again.get_json()["unchanged"] == 1
    db.session.refresh(msg)
    assert msg.provider_status == "read" and msg.delivered_at == datetime.fromtimestamp(int(ts), tz=UTC)
    assert msg.status == OutboxStatus.SENT


def test_a_whatsapp_failure_turns_the_message_failed_with_the_reason(client, configured):
    msg = sent("whatsapp", "wamid.FAIL")
    whatsapp_post(client, [{"id": "wamid.FAIL", "status": "failed", "timestamp": "1764230400",
                            "errors": [{"code": 131026, "title": "Message undeliverable"}]},
                           {"id": "wamid.NOT-OURS", "status": "delivered", "timestamp": "1764230400"}])
    db.session.refresh(msg)
    assert msg.status == OutboxStatus.FAILED and "Message undeliverable" in msg.last_error


def test_forged_or_unsigned_whatsapp_calls_change_nothing(client, configured):
    msg = sent("whatsapp", "wamid.FORGED")
    assert whatsapp_post(client, [{"id": "wamid.FORGED", "status": "failed"}], secret="otra").status_code == 401
    assert client.post("/webhooks/whatsapp", data=b"{}", content_type="application/json").status_code == 401
    db.session.refresh(msg)
    assert msg.status == OutboxStatus.SENT and msg.provider_status is None


def test_sms_status_callbacks_are_checked_and_recorded(client, configured):
    ok = sent("sms", "SM0123456789abcdef0123456789abcdef")
    bad = sent("sms", "SMfedcba9876543210fedcba9876543210")
    assert sms_post(client, {"MessageSid": ok.provider_message_id, "MessageStatus": "delivered",
                             "AccountSid": "AC1"}).get_json() == {"status": "updated"}
    sms_post(client, {"MessageSid": bad.provider_message_id, "MessageStatus": "undelivered", "ErrorCode": "30003"})
    forged = sms_post(client, {"MessageSid": ok.provider_message_id, "MessageStatus": "failed"}, secret="otra")
    assert forged.status_code == 401
    assert sms_post(client, {"MessageSid": "", "MessageStatus": ""}).status_code == 400
    db.session.refresh(ok)
    db.session.refresh(bad)
    assert ok.delivered_at is not None and ok.status == OutboxStatus.SENT
    assert bad.status == OutboxStatus.FAILED and "30003" in bad.last_error


@pytest.mark.allow_5xx
def test_without_secrets_the_endpoints_say_they_are_not_configured(client, app):
    old = {k: app.config.get(k) for k in ("WHATSAPP_APP_SECRET", "WHATSAPP_WEBHOOK_VERIFY_TOKEN", "SMS_API_KEY",
                                          "SMS_WEBHOOK_SECRET")}
    app.config.update(dict.fromkeys(old))
    try:
        assert client.post("/webhooks/whatsapp", data=b"{}").status_code == 503
        assert client.get("/webhooks/whatsapp?hub.mode=subscribe").status_code == 503
        assert client.post("/webhooks/sms", data={"MessageSid": "x"}).status_code == 503
    finally:
        app.config.update(old)


def test_oversized_or_malformed_receipts_get_clear_errors(client, configured):
    big = b"{" + b" " * (600 * 1024) + b"}"
    signature = "sha256=" + hmac.new(APP_SECRET.encode(), big, hashlib.sha256).hexdigest()
    assert client.post("/webhooks/whatsapp", data=big, content_type="application/json",
                       headers={"X-Hub-Signature-256": signature}).status_code == 413
    body = b"not json"
    signature = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert client.post("/webhooks/whatsapp", data=body, content_type="application/json",
                       headers={"X-Hub-Signature-256": signature}).status_code == 400
    odd = b'["a list, not an object"]'
    signature = "sha256=" + hmac.new(APP_SECRET.encode(), odd, hashlib.sha256).hexdigest()
    assert client.post("/webhooks/whatsapp", data=odd, content_type="application/json",
                       headers={"X-Hub-Signature-256": signature}).get_json() == {
        "updated": 0, "unchanged": 0, "unknown": 0, "ignored": 0}


def test_the_sms_transport_asks_for_receipts_when_configured(app, configured):
    from app.channels.sms import SmsTransport

    app.config.update(SMS_API_URL="https://sms.example/2010-04-01/Accounts/AC1/Messages.json",
                      SMS_STATUS_CALLBACK=True)
    try:
        with app.test_request_context():
            transport = SmsTransport.from_config(app.config)
            fields = transport.build(type("M", (), {"recipient": "+56987654321", "body_text": "Hola"})())
        assert fields["StatusCallback"].endswith("/webhooks/sms")
    finally:
        app.config.update(SMS_API_URL=None, SMS_STATUS_CALLBACK=False)
