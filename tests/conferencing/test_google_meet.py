"""Google Meet through google-api-python-client: the Calendar requests checked one by one with
googleapiclient's HttpMockSequence (the bundled discovery document, no network)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from googleapiclient.http import HttpMockSequence

from app.conferencing import google_meet
from app.conferencing.models import RoomStatus
from app.conferencing.providers import PROVIDERS
from app.conferencing.tasks import sync_room_task
from app.extensions import db
from tests.conferencing.test_room_lifecycle import make_due, the_room
from tests.workshops.conftest import local_in
from workshops import services as workshop_services

SERVICE_ACCOUNT = {
    "type": "service_account", "project_id": "puente", "private_key_id": "0123456789abcdef0123",
    "private_key": "-----BEGIN PRIVATE KEY-----\nMIIEfake\n-----END PRIVATE KEY-----\n",
    "client_email": "meet@puente.iam.gserviceaccount.com", "token_uri": "https://oauth2.googleapis.com/token",
}
MEET = "https://meet.google.com/abc-defg-hij"


def event(event_id: str, *, status: str = "success", phone: bool = True) -> dict[str, Any]:
    points = [{"entryPointType": "video", "uri": MEET, "label": "meet.google.com/abc-defg-hij"}]
    if phone:
        points.append({"entryPointType": "phone", "uri": "tel:+56-2-2938-1234", "label": "+56 2 2938 1234",
                       "pin": "123456789", "regionCode": "CL"})
    conference: dict[str, Any] = {"createRequest": {"requestId": "x", "status": {"statusCode": status}},
                                  "conferenceSolution": {"key": {"type": "hangoutsMeet"}}}
    if status == "success":
        conference["entryPoints"] = points
    return {"kind": "calendar#event", "id": event_id, "status": "confirmed",
            "hangoutLink": MEET if status == "success" else None, "conferenceData": conference}


def ok(body: Any, status: str = "200") -> tuple[dict[str, str], str]:
    return {"status": status}, json.dumps(body)


def error(status: int, reason: str = "error") -> tuple[dict[str, str], str]:
    return {"status": str(status)}, json.dumps({"error": {"code": status, "message": reason,
                                                          "errors": [{"reason": reason, "message": reason}]}})


@pytest.fixture
def google(settings: Any) -> Iterator[Any]:
    """Platform Google credentials; ``google(responses)`` makes the next calls answer these."""
    settings(GOOGLE_SERVICE_ACCOUNT_JSON=json.dumps(SERVICE_ACCOUNT), GOOGLE_CALENDAR_ID="talleres@omil.cl",
             GOOGLE_DELEGATED_USER="agenda@omil.cl", GOOGLE_API_BASE_URL=None)
    provider = PROVIDERS["google_meet"]
    assert isinstance(provider, google_meet.GoogleMeetProvider)
    holder: dict[str, HttpMockSequence] = {}

    def _answer(responses: list[tuple[dict[str, str], str]]) -> HttpMockSequence:
        holder["http"] = HttpMockSequence(list(responses))
        return holder["http"]

    provider.http_factory = lambda _creds: holder["http"]
    yield _answer
    provider.http_factory = None


def meet_workshop(world: Any) -> Any:
    w = world.workshop(start=local_in(10))
    session = w.activity.sessions[0]
    session.join_provider = "google_meet"
    session.join_url = None
    db.session.commit()
    workshop_services.publish(w, actor=world.host_staff)
    return w


def test_insert_makes_a_meet_conference_with_a_stable_request(world: Any, google: Any) -> None:
    w = meet_workshop(world)
    session = w.activity.sessions[0]
    room = the_room(session)
    expected_id = google_meet.event_id(session, room)
    http = google([ok(event(expected_id))])
    assert sync_room_task.call_local(room.id) == "ready"
    (uri, method, body, _headers), = http.request_sequence
    parts = urlsplit(uri)
    assert method == "POST"
    assert parts.path == "/calendar/v3/calendars/talleres%40omil.cl/events"
    assert parse_qs(parts.query) == {"conferenceDataVersion": ["1"], "sendUpdates": ["none"], "alt": ["json"]}
    sent = json.loads(body)
    assert sent["id"] == expected_id
    assert sent["conferenceData"] == {"createRequest": {"requestId": google_meet.request_id(session, room),
                                                        "conferenceSolutionKey": {"type": "hangoutsMeet"}}}
    assert sent["start"] == {"dateTime": session.local_start.isoformat(), "timeZone": "America/Santiago"}
    assert sent["end"] == {"dateTime": session.local_end.isoformat(), "timeZone": "America/Santiago"}
    assert sent["summary"] == w.activity.title
    room = the_room(session)
    assert room.provider == "google_meet" and room.external_id == expected_id and room.join_url == MEET
    assert room.dial_in == [{"country": "CL", "number": "+56 2 2938 1234", "city": "", "pin": "123456789"}]


def test_ids_are_stable_per_session_and_valid_for_calendar(world: Any) -> None:
    session = world.workshop(start=local_in(10)).activity.sessions[0]
    other = world.workshop(start=local_in(11)).activity.sessions[0]
    first = google_meet.event_id(session)
    assert first == google_meet.event_id(session)
    assert first != google_meet.event_id(other)
    assert set(first) <= set("0123456789abcdefghijklmnopqrstuv") and 5 <= len(first) <= 1024
    assert google_meet.request_id(session) == google_meet.request_id(session)


def test_an_insert_repeated_after_a_lost_answer_reuses_the_event(world: Any, google: Any) -> None:
    w = meet_workshop(world)
    session = w.activity.sessions[0]
    room = the_room(session)
    expected_id = google_meet.event_id(session, room)
    http = google([error(409, "duplicate"), ok(event(expected_id))])
    assert sync_room_task.call_local(room.id) == "ready"
    assert [m for _u, m, _b, _h in http.request_sequence] == ["POST", "PATCH"]
    assert expected_id in http.request_sequence[1][0]
    assert the_room(session).join_url == MEET


def test_moving_patches_and_cancelling_deletes(world: Any, google: Any) -> None:
    w = meet_workshop(world)
    session = w.activity.sessions[0]
    room = the_room(session)
    eid = google_meet.event_id(session, room)
    google([ok(event(eid))])
    sync_room_task.call_local(room.id)
    from tests.workshops.conftest import session_input

    workshop_services.update_session(session, session_input(local_in(12, hour=16)), actor=world.host_staff,
                                     confirm_warnings=True, confirm_facilitator=True)
    http = google([ok(event(eid))])
    assert sync_room_task.call_local(room.id) == "ready"
    (uri, method, body, _h), = http.request_sequence
    assert method == "PATCH" and f"/events/{eid}?" in uri
    assert json.loads(body)["start"]["dateTime"].startswith(local_in(12, hour=16).strftime("%Y-%m-%dT%H:%M"))

    workshop_services.cancel_session(session, "Sin sala", actor=world.host_staff)
    http = google([({"status": "204"}, "")])
    assert sync_room_task.call_local(room.id) == "ready"
    (uri, method, _b, _h), = http.request_sequence
    assert method == "DELETE" and f"/events/{eid}?" in uri and "sendUpdates=none" in uri
    assert the_room(session).external_id is None


def test_an_event_already_deleted_is_fine(world: Any, google: Any) -> None:
    w = meet_workshop(world)
    session = w.activity.sessions[0]
    room = the_room(session)
    google([ok(event(google_meet.event_id(session, room)))])
    sync_room_task.call_local(room.id)
    workshop_services.cancel_session(session, "Sin sala", actor=world.host_staff)
    google([error(410, "deleted")])
    assert sync_room_task.call_local(room.id) == "ready"


def test_google_busy_is_retried_and_refusal_is_permanent(world: Any, google: Any) -> None:
    w = meet_workshop(world)
    session = w.activity.sessions[0]
    room = the_room(session)
    google([error(503, "backendError")])
    assert sync_room_task.call_local(room.id) == "pending"
    assert "Google no pudo crear la sala ahora" in (the_room(session).last_error or "")
    make_due(the_room(session))
    google([error(403, "forbiddenForServiceAccounts")])
    assert sync_room_task.call_local(room.id) == "failed"
    assert "delegación de dominio" in (the_room(session).last_error or "")


def test_a_conference_still_being_prepared_is_asked_again(world: Any, google: Any) -> None:
    w = meet_workshop(world)
    session = w.activity.sessions[0]
    room = the_room(session)
    eid = google_meet.event_id(session, room)
    google([ok(event(eid, status="pending"))])
    assert sync_room_task.call_local(room.id) == "pending"
    assert the_room(session).external_id == eid and the_room(session).join_url is None
    assert "preparando la sala" in (the_room(session).last_error or "")
    make_due(the_room(session))
    http = google([ok(event(eid))])
    assert sync_room_task.call_local(room.id) == "ready"
    assert [m for _u, m, _b, _h in http.request_sequence] == ["PATCH"]  # never a second insert
    assert the_room(session).join_url == MEET


def test_the_api_base_url_is_a_setting(world: Any, google: Any, settings: Any) -> None:
    settings(GOOGLE_API_BASE_URL="http://127.0.0.1:8099/calendar/v3/")
    w = meet_workshop(world)
    session = w.activity.sessions[0]
    room = the_room(session)
    http = google([ok(event(google_meet.event_id(session, room)))])
    sync_room_task.call_local(room.id)
    assert http.request_sequence[0][0].startswith("http://127.0.0.1:8099/calendar/v3/calendars/")


def test_without_credentials_the_room_fails_with_a_reason(world: Any, settings: Any) -> None:
    settings(GOOGLE_SERVICE_ACCOUNT_JSON=None, GOOGLE_SERVICE_ACCOUNT_FILE=None)
    w = world.workshop(start=local_in(10))
    session = w.activity.sessions[0]
    session.join_provider = "google_meet"
    db.session.commit()
    workshop_services.publish(w, actor=world.host_staff)
    assert sync_room_task.call_local(the_room(session).id) == "failed"
    assert the_room(session).status == RoomStatus.FAILED
    assert "No hay credenciales de Google" in (the_room(session).last_error or "")


def test_a_broken_service_account_key_fails_with_a_reason(world: Any, settings: Any) -> None:
    settings(GOOGLE_SERVICE_ACCOUNT_JSON=json.dumps(SERVICE_ACCOUNT), GOOGLE_API_BASE_URL=None)
    assert PROVIDERS["google_meet"].http_factory is None  # the real one: signs with the key
    w = meet_workshop(world)
    session = w.activity.sessions[0]
    assert sync_room_task.call_local(the_room(session).id) == "failed"
    assert "La cuenta de servicio de Google no es válida" in (the_room(session).last_error or "")
