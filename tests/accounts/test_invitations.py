"""Staff invitations: signed, expiring, single-use links sent through the outbox."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app.accounts import services
from app.accounts.models import Invitation, Role, User
from app.extensions import db
from app.outbox.models import OutboxMessage
from app.timeutil import utcnow
from tests.conftest import count, get_csrf


def _link(inv: Invitation) -> str:
    msg = db.session.query(OutboxMessage).filter(OutboxMessage.dedupe_key.like(f"invitation:{inv.id}:%")).first()
    assert msg is not None
    match = re.search(r"http://localhost(/cuenta/invitacion/\S+)", msg.body_text)
    assert match
    return match.group(1)


@pytest.fixture
def invitation(factory):
    office = factory.office("13120")
    inviter = factory.user(office=office)
    return services.invite_staff(inviter=inviter, email="Nueva@Example.cl", name="Nueva Persona",
                                 role=Role.OFFICE_STAFF, office=office)


def test_invitation_and_its_email_are_written_together(invitation):
    assert invitation.email == "nueva@example.cl"
    msg = db.session.query(OutboxMessage).one()
    assert msg.kind == "invitation"
    assert msg.recipient == "nueva@example.cl"
    assert msg.office_id == invitation.office_id


def test_accepting_an_invitation_creates_the_account_and_logs_in(client, invitation):
    link = _link(invitation)
    page = client.get(link)
    assert page.status_code == 200
    resp = client.post(link, data={"name": "Nueva Persona", "password": "clave-segura-123",
                                   "confirm": "clave-segura-123", "csrf_token": get_csrf(client, link)})
    assert resp.status_code == 302
    user = db.session.query(User).filter_by(email="nueva@example.cl").one()
    assert user.office_id == invitation.office_id
    assert client.get("/gestion/").status_code == 200


def test_an_invitation_link_works_only_once(client, invitation):
    link = _link(invitation)
    data = {"name": "X", "password": "clave-segura-123", "confirm": "clave-segura-123",
            "csrf_token": get_csrf(client, link)}
    assert client.post(link, data=data).status_code == 302
    client.post("/cuenta/salir", data={"csrf_token": get_csrf(client, "/gestion/")})
    again = client.get(link)
    assert again.status_code == 410
    assert "ya fue usada" in again.get_data(as_text=True)


def test_a_tampered_invitation_link_is_refused(client, invitation):
    link = _link(invitation)
    resp = client.get(link[:-3] + "abc")
    assert resp.status_code == 400
    assert "no es válido" in resp.get_data(as_text=True)


def test_an_expired_invitation_link_is_refused(client, invitation):
    link = _link(invitation)
    invitation.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    resp = client.get(link)
    assert resp.status_code == 410
    assert "venció" in resp.get_data(as_text=True)


def test_a_short_password_keeps_the_form_and_creates_nothing(client, invitation):
    link = _link(invitation)
    resp = client.post(link, data={"name": "Nueva", "password": "corta", "confirm": "corta",
                                   "csrf_token": get_csrf(client, link)})
    assert resp.status_code == 400
    assert "entre 10 y 200 caracteres" in resp.get_data(as_text=True)
    assert count(User) == 1  # only the inviter


def test_inviting_an_existing_email_is_refused(factory):
    office = factory.office()
    inviter = factory.user(office=office, email="ya@example.cl")
    with pytest.raises(services.AccountError) as err:
        services.invite_staff(inviter=inviter, email="YA@example.cl", name="Ya", role=Role.OFFICE_STAFF,
                              office=office)
    assert err.value.field == "email"
    assert count(Invitation) == 0


def test_inviting_twice_while_the_first_is_pending_is_refused(invitation, factory):
    inviter = db.session.get(User, invitation.invited_by_id)
    with pytest.raises(services.AccountError):
        services.invite_staff(inviter=inviter, email="nueva@example.cl", name="Otra vez",
                              role=Role.OFFICE_STAFF, office=invitation.office)
    assert count(Invitation) == 1
    assert count(OutboxMessage) == 1


def test_resending_makes_a_new_link_and_kills_the_old_one(client, invitation):
    old = _link(invitation)
    inviter = db.session.get(User, invitation.invited_by_id)
    services.resend_invitation(invitation, inviter)
    assert count(OutboxMessage) == 2
    assert client.get(old).status_code == 400
