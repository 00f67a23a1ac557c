"""What "Eliminar mis datos" must reach besides the person's own row and their registration
messages (``app.registration.services.erase_personal_data`` does those).

``redact_other_stores`` runs inside the caller's transaction, before the person is
anonymised (it reads the person's identifiers first) and writes:

- survey answers of the person's registrations: the free-text comment is emptied (the rating
  stays, so averages still add up);
- campaign messages to the person (``campaign:<step>:p<person id>``): pending ones voided,
  every copy loses address, name and text, as registration messages do;
- stored Zoom events that mention the person (email, name, phone or RUT, case-insensitive):
  their payload is emptied at once, as the 90-day purge would;
- then ``person_erased`` is sent, so a domain package (workshops, fairs) that keeps
  something about people of its own empties it in the same transaction.

``tests/people/test_erasure_sweep.py`` searches every String, Text and JSON column of every
table for the erased person's identifiers: a new table that keeps them fails it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from blinker import Namespace
from sqlalchemy import func, or_, select, update

from app.extensions import db
from app.people.models import Person

ERASED = "(eliminado a pedido de la persona)"  # as registration messages say

person_erased = Namespace().signal(
    "person-erased", doc="A person's data is being erased; subscribers empty what they keep about them. "
                         "Sent with identifiers=Identifiers, inside the erasing transaction.")


@dataclass(frozen=True)
class Identifiers:
    """What identifies the person, read before they are anonymised."""

    person_id: int
    email: str | None
    phone: str | None
    document_number: str
    full_name: str

    def needles(self) -> list[str]:
        """Lower-case strings whose presence in a stored text means it is about this person."""
        values = [self.email, self.phone, self.phone and self.phone.removeprefix("+56"),
                  self.document_number, self.document_number.replace("-", ""), self.full_name]
        return sorted({v.strip().lower() for v in values if v and len(v.strip()) >= 6})


def identifiers_of(person: Person) -> Identifiers:
    return Identifiers(person_id=person.id, email=person.email, phone=person.phone,
                       document_number=person.document_number, full_name=person.full_name)


def _contains_any(column: object, needles: Sequence[str]) -> object:
    return or_(*[func.lower(column).contains(n, autoescape=True) for n in needles])  # type: ignore[arg-type]


def redact_other_stores(person: Person, registration_ids: Sequence[int]) -> None:
    """Empty what the other stores keep about ``person``; no commit (the caller's transaction)."""
    from app.conferencing.models import ZoomWebhookEvent
    from app.conferencing.webhooks import PURGED
    from app.outbox.models import OutboxMessage, OutboxStatus
    from app.registration.models import SurveyResponse

    who = identifiers_of(person)
    if registration_ids:
        db.session.execute(update(SurveyResponse).where(SurveyResponse.registration_id.in_(registration_ids))
                           .values(comment="").execution_options(synchronize_session=False))
    from app.registration.models import RegistrationHold

    # Holds waiting for confirmation end now (their seats back), and so do their messages.
    holds = list(db.session.scalars(select(RegistrationHold).where(RegistrationHold.person_id == person.id)))
    hold_keys = [OutboxMessage.dedupe_key.like(f"registration-hold:{h.id}:%") for h in holds]
    if holds:
        from app.registration.holds import release_now

        for hold in holds:
            release_now(hold)
    # A confirmed hold is gone, but its message stays: found by its kind, recipient and name.
    contacts = [c for c in (person.email, person.phone) if c]
    confirmations = (OutboxMessage.kind == "registration_hold") & OutboxMessage.recipient.in_(contacts) \
        & (OutboxMessage.recipient_name == person.full_name)
    campaign = or_(OutboxMessage.dedupe_key.like(f"campaign:%:p{person.id}"),
                   OutboxMessage.dedupe_key.like(f"registration-links:{person.id}:%"), *hold_keys,
                   *([confirmations] if contacts else []))
    db.session.execute(update(OutboxMessage).where(campaign, OutboxMessage.status == OutboxStatus.PENDING)
                       .values(status=OutboxStatus.CANCELLED).execution_options(synchronize_session=False))
    db.session.execute(update(OutboxMessage).where(campaign)
                       .values(recipient=ERASED, recipient_name=None, body_text=ERASED, body_html=None,
                               attachments=None, renderer=None, render_context=None, payload_json=None)
                       .execution_options(synchronize_session=False))
    needles = who.needles()
    if needles:
        db.session.execute(update(ZoomWebhookEvent)
                           .where(ZoomWebhookEvent.payload != PURGED, _contains_any(ZoomWebhookEvent.payload, needles))
                           .values(payload=PURGED).execution_options(synchronize_session=False))
    person_erased.send(person, identifiers=who)
