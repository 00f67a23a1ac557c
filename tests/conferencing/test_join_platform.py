"""The join page names the session's platform, with its own instructions and a test link
(or what to do instead), and a button not active yet says when it opens."""

from __future__ import annotations

import html
from datetime import timedelta
from typing import Any

import pytest

from app.conferencing.joining import ZOOM_TEST_URL, opens_at, platform_for, platform_key
from app.conferencing.providers import provider_for
from app.extensions import db
from app.registration import services
from app.timeutil import utcnow
from tests.registration.conftest import person_input


def join_page(client: Any, session: Any, url: str | None = None, provider: str = "link") -> str:
    session.join_provider = provider
    session.join_url = url
    session.starts_at = utcnow() + timedelta(hours=3)
    session.ends_at = session.starts_at + timedelta(hours=2)
    db.session.commit()
    reg = services.register(session.id, person_input(1)).registration
    resp = client.get(f"/inscripcion/{services.personal_token(reg)}/conectarse")
    assert resp.status_code == 200
    return html.unescape(resp.get_data(as_text=True))


@pytest.mark.parametrize(("url", "key"), [
    ("https://us02web.zoom.us/j/123", "zoom"), ("https://zoom.us/j/123", "zoom"),
    ("https://meet.google.com/abc-defg-hij", "google_meet"),
    ("https://teams.microsoft.com/l/meetup-join/19%3a", "teams"), ("https://teams.live.com/meet/9", "teams"),
    ("https://meet.jit.si/Sala", "jitsi"), ("https://example.org/sala", "other"),
    ("https://zoom.us.example.org/j/1", "other"),
])
def test_a_pasted_link_is_recognised_by_its_address(published_session, url, key):
    s = published_session()
    s.join_url = url
    assert platform_key(s, provider_for(s)) == key


def test_zoom_names_itself_and_links_its_test_meeting(client, published_session):
    page = join_page(client, published_session(), "https://us02web.zoom.us/j/123")
    assert "La sesión es por Zoom" in page and f'href="{ZOOM_TEST_URL}"' in page
    assert "Entrar desde su navegador" in page
    assert "us02web.zoom.us" not in page  # the meeting's own address stays hidden before the window


def test_meet_has_no_test_meeting_and_says_what_to_do_instead(client, published_session):
    page = join_page(client, published_session(), "https://meet.google.com/abc-defg-hij")
    assert "La sesión es por Google Meet" in page
    assert "Google Meet no tiene una reunión de prueba. Entre unos minutos antes" in page
    assert ZOOM_TEST_URL not in page


def test_teams_has_its_own_instructions(client, published_session):
    teams = join_page(client, published_session(), "https://teams.microsoft.com/l/meetup-join/1")
    assert "La sesión es por Microsoft Teams" in teams and "Continuar en este explorador" in teams
    assert "Teams no tiene una reunión de prueba sin cuenta" in teams


def test_jitsi_is_tested_in_the_browser(client, published_session):
    page = join_page(client, published_session(), None, provider="jitsi")
    assert "La sesión es por Jitsi Meet" in page
    assert "el navegador le pedirá permiso para la cámara y el micrófono" in page


def test_an_embedded_zoom_says_it_opens_here(app, published_session):
    s = published_session()
    s.join_url = "https://zoom.us/j/1"
    platform = platform_for(s, provider_for(s), embedded=True)
    assert "aquí mismo" in platform.steps[0]
    assert not any("fuera de Puente Laboral" in step for step in platform.steps)


def test_a_button_not_active_yet_looks_inactive_and_says_when_it_opens(client, published_session):
    s = published_session()
    page = join_page(client, s, "https://us02web.zoom.us/j/123")
    opens = opens_at(s).astimezone(s.local_start.tzinfo)
    assert 'disabled aria-disabled="true"' in page
    assert f"Se activa a las {opens:%H:%M}" in page
    assert f"a las {opens:%H:%M}." in page  # the hint gives the day and time
