"""Checking and recognising jobseekers.

``clean_person`` validates everything a registration form or the API sends and reports every
problem at once; ``find_person`` recognises a returning person by document, then email, then
phone, so nobody is duplicated; their stored details change only through their own link or
staff (``update_person``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from sqlalchemy import case, select
from stdnum.cl import rut as rut_number
from stdnum.exceptions import ValidationError as StdnumError

from app.extensions import db
from app.people.models import CONSENT_VERSION, Channel, Connectivity, DocumentType, Person
from app.territory.data import comuna_codes
from app.timeutil import utcnow

_PASSPORT = re.compile(r"^[A-Z0-9]{5,20}$")


class PersonError(ValueError):
    """Field errors in Spanish: ``errors = {field: message}``."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors
        self.status = 400


@dataclass
class PersonInput:
    first_names: str = ""
    last_names: str = ""
    document_type: str = "rut"
    document_number: str = ""
    email: str = ""
    phone: str = ""
    comuna_code: str = ""
    preferred_channel: str = ""  # empty: follows from the contact given (see clean_person)
    needs_subtitles: bool = False
    needs_sign_language: bool = False
    uses_screen_reader: bool = False
    accessibility_other: str = ""
    connectivity: str = "good"
    soft_skills: str = ""
    rural: bool = False
    availability: str = ""
    consent_data: bool = False
    consent_recording: bool = False
    opt_in_future: bool = False
    cleaned: dict[str, Any] = field(default_factory=dict)


def normalise_rut(value: str) -> str:
    """'12.345.678-5' -> '12345678-5'; raises StdnumError when the check digit is wrong."""
    compact = rut_number.validate(value)
    return f"{compact[:-1]}-{compact[-1]}"


def normalise_phone(value: str) -> str:
    parsed = phonenumbers.parse(value, "CL")
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError(value)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def clean_person(inp: PersonInput) -> dict[str, Any]:
    """Validate and normalise; raises PersonError listing every problem."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    for name, label, limit in (("first_names", _("sus nombres"), 120), ("last_names", _("sus apellidos"), 120)):
        value = (getattr(inp, name) or "").strip()
        if not value:
            errors[name] = _("Escriba %(what)s.", what=label)
        elif len(value) > limit:
            errors[name] = _("Máximo %(n)s caracteres.", n=limit)
        out[name] = value
    try:
        doc_type = DocumentType(inp.document_type)
    except ValueError:
        errors["document_type"] = _("Elija el tipo de documento.")
        doc_type = DocumentType.RUT
    out["document_type"] = doc_type
    number = (inp.document_number or "").strip()
    if not number:
        errors["document_number"] = _("Escriba su RUT o el número de su documento.")
    elif len(number) > 30:
        errors["document_number"] = _("El número de documento es demasiado largo.")
    elif doc_type == DocumentType.RUT:
        try:
            number = normalise_rut(number)
        except StdnumError:
            errors["document_number"] = _(
                "El RUT no es válido: revise los números y el dígito verificador (ejemplo: 12.345.678-5).")
    else:
        number = re.sub(r"[\s.\-]", "", number).upper()
        if not _PASSPORT.match(number):
            errors["document_number"] = _("El número de documento debe tener entre 5 y 20 letras o números.")
    out["document_number"] = number
    email = (inp.email or "").strip()
    if email:
        if len(email) > 254:
            errors["email"] = _("El correo es demasiado largo.")
        else:
            try:
                email = validate_email(email, check_deliverability=False).normalized.lower()
            except EmailNotValidError:
                errors["email"] = _("Escriba un correo válido, como nombre@gmail.com.")
    out["email"] = email or None
    phone = (inp.phone or "").strip()
    if phone:
        try:
            phone = normalise_phone(phone[:30])
        except (phonenumbers.NumberParseException, ValueError):
            errors["phone"] = _("Escriba un celular válido, como 9 1234 5678 o +56 9 1234 5678.")
    out["phone"] = phone or None
    if not email and not phone and "email" not in errors and "phone" not in errors:
        errors["email"] = _("Deje al menos un correo o un celular para poder avisarle.")
    comuna = (inp.comuna_code or "").strip()
    if not comuna:
        errors["comuna_code"] = _("Elija su comuna.")
    elif len(comuna) != 5 or comuna not in comuna_codes():
        errors["comuna_code"] = _("Elija una comuna de la lista.")
    out["comuna_code"] = comuna
    # The channel follows from the contact given unless the person chose one: a phone means
    # WhatsApp (SMS or a call if asked), only an email means email. Nobody is refused for a
    # channel they never picked.
    chosen = (inp.preferred_channel or "").strip()
    try:
        channel = Channel(chosen) if chosen else (Channel.WHATSAPP if phone else Channel.EMAIL)
    except ValueError:
        errors["preferred_channel"] = _("Elija cómo prefiere que le avisemos.")
        channel = Channel.EMAIL
    if channel == Channel.EMAIL and not email and "preferred_channel" not in errors and "email" not in errors:
        errors["preferred_channel"] = _("Para recibir avisos por correo, escriba su correo.")
    if channel in (Channel.WHATSAPP, Channel.SMS, Channel.PHONE_CALL) and not phone and "phone" not in errors:
        errors["preferred_channel"] = _("Para recibir avisos por teléfono, WhatsApp o SMS, escriba su celular.")
    out["preferred_channel"] = channel
    try:
        out["connectivity"] = Connectivity(inp.connectivity or "good")
    except ValueError:
        errors["connectivity"] = _("Elija cómo es su conexión a internet.")
    for name in ("accessibility_other", "soft_skills", "availability"):
        value = (getattr(inp, name) or "").strip()
        if len(value) > 2000:
            errors[name] = _("Máximo %(n)s caracteres.", n=2000)
        out[name] = value
    for name in ("needs_subtitles", "needs_sign_language", "uses_screen_reader", "rural", "consent_recording",
                 "opt_in_future"):
        out[name] = bool(getattr(inp, name))
    if not inp.consent_data:
        errors["consent_data"] = _("Para inscribirse debe aceptar el uso de sus datos para esta actividad.")
    if errors:
        raise PersonError(errors)
    return out


def find_person(cleaned: dict[str, Any]) -> Person | None:
    """The same person by document, else by email, else by phone (the oldest such record).

    One query for all three, ranked in the database (a newcomer, the common case at the
    morning peak, costs one round trip instead of three)."""
    by_document = (Person.document_type == cleaned["document_type"]) & (
        Person.document_number == cleaned["document_number"])
    match, ranks = by_document, [(by_document, 0)]
    if cleaned.get("email"):
        match = match | (Person.email == cleaned["email"])
        ranks.append((Person.email == cleaned["email"], 1))
    if cleaned.get("phone"):
        match = match | (Person.phone == cleaned["phone"])
        ranks.append((Person.phone == cleaned["phone"], 2))
    return db.session.scalar(select(Person).where(match, Person.anonymised_at.is_(None))
                             .order_by(case(*ranks, else_=3), Person.id).limit(1))


def new_person(cleaned: dict[str, Any], *, office_id: int | None) -> Person:
    now = utcnow()
    person = Person(
        first_names=cleaned["first_names"], last_names=cleaned["last_names"],
        document_type=cleaned["document_type"], document_number=cleaned["document_number"],
        email=cleaned["email"], phone=cleaned["phone"], comuna_code=cleaned["comuna_code"],
        preferred_channel=cleaned["preferred_channel"], needs_subtitles=cleaned["needs_subtitles"],
        needs_sign_language=cleaned["needs_sign_language"], uses_screen_reader=cleaned["uses_screen_reader"],
        accessibility_other=cleaned["accessibility_other"], connectivity=cleaned["connectivity"],
        soft_skills=cleaned["soft_skills"], rural=cleaned["rural"], availability=cleaned["availability"],
        consent_data_at=now, consent_version=CONSENT_VERSION, consent_recording=cleaned["consent_recording"],
        opt_in_future=cleaned["opt_in_future"], opt_in_at=now if cleaned["opt_in_future"] else None,
        office_id=office_id,
    )
    db.session.add(person)
    return person


def update_person(person: Person, cleaned: dict[str, Any]) -> None:
    """Staff or the person (through their link) update the stored details."""
    for key in ("first_names", "last_names", "email", "phone", "comuna_code", "preferred_channel",
                "needs_subtitles", "needs_sign_language", "uses_screen_reader", "accessibility_other",
                "connectivity", "soft_skills", "rural", "availability", "consent_recording"):
        setattr(person, key, cleaned[key])
    if cleaned["opt_in_future"] and not person.opt_in_future:
        person.opt_in_at = utcnow()
    person.opt_in_future = cleaned["opt_in_future"]


def anonymise(person: Person) -> None:
    """Erase what identifies the person; registrations stay as anonymous counts."""
    person.first_names = "Persona"
    person.last_names = "anonimizada"
    person.document_number = f"ANON{person.id}"
    person.document_type = DocumentType.PASSPORT
    person.email = None
    person.phone = None
    person.accessibility_other = ""
    person.soft_skills = ""
    person.availability = ""
    person.opt_in_future = False
    person.anonymised_at = utcnow()


def masked_contact(person: Person) -> str:
    """'m***@gmail.com' or '+56 9 **** 5678', to say where a message went without showing it."""
    if person.email:
        local, _sep, domain = person.email.partition("@")
        return f"{local[:1]}***@{domain}"
    if person.phone:
        return f"{person.phone[:5]}****{person.phone[-4:]}"
    return ""
