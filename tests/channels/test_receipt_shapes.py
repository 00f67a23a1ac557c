"""Signed delivery receipts whose fields do not fit (ids past the column, NUL, ``statuses``
that is not a list) are ignored with 200 and change nothing, instead of a 500 the provider
would retry for days."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest

from app.extensions import db
from app.outbox.models import OutboxStatus
from tests.channels.test_receipts import APP_SECRET, configured, sent, sms_post, whatsapp_post

__all__ = ["configured"]  # fixture used here


def whatsapp_raw(client: Any, data: Any) -> Any:
    body = json.dumps(data).encode()
    signature = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return client.post("/webhooks/whatsapp", data=body, content_type="application/json",
                       headers={"X-Hub-Signature-256": signature})


@pytest.mark.parametrize("statuses", [7, "delivered", {"id": "wamid.X"}, True])
def test_whatsapp_statuses_that_is_not_a_list_is_ignored(client, configured, statuses):
    msg = sent("whatsapp", "wamid.X")
    resp = whatsapp_raw(client, {"entry": [{"changes": [{"value": {"statuses": statuses}}]}]})
    assert resp.status_code == 200
    assert resp.get_json() == {"updated": 0, "unchanged": 0, "unknown": 0, "ignored": 1}
    db.session.refresh(msg)
    assert msg.provider_status is None


@pytest.mark.parametrize("data", [
    {"entry": 5}, {"entry": [{"changes": 5}]}, {"entry": [{"changes": [{"value": []}]}]}, {"entry": [None, 3]},
])
def test_whatsapp_entries_of_the_wrong_shape_are_read_as_nothing(client, configured, data):
    resp = whatsapp_raw(client, data)
    assert resp.status_code == 200 and resp.get_json()["updated"] == 0


@pytest.mark.parametrize("item", [
    {"id": "wamid.\x00X", "status": "failed"},
    {"id": "wamid." + "X" * 400, "status": "failed"},
    {"id": 12345, "status": "failed"},
    {"id": "wamid.X", "status": "failed\x00"},
    {"id": "wamid.X", "status": "f" * 21},
])
def test_whatsapp_receipts_with_ids_or_states_that_do_not_fit_are_ignored(client, configured, item):
    msg = sent("whatsapp", "wamid.X")
    resp = whatsapp_post(client, [item, {"id": "wamid.X", "status": "delivered", "timestamp": "1764230400"}])
    db.session.refresh(msg)
    if any("\x00" in str(v) for v in item.values()):  # the request guard refuses the whole body first
        assert resp.status_code == 400 and resp.mimetype == "application/problem+json"
        assert msg.status == OutboxStatus.SENT and msg.provider_status is None
        return
    assert resp.status_code == 200
    assert resp.get_json() == {"updated": 1, "unchanged": 0, "unknown": 0, "ignored": 1}  # the good one counts
    assert msg.status == OutboxStatus.SENT and msg.provider_status == "delivered"


def test_a_whatsapp_error_title_with_control_characters_is_kept_without_them(client, configured):
    msg = sent("whatsapp", "wamid.FAIL")
    resp = whatsapp_post(client, [{"id": "wamid.FAIL", "status": "failed", "timestamp": "99999999999999999999",
                                   "errors": [{"title": "No\x07 entregado\x1b" + "!" * 500}]}])
    assert resp.status_code == 200
    db.session.refresh(msg)
    assert msg.status == OutboxStatus.FAILED
    assert "No entregado!" in msg.last_error and "\x07" not in msg.last_error and "\x1b" not in msg.last_error


def test_a_whatsapp_body_with_nul_or_a_lone_surrogate_is_refused_whole(client, configured):
    msg = sent("whatsapp", "wamid.FAIL")
    resp = whatsapp_post(client, [{"id": "wamid.FAIL", "status": "failed",
                                   "errors": [{"title": "No\x00 entregado\ud800"}]}])
    assert resp.status_code == 400 and resp.mimetype == "application/problem+json"
    db.session.refresh(msg)
    assert msg.status == OutboxStatus.SENT and msg.last_error is None


@pytest.mark.parametrize("form", [
    {"MessageSid": "SM\x00abc", "MessageStatus": "failed"},
    {"MessageSid": "SM" + "a" * 400, "MessageStatus": "failed"},
    {"MessageSid": "SMabc", "MessageStatus": "failed\x00"},
    {"MessageSid": "SMabc", "MessageStatus": "failed", "ErrorCode": "30003\x00"},
    {"MessageSid": "SMabc", "MessageStatus": "failed", "ErrorCode": "3" * 50},
])
def test_sms_receipts_whose_fields_do_not_fit_are_ignored(client, configured, form):
    msg = sent("sms", "SMabc")
    resp = sms_post(client, form)
    if any("\x00" in str(v) for v in form.values()):  # the request guard refuses the whole form first
        assert resp.status_code == 400
    else:
        assert resp.status_code == 200 and resp.get_json() == {"status": "ignored"}
    db.session.refresh(msg)
    assert msg.status == OutboxStatus.SENT and msg.last_error is None


def test_deeply_nested_whatsapp_json_is_400(client, configured):
    body = b'{"entry": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    signature = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    resp = client.post("/webhooks/whatsapp", data=body, content_type="application/json",
                       headers={"X-Hub-Signature-256": signature})
    assert resp.status_code == 400
