"""Reminders 24 hours and 1 hour before, worked out from the database with a frozen clock.

Every test passes ``now`` explicitly: nothing sleeps, nothing depends on when it runs.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from icalendar import Calendar
from sqlalchemy import select

from app.extensions import db
from app.outbox.models import OutboxMessage, OutboxStatus
from app.outbox.rendering import render_now
from app.registration import services
from app.registration.models import Registration
from app.registration.reminders import send_due_reminders
from tests.registration.conftest import person_input
from tests.workshops.conftest import local_in, session_input

H = timedelta(hours=1)
M = timedelta(minutes=1)


def register(session: Any, n: int = 1, **kw: Any) -> Registration:
    return services.register(session.id, person_input(n, **kw)).registration


def reminders(kind: str | None = None, reg: Registration | None = None) -> list[OutboxMessage]:
    db.session.expire_all()
    q = select(OutboxMessage).where(OutboxMessage.kind.like("registration_reminder_%")).order_by(OutboxMessage.id)
    if kind is not None:
        q = q.where(OutboxMessage.kind == f"registration_{kind}")
    if reg is not None:
        q = q.where(OutboxMessage.dedupe_key.startswith(f"registration:{reg.id}:"))
    return [render_now(m) for m in db.session.scalars(q)]


def test_nothing_is_due_more_than_24_hours_before(published_session):
    s = published_session()
    register(s)
    assert send_due_reminders(s.starts_at - 24 * H - M) == 0
    assert reminders() == []


def test_the_24_hour_reminder_is_queued_once_however_often_the_worker_runs(published_session):
    s = published_session()
    reg = register(s)
    now = s.starts_at - 23 * H
    assert send_due_reminders(now) == 1
    assert send_due_reminders(now) == 0  # a restarted worker, same minute
    assert send_due_reminders(now + M) == 0  # the next minute
    assert send_due_reminders(now + 20 * H) == 0  # still inside the window
    [msg] = reminders("reminder_24h")
    assert msg.recipient == "camila1@example.cl"
    assert f"{s.local_start:%H:%M}" in msg.subject and services.personal_url(reg) in msg.body_text


def test_the_reminder_email_carries_the_invitation(published_session):
    s = published_session()
    register(s)
    send_due_reminders(s.starts_at - 23 * H)
    [msg] = reminders()
    [attachment] = msg.attachment_list
    cal = Calendar.from_ical(attachment.content)
    assert str(cal["METHOD"]) == "REQUEST" and str(cal.events[0]["UID"]) == s.uid


def test_the_one_hour_reminder_comes_in_the_last_hour(published_session):
    s = published_session()
    register(s)
    send_due_reminders(s.starts_at - 23 * H)
    assert send_due_reminders(s.starts_at - H - M) == 0
    assert send_due_reminders(s.starts_at - 59 * M) == 1
    assert send_due_reminders(s.starts_at - 30 * M) == 0
    assert [m.kind for m in reminders()] == ["registration_reminder_24h", "registration_reminder_1h"]


def test_a_worker_that_was_down_does_not_send_the_24_hour_reminder_late(published_session):
    s = published_session()
    register(s)
    assert send_due_reminders(s.starts_at - 50 * M) == 1
    assert [m.kind for m in reminders()] == ["registration_reminder_1h"]


def test_nothing_once_the_session_has_started(published_session):
    s = published_session()
    register(s)
    assert send_due_reminders(s.starts_at) == 0
    assert send_due_reminders(s.starts_at + M) == 0


def test_a_moved_session_gets_reminders_for_its_new_time_and_none_for_the_old(published_session, world):
    from workshops import services as workshop_services

    s = published_session()
    reg = register(s)
    old_start = s.starts_at
    assert send_due_reminders(old_start - 23 * H) == 1  # queued, not delivered yet
    workshop_services.update_session(s, session_input(local_in(12, 15)), actor=world.host_staff)
    db.session.refresh(s)
    [old] = reminders(reg=reg)
    assert old.status == OutboxStatus.CANCELLED  # the pending one for the old time is voided
    assert send_due_reminders(old_start - 22 * H) == 0
    assert send_due_reminders(old_start - 30 * M) == 0
    assert send_due_reminders(s.starts_at - 23 * H) == 1
    assert send_due_reminders(s.starts_at - 30 * M) == 1
    fresh = [m for m in reminders(reg=reg) if m.status == OutboxStatus.PENDING]
    assert [m.kind for m in fresh] == ["registration_reminder_24h", "registration_reminder_1h"]
    assert all(s.local_start.strftime("%H:%M") in m.subject for m in fresh)


def test_a_place_change_does_not_repeat_a_reminder_already_queued(published_session, world):
    from app.activities.models import Modality
    from workshops import services as workshop_services

    s = published_session()
    register(s)
    send_due_reminders(s.starts_at - 23 * H)
    local = s.local_start.replace(tzinfo=None)
    workshop_services.update_session(s, session_input(local, modality=Modality.IN_PERSON), actor=world.host_staff)
    assert send_due_reminders(s.starts_at - 22 * H) == 0
    [msg] = reminders("reminder_24h")
    assert msg.status == OutboxStatus.PENDING


def test_a_cancelled_session_gets_no_reminder(published_session, world):
    from workshops import services as workshop_services

    s = published_session()
    register(s)
    send_due_reminders(s.starts_at - 23 * H)
    workshop_services.cancel_session(s, "Sin sala", actor=world.host_staff)
    [voided] = reminders()
    assert voided.status == OutboxStatus.CANCELLED
    assert send_due_reminders(s.starts_at - 30 * M) == 0


def test_a_cancelled_activity_gets_no_reminder(published_session, world):
    from workshops import services as workshop_services
    from workshops.models import Workshop

    s = published_session()
    register(s)
    workshop_services.cancel(db.session.get(Workshop, s.activity_id), "Sin facilitadora", actor=world.host_staff)
    assert send_due_reminders(s.starts_at - 23 * H) == 0


def test_a_cancelled_registration_gets_no_reminder(published_session):
    s = published_session()
    reg = register(s)
    send_due_reminders(s.starts_at - 23 * H)
    services.cancel(reg)
    assert reminders("reminder_24h")[0].status == OutboxStatus.CANCELLED
    assert send_due_reminders(s.starts_at - 30 * M) == 0


def test_waitlisted_people_get_none_and_promoted_people_do(published_session):
    s = published_session(capacity=1)
    first = register(s, 1)
    waiting = register(s, 2)
    assert send_due_reminders(s.starts_at - 23 * H) == 1
    assert reminders(reg=waiting) == []
    services.cancel(first)
    assert send_due_reminders(s.starts_at - 22 * H) == 1
    assert [m.kind for m in reminders(reg=waiting)] == ["registration_reminder_24h"]


def test_someone_confirmed_after_the_reminder_time_is_not_reminded_twice(published_session):
    s = published_session()
    reg = register(s)
    reg.confirmed_at = s.starts_at - 10 * H  # e.g. promoted from the waitlist that morning
    db.session.commit()
    assert send_due_reminders(s.starts_at - 9 * H) == 0
    assert send_due_reminders(s.starts_at - 30 * M) == 1


def test_anonymised_people_get_no_reminder(published_session):
    s = published_session()
    reg = register(s)
    services.erase_personal_data(reg)
    assert send_due_reminders(s.starts_at - 23 * H) == 0
    assert send_due_reminders(s.starts_at - 30 * M) == 0


def test_the_reminder_goes_on_the_chosen_channel(published_session):
    s = published_session()
    register(s, phone="9 8765 4321", preferred_channel="sms")
    send_due_reminders(s.starts_at - 23 * H)
    [msg] = reminders()
    assert (msg.channel, msg.recipient) == ("sms", "+56987654321")
    assert msg.attachment_list == [] and "/inscripcion/" in msg.body_text


def test_the_reminder_key_names_the_registration_kind_and_start_time_only(published_session):
    s = published_session()
    reg = register(s)
    send_due_reminders(s.starts_at - 23 * H)
    [msg] = reminders()
    assert msg.dedupe_key == f"registration:{reg.id}:reminder_24h:{s.starts_at:%Y%m%dT%H%MZ}"


def test_the_periodic_task_queues_and_delivers(app, published_session, monkeypatch):
    from app.registration import tasks
    from app.tasks import huey

    s = published_session()
    register(s)
    monkeypatch.setattr("app.timeutil.utcnow", lambda: s.starts_at - 23 * H)
    assert tasks.send_reminders.call_local() == 1
    monkeypatch.undo()
    [msg] = reminders()
    assert msg.status == OutboxStatus.SENT
    assert tasks.send_reminders.task_class in huey._registry._periodic_tasks  # runs every minute
