"""Registration services: seats, waitlist, recognition, cancellations, messages."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.extensions import db
from app.outbox.models import OutboxMessage
from app.outbox.rendering import render_now
from app.people.models import Person
from app.people.services import PersonError
from app.registration import services
from app.registration.models import Registration, RegistrationStatus
from app.timeutil import utcnow
from tests.conftest import count
from tests.registration.conftest import person_input


def test_a_registration_is_confirmed_and_a_confirmation_is_queued(published_session):
    s = published_session()
    result = services.register(s.id, person_input())
    assert result.created and result.registration.status == RegistrationStatus.CONFIRMED
    db.session.refresh(s)
    assert s.confirmed_count == 1
    msg = render_now(db.session.query(OutboxMessage).filter_by(kind="registration_confirmation").one())
    assert msg.recipient == "camila1@example.cl"
    assert "/inscripcion/" in msg.body_text


def test_the_rut_is_stored_normalised(published_session):
    s = published_session()
    services.register(s.id, person_input(document_number="10.000.001-" + person_input().document_number[-1]))
    assert db.session.query(Person).one().document_number == person_input().document_number


def test_a_full_session_puts_people_on_the_waitlist_with_their_position(published_session):
    s = published_session(capacity=1)
    services.register(s.id, person_input(1))
    second = services.register(s.id, person_input(2)).registration
    third = services.register(s.id, person_input(3)).registration
    assert second.status == RegistrationStatus.WAITLISTED
    assert services.waitlist_position(second) == 1
    assert services.waitlist_position(third) == 2


def test_the_same_person_twice_gets_the_same_registration(published_session):
    s = published_session()
    first = services.register(s.id, person_input())
    again = services.register(s.id, person_input())
    assert first.created and not again.created
    assert again.registration is None  # the public path hands nothing back for a known document
    assert count(Registration) == 1 and count(Person) == 1


def test_another_document_with_a_known_email_is_another_person(published_session):
    s1 = published_session()
    s2 = published_session()
    services.register(s1.id, person_input(1))
    result = services.register(s2.id, person_input(1, document_type="passport", document_number="AB12345"))
    assert not result.recognised and result.created
    assert count(Person) == 2


def test_recognition_does_not_overwrite_stored_details(published_session):
    s1, s2 = published_session(), published_session()
    services.register(s1.id, person_input(1))
    services.register(s2.id, person_input(1, first_names="Otra", email="camila1@example.cl"))
    assert db.session.query(Person).one().first_names == "Camila"


def test_cancelling_a_confirmed_seat_promotes_the_first_on_the_waitlist_and_tells_them(published_session):
    s = published_session(capacity=1)
    first = services.register(s.id, person_input(1)).registration
    waiting = services.register(s.id, person_input(2)).registration
    promoted = services.cancel(first)
    assert promoted is not None and promoted.id == waiting.id
    db.session.refresh(waiting)
    db.session.refresh(s)
    assert waiting.status == RegistrationStatus.CONFIRMED
    assert s.confirmed_count == 1
    assert db.session.query(OutboxMessage).filter_by(kind="registration_promoted").count() == 1


def test_cancelling_without_a_waitlist_frees_the_seat(published_session):
    s = published_session(capacity=1)
    reg = services.register(s.id, person_input(1)).registration
    services.cancel(reg)
    db.session.refresh(s)
    assert s.confirmed_count == 0
    assert services.register(s.id, person_input(2)).registration.status == RegistrationStatus.CONFIRMED


def test_invalid_rut_missing_contact_and_no_consent_are_all_reported(published_session):
    s = published_session()
    with pytest.raises(PersonError) as err:
        services.register(s.id, person_input(document_number="12.345.678-9", email="", phone="",
                                             consent_data=False, comuna_code="99999"))
    assert set(err.value.errors) >= {"document_number", "email", "consent_data", "comuna_code"}
    assert count(Person) == 0 and count(Registration) == 0


def test_phone_numbers_are_normalised_to_e164(published_session):
    s = published_session()
    services.register(s.id, person_input(phone="9 8765 4321", preferred_channel="whatsapp"))
    person = db.session.query(Person).one()
    assert person.phone == "+56987654321"
    msg = db.session.query(OutboxMessage).filter_by(kind="registration_confirmation").one()
    assert msg.channel == "whatsapp" and msg.recipient == "+56987654321"


def test_registration_closes_before_the_session(published_session, app):
    s = published_session()
    s.starts_at = utcnow() + timedelta(minutes=30)
    s.ends_at = s.starts_at + timedelta(hours=1)
    db.session.commit()
    with pytest.raises(services.RegistrationError) as err:
        services.register(s.id, person_input())
    assert err.value.status == 409
    assert "cerraron" in err.value.message


def test_unknown_and_unpublished_sessions_are_refused(world, published_session):
    with pytest.raises(services.RegistrationError) as err:
        services.register(999999, person_input())
    assert err.value.status == 404
    draft = world.workshop().activity.sessions[0]
    with pytest.raises(services.RegistrationError):
        services.register(draft.id, person_input())


def test_personal_links_are_signed_and_die_when_replaced(published_session):
    s = published_session()
    reg = services.register(s.id, person_input()).registration
    token = services.personal_token(reg)
    assert services.registration_from_token(token).id == reg.id
    with pytest.raises(services.RegistrationError) as err:
        services.registration_from_token(token[:-2] + "xx")
    assert err.value.status == 404
    reg.nonce = "otro"
    db.session.commit()
    with pytest.raises(services.RegistrationError) as err:
        services.registration_from_token(token)
    assert err.value.status == 410


def test_a_moved_session_tells_every_registrant(world, published_session):
    from tests.workshops.conftest import local_in, session_input
    from workshops import services as workshop_services

    s = published_session()
    services.register(s.id, person_input(1))
    services.register(s.id, person_input(2))
    workshop_services.update_session(s, session_input(local_in(12, 15)), actor=world.host_staff)
    assert db.session.query(OutboxMessage).filter_by(kind="registration_changed").count() == 2


def test_coming_back_after_cancelling_is_a_fresh_registration_with_its_own_source_and_office(
        published_session, world):
    from app.registration.models import Attendance, Source

    s = published_session()
    reg = services.register(s.id, person_input()).registration
    reg.attendance = Attendance.ABSENT
    db.session.commit()
    services.cancel(reg, reason="no puedo")
    again = services.register(s.id, person_input(), source=Source.STAFF, office=world.convening,
                              staff_user=world.convening_staff, via="phone").registration
    assert again.id == reg.id and again.status == RegistrationStatus.CONFIRMED
    assert (again.source, again.office_id, again.staff_user_id, again.via) == (
        Source.STAFF, world.convening.id, world.convening_staff.id, "phone")
    assert again.attendance is None and again.joined_at is None
