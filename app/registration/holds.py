"""Registrations asked for a person already on file wait for that person to confirm them.

A person is their identity document. When the public form or the API receives a document
that is already on file, whoever typed it may be the person, or a relative with the family
phone, or a stranger who knows the RUT. So nothing is booked in their name yet, and nothing
they have on file changes: a *hold* (``RegistrationHold``) keeps a seat for
``REGISTRATION_HOLD_MINUTES`` (30 by default; no seat if the session is full, they will join the
waitlist) and a message goes to the contact **on file** (never to the contact typed) with a
link to confirm. Opening the link shows a button; pressing it (a POST, so a link preview or a
mail scanner fetching the page books nothing) turns the hold into the registration and shows
the person their personal page. A hold not confirmed in time gives its seat back, to the
waitlist first: every minute (``tasks.release_expired_holds``), when someone finds the session
full, and when its link is opened late.

The answer on the form is the same for every submission (see ``views.register``): it never
says whether the document, email or phone was known. A person already registered in that
session gets, instead of a hold, their links again at the contact on file (``recovery``).
A person on file without email or phone cannot confirm: nothing is held, staff register them.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, render_template
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import delete, select
from sqlalchemy.orm import joinedload

from app.activities.models import ActivitySession
from app.extensions import db
from app.outbox.rendering import NothingToSend, Rendered, renderer
from app.outbox.services import enqueue
from app.people.models import Person
from app.registration import services
from app.registration.models import Registration, RegistrationHold, RegistrationStatus, Source
from app.timeutil import utcnow
from app.urls import external_url


def hold_minutes() -> int:
    return int(current_app.config.get("REGISTRATION_HOLD_MINUTES", 30))


def hold_for_known_person(session: ActivitySession, person: Person, *, source: Source,
                          campaign_code: str | None) -> services.RegisterResult:
    """The public or API path for a known document, inside ``register``'s retry loop."""
    existing = db.session.scalar(select(Registration).where(Registration.session_id == session.id,
                                                            Registration.person_id == person.id))
    if existing is not None and existing.status != RegistrationStatus.CANCELLED:
        # Already registered: their links go again to the contact on file (at most once in a while).
        from app.registration.recovery import queue_links

        queue_links(person, reason="again")
        services._commit_keeping_state()
        return services.RegisterResult(None, created=False, recognised=True)
    _channel, address = services.message_channel(person)
    if not address:  # nobody to confirm with: staff register people without a contact
        db.session.rollback()
        return services.RegisterResult(None, created=False, recognised=True)
    now = utcnow()
    hold = db.session.scalar(select(RegistrationHold).where(RegistrationHold.session_id == session.id,
                                                            RegistrationHold.person_id == person.id))
    if hold is not None and hold.expires_at > now:
        db.session.rollback()  # the message already went; a repeat sends nothing more
        return services.RegisterResult(None, created=False, recognised=True, held=True)
    if hold is not None:
        _release(hold, now)
    hold = RegistrationHold(session_id=session.id, person=person, source=source, nonce=secrets.token_hex(8),
                            campaign_code=(campaign_code or None) and campaign_code[:64], created_at=now,
                            expires_at=now + timedelta(minutes=hold_minutes()),
                            holds_seat=services.take_seat_or_free_expired(session.id))
    db.session.add(hold)
    db.session.flush()  # a concurrent hold for the same person: IntegrityError, and register() looks again
    _queue_hold_message(hold)
    services._commit_keeping_state()
    return services.RegisterResult(None, created=False, recognised=True, held=True)


# --- the confirmation link ------------------------------------------------------------------


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="registration-hold")


def hold_token(hold: RegistrationHold) -> str:
    return str(_signer().dumps([hold.id, hold.nonce, hold.session_id, hold.person_id]))


def confirm_url(hold: RegistrationHold) -> str:
    return external_url("registration_identity.confirm", token=hold_token(hold))


def _read_token(token: str) -> tuple[int, str, int, int]:
    try:
        hold_id, nonce, session_id, person_id = _signer().loads(token)
        return int(hold_id), str(nonce), int(session_id), int(person_id)
    except (BadSignature, ValueError, TypeError) as exc:
        raise services.RegistrationError(_("Este enlace no es válido. Revise que lo copió completo."),
                                         status=404) from exc


def hold_from_token(token: str) -> RegistrationHold | Registration:
    """The live hold behind a confirmation link, or the registration it already became.

    ``RegistrationError``: 404 tampered, 410 expired (its seat is given back now) or replaced."""
    hold_id, nonce, session_id, person_id = _read_token(token)
    hold = db.session.get(RegistrationHold, hold_id, options=[joinedload(RegistrationHold.session)])
    if hold is not None and secrets.compare_digest(hold.nonce, nonce):
        if hold.expires_at > utcnow():
            return hold
        _release(hold, utcnow())  # read late: its seat comes back now (the caller kicks delivery)
        db.session.commit()
        raise services.RegistrationError(_expired_message(), status=410)
    reg = db.session.scalar(select(Registration).where(Registration.session_id == session_id,
                                                       Registration.person_id == person_id,
                                                       Registration.status != RegistrationStatus.CANCELLED))
    if reg is not None and reg.person.anonymised_at is None:
        return reg  # confirmed already (a second tap): the same page as the first time
    raise services.RegistrationError(_expired_message(), status=410)


def _expired_message() -> str:
    return _("Este enlace para confirmar venció o ya no es válido, y el cupo se liberó. Si todavía quiere "
             "participar, inscríbase de nuevo: le enviaremos otro enlace.")


def confirm(hold: RegistrationHold) -> Registration:
    """The person confirms from the message: the hold becomes their registration (confirmed on
    the held seat, or a new seat, or the waitlist); one transaction."""
    now = utcnow()
    claimed = db.session.execute(delete(RegistrationHold).where(
        RegistrationHold.id == hold.id, RegistrationHold.nonce == hold.nonce, RegistrationHold.expires_at > now)
        .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        db.session.rollback()
        raise services.RegistrationError(_expired_message(), status=410)
    session, person = hold.session, hold.person
    try:
        services.check_open(session)
    except services.RegistrationError:
        if hold.holds_seat:
            services.give_back_seat(session.id)
        db.session.commit()
        raise
    existing = db.session.scalar(select(Registration).where(Registration.session_id == session.id,
                                                            Registration.person_id == person.id))
    if existing is not None and existing.status != RegistrationStatus.CANCELLED:
        if hold.holds_seat:  # staff registered them meanwhile: the held seat is not needed
            services.give_back_seat(session.id)
        db.session.commit()
        return existing
    confirmed = hold.holds_seat or services.take_seat_or_free_expired(session.id)
    reg = services.record_registration(session, person, existing, confirmed=confirmed, source=hold.source,
                                       campaign_code=hold.campaign_code)
    services._commit_keeping_state()
    return reg


# --- expiry ---------------------------------------------------------------------------------


def _release(hold: RegistrationHold, now: datetime) -> bool:
    """Delete an expired hold and give its seat back, in the caller's transaction; False when
    another transaction released or confirmed it first."""
    gone = db.session.execute(delete(RegistrationHold).where(
        RegistrationHold.id == hold.id, RegistrationHold.expires_at <= now)
        .execution_options(synchronize_session=False))
    if gone.rowcount != 1:  # type: ignore[attr-defined]
        return False
    if hold.holds_seat:
        services.give_back_seat(hold.session_id)
    return True


def release_now(hold: RegistrationHold) -> bool:
    """End a hold at once (the person erased their data), seat back, in the caller's transaction."""
    gone = db.session.execute(delete(RegistrationHold).where(RegistrationHold.id == hold.id)
                              .execution_options(synchronize_session=False))
    if gone.rowcount != 1:  # type: ignore[attr-defined]
        return False
    if hold.holds_seat:
        services.give_back_seat(hold.session_id)
    return True


def release_expired_in_transaction(*, session_id: int | None = None, limit: int = 500) -> int:
    """Release holds past their time (of one session, or all); returns how many seats came back."""
    now = utcnow()
    q = select(RegistrationHold).where(RegistrationHold.expires_at <= now).order_by(RegistrationHold.id).limit(limit)
    if session_id is not None:
        q = q.where(RegistrationHold.session_id == session_id)
    seats = 0
    for hold in list(db.session.scalars(q)):
        if _release(hold, now) and hold.holds_seat:
            seats += 1
    return seats


def release_expired() -> int:
    """The periodic task's work: release every expired hold, committed. Returns seats freed."""
    seats = release_expired_in_transaction()
    db.session.commit()
    return seats


# --- the message to the contact on file -----------------------------------------------------


def _queue_hold_message(hold: RegistrationHold) -> int | None:
    person = hold.person
    channel, to = services.message_channel(person)
    if not to:
        return None
    tag = hashlib.sha256(hold.nonce.encode()).hexdigest()[:10]
    title = hold.session.activity.title
    return enqueue(dedupe_key=f"registration-hold:{hold.id}:{tag}", channel=channel, to=to,
                   to_name=person.full_name, subject=_("Confirme su inscripción: %(title)s", title=title),
                   kind="registration_hold", office_id=hold.session.activity.host_office_id,
                   renderer="registration_hold", context={"hold_id": hold.id, "channel": channel})


@renderer("registration_hold")
def render_hold_message(context: dict[str, Any]) -> Rendered:
    hold = db.session.get(RegistrationHold, int(context["hold_id"]))
    if hold is None or hold.expires_at <= utcnow():
        raise NothingToSend("la inscripción por confirmar ya se confirmó o venció")
    if hold.person.anonymised_at is not None:
        raise NothingToSend("la persona pidió eliminar sus datos")
    session = hold.session
    ctx = {"person": hold.person, "session": session, "activity": session.activity, "link": confirm_url(hold),
           "minutes": hold_minutes(), "expires": hold.expires_at.astimezone(session.local_start.tzinfo)}
    subject = _("Confirme su inscripción: %(title)s", title=session.activity.title)
    if context.get("channel", "email") != "email":
        return Rendered(subject=subject, body_text=render_template("email/registration_hold.short.txt", **ctx))
    return Rendered(subject=subject, body_text=render_template("email/registration_hold.txt", **ctx))
