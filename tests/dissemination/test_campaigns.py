"""Campaigns: checks, the audience, queueing once (also after a crash), pausing, delivery."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.dissemination import services
from app.dissemination.models import Campaign, CampaignStatus, CampaignStep, ChannelKind, StepKind, StepStatus
from app.extensions import db
from app.outbox import delivery
from app.outbox.models import OutboxMessage, OutboxStatus
from app.people.models import Channel
from app.registration import services as registration
from app.timeutil import utcnow
from tests.conftest import count
from tests.dissemination.campaign_fixtures import (
    activity_with_contacts,
    campaign_input,
    contact,
    local_in,
    person_input,
    world,
)

__all__ = ["activity_with_contacts", "world"]


def started(world, activity, **kw):
    campaign = services.create_campaign(campaign_input(activity, **kw), world.host_staff)
    services.start_campaign(campaign, world.host_staff)
    return campaign


def campaign_messages(campaign):
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.campaign_id == campaign.id)
                                   .order_by(OutboxMessage.id)))


def queue_all(campaign, **kw):
    return sum(services.queue_step(step_id, **kw) for step_id in services.due_steps())


# --- checks ---------------------------------------------------------------------------------------


def test_a_draft_gets_one_tracking_code_per_channel_short_ones_for_poster_and_radio(world, activity_with_contacts):
    activity, _s = activity_with_contacts
    campaign = services.create_campaign(campaign_input(activity, channels=["email", "poster", "radio", "web"]),
                                        world.host_staff)
    codes = {c.channel: c.code for c in campaign.channels}
    assert campaign.status == CampaignStatus.DRAFT and set(codes) == {"email", "poster", "radio", "web"}
    assert len(codes["poster"]) == len(codes["radio"]) == 5 and len(codes["email"]) == 8
    assert len(set(codes.values())) == 4
    assert [s.kind for s in campaign.steps] == [StepKind.ANNOUNCEMENT]


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"name": " "}, "name", "nombre"),
    ({"channels": []}, "channels", "al menos un canal"),
    ({"channels": ["email", "fax"]}, "channels", "canales de la lista"),
    ({"message_short": "Hola {nombre}"}, "message_short", "{nombre}"),
    ({"message_short": "{titulo.__class__}"}, "message_short", ""),
    ({"message_long": ""}, "message_long", "mensaje largo"),
    ({"message_short": "á" * 900, "channels": ["sms"]}, "message_short", ""),
    ({"message_short": "x" * 1001}, "message_short", "1000"),
    ({"schedule": "at", "send_at": None}, "send_at", "fecha y hora"),
    ({"audience_comunas": ["99999"]}, "audience_comunas", "comunas"),
    ({"audience_attended": "maybe"}, "audience_attended", ""),
    ({"scope": "network"}, "network_id", "coordinadora"),
])
def test_bad_campaign_input_is_refused_field_by_field_and_nothing_is_written(world, activity_with_contacts,
                                                                             changes, field, words):
    activity, _s = activity_with_contacts
    with pytest.raises(services.CampaignError) as err:
        services.create_campaign(campaign_input(activity, **changes), world.convening_staff)
    assert field in err.value.errors and words in err.value.errors[field]
    db.session.rollback()
    assert count(Campaign) == 0


def test_a_schedule_in_the_past_or_after_registration_closes_is_refused(world, activity_with_contacts):
    activity, session = activity_with_contacts
    past = local_in(-1)
    with pytest.raises(services.CampaignError) as err:
        services.create_campaign(campaign_input(activity, schedule="at", send_at=past), world.host_staff)
    assert "ya pasó" in err.value.errors["send_at"]
    too_late = session.local_start.replace(tzinfo=None) - timedelta(minutes=5)
    with pytest.raises(services.CampaignError) as err:
        services.create_campaign(campaign_input(activity, schedule="at", send_at=too_late), world.host_staff)
    assert "cierre de inscripciones" in err.value.errors["send_at"]
    a, b = local_in(1, 9), local_in(2, 9)
    with pytest.raises(services.CampaignError) as err:
        services.create_campaign(campaign_input(activity, schedule="sequence", send_at=b, seats_left_at=a,
                                                last_call_at=local_in(3)), world.host_staff)
    assert "después del anterior" in err.value.errors["seats_left_at"]


def test_an_office_outside_the_activity_cannot_campaign_for_it(world, activity_with_contacts):
    activity, _s = activity_with_contacts
    with pytest.raises(services.CampaignError) as err:
        services.create_campaign(campaign_input(activity), world.other_staff)
    assert "no organiza ni convoca" in err.value.errors["activity_id"]


def test_a_campaign_cannot_start_before_its_activity_is_published(world):
    w = world.workshop(publish=False, start=local_in(10))
    campaign = services.create_campaign(campaign_input(w.activity), world.host_staff)
    with pytest.raises(services.CampaignError) as err:
        services.start_campaign(campaign, world.host_staff)
    assert "Publique" in err.value.errors["status"]


# --- the audience and queueing ----------------------------------------------------------------


def test_only_opted_in_contacts_of_the_office_are_queued_once_on_their_preferred_channel(world,
                                                                                          activity_with_contacts):
    activity, session = activity_with_contacts
    by_email = contact(world.host)
    by_whatsapp = contact(world.host, channel=Channel.WHATSAPP, phone="+56987654321")
    by_call = contact(world.host, channel=Channel.PHONE_CALL, email=None, phone="+56911112222")
    contact(world.host, opted_in=False)  # never opted in
    gone = contact(world.host)
    gone.opted_out_at = utcnow()
    erased = contact(world.host)
    erased.anonymised_at = utcnow()
    db.session.commit()
    contact(world.other)  # another office's contact
    registered = contact(world.host)
    registration.register(session.id, person_input(900, email=registered.email,
                                                   document_number=registered.document_number))
    from app.registration import holds
    from app.registration.models import RegistrationHold

    holds.confirm(db.session.scalars(select(RegistrationHold)).one())  # from the message on file
    campaign = started(world, activity)
    assert queue_all(campaign) == 3
    msgs = {m.recipient: m for m in campaign_messages(campaign)}
    assert set(msgs) == {by_email.email, by_whatsapp.phone, by_call.phone}
    assert msgs[by_email.email].channel == "email"
    assert msgs[by_whatsapp.phone].channel == "whatsapp"
    assert msgs[by_call.phone].channel == "sms"  # a "phone call" preference is reached by SMS
    assert queue_all(campaign) == 0 and len(campaign_messages(campaign)) == 3  # a second run adds nothing
    assert services.finish_done_campaigns() == 0  # messages still wait
    delivery.deliver_due()
    assert services.finish_done_campaigns() == 1
    db.session.refresh(campaign)
    assert campaign.status == CampaignStatus.DONE


def test_filters_narrow_the_audience(world, activity_with_contacts):
    activity, _s = activity_with_contacts
    a = contact(world.host, comuna="13120", interests="comercio, ventas")
    contact(world.host, comuna="13122", interests="comercio")
    contact(world.host, comuna="13120", interests="construcción")
    campaign = services.create_campaign(campaign_input(activity, audience_comunas=["13120"],
                                                       audience_interests="comercio"), world.host_staff)
    assert services.audience_size(campaign) == 1
    services.start_campaign(campaign, world.host_staff)
    queue_all(campaign)
    assert [m.recipient for m in campaign_messages(campaign)] == [a.email]


def test_a_network_campaign_reaches_every_office_of_the_network(world, activity_with_contacts):
    activity, _s = activity_with_contacts
    contact(world.host)
    contact(world.convening)
    contact(world.other)
    campaign = services.create_campaign(campaign_input(activity, scope="network", network_id=world.network.id),
                                        world.host_staff)
    assert campaign.network_id == world.network.id and services.audience_size(campaign) == 2


def test_a_worker_that_stops_mid_campaign_resumes_without_doubling_or_skipping(world, activity_with_contacts,
                                                                              monkeypatch):
    activity, _s = activity_with_contacts
    people = [contact(world.host) for _ in range(7)]
    campaign = started(world, activity, channels=["email"])
    real = services._queue_batch
    calls = {"n": 0}

    def crash_on_third_batch(*args, **kw):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("the worker was killed")
        return real(*args, **kw)

    monkeypatch.setattr(services, "_queue_batch", crash_on_third_batch)
    with pytest.raises(RuntimeError):
        queue_all(campaign, batch=2)
    db.session.rollback()
    step = db.session.scalar(select(CampaignStep).where(CampaignStep.campaign_id == campaign.id))
    assert step.status == StepStatus.QUEUING and step.queued == 4
    monkeypatch.setattr(services, "_queue_batch", real)
    # While its lease runs, nobody else takes the step (the worker might still be on it)...
    assert services.due_steps() == [] and services.queue_step(step.id, batch=2) == 0
    # ...once it lapses, the next run takes over where the cursor says. The same batch written
    # twice (the crash came after the insert) still counts once.
    step.started_at -= services.LEASE + timedelta(seconds=1)
    db.session.commit()
    assert services.due_steps() == [step.id]
    queue_all(campaign, batch=2)
    msgs = campaign_messages(campaign)
    assert sorted(m.recipient for m in msgs) == sorted(p.email for p in people)
    db.session.refresh(step)
    assert step.status == StepStatus.QUEUED and step.queued == 7


def test_a_paused_campaign_holds_its_messages_and_resumes_them(world, activity_with_contacts):
    activity, _s = activity_with_contacts
    for _ in range(3):
        contact(world.host)
    campaign = started(world, activity, channels=["email"])
    queue_all(campaign)
    assert services.pause_campaign(campaign, world.host_staff) == 3
    assert delivery.deliver_due() == 0  # nothing goes out while paused
    assert {m.status for m in campaign_messages(campaign)} == {OutboxStatus.HELD}
    assert services.resume_campaign(campaign, world.host_staff) == 3
    assert delivery.deliver_due() == 3
    assert {m.status for m in campaign_messages(campaign)} == {OutboxStatus.SENT}


def test_cancelling_voids_what_was_not_sent(world, activity_with_contacts):
    activity, _s = activity_with_contacts
    contact(world.host)
    campaign = started(world, activity, channels=["email"])
    queue_all(campaign)
    services.cancel_campaign(campaign, world.host_staff)
    assert {m.status for m in campaign_messages(campaign)} == {OutboxStatus.CANCELLED}
    with pytest.raises(services.CampaignError):
        services.cancel_campaign(campaign, world.host_staff)


def test_a_seats_left_step_is_skipped_when_the_session_is_full(world):
    w = world.workshop(publish=True, start=local_in(10), session={"capacity": 1})
    activity, session = w.activity, w.activity.sessions[0]
    contact(world.host)
    campaign = services.create_campaign(campaign_input(
        activity, schedule="sequence", send_at=local_in(1), seats_left_at=local_in(2), last_call_at=local_in(3)),
        world.host_staff)
    services.start_campaign(campaign, world.host_staff)
    registration.register(session.id, person_input(77))
    step = next(s for s in campaign.steps if s.kind == StepKind.SEATS_LEFT)
    step.send_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    services.queue_step(step.id)
    db.session.refresh(step)
    assert step.status == StepStatus.SKIPPED and step.note == "no quedan cupos"


# --- what each channel says -------------------------------------------------------------------


def test_each_channel_renders_with_its_own_tracked_link_and_an_unsubscribe_link(world, activity_with_contacts):
    activity, _s = activity_with_contacts
    e = contact(world.host)
    w = contact(world.host, channel=Channel.WHATSAPP, phone="+56987654321")
    s = contact(world.host, channel=Channel.SMS, email=None, phone="+56911112222")
    campaign = started(world, activity)
    queue_all(campaign)
    assert delivery.deliver_due() == 3
    msgs = {m.channel: m for m in campaign_messages(campaign)}
    codes = {c.channel.value: c.code for c in campaign.channels}
    email, whatsapp, sms = msgs["email"], msgs["whatsapp"], msgs["sms"]
    assert f"/c/{codes['email']}" in email.body_text and f"/b/{e.id}-" in email.body_text
    headers = email.payload["headers"]
    assert headers["List-Unsubscribe"].startswith("<http") and f"/b/{e.id}-" in headers["List-Unsubscribe"]
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Cómo enfrentar una entrevista" in email.body_html
    assert f"/c/{codes['whatsapp']}" in whatsapp.body_text and f"/b/{w.id}-" in whatsapp.body_text
    template = whatsapp.payload["template"]
    assert template["name"] and "\n" not in template["body_params"][0]
    assert f"/c/{codes['sms']}" in sms.body_text and f"/b/{s.id}-" in sms.body_text


def test_a_person_who_opts_out_after_queueing_is_not_sent_the_message(world, activity_with_contacts):
    activity, _s = activity_with_contacts
    person = contact(world.host)
    campaign = started(world, activity, channels=["email"])
    queue_all(campaign)
    person.opted_out_at, person.opt_in_future = utcnow(), False
    db.session.commit()
    delivery.deliver_due()
    [msg] = campaign_messages(campaign)
    assert msg.status == OutboxStatus.CANCELLED and msg.sent_at is None


def test_the_facebook_post_goes_to_the_viewer_without_a_page_and_is_queued_once(world, activity_with_contacts):
    activity, _s = activity_with_contacts
    campaign = started(world, activity, channels=["facebook", "poster"])
    queue_all(campaign)
    queue_all(campaign)
    [post] = campaign_messages(campaign)
    assert post.channel == "facebook" and post.dedupe_key == f"campaign:{campaign.id}:facebook"
    assert delivery.deliver_one(post.id) == OutboxStatus.SENT
    db.session.refresh(post)
    assert post.transport == "outbox-viewer" and "/c/" in post.body_text
    assert json.loads(post.payload_json)["link"].endswith("/c/" + campaign.channel(ChannelKind.FACEBOOK).code)


def test_the_report_counts_sent_failed_clicks_and_registrations_per_channel(world, activity_with_contacts):
    activity, session = activity_with_contacts
    contact(world.host)
    contact(world.host, channel=Channel.SMS, email=None, phone="+56911112222")
    campaign = started(world, activity)
    queue_all(campaign)
    delivery.deliver_due()
    sms = campaign.channel(ChannelKind.SMS)
    services.count_click(sms)
    reg = registration.register(session.id, person_input(31), campaign_code=sms.code.lower()).registration
    assert reg.via == "sms" and reg.campaign_channel_id == sms.id
    rows = {r.channel: r for r in services.campaign_report(campaign)}
    assert (rows["sms"].sent, rows["sms"].clicks, rows["sms"].registrations) == (1, 1, 1)
    assert (rows["email"].sent, rows["email"].registrations) == (1, 0)
    assert rows["whatsapp"].queued == 0


def test_an_unknown_code_attributes_nothing(world, activity_with_contacts):
    _activity, session = activity_with_contacts
    reg = registration.register(session.id, person_input(32), campaign_code="<script>").registration
    assert reg.campaign_channel_id is None and reg.via is None


def test_choose_channel_falls_back_to_what_the_campaign_uses():
    assert services.choose_channel("whatsapp", "a@b.cl", "+56911112222", ["email"]) == ("email", "a@b.cl")
    assert services.choose_channel("email", None, "+56911112222", ["email", "sms"]) == ("sms", "+56911112222")
    assert services.choose_channel("phone_call", "a@b.cl", "+56911112222", ["whatsapp", "email"]) == (
        "whatsapp", "+56911112222")
    assert services.choose_channel("email", None, None, ["email", "sms"]) is None


def test_the_widget_and_feeds_carry_the_web_channels_tracked_link_once_a_campaign_runs(client, world,
                                                                                    activity_with_contacts):
    activity, session = activity_with_contacts
    before = client.get(f"/widget/oficina/{world.host.slug}")
    assert f"/inscripcion/sesion/{session.id}" in before.get_data(as_text=True)
    campaign = started(world, activity, channels=["web", "poster"])
    code = campaign.channel(ChannelKind.WEB).code
    after = client.get(f"/widget/oficina/{world.host.slug}", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and f"/c/{code}" in after.get_data(as_text=True)
    feed = client.get(f"/feeds/oficina/{world.host.slug}.atom").get_data(as_text=True)
    assert f"/c/{code}" in feed


def test_a_send_now_draft_started_hours_later_goes_out_then_but_a_passed_chosen_time_is_refused(
        world, activity_with_contacts):
    activity, _s = activity_with_contacts
    now_draft = services.create_campaign(campaign_input(activity), world.host_staff)
    at_draft = services.create_campaign(campaign_input(activity, schedule="at", send_at=local_in(1, 9)),
                                        world.host_staff)
    # "Now", saved three hours ago; a chosen time (a day ago), saved three days ago.
    now_draft.updated_at = now_draft.created_at = utcnow() - timedelta(hours=3)
    now_draft.steps[0].send_at = now_draft.updated_at
    at_draft.updated_at = at_draft.created_at = utcnow() - timedelta(days=3)
    at_draft.steps[0].send_at = utcnow() - timedelta(days=1)
    db.session.commit()
    services.start_campaign(now_draft, world.host_staff)
    [step] = now_draft.steps
    assert step.send_at >= utcnow() - timedelta(seconds=5) and services.due_steps() == [step.id]
    with pytest.raises(services.CampaignError) as err:
        services.start_campaign(at_draft, world.host_staff)
    assert "ya pasó" in err.value.errors["status"]


def test_a_message_queued_in_the_instant_before_a_pause_is_held_not_sent(world, activity_with_contacts):
    activity, _s = activity_with_contacts
    contact(world.host)
    campaign = started(world, activity, channels=["email"])
    queue_all(campaign)
    [msg] = campaign_messages(campaign)
    # The pause lands after the message was queued but before delivery picked it up (the
    # pause's own UPDATE missed it): the renderer holds it, no attempt spent.
    campaign.status = CampaignStatus.PAUSED
    db.session.commit()
    assert delivery.deliver_one(msg.id) == OutboxStatus.HELD
    db.session.refresh(msg)
    assert msg.attempts == 0 and msg.sent_at is None
    services.resume_campaign(campaign, world.host_staff)
    assert delivery.deliver_one(msg.id) == OutboxStatus.SENT


def test_queueing_stops_between_batches_when_the_campaign_is_paused_and_resumes_after(
        world, activity_with_contacts, monkeypatch):
    activity, _s = activity_with_contacts
    people = [contact(world.host) for _ in range(5)]
    campaign = started(world, activity, channels=["email"])
    real = services._queue_batch

    def pause_after_first(step, camp, rows, selected):
        result = real(step, camp, rows, selected)
        db.session.execute(services.update(Campaign).where(Campaign.id == camp.id)
                           .values(status=CampaignStatus.PAUSED))
        return result

    monkeypatch.setattr(services, "_queue_batch", pause_after_first)
    [step_id] = services.due_steps()
    assert services.queue_step(step_id, batch=2) == 2
    monkeypatch.setattr(services, "_queue_batch", real)
    db.session.refresh(campaign)
    services.resume_campaign(campaign, world.host_staff)
    queue_all(campaign, batch=2)
    assert sorted(m.recipient for m in campaign_messages(campaign)) == sorted(p.email for p in people)


def test_two_overlapping_runs_never_work_on_one_step_and_counts_stay_right(world, activity_with_contacts,
                                                                         monkeypatch):
    activity, _s = activity_with_contacts
    for _ in range(4):
        contact(world.host, channel=Channel.SMS, email=None, phone=None)  # no address: skipped
    for _ in range(3):
        contact(world.host)
    started(world, activity, channels=["email"])
    [step_id] = services.due_steps()
    real = services._queue_batch
    overlap = {}

    def second_run_arrives(*args, **kw):
        result = real(*args, **kw)
        if not overlap:
            overlap["queued"] = services.queue_step(step_id, batch=2)  # the periodic task, meanwhile
        return result

    monkeypatch.setattr(services, "_queue_batch", second_run_arrives)
    services.queue_step(step_id, batch=2)
    assert overlap["queued"] == 0
    step = db.session.get(CampaignStep, step_id)
    db.session.refresh(step)
    assert (step.status, step.queued, step.skipped) == (StepStatus.QUEUED, 3, 4)
