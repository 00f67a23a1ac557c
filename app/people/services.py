"""Checking and recognising jobseekers.

``clean_person`` validates everything a registration form or the API sends and reports every
problem at once. A person *is* their identity document: ``find_person`` recognises a returning
person by (document type, number) only. An email or a phone is a way to reach someone, not who
they are: a household often shares one phone, so a contact already on file for another
document never merges two people (``shared_contacts`` tells staff which contacts are shared).
Stored details change only through the person's own link or staff (``update_person``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from stdnum.cl import rut as rut_number
from stdnum.exceptions import ValidationError as StdnumError

from app.extensions import db
from app.people.models import CONSENT_VERSION, Channel, Connectivity, DocumentType, Person
from app.territory.data import comuna_codes
from app.text import TextError, clean_line, multi_line
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


# Chile's geographic area codes (2 = Santiago; the rest two digits). A landline is the area
# code and the number, nine digits in all; a mobile is nine digits starting with 9.
_AREA_CODES = frozenset({"32", "33", "34", "35", "39", "41", "42", "43", "44", "45", "51", "52", "53", "55", "57",
                         "58", "61", "63", "64", "65", "67", "71", "72", "73", "75"})
_PHONE_PUNCTUATION = re.compile(r"[\s\-.()/]")


def normalise_phone(value: str) -> str:
    """A Chilean number as it *could* be, in E.164 ('+56912345678'); raises ValueError.

    Accepts +56 (or 56), spaces, dashes, dots, parentheses and a leading 0: '9 1234 5678',
    '+56 9 1234 5678', '09-1234-5678', '2 2345 6789', '(32) 212 3456'. Whether a range is
    already assigned to a carrier is not asked (the phone-number library's validity check
    refuses '9 1234 5678', the form's own example, and numbers given out after its release).
    A number with another country's code is accepted when it is a possible number there."""
    compact = _PHONE_PUNCTUATION.sub("", value)
    if compact.startswith("+") and not compact.startswith("+56"):
        try:
            parsed = phonenumbers.parse(compact, None)
        except phonenumbers.NumberParseException as exc:
            raise ValueError(value) from exc
        if not phonenumbers.is_possible_number(parsed):
            raise ValueError(value)
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    digits = compact.removeprefix("+")
    if not digits.isascii() or not digits.isdecimal():
        raise ValueError(value)
    if len(digits) == 11 and digits.startswith("56"):
        digits = digits[2:]
    elif len(digits) == 10 and digits.startswith("0"):
        digits = digits[1:]
    if len(digits) != 9:
        raise ValueError(value)
    if digits[0] == "9" or digits[0] == "2" or digits[:2] in _AREA_CODES:
        return "+56" + digits
    raise ValueError(value)


def _bad_characters(value: str) -> bool:
    """Control characters (a line break, a tab, NUL...) or invisible format characters."""
    return any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn") for c in value)


def _visible(value: str) -> str:
    """The text without format characters (zero-width spaces, direction marks) at its ends."""
    return "".join(c for c in value if unicodedata.category(c) != "Cf").strip()


def _rut_message(exc: StdnumError) -> str:
    from stdnum.exceptions import InvalidChecksum

    if isinstance(exc, InvalidChecksum):
        return _("El dígito verificador no corresponde a ese RUT: revise los números y el dígito después del "
                 "guion (ejemplo: 12.345.678-5).")
    return _("El RUT no es válido: escriba los números y el dígito verificador, con o sin puntos "
             "(ejemplo: 12.345.678-5 o 12345678-K).")


def clean_person(inp: PersonInput, *, contact_optional: bool = False) -> dict[str, Any]:
    """Validate and normalise; raises PersonError listing every problem.

    ``contact_optional``: staff registering someone at the counter or by phone may leave both
    email and phone empty (people without either still take part; the office calls them)."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    for name, label, limit in (("first_names", _("sus nombres"), 120), ("last_names", _("sus apellidos"), 120)):
        raw = unicodedata.normalize("NFC", (getattr(inp, name) or "")).strip()
        value = raw
        if not _visible(raw):
            errors[name] = _("Escriba %(what)s.", what=label)
        elif _bad_characters(raw):
            errors[name] = _("Escriba %(what)s solo con letras, sin saltos de línea ni caracteres invisibles.",
                             what=label)
        else:
            try:
                value = clean_line(raw)
            except TextError as exc:
                errors[name] = exc.message
        if name in errors:
            pass
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
        except StdnumError as exc:
            errors["document_number"] = _rut_message(exc)
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
        except ValueError:
            errors["phone"] = _("Escriba un celular de 9 dígitos que empiece con 9, como 9 1234 5678 o "
                                "+56 9 1234 5678, o un teléfono fijo con su código de área, como 2 2345 6789.")
    out["phone"] = phone or None
    no_contact = not email and not phone and "email" not in errors and "phone" not in errors
    if no_contact and not contact_optional:
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
    if no_contact and contact_optional:
        pass  # nobody to write to: the office reaches the person as it can
    elif channel == Channel.EMAIL and not email and "preferred_channel" not in errors and "email" not in errors:
        errors["preferred_channel"] = _("Para recibir avisos por correo, escriba su correo.")
    elif channel in (Channel.WHATSAPP, Channel.SMS, Channel.PHONE_CALL) and not phone and "phone" not in errors:
        errors["preferred_channel"] = _("Para recibir avisos por teléfono, WhatsApp o SMS, escriba su celular.")
    out["preferred_channel"] = channel
    try:
        out["connectivity"] = Connectivity(inp.connectivity or "good")
    except ValueError:
        errors["connectivity"] = _("Elija cómo es su conexión a internet.")
    for name in ("accessibility_other", "soft_skills", "availability"):
        value = multi_line(getattr(inp, name))
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
    """The person with this identity document (type and number), if any: one indexed query.

    Never by email or phone: those are shared within households, and matching on them once
    registered a woman as the relative whose phone she borrowed."""
    return db.session.scalar(select(Person).where(
        Person.document_type == cleaned["document_type"], Person.document_number == cleaned["document_number"],
        Person.anonymised_at.is_(None)))


def people_with_contact(*, email: str | None = None, phone: str | None = None) -> list[Person]:
    """Everyone (not erased) who has this email or phone on file, oldest first."""
    conditions = [c for c in ((Person.email == email) if email else None,
                              (Person.phone == phone) if phone else None) if c is not None]
    if not conditions:
        return []
    return list(db.session.scalars(select(Person).where(or_(*conditions), Person.anonymised_at.is_(None))
                                   .order_by(Person.id)))


def shared_contacts(people: list[Person]) -> dict[int, set[str]]:
    """{person id: {"email", "phone"}} for those whose email or phone is on file for someone
    else too (a household phone is normal). Derived in two grouped queries, never stored, so
    it cannot drift when people are added at the same moment."""
    emails = {p.email for p in people if p.email}
    phones = {p.phone for p in people if p.phone}
    shared_emails: set[str] = set()
    shared_phones: set[str] = set()
    for column, values, into in ((Person.email, emails, shared_emails), (Person.phone, phones, shared_phones)):
        if values:
            into.update(db.session.scalars(
                select(column).where(column.in_(values), Person.anonymised_at.is_(None))
                .group_by(column).having(func.count() > 1)))
    out: dict[int, set[str]] = {}
    for p in people:
        kinds = {k for k, v, shared in (("email", p.email, shared_emails), ("phone", p.phone, shared_phones))
                 if v and v in shared}
        if kinds:
            out[p.id] = kinds
    return out


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
    """'m***@gmail.com' or '+5691****5678', to say where a message went without showing it: the
    preferred channel's address (as ``app.registration.services.message_channel`` picks it)."""
    use_email = person.email and (person.preferred_channel in (Channel.EMAIL, None) or not person.phone)
    if use_email:
        local, _sep, domain = (person.email or "").partition("@")
        return f"{local[:1]}***@{domain}"
    if person.phone:
        return f"{person.phone[:5]}****{person.phone[-4:]}"
    return ""
