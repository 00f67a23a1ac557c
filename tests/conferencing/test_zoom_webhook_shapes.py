"""POST /webhooks/zoom, hardened: timestamps that are not plain digits, signed events whose
fields do not fit, and captured events replayed under a new (unsigned) request id."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from app.conferencing.models import ConferenceRecording, ZoomWebhookEvent
from app.conferencing.signals import session_held
from app.extensions import db
from tests.conferencing.test_zoom_webhook import (
    MEETING,
    URL,
    joined,
    recording,
    register,
    room,
    send,
    sign,
    zoom,
)
from tests.conftest import count

__all__ = ["send", "zoom"]  # fixtures used here


def post_signed(client: Any, body: bytes, timestamp: str, request_id: str = "r-1") -> Any:
    headers = {"x-zm-request-timestamp": timestamp, "x-zm-signature": sign(body, timestamp),
               "x-zm-request-id": request_id}
    return client.post(URL, data=body, headers=headers, content_type="application/json")


# --- timestamps ----------------------------------------------------------------------------


@pytest.mark.parametrize("timestamp", [
    "9" * 400,  # int() reads it; time.time() - it overflowed a float: 500 before
    "1" + "0" * 4299,
    "+{now}", " {now}", "{now} ", "{now}.0", "1_{rest}", "{now}e0", "-{now}",
    "\u0661\u0667\u0660\u0660\u0660\u0660\u0660\u0660\u0660\u0660",  # Arabic-Indic digits: int() takes them
])
def test_a_timestamp_that_is_not_plain_digits_is_401_even_when_signed(client: Any, zoom: None,
                                                                       timestamp: str) -> None:
    now = str(int(time.time()))
    ts = timestamp.format(now=now, rest=now[1:])
    body = json.dumps({"event": "meeting.ended", "payload": {"object": {"id": MEETING}}}).encode()
    headers = {"x-zm-request-timestamp": ts, "x-zm-signature": sign(body, ts)}
    try:
        resp = client.post(URL, data=body, headers=headers, content_type="application/json")
    except ValueError:  # werkzeug's client refuses some header values outright; a server never sees them
        return
    assert resp.status_code == 401
    assert count(ZoomWebhookEvent) == 0


# --- replays -------------------------------------------------------------------------------


def test_a_captured_event_replayed_with_a_new_request_id_is_not_processed_again(client: Any, zoom: None,
                                                                                 published_session: Any) -> None:
    room(published_session())
    calls: list[Any] = []
    body = json.dumps({"event": "meeting.ended", "event_ts": 1764230400123,
                       "payload": {"object": {"id": MEETING}}}).encode()
    ts = str(int(time.time()))
    with session_held.connected_to(lambda s, **kw: calls.append(s)):
        first = post_signed(client, body, ts, request_id="zoom-original")
        replay = post_signed(client, body, ts, request_id="attacker-chosen")
    assert first.get_json() == {"status": "handled"}
    assert replay.status_code == 200 and replay.get_json() == {"status": "duplicate"}
    assert len(calls) == 1
    assert count(ZoomWebhookEvent) == 1


def test_zooms_own_retry_with_a_new_timestamp_is_recognised_too(client: Any, zoom: None,
                                                                 published_session: Any) -> None:
    room(published_session())
    calls: list[Any] = []
    body = json.dumps({"event": "meeting.ended", "event_ts": 1764230400456,
                       "payload": {"object": {"id": MEETING}}}).encode()
    with session_held.connected_to(lambda s, **kw: calls.append(s)):
        post_signed(client, body, str(int(time.time()) - 20), request_id="a")
        again = post_signed(client, body, str(int(time.time())), request_id="b")
    assert again.get_json() == {"status": "duplicate"} and len(calls) == 1


def test_two_events_that_differ_only_in_event_ts_are_both_processed(send: Any, published_session: Any) -> None:
    room(published_session())
    calls: list[Any] = []
    with session_held.connected_to(lambda s, **kw: calls.append(s)):
        for event_ts in (1, 2):
            send({"event": "meeting.ended", "event_ts": event_ts, "payload": {"object": {"id": MEETING}}})
    assert len(calls) == 2


# --- signed but malformed ------------------------------------------------------------------


def _with(event: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """``event`` with ``value`` at ``path`` ("payload.object.id", "...recording_files.0.file_size")."""
    data = json.loads(json.dumps(event))
    *parents, last = path.split(".")
    node: Any = data
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return data


MALFORMED = [
    (recording(), "payload.object.id", "8" * 65),  # conference_rooms.external_id is String(64)
    (recording(), "payload.object.id", 10**70),
    (recording(), "payload.object.id", {"nested": 1}),
    (recording(), "payload.object.id", "857\x0046"),
    (recording(), "payload.object.recording_files.0.file_size", 2**64),  # past BIGINT
    (recording(), "payload.object.recording_files.0.file_size", -1),
    (recording(), "payload.object.recording_files.0.file_size", "123"),
    (recording(), "payload.object.recording_files.0.id", "f" * 129),
    (recording(), "payload.object.recording_files.0.id", "file\x00mp4"),
    (recording(), "payload.object.recording_files.0.file_type", "MP4" * 10),
    (recording(), "payload.object.recording_files.0.download_url", "https://zoom.us/" + "a" * 1000),
    (recording(), "payload.object.recording_files.0", "not an object"),
    (recording(), "payload.object.recording_files", {"id": "file-mp4-1"}),
    (recording(), "payload.object", ["list"]),
    (recording(), "payload", "text"),
    (joined("camila1@example.cl"), "payload.object.participant.email", "camila1@example.cl\x00"),
    (joined("camila1@example.cl"), "payload.object.participant.email", 42),
    (joined("camila1@example.cl"), "payload.object.participant.join_time", ["2026"]),
    (joined("camila1@example.cl"), "payload.object.participant", "Camila"),
    (joined("camila1@example.cl"), "event", "meeting.participant_joined\x00"),
    (joined("camila1@example.cl"), "event", "e" * 81),
]


@pytest.mark.parametrize(("event", "path", "value"), MALFORMED,
                         ids=[f"{p}={str(v)[:12]!r}" for _e, p, v in MALFORMED])
def test_a_signed_event_whose_fields_do_not_fit_is_ignored_with_200(send: Any, published_session: Any,
                                                                     event: dict[str, Any], path: str,
                                                                     value: Any) -> None:
    session = published_session()
    room(session)
    reg = register(session, 1)
    resp = send(_with(event, path, value))
    if isinstance(value, str) and "\x00" in value:
        # The request guard (app/inputguard.py) refuses a NUL anywhere in a body first: a 400,
        # which Zoom retries at most three times, each refused the same way.
        assert resp.status_code == 400 and resp.mimetype == "application/problem+json"
    else:
        # 2xx: Zoom would retry anything else, and a retry brings the same fields.
        assert resp.status_code == 200, resp.get_data(as_text=True)
        assert resp.get_json() == {"status": "ignored"}
    assert count(ZoomWebhookEvent) == 0 and count(ConferenceRecording) == 0
    db.session.expire_all()
    assert reg.joined_at is None


def test_join_times_outside_any_real_meeting_are_read_as_unknown(send: Any, published_session: Any) -> None:
    session = published_session()
    room(session)
    reg = register(session, 1)
    resp = send(joined("camila1@example.cl", join_time="0001-01-01T00:00:00+14:00"))
    assert resp.get_json() == {"status": "handled"}
    db.session.expire_all()
    assert reg.joined_at is not None and reg.joined_at.year >= 2000  # "now", not year 1


def test_a_lone_surrogate_elsewhere_in_the_event_is_refused_and_nothing_stored(send: Any,
                                                                              published_session: Any) -> None:
    room(published_session())
    body = b'{"event": "meeting.ended", "payload": {"object": {"id": %d, "topic": "Taller \\ud83d"}}}' % MEETING
    resp = send(body)
    assert resp.status_code == 400  # the one JSON parser (app/inputguard.py) refuses lone surrogates
    assert count(ZoomWebhookEvent) == 0


def test_json_nested_past_the_parsers_depth_is_400(send: Any) -> None:
    resp = send(b'{"event": "x", "payload": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
    assert resp.status_code == 400
    assert count(ZoomWebhookEvent) == 0
