"""Team pages: /gestion/oficinas/<id>/equipo and /gestion/sence/<id>/equipo."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select, text

from app.accounts.models import Invitation, Role, User
from app.audit.models import AuditEvent
from app.extensions import db
from app.outbox.models import OutboxMessage
from tests.conftest import count, get_csrf


@pytest.fixture
def post(client: Any) -> Any:
    def _post(url: str, data: dict[str, Any]) -> Any:
        return client.post(url, data={**data, "csrf_token": get_csrf(client, "/gestion/")})

    return _post


def _text(resp: Any) -> str:
    return resp.get_data(as_text=True)


def _invite(post: Any, url: str, name: str = "Ana Pérez", email: str = "ana@municipio.cl") -> Any:
    return post(url, {"name": name, "email": email})


# --- seeing the team -----------------------------------------------------------------------


def test_own_office_staff_sees_team_and_invitation_form(client, factory, logged_in):
    office = factory.office()
    factory.user(office=office, name="Colega Uno", email="colega@municipio.cl")
    logged_in(office=office)
    resp = client.get(f"/gestion/oficinas/{office.id}/equipo")
    body = _text(resp)
    assert resp.status_code == 200
    assert "Colega Uno" in body and "colega@municipio.cl" in body
    assert "Enviar invitación" in body
    assert body.count("<h1>") == 1


def test_staff_of_another_office_cannot_see_team(client, factory, logged_in):
    office = factory.office()
    logged_in(office=factory.office())
    assert client.get(f"/gestion/oficinas/{office.id}/equipo").status_code == 403


def test_staff_of_a_fellow_member_office_cannot_see_team(client, factory, logged_in):
    mine, theirs = factory.office(), factory.office()
    factory.network(offices=[mine, theirs])
    logged_in(office=mine)
    assert client.get(f"/gestion/oficinas/{theirs.id}/equipo").status_code == 403


def test_coordinator_sees_team_of_a_member_office(client, factory, logged_in):
    mine, theirs = factory.office(), factory.office()
    factory.network(offices=[theirs], coordinator=mine)
    logged_in(office=mine)
    assert client.get(f"/gestion/oficinas/{theirs.id}/equipo").status_code == 200


def test_regional_of_another_region_cannot_see_team(client, factory, logged_in):
    office = factory.office("05101")
    logged_in(role="sence_regional")
    assert client.get(f"/gestion/oficinas/{office.id}/equipo").status_code == 403


def test_unknown_office_team_is_404(client, logged_in):
    logged_in(role="sence_national")
    assert client.get("/gestion/oficinas/987654/equipo").status_code == 404


# --- inviting ------------------------------------------------------------------------------


def test_invitation_creates_invitation_outbox_message_and_audit_event(client, factory,
                                                                      logged_in, post):
    office = factory.office()
    logged_in(office=office)
    resp = _invite(post, f"/gestion/oficinas/{office.id}/equipo")
    assert resp.status_code == 302
    inv = db.session.scalar(select(Invitation))
    assert (inv.email, inv.role, inv.office_id) == ("ana@municipio.cl", Role.OFFICE_STAFF, office.id)
    msg = db.session.scalar(select(OutboxMessage))
    assert msg.dedupe_key == f"invitation:{inv.id}:1" and msg.recipient == "ana@municipio.cl"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "staff.invite"))
    assert event.office_id == office.id and event.region_code == "13"
    assert "ana@" not in event.summary
    page = _text(client.get(resp.headers["Location"]))
    assert "Enviamos la invitación a Ana Pérez" in page
    assert "Invitaciones pendientes" in page and "ana@municipio.cl" in page


def test_delivery_is_kicked_after_the_invitation_is_committed(client, factory, logged_in, post,
                                                              monkeypatch):
    seen: list[int] = []

    def fake_kick() -> None:
        # A separate connection sees only committed rows.
        with db.engine.connect() as conn:
            seen.append(int(conn.execute(text("SELECT COUNT(*) FROM outbox_messages")).scalar()))

    monkeypatch.setattr("app.accounts.staff_views.kick_delivery", fake_kick)
    office = factory.office()
    logged_in(office=office)
    _invite(post, f"/gestion/oficinas/{office.id}/equipo")
    assert seen == [1]


def test_invitation_and_its_email_are_written_in_one_transaction(app, factory, monkeypatch):
    from app.accounts import services

    office = factory.office()
    inviter = factory.user(office=office)

    def broken_record(*_a: Any, **_kw: Any) -> None:
        raise RuntimeError("audit store down")

    monkeypatch.setattr(services, "record", broken_record)
    with app.test_request_context(), pytest.raises(RuntimeError):
        services.invite_staff(inviter=inviter, email="ana@municipio.cl", name="Ana",
                              role=Role.OFFICE_STAFF, office=office)
    db.session.rollback()
    assert count(Invitation) == 0
    assert count(OutboxMessage) == 0


def test_inviting_an_existing_account_is_refused_next_to_the_email(client, factory, logged_in,
                                                                    post):
    office = factory.office()
    factory.user(office=office, email="ya@municipio.cl")
    logged_in(office=office)
    resp = _invite(post, f"/gestion/oficinas/{office.id}/equipo", name="Ya Existe",
                   email="YA@municipio.cl")
    body = _text(resp)
    assert resp.status_code == 409
    assert 'id="email-error"' in body and "Ya existe una cuenta con ese correo." in body
    assert 'value="Ya Existe"' in body
    assert count(Invitation) == 0 and count(OutboxMessage) == 0


def test_inviting_twice_the_same_email_is_refused(client, factory, logged_in, post):
    office = factory.office()
    logged_in(office=office)
    _invite(post, f"/gestion/oficinas/{office.id}/equipo")
    resp = _invite(post, f"/gestion/oficinas/{office.id}/equipo", name="Otra Vez")
    assert resp.status_code == 409
    assert "ya tiene una invitación vigente" in _text(resp)
    assert count(Invitation) == 1 and count(OutboxMessage) == 1


def test_invitation_with_invalid_email_or_no_name_is_refused(client, factory, logged_in, post):
    office = factory.office()
    logged_in(office=office)
    resp = _invite(post, f"/gestion/oficinas/{office.id}/equipo", name="", email="no-es-correo")
    body = _text(resp)
    assert resp.status_code == 400
    assert "Escriba el nombre de la persona." in body
    assert "Escriba un correo válido" in body
    assert count(Invitation) == 0


def test_invitation_with_oversized_name_is_refused(client, factory, logged_in, post):
    office = factory.office()
    logged_in(office=office)
    resp = _invite(post, f"/gestion/oficinas/{office.id}/equipo", name="N" * 10_000)
    assert resp.status_code == 400
    assert "no puede superar 160 caracteres" in _text(resp)
    assert count(Invitation) == 0


def test_staff_of_another_office_cannot_invite(client, factory, logged_in, post):
    office = factory.office()
    logged_in(office=factory.office())
    assert _invite(post, f"/gestion/oficinas/{office.id}/equipo").status_code == 403
    assert count(Invitation) == 0


# --- resending, revoking, deactivating -----------------------------------------------------


def test_resend_queues_a_new_email_with_a_new_link(client, factory, logged_in, post):
    office = factory.office()
    logged_in(office=office)
    _invite(post, f"/gestion/oficinas/{office.id}/equipo")
    inv = db.session.scalar(select(Invitation))
    old_nonce = inv.nonce
    resp = post(f"/gestion/oficinas/{office.id}/equipo/invitaciones/{inv.id}/reenviar", {})
    assert resp.status_code == 302
    db.session.expire_all()
    assert count(OutboxMessage) == 2
    assert db.session.get(Invitation, inv.id).nonce != old_nonce
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "staff.invite_resend"))
    assert event.region_code == "13"


def test_revoke_removes_invitation_from_pending_list(client, factory, logged_in, post):
    office = factory.office()
    logged_in(office=office)
    _invite(post, f"/gestion/oficinas/{office.id}/equipo")
    inv = db.session.scalar(select(Invitation))
    resp = post(f"/gestion/oficinas/{office.id}/equipo/invitaciones/{inv.id}/anular", {})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(Invitation, inv.id).revoked_at is not None
    assert "No hay invitaciones pendientes." in _text(client.get(resp.headers["Location"]))


def test_revoking_twice_says_it_was_already_revoked(client, factory, logged_in, post):
    office = factory.office()
    logged_in(office=office)
    _invite(post, f"/gestion/oficinas/{office.id}/equipo")
    inv = db.session.scalar(select(Invitation))
    url = f"/gestion/oficinas/{office.id}/equipo/invitaciones/{inv.id}/anular"
    post(url, {})
    resp = post(url, {})
    assert resp.status_code == 409
    assert "ya estaba anulada" in _text(resp)


def test_invitation_of_another_office_is_404_on_this_page(client, factory, logged_in, post):
    mine, theirs = factory.office(), factory.office()
    inviter = factory.user(office=theirs)
    from flask import current_app

    from app.accounts.services import invite_staff

    with current_app.test_request_context():
        inv = invite_staff(inviter=inviter, email="b@municipio.cl", name="B",
                           role=Role.OFFICE_STAFF, office=theirs)
    logged_in(office=mine)
    resp = post(f"/gestion/oficinas/{mine.id}/equipo/invitaciones/{inv.id}/anular", {})
    assert resp.status_code == 404


def test_regional_deactivates_office_staff(client, factory, logged_in, post):
    office = factory.office()
    member = factory.user(office=office, name="Persona Saliente")
    logged_in(role="sence_regional")
    page = _text(client.get(f"/gestion/oficinas/{office.id}/equipo"))
    assert "Desactivar" in page
    resp = post(f"/gestion/oficinas/{office.id}/equipo/personas/{member.id}/desactivar", {})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, member.id).active is False


def test_office_staff_cannot_deactivate_a_colleague(client, factory, logged_in, post):
    office = factory.office()
    colleague = factory.user(office=office)
    logged_in(office=office)
    assert "Desactivar" not in _text(client.get(f"/gestion/oficinas/{office.id}/equipo"))
    resp = post(f"/gestion/oficinas/{office.id}/equipo/personas/{colleague.id}/desactivar", {})
    assert resp.status_code == 403
    db.session.expire_all()
    assert db.session.get(User, colleague.id).active is True


# --- SENCE units ---------------------------------------------------------------------------


def test_regional_invites_to_their_direccion_regional(client, factory, logged_in, post):
    user = logged_in(role="sence_regional")
    unit_id = user.sence_unit_id
    assert client.get(f"/gestion/sence/{unit_id}/equipo").status_code == 200
    resp = _invite(post, f"/gestion/sence/{unit_id}/equipo")
    assert resp.status_code == 302
    inv = db.session.scalar(select(Invitation))
    assert (inv.role, inv.sence_unit_id, inv.office_id) == (Role.SENCE_REGIONAL, unit_id, None)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "staff.invite"))
    assert event.region_code == "13"


def test_national_admin_invites_to_the_national_unit(client, factory, logged_in, post):
    user = logged_in(role="sence_national")
    resp = _invite(post, f"/gestion/sence/{user.sence_unit_id}/equipo")
    assert resp.status_code == 302
    assert db.session.scalar(select(Invitation.role)) == Role.SENCE_NATIONAL


def test_regional_cannot_see_another_regions_unit(client, factory, logged_in):
    other = factory.sence_unit("05")
    logged_in(role="sence_regional")
    assert client.get(f"/gestion/sence/{other.id}/equipo").status_code == 403


def test_regional_cannot_invite_to_the_national_unit(client, factory, logged_in, post):
    national = factory.sence_unit(None)
    logged_in(role="sence_regional")
    assert _invite(post, f"/gestion/sence/{national.id}/equipo").status_code == 403
    assert db.session.scalar(select(func.count()).select_from(Invitation)) == 0


def test_office_staff_cannot_see_sence_team(client, factory, logged_in):
    unit = factory.sence_unit("13")
    logged_in()
    assert client.get(f"/gestion/sence/{unit.id}/equipo").status_code == 403
