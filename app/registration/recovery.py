""""Mis inscripciones": a person who lost their link asks for it again.

They type their RUT (or document number), email or phone. Everyone on file with that
document, email or phone gets a message **at the contact on file** listing their
registrations with each personal link (a shared household phone gets one message per person,
each naming whose it is). The page answers the same whatever was typed, known or not; the
form is rate limited per address (``RECOVERY_RATE_LIMIT``) and each person gets at most one
such message per ``LINKS_EVERY_MINUTES``, however often it is asked for.
"""

from __future__ import annotations

import contextlib
import re
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask import render_template
from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload
from stdnum.exceptions import ValidationError as StdnumError

from app.activities.models import ActivitySession
from app.extensions import db
from app.outbox.rendering import NothingToSend, Rendered, renderer
from app.outbox.services import enqueue
from app.people.models import DocumentType, Person
from app.people.services import normalise_phone, normalise_rut, people_with_contact, shared_contacts
from app.registration import services
from app.registration.models import Registration, RegistrationStatus
from app.timeutil import utcnow

LINKS_EVERY_MINUTES = 10
_DOCUMENT = re.compile(r"^[A-Z0-9]{5,20}$")


class RecoveryError(ValueError):
    """What was typed is not a RUT, document number, email or phone (a Spanish message)."""


def _people_for(text: str) -> list[Person] | None:
    """Everyone the typed text may name; None when it cannot be any of the four."""
    text = " ".join(text.split())
    if "@" in text:
        try:
            email = validate_email(text, check_deliverability=False).normalized.lower()
        except EmailNotValidError:
            return None
        return people_with_contact(email=email)
    found: dict[int, Person] = {}
    understood = False
    try:
        phone = normalise_phone(text)
    except ValueError:
        pass
    else:
        understood = True
        found.update((p.id, p) for p in people_with_contact(phone=phone))
    documents: list[tuple[DocumentType, str]] = []
    with contextlib.suppress(StdnumError):
        documents.append((DocumentType.RUT, normalise_rut(text)))
    compact = re.sub(r"[\s.\-]", "", text).upper()
    if _DOCUMENT.match(compact):
        documents += [(DocumentType.PASSPORT, compact), (DocumentType.FOREIGN_ID, compact)]
    if documents:
        understood = True
        found.update((p.id, p) for p in db.session.scalars(select(Person).where(
            or_(*[(Person.document_type == t) & (Person.document_number == n) for t, n in documents]),
            Person.anonymised_at.is_(None))))
    return list(found.values()) if understood else None


def request_links(text: str) -> int:
    """Queue the links message for everyone the text names; one transaction. Returns how many
    were queued (for tests and logs only: the page says the same either way).

    ``RecoveryError`` when the text cannot be a RUT, document, email or phone (about its form,
    never about whether it is known)."""
    text = (text or "").strip()
    if not text:
        raise RecoveryError(_("Escriba su RUT, su correo o su celular."))
    if len(text) > 254:
        raise RecoveryError(_("Lo que escribió es demasiado largo: escriba solo su RUT, correo o celular."))
    people = _people_for(text)
    if people is None:
        raise RecoveryError(_("Escriba un RUT (como 12.345.678-5), un correo (como nombre@gmail.com) o un "
                              "celular (como 9 1234 5678)."))
    queued = sum(1 for p in people if queue_links(p, reason="asked") is not None)
    db.session.commit()
    return queued


def queue_links(person: Person, *, reason: str) -> int | None:
    """The message listing the person's registrations, to their contact on file, in the
    caller's transaction; at most one per person per ``LINKS_EVERY_MINUTES`` (the dedupe key
    names the time window). ``reason``: "asked" (Mis inscripciones) or "again" (they used the
    form again for a session they are already in)."""
    channel, to = services.message_channel(person)
    if not to or person.anonymised_at is not None:
        return None
    now = utcnow()
    window = int(now.timestamp()) // (LINKS_EVERY_MINUTES * 60)
    return enqueue(dedupe_key=f"registration-links:{person.id}:{window}", channel=channel, to=to,
                   to_name=person.full_name, subject=_("Sus inscripciones en Puente Laboral"),
                   kind="registration_links", office_id=person.office_id, renderer="registration_links",
                   context={"person_id": person.id, "channel": channel, "reason": reason})


def current_registrations(person: Person) -> list[Registration]:
    """Registrations whose personal link still works (not cancelled), soonest first."""
    since = utcnow() - services.LINK_VALID_AFTER_END
    return list(db.session.scalars(
        select(Registration).join(ActivitySession).options(joinedload(Registration.session))
        .where(Registration.person_id == person.id, Registration.status != RegistrationStatus.CANCELLED,
               ActivitySession.ends_at > since)
        .order_by(ActivitySession.starts_at, Registration.id)))


@renderer("registration_links")
def render_links_message(context: dict[str, Any]) -> Rendered:
    person = db.session.get(Person, int(context["person_id"]))
    if person is None or person.anonymised_at is not None:
        raise NothingToSend("la persona pidió eliminar sus datos")
    regs = current_registrations(person)
    items = [{"reg": r, "session": r.session, "link": services.personal_url(r),
              "position": services.waitlist_position(r)} for r in regs]
    ctx = {"person": person, "items": items, "reason": context.get("reason"),
           "shared": bool(shared_contacts([person])), "search_url": _search_url()}
    subject = _("Sus inscripciones en Puente Laboral")
    if context.get("channel", "email") != "email":
        return Rendered(subject=subject, body_text=render_template("email/registration_links.short.txt", **ctx))
    return Rendered(subject=subject, body_text=render_template("email/registration_links.txt", **ctx))


def _search_url() -> str:
    from app.urls import external_url

    return external_url("public.home")
