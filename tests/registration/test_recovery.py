""""Mis inscripciones": links sent again, only to the contact on file, the same answer for all."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.extensions import db, limiter
from app.outbox.models import OutboxMessage
from app.outbox.rendering import render_now
from app.registration import services
from app.registration.models import Source
from tests.conftest import csrf_from
from tests.registration.conftest import make_rut, person_input

URL = "/mis-inscripciones"


def ask(client: Any, who: str) -> Any:
    token = csrf_from(client.get(URL).get_data(as_text=True))
    return client.post(URL, data={"who": who, "csrf_token": token})


def main(resp: Any) -> str:
    return resp.get_data(as_text=True).split("<main", 1)[1].split("</main>", 1)[0]


def links_sent() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "registration_links")
                                   .order_by(OutboxMessage.id)))


def test_the_page_asks_for_a_rut_email_or_phone(client):
    resp = client.get(URL)
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert "Mis inscripciones" in page and 'name="who"' in page and "<script" not in page


def test_a_known_rut_sends_every_registration_to_the_contact_on_file(client, published_session, world):
    s1, s2 = published_session(), published_session()
    r1 = services.register(s1.id, person_input(1)).registration
    r2 = services.register(s2.id, person_input(1, email="otro@example.cl"), source=Source.STAFF,
                           office=world.host, staff_user=world.host_staff).registration
    ask(client, make_rut(1).replace("-", ""))
    [msg] = links_sent()
    assert msg.recipient == "camila1@example.cl"  # typed: a RUT; sent: to the contact on file
    body = render_now(msg).body_text
    assert "Hola Camila" in body
    assert services.personal_url(r1) in body and services.personal_url(r2) in body


def test_the_answer_is_the_same_for_known_unknown_rut_email_and_phone(client, published_session):
    s = published_session()
    services.register(s.id, person_input(1))
    answers = [ask(client, who) for who in (make_rut(1), make_rut(2), "camila1@example.cl", "nadie@example.cl",
                                            "9 1111 2222")]
    assert {a.status_code for a in answers} == {200}
    assert len({main(a) for a in answers}) == 1
    assert [m.recipient for m in links_sent()] == ["camila1@example.cl"]  # once: at most one per ten minutes


def test_a_typed_email_shared_by_two_people_sends_each_their_own_list_naming_them(client, published_session):
    s = published_session()
    services.register(s.id, person_input(1, first_names="Pedro", email="casa@example.cl"))
    services.register(s.id, person_input(2, first_names="María", email="casa@example.cl"))
    ask(client, "CASA@example.cl")
    bodies = [render_now(m).body_text for m in links_sent()]
    assert len(bodies) == 2
    assert "Hola Pedro" in bodies[0] and "para Pedro" in bodies[0]
    assert "Hola María" in bodies[1]


def test_something_that_is_no_rut_email_or_phone_gets_a_clear_message(client):
    resp = ask(client, "hola")
    assert resp.status_code == 400
    assert "Escriba un RUT (como 12.345.678-5)" in resp.get_data(as_text=True)
    assert 'value="hola"' in resp.get_data(as_text=True)
    empty = ask(client, "   ")
    assert empty.status_code == 400 and "Escriba su RUT, su correo o su celular." in empty.get_data(as_text=True)


def test_asking_is_rate_limited_per_address(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "RECOVERY_RATE_LIMIT", "2 per minute")
    limiter.reset()
    codes = [ask(client, make_rut(n)).status_code for n in range(3)]
    assert codes == [200, 200, 429]
