"""Login, logout, password reset: clear answers, nothing half-written."""

from __future__ import annotations

import re

from app.accounts.models import User
from app.audit.models import AuditEvent
from app.extensions import db
from app.outbox.models import OutboxMessage
from tests.conftest import count, get_csrf, login


def test_wrong_password_is_refused_with_a_clear_message_and_keeps_the_email(client, factory):
    user = factory.user(email="ana@example.cl")
    resp = login(client, user.email, "no-es-la-clave")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "El correo o la contraseña no son correctos." in body
    assert 'value="ana@example.cl"' in body


def test_unknown_email_gets_the_same_answer_as_a_wrong_password(client):
    resp = login(client, "nadie@example.cl", "cualquier-clave")
    assert resp.status_code == 400
    assert "El correo o la contraseña no son correctos." in resp.get_data(as_text=True)


def test_inactive_account_cannot_log_in(client, factory):
    user = factory.user(active=False)
    assert login(client, user.email).status_code == 400


def test_empty_login_form_shows_errors_next_to_fields_and_in_summary(client):
    token = get_csrf(client)
    resp = client.post("/cuenta/ingresar", data={"csrf_token": token})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "Hay un problema" in body
    assert body.count("Escriba su correo electrónico.") == 2  # summary + next to the field


def test_login_without_csrf_token_gets_400_with_spanish_message(client, factory):
    user = factory.user()
    resp = client.post("/cuenta/ingresar", data={"email": user.email, "password": factory.password})
    assert resp.status_code == 400
    assert "código de seguridad" in resp.get_data(as_text=True)


def test_login_is_rate_limited_with_a_clear_message(client, factory, app):
    user = factory.user(email="rita@example.cl")
    for _ in range(10):
        login(client, user.email, "equivocada-123")
    resp = login(client, user.email, factory.password)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 429
    assert "Espere 5 minutos" in body
    assert 'value="rita@example.cl"' in body


def test_login_records_an_audit_event_without_personal_data(client, factory):
    user = factory.user(email="audit@example.cl")
    login(client, user.email)
    event = db.session.query(AuditEvent).filter_by(action="auth.login").one()
    assert event.user_id == user.id
    assert "audit@example.cl" not in event.summary


def test_logout_needs_post_and_ends_the_session(client, logged_in):
    logged_in()
    assert client.get("/cuenta/salir").status_code == 405
    token = get_csrf(client, "/gestion/")
    assert client.post("/cuenta/salir", data={"csrf_token": token}).status_code == 302
    assert client.get("/gestion/").status_code == 302


def test_login_redirect_never_leaves_the_site(client, factory):
    user = factory.user()
    token = get_csrf(client)
    resp = client.post("/cuenta/ingresar?next=//evil.example/", data={
        "email": user.email, "password": factory.password, "csrf_token": token})
    assert resp.status_code == 302
    assert "evil.example" not in resp.headers["Location"]


def _reset_link(msg: OutboxMessage) -> str:
    match = re.search(r"http://localhost(/cuenta/contrasena/\S+)", msg.body_text)
    assert match
    return match.group(1)


def test_password_reset_sends_a_link_that_works_once(client, factory):
    user = factory.user(email="olvido@example.cl")
    token = get_csrf(client, "/cuenta/olvide-mi-contrasena")
    resp = client.post("/cuenta/olvide-mi-contrasena", data={"email": "OLVIDO@example.cl", "csrf_token": token})
    assert resp.status_code == 302
    msg = db.session.query(OutboxMessage).filter_by(kind="password_reset").one()
    assert msg.recipient == "olvido@example.cl"
    link = _reset_link(msg)
    page = client.get(link)
    assert page.status_code == 200
    new = "una-clave-nueva-larga"
    resp = client.post(link, data={"password": new, "confirm": new,
                                   "csrf_token": get_csrf(client, link)})
    assert resp.status_code == 302
    assert login(client, user.email, new).status_code == 302
    again = client.get(link)
    assert again.status_code == 410


def test_password_reset_for_unknown_email_says_the_same_and_sends_nothing(client):
    token = get_csrf(client, "/cuenta/olvide-mi-contrasena")
    resp = client.post("/cuenta/olvide-mi-contrasena", data={"email": "nadie@example.cl", "csrf_token": token})
    assert resp.status_code == 302
    assert count(OutboxMessage) == 0


def test_tampered_reset_link_is_refused_with_a_message(client):
    resp = client.get("/cuenta/contrasena/esto-no-es-un-token")
    assert resp.status_code == 400
    assert "no es válido" in resp.get_data(as_text=True)


def test_mismatched_new_passwords_keep_the_user_on_the_form(client, factory):
    factory.user(email="dos@example.cl")
    token = get_csrf(client, "/cuenta/olvide-mi-contrasena")
    client.post("/cuenta/olvide-mi-contrasena", data={"email": "dos@example.cl", "csrf_token": token})
    link = _reset_link(db.session.query(OutboxMessage).one())
    resp = client.post(link, data={"password": "una-clave-nueva-larga", "confirm": "otra-distinta-123",
                                   "csrf_token": get_csrf(client, link)})
    assert resp.status_code == 400
    assert "no coinciden" in resp.get_data(as_text=True)
    assert count(User) == 1
