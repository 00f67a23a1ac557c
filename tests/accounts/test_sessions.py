"""A session ends for real: a copied cookie stops working after logout, a password change
or reset, and "cerrar las demás sesiones" ends every other session but the current one."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from app.accounts import services
from app.accounts.models import User
from app.audit.models import AuditEvent
from app.extensions import db
from app.outbox.models import OutboxMessage
from tests.conftest import get_csrf, login

NEW = "una-clave-nueva-larga"


def _copy_of(client: FlaskClient, app: Flask) -> FlaskClient:
    """Another browser holding a copy of ``client``'s session cookie."""
    other = app.test_client()
    cookie = client.get_cookie("session")
    assert cookie is not None
    other.set_cookie("session", cookie.value)
    return other


def _is_in(client: FlaskClient) -> bool:
    resp = client.get("/cuenta/")
    assert resp.status_code in (200, 302)
    return resp.status_code == 200


def _reset_link(client: FlaskClient, email: str) -> str:
    client.post("/cuenta/olvide-mi-contrasena", data={
        "email": email, "csrf_token": get_csrf(client, "/cuenta/olvide-mi-contrasena")})
    msg = db.session.query(OutboxMessage).filter_by(kind="password_reset").one()
    match = re.search(r"http://localhost(/cuenta/contrasena/\S+)", msg.body_text)
    assert match
    return match.group(1)


def test_a_copied_cookie_stops_working_after_logout(app, client, logged_in):
    logged_in()
    copy = _copy_of(client, app)
    assert _is_in(copy)
    client.post("/cuenta/salir", data={"csrf_token": get_csrf(client, "/cuenta/")})
    assert not _is_in(client)
    assert not _is_in(copy)


def test_logout_is_audited_and_says_other_devices_were_logged_out_too(client, logged_in):
    user = logged_in()
    resp = client.post("/cuenta/salir", data={"csrf_token": get_csrf(client, "/cuenta/")},
                       follow_redirects=True)
    assert "allí también se cerró" in resp.get_data(as_text=True)
    assert db.session.query(AuditEvent).filter_by(action="auth.logout", user_id=user.id).count() == 1


def test_a_copied_cookie_stops_working_after_a_password_reset(app, client, logged_in):
    user = logged_in()
    copy = _copy_of(client, app)
    browser = app.test_client()  # the reset is done elsewhere, e.g. from the email on a phone
    link = _reset_link(browser, user.email)
    resp = browser.post(link, data={"password": NEW, "confirm": NEW,
                                    "csrf_token": get_csrf(browser, link)})
    assert resp.status_code == 302
    assert not _is_in(copy)
    assert not _is_in(client)
    assert login(browser, user.email, NEW).status_code == 302


def test_a_password_reset_revokes_every_api_token_and_says_so_first(app, client, factory):
    user = factory.user(email="perdida@example.cl")
    _token, secret = services.create_api_token(user, "del intruso")
    link = _reset_link(client, user.email)
    assert "se revocarán sus tokens de la API" in client.get(link).get_data(as_text=True)
    client.post(link, data={"password": NEW, "confirm": NEW, "csrf_token": get_csrf(client, link)})
    assert services.user_for_api_token(secret) is None
    event = db.session.query(AuditEvent).filter_by(action="auth.password_reset").one()
    assert event.summary == "tokens_revocados=1"


def test_a_copied_cookie_stops_working_after_a_password_change_but_this_session_stays(
        app, client, logged_in):
    user = logged_in()
    copy = _copy_of(client, app)
    resp = client.post("/cuenta/cambiar-contrasena", data={
        "current": "clave-de-prueba-123", "password": NEW, "confirm": NEW,
        "csrf_token": get_csrf(client, "/cuenta/")}, follow_redirects=True)
    assert resp.status_code == 200
    assert "Cambió su contraseña" in resp.get_data(as_text=True)
    assert _is_in(client)
    assert not _is_in(copy)
    assert login(app.test_client(), user.email, NEW).status_code == 302
    assert db.session.query(AuditEvent).filter_by(action="auth.password_change").count() == 1


def test_a_password_change_keeps_api_tokens(client, logged_in):
    user = logged_in()
    _token, secret = services.create_api_token(user, "planilla")
    client.post("/cuenta/cambiar-contrasena", data={
        "current": "clave-de-prueba-123", "password": NEW, "confirm": NEW,
        "csrf_token": get_csrf(client, "/cuenta/")})
    assert services.user_for_api_token(secret) is not None


def test_a_wrong_current_password_changes_nothing_and_says_why_next_to_the_field(
        app, client, logged_in):
    user = logged_in()
    copy = _copy_of(client, app)
    before = db.session.get(User, user.id).password_hash
    resp = client.post("/cuenta/cambiar-contrasena", data={
        "current": "no-es-la-actual", "password": NEW, "confirm": NEW,
        "csrf_token": get_csrf(client, "/cuenta/")})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert body.count("La contraseña actual no es correcta.") == 2  # summary + next to the field
    db.session.expire_all()
    assert db.session.get(User, user.id).password_hash == before
    assert _is_in(copy)


def test_a_short_new_password_is_refused_on_the_account_page(client, logged_in):
    logged_in()
    resp = client.post("/cuenta/cambiar-contrasena", data={
        "current": "clave-de-prueba-123", "password": "corta", "confirm": "corta",
        "csrf_token": get_csrf(client, "/cuenta/")})
    assert resp.status_code == 400
    assert "entre 10 y 200 caracteres" in resp.get_data(as_text=True)


def test_ending_other_sessions_kills_another_clients_session_but_not_this_one(
        app, client, logged_in):
    user = logged_in()
    phone = app.test_client()
    assert login(phone, user.email).status_code == 302
    copy = _copy_of(client, app)
    resp = client.post("/cuenta/sesiones/cerrar-otras",
                       data={"csrf_token": get_csrf(client, "/cuenta/")}, follow_redirects=True)
    assert resp.status_code == 200
    assert "Esta sigue abierta" in resp.get_data(as_text=True)
    assert _is_in(client)
    assert not _is_in(phone)
    assert not _is_in(copy)
    event = db.session.query(AuditEvent).filter_by(action="auth.sessions_ended").one()
    assert event.user_id == user.id


def test_ending_other_sessions_keeps_api_tokens(client, logged_in):
    user = logged_in()
    _token, secret = services.create_api_token(user, "planilla")
    client.post("/cuenta/sesiones/cerrar-otras", data={"csrf_token": get_csrf(client, "/cuenta/")})
    assert services.user_for_api_token(secret) is not None


def test_ending_other_sessions_needs_a_post_with_the_security_code(app, client, logged_in):
    logged_in()
    phone = _copy_of(client, app)
    assert client.get("/cuenta/sesiones/cerrar-otras").status_code == 405
    assert client.post("/cuenta/sesiones/cerrar-otras").status_code == 400
    assert _is_in(phone)


def test_the_account_page_offers_ending_other_sessions_as_a_secondary_button(client, logged_in):
    logged_in()
    body = client.get("/cuenta/").get_data(as_text=True)
    assert re.search(r'class="button button-secondary">Cerrar las demás sesiones<', body)


def test_a_session_cookie_without_a_version_loads_nobody(app, client, logged_in):
    user = logged_in()
    with client.session_transaction() as sess:
        sess["_user_id"] = str(user.id)  # the shape cookies had before versions
    assert not _is_in(client)


def test_the_api_refuses_a_copied_session_after_logout(app, client, logged_in):
    logged_in()
    copy = _copy_of(client, app)
    assert copy.get("/api/v1/me").status_code == 200
    client.post("/cuenta/salir", data={"csrf_token": get_csrf(client, "/cuenta/")})
    assert copy.get("/api/v1/me").status_code == 401


def test_a_deactivated_account_stays_out_even_if_it_is_turned_back_on(app, client, logged_in, factory):
    member = logged_in()
    copy = _copy_of(client, app)
    admin = factory.user("sence_national")
    services.deactivate_user(db.session.get(User, member.id), admin)
    assert not _is_in(copy)
    db.session.get(User, member.id).active = True
    db.session.commit()
    assert not _is_in(copy)
