"""The channel follows from the contact a person gives, unless they choose one they can be reached on."""

from __future__ import annotations

import pytest

from app.people.models import Channel
from app.people.services import PersonError, PersonInput, clean_person
from tests.registration.conftest import make_rut


def person(**kw: str) -> PersonInput:
    values = {"first_names": "Rosa", "last_names": "Quispe", "document_number": make_rut(11),
              "comuna_code": "13120", "consent_data": True, "email": "", "phone": ""}
    values.update(kw)
    return PersonInput(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(("contact", "chosen", "channel"), [
    ({"phone": "9 8765 4321"}, "", Channel.WHATSAPP),
    ({"phone": "9 8765 4321"}, "sms", Channel.SMS),
    ({"phone": "9 8765 4321"}, "phone_call", Channel.PHONE_CALL),
    ({"email": "rosa@example.cl"}, "", Channel.EMAIL),
    ({"phone": "9 8765 4321", "email": "rosa@example.cl"}, "", Channel.WHATSAPP),
    ({"phone": "9 8765 4321", "email": "rosa@example.cl"}, "email", Channel.EMAIL),
    ({"phone": "9 8765 4321", "email": "rosa@example.cl"}, "sms", Channel.SMS),
], ids=["phone only", "phone only, SMS asked", "phone only, a call asked", "email only", "both, nothing chosen",
        "both, email chosen", "both, SMS chosen"])
def test_the_channel_follows_from_the_contact_given_or_the_choice(app, contact, chosen, channel):
    assert clean_person(person(preferred_channel=chosen, **contact))["preferred_channel"] == channel


def test_a_phone_only_person_is_not_refused_when_nothing_was_chosen(app):
    """The old form defaulted to email and refused: "Para recibir avisos por correo, escriba su correo"."""
    cleaned = clean_person(person(phone="9 8765 4321"))
    assert cleaned["preferred_channel"] == Channel.WHATSAPP and cleaned["email"] is None


@pytest.mark.parametrize(("contact", "chosen", "message"), [
    ({"phone": "9 8765 4321"}, "email", "Para recibir avisos por correo, escriba su correo."),
    ({"email": "rosa@example.cl"}, "whatsapp", "escriba su celular"),
])
def test_a_chosen_channel_without_its_contact_is_explained(app, contact, chosen, message):
    with pytest.raises(PersonError) as err:
        clean_person(person(preferred_channel=chosen, **contact))
    assert message in err.value.errors["preferred_channel"]


def test_no_contact_at_all_asks_for_one_and_not_for_a_channel(app):
    with pytest.raises(PersonError) as err:
        clean_person(person())
    assert set(err.value.errors) == {"email"}
    assert "Deje al menos un correo o un celular" in err.value.errors["email"]
