"""A campaign delivered through the real channel clients to local servers that speak the
WhatsApp Cloud API, the SMS API and the Graph page feed: the exact requests, failures kept
visible and retriable, rate limits respected."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest
from flask import Flask
from sqlalchemy import select

from app.dissemination import services
from app.dissemination.models import ChannelKind, OfficeFacebookPage
from app.extensions import db
from app.outbox import delivery
from app.outbox.models import OutboxMessage, OutboxStatus
from app.people.models import Channel
from app.secrets import encrypt_text, mask
from tests.channels.conftest import FakeProvider, Reply, graph, graph_server, sms_api, sms_server
from tests.dissemination.campaign_fixtures import activity_with_contacts, campaign_input, contact, world

__all__ = ["activity_with_contacts", "graph", "graph_server", "sms_api", "sms_server", "world"]

PAGE_ID = "1029384756"
PAGE_TOKEN = "EAAPage-token-de-la-oficina-123"


@pytest.fixture
def providers(app: Flask, graph: FakeProvider, sms_api: FakeProvider) -> Iterator[tuple[FakeProvider, FakeProvider]]:
    settings = {"WHATSAPP_TOKEN": "wa-token", "WHATSAPP_PHONE_NUMBER_ID": "1112223334",
                "WHATSAPP_API_BASE": graph.url, "FACEBOOK_GRAPH_BASE": graph.url,
                "SMS_API_URL": f"{sms_api.url}/2010-04-01/Accounts/AC1/Messages.json", "SMS_FROM": "+56900000000",
                "SMS_ACCOUNT_SID": "AC1", "SMS_API_KEY": "sms-key", "WHATSAPP_RATE_PER_SECOND": 0,
                "SMS_RATE_PER_SECOND": 0}
    old = {k: app.config.get(k) for k in settings}
    app.config.update(settings)
    yield graph, sms_api
    app.config.update(old)


def run(world: Any, activity: Any, channels: list[str]) -> Any:
    campaign = services.create_campaign(campaign_input(activity, channels=channels), world.host_staff)
    services.start_campaign(campaign, world.host_staff)
    for step_id in services.due_steps():
        services.queue_step(step_id)
    return campaign


def test_whatsapp_sms_and_the_page_post_reach_their_apis(world, activity_with_contacts, providers):
    graph, sms = providers
    activity, _s = activity_with_contacts
    db.session.add(OfficeFacebookPage(office_id=world.host.id, page_id=PAGE_ID, page_name="OMIL Ñuñoa",
                                      token_encrypted=encrypt_text(PAGE_TOKEN), token_hint=mask(PAGE_TOKEN)))
    db.session.commit()
    contact(world.host, channel=Channel.WHATSAPP, phone="+56987654321")
    contact(world.host, channel=Channel.SMS, email=None, phone="+56987654322")
    graph.script(Reply(200, {"id": f"{PAGE_ID}_777"}),
                 Reply(200, {"messaging_product": "whatsapp", "messages": [{"id": "wamid.ABC"}]}))
    campaign = run(world, activity, ["whatsapp", "sms", "facebook"])
    assert delivery.deliver_due() == 3
    msgs = {m.channel: m for m in db.session.scalars(select(OutboxMessage))}
    assert msgs["sms"].last_error is None, msgs["sms"].last_error
    assert {c: m.status for c, m in msgs.items()} == {"whatsapp": OutboxStatus.SENT, "sms": OutboxStatus.SENT,
                                                      "facebook": OutboxStatus.SENT}
    posts = [r for r in graph.requests if r.path.endswith("/feed")]
    wa = [r for r in graph.requests if r.path.endswith("/messages")]
    assert len(posts) == len(wa) == 1
    form = {k: v[0] for k, v in parse_qs(posts[0].body.decode()).items()}
    assert posts[0].path == f"/v21.0/{PAGE_ID}/feed" and form["access_token"] == PAGE_TOKEN
    assert form["link"].endswith("/c/" + campaign.channel(ChannelKind.FACEBOOK).code)
    assert msgs["facebook"].provider_message_id == f"{PAGE_ID}_777"
    body = wa[0].json()
    assert body["to"] == "56987654321" and body["type"] == "template"
    assert wa[0].headers["authorization"] == "Bearer wa-token"
    [param] = body["template"]["components"][0]["parameters"]
    assert "/c/" + campaign.channel(ChannelKind.WHATSAPP).code in param["text"]
    sms_form = sms.only().form()
    assert sms_form["To"] == "+56987654322" and "/c/" + campaign.channel(ChannelKind.SMS).code in sms_form["Body"]
    # WhatsApp later reports the message delivered: the report counts it.
    from app.outbox.services import record_receipt

    assert record_receipt("wamid.ABC", "delivered") == "updated"
    rows = {r.channel: r for r in services.campaign_report(campaign)}
    assert (rows["whatsapp"].sent, rows["whatsapp"].delivered, rows["sms"].delivered) == (1, 1, 0)


def test_a_refused_message_is_failed_with_the_providers_reason_and_can_be_retried(world, activity_with_contacts,
                                                                                 providers):
    graph, sms = providers
    activity, _s = activity_with_contacts
    contact(world.host, channel=Channel.SMS, email=None, phone="+56987654322")
    sms.script(Reply(400, {"code": 21211, "message": "The 'To' number is not a valid phone number."}))
    run(world, activity, ["sms"])
    delivery.deliver_due()
    msg = db.session.scalar(select(OutboxMessage))
    assert msg.status == OutboxStatus.FAILED and "not a valid phone number" in msg.last_error
    delivery.requeue(msg)
    db.session.commit()
    assert delivery.deliver_due() == 1
    db.session.refresh(msg)
    assert msg.status == OutboxStatus.SENT


def test_a_provider_outage_is_retried_later_with_back_off(world, activity_with_contacts, providers):
    graph, sms = providers
    activity, _s = activity_with_contacts
    contact(world.host, channel=Channel.SMS, email=None, phone="+56987654322")
    sms.script(Reply(503, {"message": "down"}))
    run(world, activity, ["sms"])
    delivery.deliver_due()
    msg = db.session.scalar(select(OutboxMessage))
    assert msg.status == OutboxStatus.PENDING and msg.attempts == 1 and msg.next_attempt_at > msg.created_at


def test_the_worker_respects_a_channels_rate_limit(world, activity_with_contacts, providers, monkeypatch):
    from app.channels.ratelimit import RateLimiter

    graph, sms = providers
    activity, _s = activity_with_contacts
    for n in range(4):
        contact(world.host, channel=Channel.SMS, email=None, phone=f"+5698765432{n}")
    run(world, activity, ["sms"])
    limiter = RateLimiter({"sms": 0.01})  # one now, the next in 100 seconds
    monkeypatch.setattr(delivery, "rate_limiter", lambda: limiter)
    assert delivery.deliver_due() == 1
    msgs = list(db.session.scalars(select(OutboxMessage)))
    assert [m.status for m in msgs].count(OutboxStatus.SENT) == 1 and len(sms.requests) == 1
    held_back = [m for m in msgs if m.status == OutboxStatus.PENDING]
    assert len(held_back) == 3 and all(m.attempts == 0 for m in held_back)  # waiting, not failed


def test_staff_save_the_page_token_checked_with_facebook_then_remove_it(client, world, providers):
    from tests.conftest import csrf_from, login

    graph, _sms = providers
    graph.script(Reply(200, {"id": PAGE_ID, "name": "OMIL Ñuñoa"}))
    assert login(client, world.host_staff.email).status_code == 302
    page = client.get("/gestion/difusion/facebook")
    resp = client.post("/gestion/difusion/facebook", data={"csrf_token": csrf_from(page.get_data(as_text=True)),
                                                            "page_id": PAGE_ID, "token": PAGE_TOKEN})
    assert resp.status_code == 303
    assert graph.only().headers["authorization"] == f"Bearer {PAGE_TOKEN}"
    stored = db.session.scalar(select(OfficeFacebookPage))
    assert stored.page_name == "OMIL Ñuñoa" and PAGE_TOKEN not in stored.token_encrypted
    shown = client.get("/gestion/difusion/facebook").get_data(as_text=True)
    assert PAGE_TOKEN not in shown and stored.token_hint in shown
    remove = client.post("/gestion/difusion/facebook", data={"csrf_token": csrf_from(shown), "remove": "1"})
    assert remove.status_code == 303 and db.session.scalar(select(OfficeFacebookPage)) is None


def test_a_token_facebook_refuses_is_not_stored(client, world, providers):
    from tests.conftest import csrf_from, login

    graph, _sms = providers
    graph.script(Reply(400, {"error": {"message": "Invalid OAuth access token.", "type": "OAuthException",
                                       "code": 190, "fbtrace_id": "X"}}))
    login(client, world.host_staff.email)
    page = client.get("/gestion/difusion/facebook")
    resp = client.post("/gestion/difusion/facebook", data={"csrf_token": csrf_from(page.get_data(as_text=True)),
                                                            "page_id": PAGE_ID, "token": PAGE_TOKEN})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "no es válido o expiró" in html and PAGE_TOKEN not in html
    assert db.session.scalar(select(OfficeFacebookPage)) is None
