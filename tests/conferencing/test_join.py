"""Video providers, the personal join page and the staff host page."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from app.activities.models import Modality
from app.conferencing.providers import PROVIDERS, JitsiProvider, provider_for
from app.extensions import db
from app.registration import services
from app.registration.models import Registration, RegistrationStatus
from app.timeutil import utcnow
from tests.conftest import csrf_from, login
from tests.registration.conftest import person_input

ZOOM = "https://us02web.zoom.us/j/123456789"


def register(session: Any, n: int = 1) -> Registration:
    return services.register(session.id, person_input(n)).registration


def join_url_of(reg: Registration, suffix: str = "") -> str:
    return f"/inscripcion/{services.personal_token(reg)}/conectarse{suffix}"


def move(session: Any, starts_in: timedelta, hours: float = 2) -> None:
    """Put the session ``starts_in`` from now (negative: already started)."""
    session.starts_at = utcnow() + starts_in
    session.ends_at = session.starts_at + timedelta(hours=hours)
    db.session.commit()


def use_jitsi(session: Any) -> None:
    session.join_provider = "jitsi"
    session.join_url = None
    db.session.commit()


def post_join(client: Any, reg: Registration) -> Any:
    page = client.get(join_url_of(reg))
    return client.post(join_url_of(reg), data={"csrf_token": csrf_from(page.get_data(as_text=True))})


# --- providers ---------------------------------------------------------------------------------


def test_jitsi_room_names_are_stable_distinct_and_unguessable(app: Any, published_session: Any) -> None:
    a, b = published_session(), published_session()
    jitsi = PROVIDERS["jitsi"]
    name_a = JitsiProvider.room_name(a)
    assert name_a == JitsiProvider.room_name(a)  # stable
    assert name_a != JitsiProvider.room_name(b)
    assert re.fullmatch(r"PuenteLaboral-[A-Z2-7]{20}", name_a)
    assert a.uid not in name_a and a.uid.split("@")[0] not in name_a
    assert jitsi.embeddable
    assert jitsi.join_url(a) == f"https://meet.jit.si/{name_a}"
    # Another secret makes another name: nothing public is enough to guess it.
    old = app.config["SECRET_KEY"]
    app.config["SECRET_KEY"] = "otra-clave-" + "y" * 32
    try:
        assert JitsiProvider.room_name(a) != name_a
    finally:
        app.config["SECRET_KEY"] = old


def test_link_provider_uses_the_pasted_url_and_is_the_fallback(app: Any, published_session: Any) -> None:
    s = published_session()
    assert provider_for(s).name == "link"
    assert not provider_for(s).embeddable
    assert provider_for(s).join_url(s) == ZOOM
    s.join_provider = "desconocido"
    assert provider_for(s).name == "link"
    s.join_url = "javascript:alert(1)"
    assert provider_for(s).join_url(s) is None
    for p in (PROVIDERS["link"], PROVIDERS["jitsi"]):  # room operations are no-ops for these two
        assert not p.has_api
        p.create_room(s), p.update_room(s), p.cancel_room(s)


# --- the join page -------------------------------------------------------------------------------


def test_before_the_window_the_button_is_disabled_and_the_url_hidden(client: Any, published_session: Any) -> None:
    s = published_session()
    reg = register(s)
    move(s, timedelta(hours=2, minutes=5))
    resp = client.get(join_url_of(reg))
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "no-store"
    assert "noindex" in resp.headers["X-Robots-Tag"]
    assert "Comienza en 2 horas y 5 minutos" in body
    assert "El botón se activa 15 minutos antes" in body
    assert "disabled" in body
    # The meeting's address stays hidden (Zoom's public test page may be linked).
    assert ZOOM not in body and "us02web.zoom.us" not in body
    assert f'action="{join_url_of(reg)}"' not in body
    # Posting anyway does not join.
    resp = client.post(join_url_of(reg), data={"csrf_token": csrf_from(body)})
    assert resp.status_code == 409
    db.session.expire_all()
    assert db.session.get(Registration, reg.id).joined_at is None


def test_during_the_window_joining_records_once_and_redirects(client: Any, published_session: Any) -> None:
    s = published_session()
    reg, other = register(s, 1), register(s, 2)
    move(s, timedelta(minutes=10))
    body = client.get(join_url_of(reg)).get_data(as_text=True)
    assert "Comienza en 10 minutos" in body or "Comienza en 11 minutos" in body
    assert f'action="{join_url_of(reg)}"' in body
    assert "fuera de Puente Laboral" in body  # Zoom/Meet/Teams open outside
    assert ZOOM not in body  # the URL only travels in the redirect
    resp = client.post(join_url_of(reg), data={"csrf_token": csrf_from(body)})
    assert resp.status_code == 303
    assert resp.headers["Location"] == ZOOM
    assert resp.headers["Cache-Control"] == "no-store"
    db.session.expire_all()
    first = db.session.get(Registration, reg.id).joined_at
    assert first is not None
    assert post_join(client, reg).status_code == 303
    db.session.expire_all()
    assert db.session.get(Registration, reg.id).joined_at == first  # first click kept
    assert db.session.get(Registration, other.id).joined_at is None


def test_after_the_end(client: Any, published_session: Any) -> None:
    s = published_session()
    reg = register(s)
    move(s, -timedelta(hours=3))
    body = client.get(join_url_of(reg)).get_data(as_text=True)
    assert "La sesión ya terminó" in body
    assert "<form method=\"post\" action=\"" + join_url_of(reg) not in body
    assert client.post(join_url_of(reg), data={"csrf_token": csrf_from(body)}).status_code == 409


def test_join_opens_minutes_is_configurable(app: Any, client: Any, published_session: Any) -> None:
    s = published_session()
    reg = register(s)
    move(s, timedelta(minutes=25))
    app.config["JOIN_OPENS_MINUTES"] = 30
    try:
        body = client.get(join_url_of(reg)).get_data(as_text=True)
        assert f'action="{join_url_of(reg)}"' in body
    finally:
        app.config["JOIN_OPENS_MINUTES"] = 15


def test_waitlisted_cancelled_and_in_person_get_a_message(client: Any, published_session: Any) -> None:
    s = published_session(capacity=1)
    confirmed, waiting = register(s, 1), register(s, 2)
    assert waiting.status == RegistrationStatus.WAITLISTED
    move(s, timedelta(minutes=5))
    body = client.get(join_url_of(waiting)).get_data(as_text=True)
    assert "lista de espera" in body and ZOOM not in body and f'action="{join_url_of(waiting)}"' not in body
    assert post_join(client, waiting).status_code == 409

    services.cancel(confirmed, reason="prueba")
    body = client.get(join_url_of(confirmed)).get_data(as_text=True)
    assert "Su inscripción está cancelada" in body
    assert post_join(client, confirmed).status_code == 409

    p = published_session()
    reg = register(p, 3)
    p.modality = Modality.IN_PERSON
    p.venue_name, p.address = "Sala OMIL", "Av. Irarrázaval 3550"
    db.session.commit()
    move(p, timedelta(minutes=5))
    body = client.get(join_url_of(reg)).get_data(as_text=True)
    assert "solo presencial" in body and ZOOM not in body
    assert post_join(client, reg).status_code == 409
    db.session.expire_all()
    assert db.session.get(Registration, reg.id).joined_at is None


def test_post_without_csrf_is_refused(client: Any, published_session: Any) -> None:
    s = published_session()
    reg = register(s)
    move(s, timedelta(minutes=5))
    assert client.post(join_url_of(reg)).status_code == 400
    db.session.expire_all()
    assert db.session.get(Registration, reg.id).joined_at is None


def test_tampered_token_is_404(client: Any, published_session: Any) -> None:
    reg = register(published_session())
    token = services.personal_token(reg)
    bad = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    assert client.get(f"/inscripcion/{bad}/conectarse").status_code == 404
    assert client.get(f"/inscripcion/{bad}/conectarse/sala").status_code == 404


def test_personal_page_links_to_the_join_page(client: Any, published_session: Any) -> None:
    reg = register(published_session())
    body = client.get(f"/inscripcion/{services.personal_token(reg)}").get_data(as_text=True)
    assert "Ir a la página para conectarse" in body
    assert join_url_of(reg) in body


# --- Jitsi embedded ------------------------------------------------------------------------------


def test_jitsi_embed_has_its_own_csp(app: Any, client: Any, published_session: Any) -> None:
    s = published_session()
    use_jitsi(s)
    reg = register(s)
    room = JitsiProvider.room_name(s)
    # Not before the window: neither the room page nor the room name.
    move(s, timedelta(hours=1))
    assert room not in client.get(join_url_of(reg)).get_data(as_text=True)
    resp = client.get(join_url_of(reg, "/sala"))
    assert resp.status_code == 302 and room not in resp.get_data(as_text=True)

    move(s, timedelta(minutes=5))
    resp = post_join(client, reg)
    assert resp.status_code == 303
    assert resp.headers["Location"].endswith(join_url_of(reg, "/sala"))
    resp = client.get(join_url_of(reg, "/sala"))
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert f'src="https://meet.jit.si/{room}"' in body
    assert 'allow="camera; microphone; display-capture; fullscreen"' in body
    assert "Abrir en una pestaña nueva" in body
    csp = resp.headers["Content-Security-Policy"]
    frame_src = [d for d in csp.split("; ") if d.startswith("frame-src")]
    assert frame_src == ["frame-src https://meet.jit.si"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert resp.headers["Cache-Control"] == "no-store"
    # Other pages keep the global policy.
    other = client.get(join_url_of(reg)).headers["Content-Security-Policy"]
    assert "frame-src 'self'" in other and "meet.jit.si" not in other
    db.session.expire_all()
    assert db.session.get(Registration, reg.id).joined_at is not None


def test_jitsi_base_url_is_a_setting(app: Any, client: Any, published_session: Any) -> None:
    s = published_session()
    use_jitsi(s)
    reg = register(s)
    move(s, timedelta(minutes=5))
    app.config["JITSI_BASE_URL"] = "https://video.municipio.cl/jitsi"
    try:
        resp = client.get(join_url_of(reg, "/sala"))
        assert f"https://video.municipio.cl/jitsi/{JitsiProvider.room_name(s)}" in resp.get_data(as_text=True)
        assert "frame-src https://video.municipio.cl;" in resp.headers["Content-Security-Policy"] + ";"
    finally:
        app.config["JITSI_BASE_URL"] = "https://meet.jit.si"


# --- staff host page -----------------------------------------------------------------------------


@pytest.fixture
def joined_session(client: Any, world: Any, published_session: Any) -> Any:
    s = published_session()
    a, b = register(s, 1), register(s, 2)
    a.person.first_names = "Ana María"
    b.person.first_names = "Bruno"
    db.session.commit()
    move(s, timedelta(minutes=5))
    services.record_join(a)
    return s


def test_host_page_lists_who_joined(client: Any, world: Any, joined_session: Any) -> None:
    login(client, world.host_staff.email)
    resp = client.get(f"/gestion/sesiones/{joined_session.id}/conexion")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert ZOOM in body
    assert "Ana María" in body and "Bruno" not in body
    assert "Rojas" not in body and "camila" not in body  # no other personal data
    assert "se actualiza sola" in body and 'aria-live="polite"' in body
    assert resp.headers["Cache-Control"] == "no-store"
    fragment = client.get(f"/gestion/sesiones/{joined_session.id}/conexion/conectados")
    text = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "Ana María" in text and "<html" not in text
    assert fragment.headers["Cache-Control"] == "no-store"


def test_host_page_permissions(client: Any, world: Any, joined_session: Any) -> None:
    url = f"/gestion/sesiones/{joined_session.id}/conexion"
    assert client.get(url).status_code in (302, 401)
    login(client, world.other_staff.email)
    assert client.get(url).status_code == 403
    assert client.get("/gestion/sesiones/999999/conexion").status_code == 404
    assert client.get(f"{url}/conectados").status_code == 403
    assert client.get("/gestion/sesiones/999999/conexion/conectados").status_code == 404


def test_the_join_form_may_redirect_to_the_provider_only_while_the_window_is_open(
        client: Any, published_session: Any) -> None:
    s = published_session()
    reg = register(s)
    move(s, timedelta(hours=3))
    before = client.get(join_url_of(reg)).headers["Content-Security-Policy"]
    assert "form-action 'self';" in before + ";" and "zoom.us" not in before
    move(s, timedelta(minutes=5))
    during = client.get(join_url_of(reg)).headers["Content-Security-Policy"]
    assert "form-action 'self' https://us02web.zoom.us" in during
    assert "script-src 'self'" in during and "frame-ancestors 'none'" in during


def test_opening_the_room_page_does_not_by_itself_count_as_joining(client: Any, published_session: Any) -> None:
    """Only the join button (a POST) records attendance: a link preview fetching /sala does not."""
    s = published_session()
    use_jitsi(s)
    reg = register(s)
    move(s, timedelta(minutes=5))
    assert client.get(join_url_of(reg, "/sala")).status_code in (200, 302)
    db.session.expire_all()
    assert db.session.get(type(reg), reg.id).joined_at is None
    post_join(client, reg)
    db.session.expire_all()
    assert db.session.get(type(reg), reg.id).joined_at is not None
