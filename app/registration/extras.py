"""The optional second page, after the seat is held: accessibility needs, connectivity, the
profile and the opt-ins. Nothing here is needed to register; the person may skip it and add
it later through their personal link ("Mis datos")."""

from __future__ import annotations

from typing import Any

from app.audit.services import record
from app.extensions import db
from app.people.models import Person
from app.people.services import PersonInput, clean_person, update_person
from app.registration.models import Registration

EXTRA_FIELDS = ("needs_subtitles", "needs_sign_language", "uses_screen_reader", "accessibility_other",
                "connectivity", "rural", "soft_skills", "availability", "consent_recording", "opt_in_future")


def extras_of(person: Person) -> dict[str, Any]:
    """The stored optional details, as the form shows them."""
    data = {name: getattr(person, name) for name in EXTRA_FIELDS}
    data["connectivity"] = person.connectivity.value
    return data


def save_extras(reg: Registration, extras: dict[str, Any]) -> Person:
    """Store the optional details of the person behind ``reg``; one transaction.

    Checked by the same rules as every other change of a person's details
    (``clean_person`` over what is stored plus these): ``PersonError`` and nothing written
    when something is not valid."""
    person = reg.person
    inp = PersonInput(
        first_names=person.first_names, last_names=person.last_names,
        document_type=person.document_type.value, document_number=person.document_number,
        email=person.email or "", phone=person.phone or "", comuna_code=person.comuna_code or "",
        preferred_channel=person.preferred_channel.value, consent_data=True,
        **{name: extras.get(name) if extras.get(name) is not None else getattr(PersonInput, name, "")
           for name in EXTRA_FIELDS})
    try:
        cleaned = clean_person(inp)
        update_person(person, cleaned)
        record("person.update_own", person, "datos opcionales, después de inscribirse", office_id=person.office_id)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return person
