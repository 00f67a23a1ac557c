"""A document is a person, a phone is not: shared contacts, held registrations confirmed from
the contact on file, one answer for everyone, and bad input told in plain Spanish."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from app.activities.models import ActivitySession
from app.extensions import db
from app.outbox.models import OutboxMessage
from app.outbox.rendering import render_now
from app.people.models import Person
from app.people.services import PersonError, clean_person, normalise_phone, shared_contacts
from app.registration import holds, services
from app.registration.models import Registration, RegistrationHold, RegistrationStatus, Source
from app.timeutil import utcnow
from tests.conftest import count, csrf_from
from tests.registration.conftest import make_rut, person_input
from tests.registration.test_public_form import form_data, url

PHONE = "+56 9 8765 4321"


def post(client: Any, session: Any, n: int = 1, **kw: Any) -> Any:
    token = csrf_from(client.get(url(session)).get_data(as_text=True))
    return client.post(url(session), data={**form_data(n, **kw), "csrf_token": token})


def main(resp: Any) -> str:
    return resp.get_data(as_text=True).split("<main", 1)[1].split("</main>", 1)[0]


def messages(kind: str) -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)
                                   .order_by(OutboxMessage.id)))


def seats(session: Any) -> int:
    db.session.expire_all()
    return db.session.get(ActivitySession, session.id).confirmed_count


def confirm_link(msg: OutboxMessage) -> str:
    body = render_now(msg).body_text
    match = re.search(r"http://localhost(/inscripcion/confirmar/\S+)", body)
    assert match, body
    return match.group(1)


# --- a household phone ---------------------------------------------------------------------------


def test_two_people_sharing_a_phone_stay_two_people_with_their_own_name_rut_and_link(client, published_session):
    s = published_session()
    post(client, s, 1, first_names="Pedro", email="", phone=PHONE, preferred_channel="whatsapp")
    post(client, s, 2, first_names="María", email="", phone="9 8765 4321", preferred_channel="whatsapp")
    people = {p.first_names: p for p in db.session.scalars(select(Person))}
    assert set(people) == {"Pedro", "María"}
    assert people["María"].document_number == make_rut(2) and people["María"].phone == "+56987654321"
    assert count(Registration) == 2
    sent = messages("registration_confirmation")
    assert [m.recipient for m in sent] == ["+56987654321", "+56987654321"]
    bodies = [render_now(m).body_text for m in sent]
    assert "Pedro" in bodies[0] and "María" in bodies[1]  # a shared phone: each message says whose it is
    links = [re.search(r"/inscripcion/\S+", b).group(0) for b in bodies]
    assert links[0] != links[1]
    assert shared_contacts(list(people.values())) == {people["Pedro"].id: {"phone"}, people["María"].id: {"phone"}}


def test_a_contact_on_file_for_one_person_only_is_not_shared(published_session):
    s = published_session()
    services.register(s.id, person_input(1))
    services.register(s.id, person_input(2))
    assert shared_contacts(list(db.session.scalars(select(Person)))) == {}


# --- a known document: held, confirmed from the contact on file ----------------------------------


def test_a_stranger_with_a_known_rut_gets_the_same_page_as_a_newcomer_and_books_nothing(client, published_session):
    s = published_session(capacity=5)
    services.register(s.id, person_input(1))  # Camila, camila1@example.cl, already in another...
    other = published_session(capacity=5)
    newcomer = post(client, other, 2, email="x@example.cl")
    stranger = post(client, other, 1, first_names="Intruso", email="x@example.cl")
    assert newcomer.status_code == stranger.status_code == 200
    assert main(newcomer) == main(stranger)  # nothing tells the RUT was known
    camila = db.session.scalars(select(Person).where(Person.document_number == make_rut(1))).one()
    assert camila.first_names == "Camila" and camila.email == "camila1@example.cl"  # unchanged
    assert db.session.scalar(select(Registration).where(Registration.person_id == camila.id,
                                                        Registration.session_id == other.id)) is None
    hold = db.session.scalars(select(RegistrationHold)).one()
    assert hold.person_id == camila.id and hold.holds_seat and seats(other) == 2
    [msg] = messages("registration_hold")
    assert msg.recipient == "camila1@example.cl"  # the contact on file, never the one typed
    body = render_now(msg).body_text
    assert "Hola Camila" in body and "Si no fue usted" in body


def test_opening_the_confirmation_link_books_nothing_and_pressing_the_button_registers(client, published_session):
    s = published_session(capacity=5)
    services.register(s.id, person_input(1))
    other = published_session(capacity=5)
    post(client, other, 1)
    link = confirm_link(messages("registration_hold")[0])
    page = client.get(link)  # a link preview or a mail scanner
    assert page.status_code == 200 and "Confirmar mi inscripción" in page.get_data(as_text=True)
    assert count(Registration) == 1
    token = csrf_from(page.get_data(as_text=True))
    done = client.post(link, data={"csrf_token": token})
    assert done.status_code == 303 and "/listo" in done.headers["Location"]
    reg = db.session.scalars(select(Registration).where(Registration.session_id == other.id)).one()
    assert reg.status == RegistrationStatus.CONFIRMED and reg.source == Source.PUBLIC
    assert seats(other) == 1  # the held seat became the registration's, counted once
    assert count(RegistrationHold) == 0
    assert [m.recipient for m in messages("registration_confirmation")][-1] == "camila1@example.cl"
    again = client.get(link)  # a second tap: their page, not an error
    assert again.status_code == 303 and "/inscripcion/" in again.headers["Location"]


def test_a_hold_not_confirmed_in_time_gives_its_seat_to_the_waitlist(app, published_session):
    s = published_session(capacity=1)
    first = services.register(s.id, person_input(1)).registration
    services.cancel(first)  # Camila is known, her seat is free again
    assert services.register(s.id, person_input(1)).held  # someone types her RUT: the seat is held
    waiting = services.register(s.id, person_input(2)).registration
    assert waiting.status == RegistrationStatus.WAITLISTED
    db.session.execute(update(RegistrationHold).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    from app.registration.tasks import release_expired_holds

    assert release_expired_holds.call_local() == 1
    db.session.expire_all()
    assert db.session.get(Registration, waiting.id).status == RegistrationStatus.CONFIRMED
    assert count(RegistrationHold) == 0 and seats(s) == 1
    assert messages("registration_promoted")


def test_a_full_session_frees_expired_holds_before_waitlisting_a_newcomer(published_session):
    s = published_session(capacity=1)
    services.cancel(services.register(s.id, person_input(1)).registration)
    services.register(s.id, person_input(1))  # held
    db.session.execute(update(RegistrationHold).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    newcomer = services.register(s.id, person_input(2)).registration
    assert newcomer.status == RegistrationStatus.CONFIRMED and count(RegistrationHold) == 0 and seats(s) == 1


def test_an_expired_confirmation_link_says_so_and_releases_the_seat(client, published_session):
    s = published_session(capacity=3)
    services.cancel(services.register(s.id, person_input(1)).registration)
    post(client, s, 1)
    link = confirm_link(messages("registration_hold")[0])
    assert seats(s) == 1
    db.session.execute(update(RegistrationHold).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    resp = client.get(link)
    assert resp.status_code == 410 and "venció" in html.unescape(resp.get_data(as_text=True))
    assert seats(s) == 0 and count(RegistrationHold) == 0


def test_a_full_session_holds_no_seat_and_confirming_joins_the_waitlist(published_session):
    s = published_session(capacity=1)
    services.cancel(services.register(s.id, person_input(1)).registration)
    services.register(s.id, person_input(2))  # takes the only seat
    services.register(s.id, person_input(1))
    hold = db.session.scalars(select(RegistrationHold)).one()
    assert not hold.holds_seat
    reg = holds.confirm(hold)
    assert reg.status == RegistrationStatus.WAITLISTED and seats(s) == 1


def test_submitting_a_known_rut_again_while_held_sends_nothing_more(published_session):
    s = published_session()
    services.cancel(services.register(s.id, person_input(1)).registration)
    services.register(s.id, person_input(1))
    services.register(s.id, person_input(1))
    assert len(messages("registration_hold")) == 1 and count(RegistrationHold) == 1 and seats(s) == 1


def test_a_known_person_without_any_contact_is_not_held(app, published_session, world):
    s = published_session()
    services.register(s.id, person_input(1, email="", phone=""), source=Source.STAFF,
                      office=world.host, staff_user=world.host_staff)
    other = published_session()
    result = services.register(other.id, person_input(1))  # nobody could confirm it
    assert not result.held and count(RegistrationHold) == 0 and seats(other) == 0


# --- staff ---------------------------------------------------------------------------------------


def test_staff_register_a_person_with_no_email_or_phone(published_session, world):
    s = published_session()
    result = services.register(s.id, person_input(1, email="", phone=""), source=Source.STAFF,
                               office=world.host, staff_user=world.host_staff)
    assert result.created and result.registration.status == RegistrationStatus.CONFIRMED
    assert count(OutboxMessage) == 0  # nobody to write to; the office calls them


def test_the_public_form_still_asks_for_an_email_or_a_phone(published_session):
    with pytest.raises(PersonError) as err:
        services.register(published_session().id, person_input(1, email="", phone=""))
    assert "Deje al menos un correo o un celular" in err.value.errors["email"]


def test_staff_register_a_known_person_directly(published_session, world):
    s, other = published_session(), published_session()
    services.register(s.id, person_input(1))
    result = services.register(other.id, person_input(1, first_names="Otra"), source=Source.STAFF,
                               office=world.host, staff_user=world.host_staff)
    assert result.created and result.recognised and result.registration.person.first_names == "Camila"
    assert count(RegistrationHold) == 0


# --- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["9 1234 5678", "+56 9 1234 5678", "+56912345678", "56912345678",
                                   "09 1234 5678", "9-1234-5678", "2 2345 6789", "(32) 212 3456", "+54 9 11 2345 6789"])
def test_phones_are_accepted_as_they_could_be(typed):
    assert normalise_phone(typed).startswith("+")


def test_the_forms_own_example_is_a_valid_phone():
    assert normalise_phone("9 1234 5678") == "+56912345678"


@pytest.mark.parametrize("typed", ["123", "8 1234 5678", "1 2345 6789", "9 1234 567", "9 1234 56789", "abc",
                                   "９１２３４５６７８", "+56 9 1234"])
def test_phones_that_cannot_be_chilean_are_refused(typed):
    with pytest.raises(ValueError):
        normalise_phone(typed)


@pytest.mark.parametrize("typed", [" 10.000.013-k ", "10000013k", "10 000 013 K", "10000013-K"])
def test_a_rut_with_dots_spaces_or_a_lowercase_k_is_accepted(typed):
    assert clean_person(person_input(1, document_number=typed))["document_number"] == "10000013-K"


BAD = {
    "RUT with a wrong check digit": ({"document_number": "10.000.013-5"}, "document_number",
                                     "El dígito verificador no corresponde"),
    "RUT with letters": ({"document_number": "abc.def"}, "document_number", "El RUT no es válido"),
    "name of invisible characters": ({"first_names": "\u200b\u200b \u2060"}, "first_names", "Escriba sus nombres."),
    "name with a control character": ({"last_names": "Rojas\x07"}, "last_names", "sin saltos de línea"),
    "name with a line break": ({"first_names": "Ana\nMaría"}, "first_names", "sin saltos de línea"),
    "a landline without area code": ({"phone": "234 5678", "email": ""}, "phone", "Escriba un celular de 9 dígitos"),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_bad_identity_input_is_a_clear_message_on_the_form_and_nothing_is_written(client, published_session, case):
    changes, field, message = BAD[case]
    s = published_session()
    resp = post(client, s, 1, **changes)
    assert resp.status_code == 400
    page = html.unescape(resp.get_data(as_text=True))
    at_field = re.search(rf'<p class="error-message" id="{field}-error">(.*?)</p>', page, re.S)
    assert at_field and message in at_field.group(1)
    assert count(Person) == 0 and count(Registration) == 0 and count(OutboxMessage) == 0


def test_bad_identity_input_on_the_api_is_422_with_the_same_message(client, published_session):
    from tests.registration.test_api import URL, registration_body

    s = published_session()
    resp = client.post(URL, json=registration_body(s.id, first_names="\u200b", phone="8 1234 5678"))
    assert resp.status_code == 422
    errors = resp.get_json()["errors"]["json"]["person"]
    assert errors["first_names"] == ["Escriba sus nombres."]
    assert "9 dígitos" in errors["phone"][0]
    assert count(Person) == 0
