"""Staff see the room's state and the provider's reason on the session's page, retry, or
switch the session to a link pasted by hand."""

from __future__ import annotations

from typing import Any

from app.conferencing.models import RoomStatus
from app.conferencing.tasks import sync_room_task
from tests.conferencing.conftest import FakeZoom
from tests.conferencing.test_room_lifecycle import the_room, zoom_workshop
from tests.conftest import csrf_from


def edit_page(w: Any, session: Any) -> str:
    return f"/gestion/talleres/{w.activity_id}/sesiones/{session.id}/editar"


def test_the_session_page_shows_the_failure_and_offers_a_retry(client: Any, logged_in: Any, world: Any,
                                                               zoom_settings: FakeZoom, settings: Any) -> None:
    settings(ZOOM_CLIENT_SECRET="wrong-secret-value")
    w = zoom_workshop(world)
    session = w.activity.sessions[0]
    sync_room_task.call_local(the_room(session).id)
    from tests.conftest import login

    login(client, world.host_staff.email)
    body = client.get(edit_page(w, session)).get_data(as_text=True)
    assert "Conexión en línea" in body
    assert "No se pudo preparar la sala." in body
    assert "Zoom rechazó las credenciales" in body
    assert "Reintentar ahora" in body
    resp = client.post(f"/gestion/sesiones/{session.id}/conexion/reintentar",
                       data={"csrf_token": csrf_from(body), "next": edit_page(w, session)})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(edit_page(w, session))
    assert the_room(session).status == RoomStatus.PENDING
    listing = client.get(f"/gestion/talleres/{w.activity_id}").get_data(as_text=True)
    assert "Zoom (sala creada automáticamente)" in listing and "En cola" in listing
    assert f"/gestion/sesiones/{session.id}/conexion" in listing


def test_pasting_a_link_by_hand(client: Any, world: Any, zoom_settings: FakeZoom) -> None:
    from tests.conftest import login

    w = zoom_workshop(world)
    session = w.activity.sessions[0]
    login(client, world.host_staff.email)
    host = f"/gestion/sesiones/{session.id}/conexion"
    token = csrf_from(client.get(host).get_data(as_text=True))
    resp = client.post(host + "/proveedor", data={"csrf_token": token, "provider": "link",
                                                  "join_url": "http://inseguro.example/x"})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "debe ser una dirección https://" in body
    assert "http://inseguro.example/x" in body  # what was typed is kept
    resp = client.post(host + "/proveedor", data={"csrf_token": token, "provider": "teams"})
    assert resp.status_code == 400 and "no está disponible" in resp.get_data(as_text=True)
    resp = client.post(host + "/proveedor", data={"csrf_token": token, "provider": "link",
                                                  "join_url": "https://teams.microsoft.com/l/meetup-join/abc",
                                                  "next": "//evil.example/"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(host)  # no open redirect
    assert session.join_provider == "link"


def test_only_editors_change_the_connection(client: Any, world: Any, zoom_settings: FakeZoom) -> None:
    from tests.conftest import login

    w = zoom_workshop(world)
    session = w.activity.sessions[0]
    login(client, world.other_staff.email)
    host = f"/gestion/sesiones/{session.id}/conexion"
    assert client.get(host).status_code == 403
    token = csrf_from(client.get("/gestion/talleres/").get_data(as_text=True))  # any page's token
    resp = client.post(host + "/proveedor", data={"provider": "jitsi", "csrf_token": token})
    assert resp.status_code == 403
    assert client.post(host + "/reintentar", data={"csrf_token": token}).status_code == 403
    assert session.join_provider == "zoom"
