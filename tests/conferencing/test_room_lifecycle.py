"""Rooms made, moved and deleted on the provider by the worker, from what happens to a session:
publishing, moving, cancelling, switching provider; an outage retried; never twice."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from app.activities.models import ActivitySession
from app.conferencing import rooms
from app.conferencing.models import ConferenceRoom, RoomStatus
from app.conferencing.signals import session_held
from app.conferencing.tasks import sync_due_rooms, sync_room_task
from app.extensions import db
from app.timeutil import utcnow
from tests.conferencing.conftest import FakeZoom
from tests.workshops.conftest import local_in, session_input
from workshops import services as workshop_services


def zoom_workshop(world: Any, *, publish: bool = True, **kw: Any) -> Any:
    """A workshop whose one remote session uses Zoom; published unless told otherwise."""
    w = world.workshop(start=local_in(10), **kw)
    session = w.activity.sessions[0]
    session.join_provider = "zoom"
    session.join_url = None
    db.session.commit()
    if publish:
        workshop_services.publish(w, actor=world.host_staff)
    return w


def the_room(session: ActivitySession) -> ConferenceRoom:
    db.session.expire_all()
    room = db.session.scalar(select(ConferenceRoom).where(ConferenceRoom.session_id == session.id))
    assert room is not None
    return room


def make_due(room: ConferenceRoom) -> None:
    """Let the back-off pass."""
    db.session.execute(update(ConferenceRoom).where(ConferenceRoom.id == room.id)
                       .values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()


def test_publishing_records_a_pending_room_in_the_same_transaction(world: Any, zoom_settings: FakeZoom) -> None:
    w = zoom_workshop(world)
    room = the_room(w.activity.sessions[0])
    assert room.status == RoomStatus.PENDING
    assert room.provider == "zoom" and room.external_id is None and room.version == 1
    assert zoom_settings.requests == []  # nothing called during the request: the worker does it


def test_a_draft_or_link_session_gets_no_room(world: Any, zoom_settings: FakeZoom) -> None:
    draft = zoom_workshop(world, publish=False)
    linked = world.workshop(start=local_in(11), publish=True)
    for w in (draft, linked):
        assert rooms.room_for(w.activity.sessions[0]) is None


def test_the_worker_creates_the_meeting_and_stores_it(world: Any, zoom_settings: FakeZoom) -> None:
    w = zoom_workshop(world)
    session = w.activity.sessions[0]
    room = the_room(session)
    assert sync_room_task.call_local(room.id) == "ready"
    room = the_room(session)
    assert room.status == RoomStatus.READY and room.last_error is None
    assert room.external_id == "85746065432"
    assert room.join_url == "https://us06web.zoom.us/j/85746065432?pwd=Zx9"
    assert room.passcode_encrypted and "Ab12cd" not in room.passcode_encrypted
    assert room.dial_in == [{"country": "Chile", "number": "+56 23 210 9066", "city": "Santiago", "pin": ""}]
    assert room.synced_version == room.version == 1
    assert "HOST-SECRET-ZAK" not in str(room.__dict__)  # the host's start URL is never kept
    (create,) = zoom_settings.api("POST")
    assert create.path == "/v2/users/me/meetings"
    assert create.body["type"] == 2
    assert create.body["topic"] == w.activity.title
    assert create.body["timezone"] == "America/Santiago"
    assert create.body["start_time"] == session.local_start.strftime("%Y-%m-%dT%H:%M:%S")
    assert create.body["duration"] == 120
    assert create.body["settings"] == {"waiting_room": True, "auto_recording": "cloud", "join_before_host": False}
    from app.conferencing.providers import provider_for

    assert provider_for(session).join_url(session) == room.join_url


def test_a_repeated_job_makes_one_meeting(world: Any, zoom_settings: FakeZoom) -> None:
    w = zoom_workshop(world)
    room = the_room(w.activity.sessions[0])
    assert sync_room_task.call_local(room.id) == "ready"
    assert sync_room_task.call_local(room.id) is None  # not due: nothing to do
    assert sync_due_rooms.call_local() == 0
    assert len(zoom_settings.meetings) == 1 and len(zoom_settings.api("POST")) == 1


def test_two_workers_racing_for_one_room_only_one_claims_it(world: Any, zoom_settings: FakeZoom) -> None:
    w = zoom_workshop(world)
    room = the_room(w.activity.sessions[0])
    first = rooms.claim(room.id)
    assert first is not None and first.status == RoomStatus.WORKING
    assert rooms.claim(room.id) is None
    assert rooms.sync_room(room.id) is None  # the second worker does nothing
    assert zoom_settings.api() == []


def test_a_room_already_made_is_updated_never_made_again(world: Any, zoom_settings: FakeZoom) -> None:
    w = zoom_workshop(world)
    session = w.activity.sessions[0]
    room = the_room(session)
    sync_room_task.call_local(room.id)
    rooms.request_sync(session)  # a second job for the same session
    db.session.commit()
    assert the_room(session).status == RoomStatus.PENDING
    assert sync_room_task.call_local(room.id) == "ready"
    assert len(zoom_settings.api("POST")) == 1 and len(zoom_settings.api("PATCH")) == 1
    assert len(zoom_settings.meetings) == 1


def test_moving_the_session_moves_the_meeting(world: Any, zoom_settings: FakeZoom) -> None:
    w = zoom_workshop(world)
    session = w.activity.sessions[0]
    sync_room_task.call_local(the_room(session).id)
    workshop_services.update_session(session, session_input(local_in(12, hour=15), hours=1.5),
                                     actor=world.host_staff, confirm_warnings=True, confirm_facilitator=True)
    room = the_room(session)
    assert room.status == RoomStatus.PENDING and room.version == 2
    assert sync_room_task.call_local(room.id) == "ready"
    (patch,) = zoom_settings.api("PATCH")
    assert patch.path == f"/v2/meetings/{room.external_id}"
    assert patch.body["start_time"] == local_in(12, hour=15).strftime("%Y-%m-%dT%H:%M:%S")
    assert patch.body["duration"] == 90 and patch.body["timezone"] == "America/Santiago"
    assert the_room(session).synced_version == 2


def test_a_change_during_the_call_is_not_lost(world: Any, zoom_settings: FakeZoom) -> None:
    w = zoom_workshop(world)
    session = w.activity.sessions[0]
    room = the_room(session)
    claimed = rooms.claim(room.id)
    assert claimed is not None
    rooms.request_sync(session)  # the session moves while the worker is creating the meeting
    db.session.commit()
    rooms._reconcile(claimed, session)
    assert rooms._settle(room.id, RoomStatus.READY, None) == RoomStatus.PENDING  # once more
    assert rooms.sync_room(room.id) == RoomStatus.READY
    assert len(zoom_settings.api("POST")) == 1 and len(zoom_settings.api("PATCH")) == 1


def test_cancelling_the_session_deletes_the_meeting(world: Any, zoom_settings: FakeZoom) -> None:
    w = zoom_workshop(world)
    session = w.activity.sessions[0]
    sync_room_task.call_local(the_room(session).id)
    workshop_services.cancel_session(session, "Sin facilitador", actor=world.host_staff)
    room = the_room(session)
    assert room.status == RoomStatus.PENDING
    assert sync_room_task.call_local(room.id) == "ready"
    (delete,) = zoom_settings.api("DELETE")
    assert delete.path == "/v2/meetings/85746065432"
    assert zoom_settings.meetings == {}
    room = the_room(session)
    assert room.external_id is None and room.join_url is None and room.passcode_encrypted is None


def test_cancelling_the_workshop_deletes_its_meetings(world: Any, zoom_settings: FakeZoom) -> None:
    w = zoom_workshop(world)
    session = w.activity.sessions[0]
    sync_room_task.call_local(the_room(session).id)
    workshop_services.cancel(w, "Se suspende", actor=world.host_staff)
    assert sync_due_rooms.call_local() == 1
    assert zoom_settings.meetings == {}


def test_a_meeting_already_deleted_on_zoom_is_fine(world: Any, zoom_settings: FakeZoom) -> None:
    w = zoom_workshop(world)
    session = w.activity.sessions[0]
    sync_room_task.call_local(the_room(session).id)
    zoom_settings.meetings.clear()  # someone deleted it in Zoom's web portal
    workshop_services.cancel_session(session, "Sin facilitador", actor=world.host_staff)
    assert sync_room_task.call_local(the_room(session).id) == "ready"
    assert the_room(session).external_id is None


def test_a_meeting_deleted_on_zoom_is_made_again_when_the_session_moves(world: Any,
                                                                       zoom_settings: FakeZoom) -> None:
    w = zoom_workshop(world)
    session = w.activity.sessions[0]
    sync_room_task.call_local(the_room(session).id)
    zoom_settings.meetings.clear()
    rooms.request_sync(session)
    db.session.commit()
    assert sync_room_task.call_local(the_room(session).id) == "ready"
    room = the_room(session)
    assert room.external_id == "85746065433" and room.generation == 1
    assert len(zoom_settings.meetings) == 1


def test_an_outage_is_retried_with_back_off_and_recovers(world: Any, zoom_settings: FakeZoom, client: Any) -> None:
    w = zoom_workshop(world)
    session = w.activity.sessions[0]
    room = the_room(session)
    zoom_settings.outage = 503
    assert sync_room_task.call_local(room.id) == "pending"
    room = the_room(session)
    assert room.attempts == 1 and room.external_id is None
    assert "Zoom no pudo crear la reunión ahora" in (room.last_error or "")
    assert room.next_attempt_at is not None and room.next_attempt_at > utcnow()
    assert sync_due_rooms.call_local() == 0  # not due yet: back-off
    # The session stays usable meanwhile: its public page and registration work.
    assert client.get(f"/talleres/{w.activity.slug}").status_code == 200

    zoom_settings.outage = None
    make_due(room)
    assert sync_due_rooms.call_local() == 1
    room = the_room(session)
    assert room.status == RoomStatus.READY and room.attempts == 0 and room.last_error is None
    assert len(zoom_settings.meetings) == 1


def test_zoom_unreachable_is_retried(world: Any, zoom_settings: FakeZoom, settings: Any) -> None:
    settings(ZOOM_OAUTH_URL="http://127.0.0.1:9/oauth/token", ZOOM_API_BASE="http://127.0.0.1:9/v2")
    w = zoom_workshop(world)
    room = the_room(w.activity.sessions[0])
    assert sync_room_task.call_local(room.id) == "pending"
    assert "No se pudo contactar a Zoom" in (the_room(w.activity.sessions[0]).last_error or "")


def test_rate_limited_is_retried_and_attempts_run_out(world: Any, zoom_settings: FakeZoom, settings: Any) -> None:
    settings(CONFERENCE_MAX_ATTEMPTS=2)
    w = zoom_workshop(world)
    session = w.activity.sessions[0]
    zoom_settings.outage = 429
    assert sync_room_task.call_local(the_room(session).id) == "pending"
    make_due(the_room(session))
    assert sync_room_task.call_local(the_room(session).id) == "failed"
    assert the_room(session).status == RoomStatus.FAILED


def test_bad_credentials_fail_for_good_with_a_reason(world: Any, zoom_settings: FakeZoom, settings: Any) -> None:
    settings(ZOOM_CLIENT_SECRET="wrong-secret-value")
    w = zoom_workshop(world)
    session = w.activity.sessions[0]
    assert sync_room_task.call_local(the_room(session).id) == "failed"
    room = the_room(session)
    assert "Zoom rechazó las credenciales" in (room.last_error or "")
    assert "invalid_client" in (room.last_error or "")
    assert sync_due_rooms.call_local() == 0  # never retried on its own


def test_a_timeout_while_creating_is_left_for_staff(world: Any, zoom_settings: FakeZoom, settings: Any) -> None:
    settings(CONFERENCE_HTTP_TIMEOUT=1)
    zoom_settings.delay = 1.5
    w = zoom_workshop(world)
    session = w.activity.sessions[0]
    assert sync_room_task.call_local(the_room(session).id) == "unknown"
    assert "puede que se haya creado" in (the_room(session).last_error or "")
    zoom_settings.delay = 0
    rooms.request_sync(session)  # a later change does not make a second meeting behind staff's back
    db.session.commit()
    assert the_room(session).status == RoomStatus.UNKNOWN
    assert sync_due_rooms.call_local() == 0


def test_a_worker_that_died_while_creating_leaves_the_room_unknown(world: Any, zoom_settings: FakeZoom) -> None:
    w = zoom_workshop(world)
    session = w.activity.sessions[0]
    room = rooms.claim(the_room(session).id)
    assert room is not None
    db.session.execute(update(ConferenceRoom).where(ConferenceRoom.id == room.id)
                       .values(claimed_at=utcnow() - timedelta(minutes=11)))
    db.session.commit()
    assert rooms.recover_stale() == 1
    assert the_room(session).status == RoomStatus.UNKNOWN


def test_staff_retry_after_a_failure(world: Any, zoom_settings: FakeZoom, settings: Any) -> None:
    settings(ZOOM_CLIENT_SECRET="wrong-secret-value")
    w = zoom_workshop(world)
    session = w.activity.sessions[0]
    sync_room_task.call_local(the_room(session).id)
    settings(ZOOM_CLIENT_SECRET=zoom_settings_secret())
    rooms.retry(the_room(session), actor=world.host_staff)
    assert the_room(session).status == RoomStatus.PENDING
    assert sync_due_rooms.call_local() == 1
    assert the_room(session).status == RoomStatus.READY


def zoom_settings_secret() -> str:
    from tests.conferencing.conftest import CLIENT_SECRET

    return CLIENT_SECRET


def test_switching_to_a_pasted_link_deletes_the_meeting(world: Any, zoom_settings: FakeZoom) -> None:
    w = zoom_workshop(world)
    session = w.activity.sessions[0]
    sync_room_task.call_local(the_room(session).id)
    rooms.set_provider(session, "link", actor=world.host_staff, join_url="https://teams.microsoft.com/l/meetup/x")
    assert session.join_provider == "link" and session.join_url == "https://teams.microsoft.com/l/meetup/x"
    assert sync_due_rooms.call_local() == 1
    assert zoom_settings.meetings == {}
    from app.conferencing.providers import provider_for

    assert provider_for(session).join_url(session) == "https://teams.microsoft.com/l/meetup/x"


def test_switching_provider_needs_credentials_and_a_valid_link(world: Any) -> None:
    w = world.workshop(start=local_in(10), publish=True)
    session = w.activity.sessions[0]
    import pytest

    with pytest.raises(rooms.RoomServiceError, match="no está disponible"):
        rooms.set_provider(session, "zoom", actor=world.host_staff)
    with pytest.raises(rooms.RoomServiceError, match="https://"):
        rooms.set_provider(session, "link", actor=world.host_staff, join_url="javascript:alert(1)")
    db.session.rollback()
    rooms.set_provider(session, "jitsi", actor=world.host_staff)
    assert rooms.room_for(session) is None  # Jitsi needs no API call


def test_the_office_default_provider_applies_when_publishing(world: Any, zoom_settings: FakeZoom) -> None:
    from app.conferencing import credentials

    credentials.set_default_provider(world.host, "zoom", actor=world.host_staff)
    w = world.workshop(start=local_in(10), session={"join_url": None})
    workshop_services.publish(w, actor=world.host_staff)
    session = w.activity.sessions[0]
    assert session.join_provider == "zoom"
    assert the_room(session).status == RoomStatus.PENDING
    pasted = world.workshop(start=local_in(11), publish=True)  # a pasted link is kept
    assert pasted.activity.sessions[0].join_provider == "link"


def test_meeting_ended_marks_the_session_held(world: Any, zoom_settings: FakeZoom) -> None:
    w = zoom_workshop(world)
    session = w.activity.sessions[0]
    sync_room_task.call_local(the_room(session).id)
    session_held.send(session)
    db.session.commit()
    first = the_room(session).held_at
    assert first is not None
    session_held.send(session)
    db.session.commit()
    assert the_room(session).held_at == first
