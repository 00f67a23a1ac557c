"""POST /webhooks/zoom: signature and freshness first, then URL validation, attendance,
meeting ended, recordings; repeated deliveries handled once, unknown meetings ignored."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask

from app.conferencing.models import ConferenceRecording, ConferenceRoom, ZoomWebhookEvent
from app.conferencing.signals import recording_available, session_held
from app.extensions import db
from app.registration import services
from app.registration.models import Registration
from tests.conftest import count
from tests.registration.conftest import person_input

SECRET = "zoom-secret-" + "s" * 20
MEETING = 85746352415
URL = "/webhooks/zoom"


@pytest.fixture
def zoom(app: Flask) -> Iterator[None]:
    """The secret configured."""
    old = app.config.get("ZOOM_WEBHOOK_SECRET_TOKEN")
    app.config["ZOOM_WEBHOOK_SECRET_TOKEN"] = SECRET
    yield
    app.config["ZOOM_WEBHOOK_SECRET_TOKEN"] = old


def sign(body: bytes, timestamp: str, secret: str = SECRET) -> str:
    message = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


@pytest.fixture
def send(client: Any, zoom: None) -> Callable[..., Any]:
    """Post an event as Zoom does: ``send(data, timestamp=..., secret=..., request_id=...)``."""

    def _send(data: Any, *, timestamp: int | None = None, secret: str = SECRET,
              request_id: str | None = None, headers: dict[str, str] | None = None) -> Any:
        body = data if isinstance(data, bytes) else json.dumps(data).encode()
        ts = str(int(time.time()) if timestamp is None else timestamp)
        h = {"x-zm-request-timestamp": ts, "x-zm-signature": sign(body, ts, secret),
             "x-zm-request-id": request_id or secrets.token_hex(8)}
        if headers is not None:
            h = headers
        return client.post(URL, data=body, headers=h, content_type="application/json")

    return _send


def room(session: Any, meeting_id: int = MEETING) -> ConferenceRoom:
    r = ConferenceRoom(session_id=session.id, provider="zoom", external_id=str(meeting_id),
                       join_url=f"https://us02web.zoom.us/j/{meeting_id}")
    db.session.add(r)
    db.session.commit()
    return r


def register(session: Any, n: int = 1, **kw: Any) -> Registration:
    return services.register(session.id, person_input(n, **kw)).registration


def joined(email: str, meeting_id: int = MEETING, join_time: str = "2026-11-27T13:02:10Z") -> dict[str, Any]:
    return {"event": "meeting.participant_joined", "event_ts": 1,
            "payload": {"account_id": "acc", "object": {
                "id": meeting_id, "uuid": "u==", "topic": "Taller", "start_time": join_time,
                "participant": {"user_id": "16778240", "user_name": "Camila Rojas", "email": email,
                                "join_time": join_time, "participant_uuid": "p-1"}}}}


def recording(meeting_id: int = MEETING) -> dict[str, Any]:
    files = [
        {"id": "file-mp4-1", "meeting_id": "u==", "file_type": "MP4", "file_size": 123456,
         "recording_start": "2026-11-27T13:00:05Z", "recording_end": "2026-11-27T14:30:00Z",
         "play_url": "https://zoom.us/rec/play/abc", "download_url": "https://zoom.us/rec/download/abc",
         "status": "completed", "recording_type": "shared_screen_with_speaker_view"},
        {"id": "file-m4a-1", "meeting_id": "u==", "file_type": "M4A", "file_size": 2345,
         "recording_start": "2026-11-27T13:00:05Z", "recording_end": "2026-11-27T14:30:00Z",
         "download_url": "https://zoom.us/rec/download/def", "status": "completed"},
    ]
    return {"event": "recording.completed", "event_ts": 2, "download_token": "SECRET-DOWNLOAD-TOKEN",
            "payload": {"object": {"id": meeting_id, "uuid": "u==", "password": "pw",
                                   "recording_play_passcode": "pc", "recording_files": files}}}


# --- verification --------------------------------------------------------------------------


def test_url_validation_challenge(send: Any) -> None:
    resp = send({"event": "endpoint.url_validation", "payload": {"plainToken": "qgg8vlvZRS6UYooatFL8Aw"},
                 "event_ts": 1654503849680})
    assert resp.status_code == 200
    expected = hmac.new(SECRET.encode(), b"qgg8vlvZRS6UYooatFL8Aw", hashlib.sha256).hexdigest()
    assert resp.get_json() == {"plainToken": "qgg8vlvZRS6UYooatFL8Aw", "encryptedToken": expected}
    assert count(ZoomWebhookEvent) == 0


def test_url_validation_must_be_signed_too(send: Any) -> None:
    resp = send({"event": "endpoint.url_validation", "payload": {"plainToken": "x"}}, secret="otra")
    assert resp.status_code == 401


def test_signed_participant_joined_marks_joined_at(send: Any, published_session: Any) -> None:
    session = published_session()
    room(session)
    reg = register(session, 1, email="Camila1@Example.cl")
    other = register(session, 2)
    resp = send(joined("CAMILA1@example.CL"))
    assert resp.status_code == 200, resp.get_data(as_text=True)
    db.session.expire_all()
    assert reg.joined_at == datetime(2026, 11, 27, 13, 2, 10, tzinfo=UTC)
    assert other.joined_at is None
    # A later join (reconnection) keeps the first one.
    send(joined("camila1@example.cl", join_time="2026-11-27T13:40:00Z"))
    db.session.expire_all()
    assert reg.joined_at == datetime(2026, 11, 27, 13, 2, 10, tzinfo=UTC)


def test_join_with_unknown_email_changes_nothing(send: Any, published_session: Any) -> None:
    session = published_session()
    room(session)
    reg = register(session, 1)
    assert send(joined("nadie@example.cl")).status_code == 200
    db.session.expire_all()
    assert reg.joined_at is None


def test_forged_signature_is_refused_and_changes_nothing(send: Any, published_session: Any) -> None:
    session = published_session()
    room(session)
    reg = register(session, 1)
    resp = send(joined("camila1@example.cl"), secret="not-the-secret")
    assert resp.status_code == 401
    assert resp.mimetype == "application/problem+json"
    assert resp.get_json()["status"] == 401
    db.session.expire_all()
    assert reg.joined_at is None
    assert count(ZoomWebhookEvent) == 0


def test_body_changed_after_signing_is_refused(send: Any, client: Any) -> None:
    ts = str(int(time.time()))
    body = json.dumps(joined("a@example.cl")).encode()
    resp = client.post(URL, data=body.replace(b"a@example", b"b@example"),
                       headers={"x-zm-request-timestamp": ts, "x-zm-signature": sign(body, ts)},
                       content_type="application/json")
    assert resp.status_code == 401


def test_stale_timestamp_is_refused(send: Any, app: Flask, published_session: Any) -> None:
    session = published_session()
    room(session)
    reg = register(session, 1)
    skew = app.config["ZOOM_WEBHOOK_MAX_SKEW_SECONDS"]
    assert send(joined("camila1@example.cl"), timestamp=int(time.time()) - skew - 60).status_code == 401
    assert send(joined("camila1@example.cl"), timestamp=int(time.time()) + skew + 60).status_code == 401
    db.session.expire_all()
    assert reg.joined_at is None
    assert count(ZoomWebhookEvent) == 0


@pytest.mark.parametrize("headers", [
    {},
    {"x-zm-signature": "v0=abc"},
    {"x-zm-request-timestamp": "1700000000"},
    {"x-zm-request-timestamp": "no-es-numero", "x-zm-signature": "v0=abc"},
])
def test_missing_or_garbled_headers_are_refused(send: Any, headers: dict[str, str]) -> None:
    resp = send(joined("a@example.cl"), headers=headers)
    assert resp.status_code == 401
    assert count(ZoomWebhookEvent) == 0


def test_not_configured_answers_503(send: Any, app: Flask) -> None:
    app.config["ZOOM_WEBHOOK_SECRET_TOKEN"] = None
    resp = send(joined("a@example.cl"))
    assert resp.status_code == 503
    assert resp.mimetype == "application/problem+json"
    app.config["SERVER_ERRORS"].clear()  # the 503 is the expected answer here


def test_malformed_json_with_valid_signature_is_400(send: Any) -> None:
    resp = send(b"{not json")
    assert resp.status_code == 400
    assert resp.mimetype == "application/problem+json"
    assert send(b"[1, 2]").status_code == 400
    assert count(ZoomWebhookEvent) == 0


def test_oversized_body_is_413(send: Any) -> None:
    resp = send(b'{"event": "x", "pad": "' + b"a" * (1024 * 1024) + b'"}')
    assert resp.status_code == 413
    assert resp.mimetype == "application/problem+json"


# --- idempotency and unknown meetings ------------------------------------------------------


def test_same_event_twice_is_handled_once(send: Any, published_session: Any) -> None:
    session = published_session()
    room(session)
    register(session, 1)
    calls: list[Any] = []

    def receiver(sender: Any, **kw: Any) -> None:
        calls.append(sender)

    ended = {"event": "meeting.ended", "payload": {"object": {"id": MEETING, "uuid": "u=="}}}
    with session_held.connected_to(receiver):
        first = send(ended, request_id="req-1")
        second = send(ended, request_id="req-1")
    assert first.status_code == second.status_code == 200
    assert second.get_json()["status"] == "duplicate"
    assert len(calls) == 1
    assert count(ZoomWebhookEvent) == 1


def test_without_request_id_the_body_hash_is_the_key(send: Any, client: Any, published_session: Any) -> None:
    session = published_session()
    room(session)
    body = json.dumps({"event": "meeting.ended", "payload": {"object": {"id": MEETING}}}).encode()
    for _ in range(2):
        ts = str(int(time.time()))
        resp = client.post(URL, data=body, content_type="application/json",
                           headers={"x-zm-request-timestamp": ts, "x-zm-signature": sign(body, ts)})
        assert resp.status_code == 200
    assert count(ZoomWebhookEvent) == 1
    event = db.session.query(ZoomWebhookEvent).one()
    assert event.event_key == "sha256:" + hashlib.sha256(body).hexdigest()


def test_unknown_meeting_is_stored_and_ignored(send: Any, published_session: Any) -> None:
    session = published_session()
    reg = register(session, 1)
    calls: list[Any] = []
    with session_held.connected_to(lambda s, **kw: calls.append(s)):
        resp = send(joined("camila1@example.cl", meeting_id=111))
        send({"event": "meeting.ended", "payload": {"object": {"id": 111}}})
    assert resp.status_code == 200
    assert resp.get_json()["status"] == "ignored"
    db.session.expire_all()
    assert reg.joined_at is None
    assert calls == []
    assert count(ZoomWebhookEvent) == 2


# --- meeting ended, recordings -------------------------------------------------------------


def test_meeting_ended_sends_session_held(send: Any, published_session: Any) -> None:
    session = published_session()
    room(session)
    received: list[Any] = []

    def receiver(sender: Any, **kw: Any) -> None:
        received.append(sender.id)

    with session_held.connected_to(receiver):
        resp = send({"event": "meeting.ended", "payload": {"object": {"id": str(MEETING)}}})
    assert resp.status_code == 200
    assert received == [session.id]


def test_recording_completed_stores_files_and_announces_them(send: Any, published_session: Any) -> None:
    session = published_session()
    room(session)
    announced: list[tuple[int, list[str]]] = []

    def receiver(sender: Any, recordings: list[ConferenceRecording], **kw: Any) -> None:
        announced.append((sender.id, sorted(r.external_file_id for r in recordings)))

    with recording_available.connected_to(receiver):
        resp = send(recording())
        again = send(recording())  # a new delivery (other request id) of the same files
    assert resp.status_code == again.status_code == 200
    assert announced == [(session.id, ["file-m4a-1", "file-mp4-1"])]
    rows = {r.external_file_id: r for r in db.session.query(ConferenceRecording).all()}
    assert set(rows) == {"file-mp4-1", "file-m4a-1"}
    mp4 = rows["file-mp4-1"]
    assert mp4.session_id == session.id
    assert mp4.file_type == "MP4" and mp4.file_size == 123456
    assert mp4.download_url == "https://zoom.us/rec/download/abc"
    assert mp4.play_url == "https://zoom.us/rec/play/abc"
    assert mp4.recording_start == datetime(2026, 11, 27, 13, 0, 5, tzinfo=UTC)
    assert mp4.recording_end == datetime(2026, 11, 27, 14, 30, tzinfo=UTC)
    assert rows["file-m4a-1"].play_url is None
    # Nothing secret is kept, not even in the stored event.
    for event in db.session.query(ZoomWebhookEvent).all():
        for secret in ("SECRET-DOWNLOAD-TOKEN", '"pw"', '"pc"'):
            assert secret not in event.payload


def test_an_office_zoom_app_signs_with_its_own_secret_token(send: Callable[..., Any], factory: Any) -> None:
    from app.conferencing import credentials

    office = factory.office("13120", name="OMIL con Zoom propio")
    user = factory.user(office=office)
    credentials.save_zoom(office, credentials.ZoomInput(account_id="acc", client_id="cli", client_secret="sec-12345",
                                                        webhook_secret="office-secret-" + "o" * 16), actor=user)
    from sqlalchemy import select

    from app.conferencing.models import OfficeConferenceSettings

    stored = db.session.scalar(select(OfficeConferenceSettings.zoom_credentials))
    assert "office-secret" not in stored  # encrypted at rest
    plain = "abc123"
    resp = send({"event": "endpoint.url_validation", "payload": {"plainToken": plain}},
                secret="office-secret-" + "o" * 16)
    assert resp.status_code == 200
    expected = hmac.new(("office-secret-" + "o" * 16).encode(), plain.encode(), hashlib.sha256).hexdigest()
    assert resp.get_json() == {"plainToken": plain, "encryptedToken": expected}
    assert send({"event": "meeting.ended", "payload": {}}, secret="another-secret-" + "x" * 10).status_code == 401
    assert send({"event": "endpoint.url_validation", "payload": {"plainToken": plain}}).status_code == 200


def test_stored_events_lose_their_personal_data_after_the_retention_period(send: Callable[..., Any],
                                                                          app: Flask) -> None:
    from datetime import timedelta

    from app.conferencing.webhooks import PURGED, event_key, purge_old_payloads
    from app.timeutil import utcnow

    def body(event_ts: int) -> bytes:
        return json.dumps({"event": "meeting.participant_joined", "event_ts": event_ts, "payload": {"object": {
            "id": "999", "participant": {"user_name": "Rosa Paz", "email": "rosa@example.cl"}}}}).encode()

    assert send(body(1)).status_code == 200
    assert send(body(2)).status_code == 200
    old = db.session.query(ZoomWebhookEvent).filter_by(event_key=event_key(body(1))).one()
    old.received_at = utcnow() - timedelta(days=app.config["ZOOM_EVENT_RETENTION_DAYS"] + 1)
    db.session.commit()
    assert purge_old_payloads() == 1
    assert purge_old_payloads() == 0  # once
    db.session.expire_all()
    rows = {e.event_key: e.payload for e in db.session.query(ZoomWebhookEvent)}
    assert rows[event_key(body(1))] == PURGED and "rosa@example.cl" in rows[event_key(body(2))]
    assert send(body(1)).get_json() == {"status": "duplicate"}  # still recognised


def test_an_offices_secret_speaks_only_for_its_own_meetings(send: Callable[..., Any], published_session: Any,
                                                            world: Any, factory: Any) -> None:
    from app.conferencing import credentials

    session = published_session()  # hosted by world.host
    room(session)
    reg = register(session, 1)
    stranger_office = world.other
    credentials.save_zoom(stranger_office, credentials.ZoomInput(
        account_id="acc", client_id="cli", client_secret="sec-12345", webhook_secret="other-office-" + "x" * 16),
        actor=world.other_staff)
    forged = send(joined("camila1@example.cl"), secret="other-office-" + "x" * 16, request_id="from-other")
    assert forged.status_code == 200 and forged.get_json() == {"status": "ignored"}
    db.session.expire_all()
    assert reg.joined_at is None
    credentials.save_zoom(world.host, credentials.ZoomInput(
        account_id="acc", client_id="cli", client_secret="sec-12345", webhook_secret="host-office-" + "h" * 16),
        actor=world.host_staff)
    own = send(joined("camila1@example.cl"), secret="host-office-" + "h" * 16, request_id="from-host")
    assert own.get_json() == {"status": "handled"}
    db.session.expire_all()
    assert reg.joined_at is not None
