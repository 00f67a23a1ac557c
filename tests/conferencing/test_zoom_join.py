"""The join page of a Zoom session: Zoom's Meeting SDK embedded where configured (signature
made on the server, short-lived, this meeting only, only inside the window), otherwise a new
tab; phone dial-in shown inside the window; nothing secret reaches the browser."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import jwt
import pytest

from app.conferencing.tasks import sync_room_task
from app.registration.models import RegistrationStatus
from tests.conferencing.conftest import CLIENT_SECRET, SDK_KEY, SDK_SECRET, FakeZoom
from tests.conferencing.test_join import join_url_of, move, register
from tests.conferencing.test_room_lifecycle import the_room, zoom_workshop
from tests.conftest import csrf_from

SIGNATURE = "/zoom/firma"


@pytest.fixture
def sdk(settings: Any, zoom_settings: FakeZoom) -> None:
    settings(ZOOM_SDK_KEY=SDK_KEY, ZOOM_SDK_SECRET=SDK_SECRET)


@pytest.fixture
def zoom_session(world: Any, zoom_settings: FakeZoom) -> Any:
    session = zoom_workshop(world).activity.sessions[0]
    assert sync_room_task.call_local(the_room(session).id) == "ready"
    return session


def ask_signature(client: Any, reg: Any) -> Any:
    page = client.get(join_url_of(reg, "/sala"))
    token = csrf_from(page.get_data(as_text=True)) if page.status_code == 200 else \
        csrf_from(client.get(join_url_of(reg)).get_data(as_text=True))
    return client.post(join_url_of(reg, SIGNATURE), headers={"X-CSRFToken": token})


def test_the_sdk_signature_is_short_lived_and_for_this_meeting_only(client: Any, sdk: None,
                                                                    zoom_session: Any) -> None:
    reg = register(zoom_session)
    move(zoom_session, timedelta(minutes=5))
    before = int(time.time())
    resp = ask_signature(client, reg)
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "no-store"
    data = resp.get_json()
    claims = jwt.decode(data["signature"], SDK_SECRET, algorithms=["HS256"])
    assert claims["appKey"] == claims["sdkKey"] == SDK_KEY
    assert claims["mn"] == int(the_room(zoom_session).external_id)
    assert claims["role"] == 0  # attendee, never host
    assert claims["tokenExp"] == claims["exp"]
    assert before + 30 <= claims["exp"] <= int(time.time()) + 300  # minutes, not hours
    assert claims["exp"] - claims["iat"] == 1800  # the span Zoom requires, without a longer life
    assert jwt.get_unverified_header(data["signature"])["alg"] == "HS256"
    assert data["meetingNumber"] == the_room(zoom_session).external_id
    assert data["password"] == "Ab12cd"  # this session's passcode, for this registrant
    assert data["userEmail"] == reg.person.email
    raw = resp.get_data(as_text=True)
    for secret in (SDK_SECRET, CLIENT_SECRET, "HOST-SECRET-ZAK", "tok-1"):
        assert secret not in raw


def test_the_signature_never_outlives_the_session(client: Any, sdk: None, zoom_session: Any) -> None:
    reg = register(zoom_session)
    move(zoom_session, -timedelta(hours=2), hours=2.02)  # ends in about a minute
    claims = jwt.decode(ask_signature(client, reg).get_json()["signature"], SDK_SECRET, algorithms=["HS256"])
    assert claims["exp"] == int(zoom_session.ends_at.timestamp())


def test_no_signature_outside_the_window(client: Any, sdk: None, zoom_session: Any) -> None:
    reg = register(zoom_session)
    move(zoom_session, timedelta(hours=3))
    token = csrf_from(client.get(join_url_of(reg)).get_data(as_text=True))
    resp = client.post(join_url_of(reg, SIGNATURE), headers={"X-CSRFToken": token})
    assert resp.status_code == 403
    assert resp.mimetype == "application/problem+json"
    move(zoom_session, -timedelta(hours=3))
    assert client.post(join_url_of(reg, SIGNATURE), headers={"X-CSRFToken": token}).status_code == 403


def test_no_signature_for_a_waitlisted_registration(client: Any, sdk: None, zoom_session: Any) -> None:
    zoom_session.capacity = 1
    register(zoom_session, 1)
    waiting = register(zoom_session, 2)
    assert waiting.status == RegistrationStatus.WAITLISTED
    move(zoom_session, timedelta(minutes=5))
    token = csrf_from(client.get(join_url_of(waiting)).get_data(as_text=True))
    assert client.post(join_url_of(waiting, SIGNATURE), headers={"X-CSRFToken": token}).status_code == 403


def test_no_signature_for_a_bad_link_or_without_the_sdk(client: Any, settings: Any, sdk: None,
                                                        zoom_session: Any) -> None:
    reg = register(zoom_session)
    move(zoom_session, timedelta(minutes=5))
    token = csrf_from(client.get(join_url_of(reg)).get_data(as_text=True))
    bad = join_url_of(reg, SIGNATURE).replace("/inscripcion/", "/inscripcion/x")
    assert client.post(bad, headers={"X-CSRFToken": token}).status_code == 404
    settings(ZOOM_SDK_KEY=None, ZOOM_SDK_SECRET=None)
    assert client.post(join_url_of(reg, SIGNATURE), headers={"X-CSRFToken": token}).status_code == 404
    assert client.post(join_url_of(reg, SIGNATURE)).status_code == 400  # no CSRF token


def test_joining_embeds_zoom_with_the_csp_opened_on_that_page_only(client: Any, sdk: None,
                                                                   zoom_session: Any) -> None:
    reg = register(zoom_session)
    move(zoom_session, timedelta(minutes=5))
    page = client.get(join_url_of(reg))
    body = page.get_data(as_text=True)
    assert "source.zoom.us" not in page.headers["Content-Security-Policy"]
    assert "se abre aquí mismo" in body and 'target="_blank"' not in body
    resp = client.post(join_url_of(reg), data={"csrf_token": csrf_from(body)})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/conectarse/sala")
    room = client.get(join_url_of(reg, "/sala"))
    assert room.status_code == 200
    csp = room.headers["Content-Security-Policy"]
    assert "script-src 'self' https://source.zoom.us 'wasm-unsafe-eval'" in csp
    assert "wss://*.zoom.us" in csp and "frame-ancestors 'none'" in csp
    html = room.get_data(as_text=True)
    assert "https://source.zoom.us/5.1.4/zoom-meeting-embedded-5.1.4.min.js" in html
    assert "js/zoom-embed.js" in html
    for secret in (SDK_SECRET, CLIENT_SECRET, "HOST-SECRET-ZAK", "Ab12cd"):
        assert secret not in html  # the signature and passcode come only from the POST


def test_without_the_sdk_zoom_opens_in_a_new_tab(client: Any, zoom_session: Any) -> None:
    reg = register(zoom_session)
    move(zoom_session, timedelta(minutes=5))
    body = client.get(join_url_of(reg)).get_data(as_text=True)
    assert 'target="_blank"' in body and "La sesión es por Zoom" in body
    assert "La sesión se abre fuera de Puente Laboral" in body
    resp = client.post(join_url_of(reg), data={"csrf_token": csrf_from(body)})
    assert resp.status_code == 303
    assert resp.headers["Location"] == the_room(zoom_session).join_url
    assert client.get(join_url_of(reg, "/sala")).status_code == 302  # no embedded room


def test_phone_numbers_only_inside_the_window(client: Any, zoom_session: Any) -> None:
    reg = register(zoom_session)
    move(zoom_session, timedelta(hours=2))
    early = client.get(join_url_of(reg)).get_data(as_text=True)
    assert "+56 23 210 9066" not in early and "123456" not in early
    assert "También podrá entrar por teléfono" in early
    move(zoom_session, timedelta(minutes=5))
    body = client.get(join_url_of(reg)).get_data(as_text=True)
    assert "Entrar por teléfono" in body
    assert 'href="tel:+56232109066"' in body and "+56 23 210 9066" in body
    assert "8574 6065 432" in body  # the meeting id, grouped for reading aloud
    assert "123456" in body  # the numeric phone passcode


def test_google_meet_says_it_opens_in_a_new_tab(client: Any, world: Any) -> None:
    from app.extensions import db
    from tests.workshops.conftest import local_in

    session = world.workshop(start=local_in(10), publish=True).activity.sessions[0]
    session.join_provider = "google_meet"
    db.session.commit()
    reg = register(session)
    body = client.get(join_url_of(reg)).get_data(as_text=True)
    assert "La sesión es por Google Meet" in body and "La sesión se abre fuera de Puente Laboral" in body


def test_accessibility_offered_by_the_workshop_is_listed(client: Any, world: Any) -> None:
    from app.extensions import db
    from tests.workshops.conftest import local_in

    w = world.workshop(start=local_in(10), publish=True)
    w.offers_sign_language = True
    w.accessibility_notes = "Material en letra grande"
    db.session.commit()
    reg = register(w.activity.sessions[0])
    body = client.get(join_url_of(reg)).get_data(as_text=True)
    assert "Intérprete de lengua de señas chilena" in body and "Material en letra grande" in body
