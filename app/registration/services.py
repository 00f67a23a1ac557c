"""Registering people for sessions: never lost, never doubled, never oversold.

- A seat is taken by one conditional UPDATE (``confirmed_count < capacity``) inside the
  transaction that inserts the registration: atomic on PostgreSQL (the row is locked until
  commit) and on SQLite (the UPDATE takes the database's write lock); a rollback gives the
  seat back. A full session puts the person on the waitlist.
- The same person in the same session is unique (a database constraint); a retry, a double
  click or two concurrent submissions end with one registration and the same answer.
- A cancelled seat goes straight to the first person on the waitlist in the same transaction,
  so a newcomer cannot take it first.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from flask import current_app, render_template
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from app.activities.models import Activity, ActivitySession, ActivityStatus, SessionStatus
from app.activities.signals import session_changed
from app.audit.services import record
from app.calendar import Attendee, Method, build_calendar, callbacks_for, is_cancelled
from app.extensions import db
from app.i18n import format_day
from app.outbox.models import Attachment, OutboxMessage, OutboxStatus
from app.outbox.rendering import NothingToSend, Rendered, renderer
from app.outbox.services import enqueue
from app.people.erasure import redact_other_stores
from app.people.models import Channel, Person
from app.people.services import (
    PersonInput,
    anonymise,
    clean_person,
    find_person,
    masked_contact,
    new_person,
    update_person,
)
from app.registration.models import Attendance, Registration, RegistrationStatus, Source
from app.timeutil import utcnow
from app.urls import external_url

LINK_VALID_AFTER_END = timedelta(days=30)
CALENDAR_ALARM = timedelta(minutes=30)  # the alarm in the person's own calendar event


class RegistrationError(ValueError):
    def __init__(self, message: str, status: int = 400, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.field = field


@dataclass
class RegisterResult:
    registration: Registration | None  # None: held for confirmation, or nothing could be sent
    created: bool
    recognised: bool
    held: bool = False  # waiting for the person to confirm from the contact on file
    # Where a message about this submission goes, going by what was *typed* (masked): the same
    # whether or not the document was known, so the answer reveals nothing about the database.
    typed_contact: str = ""


def closes_at(session: ActivitySession) -> Any:
    minutes = int(current_app.config.get("REGISTRATION_CLOSES_MINUTES", 60))
    return session.starts_at - timedelta(minutes=minutes)


def check_open(session: ActivitySession | None) -> ActivitySession:
    if session is None:
        raise RegistrationError(_("Esa sesión no existe."), status=404)
    activity: Activity = session.activity
    if activity.status != ActivityStatus.PUBLISHED:
        if activity.status == ActivityStatus.CANCELLED:
            raise RegistrationError(_("Esta actividad fue cancelada."), status=409)
        if activity.status == ActivityStatus.DONE:
            raise RegistrationError(_("Esta actividad ya se realizó."), status=409)
        raise RegistrationError(_("Esa sesión no existe."), status=404)
    if session.status == SessionStatus.CANCELLED:
        raise RegistrationError(_("Esta sesión fue cancelada."), status=409)
    if utcnow() >= closes_at(session):
        raise RegistrationError(
            _("Las inscripciones para esta sesión ya cerraron. Busque otra fecha o llame a la oficina."), status=409)
    return session


def waitlist_position(reg: Registration) -> int | None:
    if reg.status != RegistrationStatus.WAITLISTED:
        return None
    ahead = db.session.scalar(
        select(func.count()).select_from(Registration).where(
            Registration.session_id == reg.session_id, Registration.status == RegistrationStatus.WAITLISTED,
            (Registration.created_at < reg.created_at)
            | ((Registration.created_at == reg.created_at) & (Registration.id < reg.id))))
    return int(ahead or 0) + 1


def _take_seat(session_id: int) -> bool:
    result = db.session.execute(
        update(ActivitySession)
        .where(ActivitySession.id == session_id, ActivitySession.status == SessionStatus.SCHEDULED,
               ActivitySession.confirmed_count < ActivitySession.capacity)
        .values(confirmed_count=ActivitySession.confirmed_count + 1)
        .execution_options(synchronize_session=False))
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def _release_seat(session_id: int) -> None:
    db.session.execute(
        update(ActivitySession).where(ActivitySession.id == session_id, ActivitySession.confirmed_count > 0)
        .values(confirmed_count=ActivitySession.confirmed_count - 1).execution_options(synchronize_session=False))


def register(session_id: int, inp: PersonInput, *, source: Source = Source.PUBLIC, office: Any = None,
             staff_user: Any = None, campaign_code: str | None = None, via: str | None = None) -> RegisterResult:
    """Register a person (recognised or new) for a session; one transaction, safe to retry.

    ``campaign_code``: the tracked link the person came through (``/c/<code>``), credited to
    that campaign channel. ``via``: how a staff-assisted registration arrived ("phone" or
    "counter")."""
    cleaned = clean_person(inp, contact_optional=staff_user is not None)
    if via not in (None, "phone", "counter"):
        raise RegistrationError(_("Indique si la inscripción llegó por teléfono o en el mesón."), field="via")
    for _attempt in range(4):
        try:
            result = _register_once(session_id, cleaned, source=source, office=office, staff_user=staff_user,
                                    campaign_code=campaign_code, via=via)
            result.typed_contact = typed_contact(cleaned)
            return result
        except IntegrityError:
            # A concurrent submission created the same person or registration first: look again.
            db.session.rollback()
    raise RegistrationError(_("Hay mucha demanda en este momento. Intente de nuevo en unos segundos."), status=503)


def _register_once(session_id: int, cleaned: dict[str, Any], *, source: Source, office: Any,
                   staff_user: Any, campaign_code: str | None = None, via: str | None = None) -> RegisterResult:
    session = check_open(db.session.get(ActivitySession, session_id,
                                        options=[joinedload(ActivitySession.activity)]))
    person = find_person(cleaned)
    recognised = person is not None
    existing: Registration | None = None
    if person is not None and staff_user is None:
        # Known document on the public form or the API: whoever typed it may not be the person.
        from app.registration.holds import hold_for_known_person

        return hold_for_known_person(session, person, source=source, campaign_code=campaign_code)
    if person is None:
        person = new_person(cleaned, office_id=getattr(office, "id", None) or session.activity.host_office_id)
        db.session.flush()
    else:  # a newcomer has no registrations yet: no need to look
        existing = db.session.scalar(select(Registration).where(Registration.session_id == session.id,
                                                                Registration.person_id == person.id))
    if existing is not None and existing.status != RegistrationStatus.CANCELLED:
        db.session.rollback()
        return RegisterResult(existing, created=False, recognised=True)
    confirmed = take_seat_or_free_expired(session.id)
    reg = record_registration(session, person, existing, confirmed=confirmed, source=source, office=office,
                              staff_user=staff_user, campaign_code=campaign_code, via=via)
    if staff_user is not None:
        record("registration.staff_create", reg, f"sesión {session.id}", actor=staff_user,
               office_id=getattr(office, "id", None))
    _commit_keeping_state()
    return RegisterResult(reg, created=True, recognised=recognised)


def take_seat_or_free_expired(session_id: int) -> bool:
    """Take a seat; when none is free, first give back the seats of expired holds (to the
    waitlist first, as a cancellation would) and try once more. The full-session path only:
    a session with seats costs one UPDATE as before."""
    if _take_seat(session_id):
        return True
    from app.registration.holds import release_expired_in_transaction

    return release_expired_in_transaction(session_id=session_id) > 0 and _take_seat(session_id)


def record_registration(session: ActivitySession, person: Person, existing: Registration | None, *,
                        confirmed: bool, source: Source, office: Any = None, staff_user: Any = None,
                        campaign_code: str | None = None, via: str | None = None) -> Registration:
    """Write the registration (a new row, or the person's cancelled one made fresh) and queue
    its message, in the caller's transaction; the seat was already taken (or not)."""
    now = utcnow()
    status = RegistrationStatus.CONFIRMED if confirmed else RegistrationStatus.WAITLISTED
    if existing is not None:  # came back after cancelling: a fresh registration in the same row
        reg = existing
        reg.status, reg.created_at, reg.cancelled_at, reg.cancel_reason = status, now, None, None
        reg.source, reg.office_id = source, getattr(office, "id", None)
        reg.staff_user_id, reg.campaign_channel_id = getattr(staff_user, "id", None), None
        reg.attendance, reg.attendance_marked_by_id, reg.joined_at = None, None, None
        reg.nonce = secrets.token_hex(8)
    else:
        reg = Registration(session_id=session.id, person=person, status=status, source=source,
                           office_id=getattr(office, "id", None), staff_user_id=getattr(staff_user, "id", None),
                           nonce=secrets.token_hex(8), created_at=now)
        db.session.add(reg)
    reg.confirmed_at = now if confirmed else None
    reg.via = via
    if campaign_code:
        from app.dissemination.services import attribute

        attribute(reg, campaign_code)
    db.session.flush()
    _queue_message(reg, "confirmation" if confirmed else "waitlisted")
    return reg


def give_back_seat(session_id: int) -> Registration | None:
    """A seat held or confirmed is free again: it goes to the first person waiting, else back
    to the count. Returns the promoted registration, if any."""
    promoted = _promote_next(session_id)
    if promoted is None:
        _release_seat(session_id)
    return promoted


def typed_contact(cleaned: dict[str, Any]) -> str:
    """Where a newcomer with these details would be written to, masked: from what was typed only."""
    return masked_contact(Person(email=cleaned.get("email"), phone=cleaned.get("phone"),
                                 preferred_channel=cleaned.get("preferred_channel") or Channel.EMAIL))


def _commit_keeping_state() -> None:
    """Commit without expiring what this transaction just wrote: the answer is built from the
    objects as they are, instead of reloading the registration, its session and activity."""
    sess = db.session()
    sess.expire_on_commit = False
    try:
        sess.commit()
    finally:
        sess.expire_on_commit = True


def cancel(reg: Registration, *, reason: str = "", actor: Any = None, notify: bool = True) -> Registration | None:
    """Cancel a registration; a confirmed seat passes to the first person waiting.

    The person is told (with a METHOD:CANCEL invitation when they held a seat) unless
    ``notify`` is false. Returns the promoted registration, if any."""
    if reg.status == RegistrationStatus.CANCELLED:
        return None
    done, promoted = _cancel_in_transaction(reg, reason=reason, actor=actor, notify=notify)
    if not done:
        db.session.rollback()
        return None
    db.session.commit()
    db.session.refresh(reg)
    return promoted


def _cancel_in_transaction(reg: Registration, *, reason: str, actor: Any,
                           notify: bool) -> tuple[bool, Registration | None]:
    """Cancel inside the caller's transaction: (whether we cancelled it, who was promoted)."""
    was_confirmed = reg.status == RegistrationStatus.CONFIRMED
    claimed = db.session.execute(
        update(Registration).where(Registration.id == reg.id, Registration.status == reg.status)
        .values(status=RegistrationStatus.CANCELLED, cancelled_at=utcnow(), cancel_reason=(reason or "")[:1000])
        .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return False, None
    db.session.refresh(reg)
    promoted = None
    if was_confirmed:
        promoted = give_back_seat(reg.session_id)
    _void_pending(reg.id, kinds=REMINDER_KINDS)
    if notify:
        _queue_message(reg, "withdrawn", invitation="CANCEL" if was_confirmed else None,
                       reason=reason if actor is not None else "")
    if actor is not None:
        record("registration.cancel", reg, f"sesión {reg.session_id}", actor=actor, office_id=reg.office_id)
    return True, promoted


def _promote_next(session_id: int) -> Registration | None:
    """Give a freed seat to the first person waiting (the seat count stays the same)."""
    session = db.session.get(ActivitySession, session_id)
    if session is None or session.status != SessionStatus.SCHEDULED:
        return None
    for candidate in db.session.scalars(
            select(Registration).where(Registration.session_id == session_id,
                                       Registration.status == RegistrationStatus.WAITLISTED)
            .order_by(Registration.created_at, Registration.id).limit(5)):
        done = db.session.execute(
            update(Registration).where(Registration.id == candidate.id,
                                       Registration.status == RegistrationStatus.WAITLISTED)
            .values(status=RegistrationStatus.CONFIRMED, confirmed_at=utcnow())
            .execution_options(synchronize_session=False))
        if done.rowcount == 1:  # type: ignore[attr-defined]
            db.session.refresh(candidate)
            _queue_message(candidate, "promoted")
            return candidate
    return None


class SessionFull(RegistrationError):
    """The session asked for has no free seat, and the caller did not choose its waitlist."""


def _lock_sessions(session_ids: Sequence[int]) -> None:
    """Lock these sessions' rows until commit, in id order (two people moving in opposite
    directions never wait on each other in a circle). A no-op UPDATE: on PostgreSQL it locks
    the row; on SQLite the first write takes the database's write lock, so whatever is read
    after it is what the transaction keeps."""
    for session_id in sorted(set(session_ids)):
        db.session.execute(
            update(ActivitySession).where(ActivitySession.id == session_id)
            .values(confirmed_count=ActivitySession.confirmed_count, updated_at=ActivitySession.updated_at)
            .execution_options(synchronize_session=False))


def move(reg: Registration, new_session_id: int, *, actor: Any = None,
         if_full: Literal["waitlist", "stay"] = "waitlist", same_activity: bool = False) -> RegisterResult:
    """Move a person to another session in one transaction: the old seat is given back (to the
    first person waiting) and the new one taken together, or nothing changes.

    Both sessions are locked first, then everything is checked again under the lock: the
    registration is still as it was (a double click moves once), the new session is open and
    the person is not already in it. The seat is taken by the same conditional UPDATE as a
    registration. When the new session is full, ``if_full="waitlist"`` puts the person on its
    waitlist (staff, whose list says "llena", or the person choosing it explicitly);
    ``"stay"`` leaves everything as it was and raises ``SessionFull``. ``actor`` None: the
    person, through their personal link (``same_activity``: only dates of the same workshop).
    A cancelled registration can be moved too: the person picks another date after cancelling.
    """
    target = db.session.get(ActivitySession, new_session_id)
    if target is None or (same_activity and target.activity_id != reg.session.activity_id):
        raise RegistrationError(_("Esa fecha no existe."), status=404)
    if target.id == reg.session_id:
        raise RegistrationError(_("La persona ya está en esa sesión.") if actor is not None
                                else _("Usted ya está inscrita o inscrito en esa fecha."), status=409)
    old_session_id, was = reg.session_id, reg.status
    _lock_sessions([old_session_id, target.id])
    db.session.refresh(target)
    try:
        check_open(target)
    except RegistrationError:
        db.session.rollback()
        raise
    if db.session.scalar(select(Registration.id).where(
            Registration.session_id == target.id, Registration.person_id == reg.person_id,
            Registration.status != RegistrationStatus.CANCELLED)) is not None:
        db.session.rollback()
        raise RegistrationError(_("La persona ya está inscrita en esa sesión.") if actor is not None
                                else _("Usted ya está inscrita o inscrito en esa fecha."), status=409)
    if was != RegistrationStatus.CANCELLED:
        claimed = db.session.execute(
            update(Registration).where(Registration.id == reg.id, Registration.status == was)
            .values(status=RegistrationStatus.CANCELLED, cancelled_at=utcnow(), cancel_reason=_("Cambio de fecha"))
            .execution_options(synchronize_session=False))
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            db.session.rollback()
            raise RegistrationError(_("Esta inscripción cambió mientras tanto. Revise su página."), status=409)
    confirmed = _take_seat(target.id)
    if not confirmed and if_full == "stay":
        db.session.rollback()
        raise SessionFull(_("Esa fecha ya no tiene cupos. Su inscripción sigue como estaba."), status=409)
    if was == RegistrationStatus.CONFIRMED and _promote_next(old_session_id) is None:
        _release_seat(old_session_id)
    if was != RegistrationStatus.CANCELLED:
        _void_pending(reg.id, kinds=REMINDER_KINDS)
    now = utcnow()
    new = db.session.scalar(select(Registration).where(Registration.session_id == target.id,
                                                       Registration.person_id == reg.person_id))
    if new is None:
        new = Registration(session_id=target.id, person_id=reg.person_id)
        db.session.add(new)
    new.status = RegistrationStatus.CONFIRMED if confirmed else RegistrationStatus.WAITLISTED
    new.created_at, new.confirmed_at, new.cancelled_at, new.cancel_reason = now, now if confirmed else None, None, None
    new.nonce, new.attendance, new.attendance_marked_by_id, new.joined_at = secrets.token_hex(8), None, None, None
    # Whoever convened the person keeps the credit; a staff move is the staff member's.
    new.office_id, new.via, new.campaign_channel_id = reg.office_id, reg.via, reg.campaign_channel_id
    new.source = Source.STAFF if actor is not None else reg.source
    new.staff_user_id = getattr(actor, "id", None) if actor is not None else reg.staff_user_id
    try:
        db.session.flush()
    except IntegrityError:  # the same person got into that session at this very moment
        db.session.rollback()
        raise RegistrationError(_("Usted ya está inscrita o inscrito en esa fecha."), status=409) from None
    db.session.refresh(reg)
    if was == RegistrationStatus.CONFIRMED:  # their calendar drops the old date
        _queue_message(reg, "withdrawn", invitation="CANCEL", reason=_("Cambio de fecha"))
    _queue_message(new, "confirmation" if confirmed else "waitlisted")
    record("registration.move", new, f"{old_session_id} -> {target.id}", actor=actor,
           office_id=reg.office_id)
    db.session.commit()
    return RegisterResult(new, created=True, recognised=True)


def mark_attendance(reg: Registration, value: Attendance | None, *, actor: Any) -> None:
    reg.attendance = value
    reg.attendance_marked_by_id = getattr(actor, "id", None)
    record("registration.attendance", reg, value.value if value else "-", actor=actor, office_id=reg.office_id)
    db.session.commit()


def mark_joined(reg: Registration, at: datetime | None = None) -> None:
    """Attendance evidence (the join button, or the provider saying they joined), in the
    caller's transaction; the first time is kept."""
    if reg.joined_at is None:
        reg.joined_at = at or utcnow()


def record_join(reg: Registration) -> None:
    """The person clicked "join": ``mark_joined``, committed."""
    if reg.joined_at is None:
        mark_joined(reg)
        db.session.commit()


# --- personal links --------------------------------------------------------------------------


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="registration-link")


def personal_token(reg: Registration) -> str:
    return str(_signer().dumps([reg.id, reg.nonce]))


def personal_url(reg: Registration) -> str:
    return external_url("registration.personal", token=personal_token(reg))


def registration_from_token(token: str) -> Registration:
    """The registration a personal link points to; 404 if tampered, 410 if expired or replaced."""
    try:
        data = _signer().loads(token)
        reg_id, nonce = int(data[0]), str(data[1])
    except (BadSignature, ValueError, TypeError, IndexError) as exc:
        raise RegistrationError(_("Este enlace no es válido. Revise que lo copió completo."), status=404) from exc
    reg = db.session.get(Registration, reg_id)
    if reg is None or not secrets.compare_digest(reg.nonce, nonce):
        raise RegistrationError(_("Este enlace ya no es válido."), status=410)
    if utcnow() > reg.session.ends_at + LINK_VALID_AFTER_END:
        raise RegistrationError(_("Este enlace venció porque la actividad ya terminó hace tiempo."), status=410)
    if reg.person.anonymised_at is not None:
        raise RegistrationError(_("Sus datos fueron eliminados a su pedido."), status=410)
    return reg


# --- the person's own details and data rights ----------------------------------------------


def update_details(reg: Registration, inp: PersonInput) -> Person:
    """The person changes their own details through their link; one transaction.

    The identity document cannot change here (it is how offices recognise the person) and
    the consent given when registering stands: both are taken from what is stored.
    Raises ``PersonError`` (nothing written) when something is not valid.
    """
    person = reg.person
    inp.document_type = person.document_type.value
    inp.document_number = person.document_number
    inp.consent_data = True
    cleaned = clean_person(inp)
    update_person(person, cleaned)
    record("person.update_own", person, "por su enlace personal", office_id=person.office_id)
    db.session.commit()
    return person


def person_registrations(person: Person) -> list[Registration]:
    return list(db.session.scalars(
        select(Registration).join(ActivitySession).where(Registration.person_id == person.id)
        .order_by(ActivitySession.starts_at.desc(), Registration.id)))


def _messages_of(reg_ids: Sequence[int]) -> Any:
    return or_(*[OutboxMessage.dedupe_key.startswith(f"registration:{rid}:", autoescape=True) for rid in reg_ids])


def person_messages(person: Person) -> list[OutboxMessage]:
    """The messages queued for this person about their registrations."""
    ids = [r.id for r in person_registrations(person)]
    if not ids:
        return []
    return list(db.session.scalars(select(OutboxMessage).where(_messages_of(ids))
                                   .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())))


ERASED = "(eliminado a pedido de la persona)"


def erase_personal_data(reg: Registration) -> list[Registration]:
    """Delete what identifies the person behind this link (their right under Chilean law).

    One transaction: registrations in sessions that have not ended are cancelled (their seats
    pass to the waitlist, and the people promoted are told); messages not yet sent to the
    person are voided and the copies kept in the outbox lose address, name and text; the
    person is anonymised. Registrations, attendance and the anonymous profile (comuna,
    connectivity, accessibility needs) stay, so counts and reports still add up. Their links
    answer 410 from then on. Returns the registrations promoted from the waitlist.
    """
    person = reg.person
    now = utcnow()
    promoted: list[Registration] = []
    active = list(db.session.scalars(
        select(Registration).join(ActivitySession)
        .where(Registration.person_id == person.id, Registration.status != RegistrationStatus.CANCELLED,
               ActivitySession.ends_at > now)
        .order_by(Registration.id)))
    for r in active:
        _done, p = _cancel_in_transaction(r, reason="Datos eliminados a pedido de la persona", actor=None,
                                          notify=False)
        if p is not None:
            promoted.append(p)
    ids = [r.id for r in person_registrations(person)]
    if ids:
        db.session.execute(
            update(OutboxMessage).where(_messages_of(ids), OutboxMessage.status == OutboxStatus.PENDING)
            .values(status=OutboxStatus.CANCELLED).execution_options(synchronize_session=False))
        db.session.execute(
            update(OutboxMessage).where(_messages_of(ids))
            .values(recipient=ERASED, recipient_name=None, body_text=ERASED, body_html=None, attachments=None,
                    renderer=None, render_context=None)
            .execution_options(synchronize_session=False))
    redact_other_stores(person, ids)  # survey comments, campaign messages, Zoom events, domains
    anonymise(person)
    record("person.erase", person, "a pedido de la persona, por su enlace personal", office_id=person.office_id)
    db.session.commit()
    return promoted


# --- messages --------------------------------------------------------------------------------

REMINDER_KINDS = ("reminder_24h", "reminder_1h")
_AUTO: Literal["auto"] = "auto"


def _subject(kind: str, session: ActivitySession) -> str:
    title = session.activity.title
    time = session.local_start.strftime("%H:%M")
    if kind == "confirmation":
        return _("Inscripción confirmada: %(title)s", title=title)
    if kind == "waitlisted":
        return _("Quedó en lista de espera: %(title)s", title=title)
    if kind == "promoted":
        return _("Se liberó un cupo: su inscripción está confirmada en %(title)s", title=title)
    if kind == "changed":
        return _("Cambio en su sesión: %(title)s", title=title)
    if kind == "cancelled":
        return _("Sesión cancelada: %(title)s", title=title)
    if kind == "withdrawn":
        return _("Su inscripción fue cancelada: %(title)s", title=title)
    if kind == "reminder_24h":
        return _("Recordatorio: %(title)s, el %(day)s a las %(time)s", title=title,
                 day=format_day(session.local_start), time=time)
    return _("Recordatorio: %(title)s comienza a las %(time)s", title=title, time=time)


def _nonce_tag(reg: Registration) -> str:
    """Changes when a registration is made again, without showing the personal link's nonce."""
    return hashlib.sha256(reg.nonce.encode()).hexdigest()[:10]


def message_key(reg: Registration, kind: str, *, suffix: str = "") -> str:
    """The outbox dedupe key: ids, kind and versions, never personal data."""
    return f"registration:{reg.id}:{kind}:{reg.session.sequence}:{_nonce_tag(reg)}{suffix}"


def reminder_key(reg_id: int, kind: str, starts_at: datetime) -> str:
    """One reminder of each kind per registration and start time: a moved session gets a new
    one, and the same time never gets two."""
    return f"registration:{reg_id}:{kind}:{starts_at.astimezone(UTC):%Y%m%dT%H%MZ}"


def _invitation_method(reg: Registration, kind: str) -> Method | None:
    """People holding a seat get the invitation (REQUEST); a cancelled session withdraws it."""
    if reg.status != RegistrationStatus.CONFIRMED:
        return None
    if kind == "cancelled" or is_cancelled(reg.session):
        return "CANCEL"
    if kind in ("confirmation", "promoted", "changed", *REMINDER_KINDS):
        return "REQUEST"
    return None


def invitation_ics(reg: Registration, method: Method | None) -> bytes:
    """The session as an iCalendar file for this person.

    With an email address and a method, an iTIP message (RFC 5546): ORGANIZER the host
    office, ATTENDEE the person, the session's UID and SEQUENCE, so a later REQUEST updates
    the event and a CANCEL removes it. Without an email address, a plain calendar file.
    How to join points to the join page (a remote session) or the person's own page, and an
    alarm rings ``CALENDAR_ALARM`` before the start.
    """
    session = reg.session
    person = reg.person
    link = personal_url(reg)
    attendee = None
    if method is not None and person.email:
        attendee = Attendee(email=person.email, name=person.full_name,
                            partstat="ACCEPTED" if method == "REQUEST" else "NEEDS-ACTION")
    # A remote session's event leads straight to the join page (the button opens there).
    join = external_url("conferencing.join", token=personal_token(reg)) if session.is_remote else link
    callbacks = callbacks_for([session], private=False)
    return build_calendar([session], name=session.activity.title, url_for_session=lambda _s: link,
                          details=callbacks.details, join_url_for_session=lambda _s: join,
                          method=method if attendee is not None else None, attendee=attendee,
                          alarm=None if method == "CANCEL" else CALENDAR_ALARM)


def invitation_attachment(reg: Registration, method: Method) -> Attachment:
    filename = "cancelacion.ics" if method == "CANCEL" else "invitacion.ics"
    return Attachment(filename=filename, content_type=f"text/calendar; method={method}; charset=utf-8",
                      content=invitation_ics(reg, method))


def message_channel(person: Person) -> tuple[str, str | None]:
    """(channel, address) a message to this person goes to."""
    if person.preferred_channel == Channel.EMAIL or (person.email and not person.phone):
        return "email", person.email
    return person.preferred_channel.value, person.phone


def _queue_message(reg: Registration, kind: str, *, key_suffix: str = "", dedupe_key: str | None = None,
                   invitation: Method | None | Literal["auto"] = _AUTO,
                   reason: str = "") -> int | None:
    """Queue a message on the person's channel: an email with the .ics, or a short text for
    WhatsApp, SMS or a phone call. Nothing for anonymised people or without a contact.

    Only one row is written here; the worker writes the text (``registration_message``) just
    before sending, so a registration at the morning peak does not wait for templates and an
    .ics file. What must not change by then is fixed now: the kind, the reason, and whether an
    invitation goes with it. Returns the outbox message id."""
    person: Person = reg.person
    if person.anonymised_at is not None:
        return None
    channel_name, to = message_channel(person)
    if not to:
        return None
    session = reg.session
    method = _invitation_method(reg, kind) if invitation == _AUTO else invitation
    context = {"registration_id": reg.id, "kind": kind, "channel": channel_name, "reason": reason,
               "invitation": method if channel_name == "email" else None}
    return enqueue(dedupe_key=dedupe_key or message_key(reg, kind, suffix=key_suffix), channel=channel_name,
                   to=to, to_name=person.full_name, subject=_subject(kind, session), kind=f"registration_{kind}",
                   office_id=reg.office_id or session.activity.host_office_id,
                   renderer="registration_message", context=context)


@renderer("registration_message")
def render_registration_message(context: dict[str, Any]) -> Rendered:
    """The message for one registration, from the database as it is now (see ``_queue_message``)."""
    reg = db.session.get(Registration, int(context["registration_id"]))
    if reg is None or reg.person.anonymised_at is not None:
        raise NothingToSend("la persona pidió eliminar sus datos")
    kind = str(context["kind"])
    session = reg.session
    ctx = {"reg": reg, "person": reg.person, "session": session, "activity": session.activity, "kind": kind,
           "link": personal_url(reg), "position": waitlist_position(reg), "reason": context.get("reason") or ""}
    subject = _subject(kind, session)
    if context.get("channel", "email") != "email":
        # A phone is often the household's: every short message says whose registration it is.
        text = _("Para %(name)s.", name=reg.person.first_names) + " " + render_template(
            "email/registration.short.txt", **ctx)
        return Rendered(subject=subject, body_text=text)
    method = context.get("invitation")
    attachments = [invitation_attachment(reg, method)] if method in ("REQUEST", "CANCEL") else []
    return Rendered(subject=subject, body_text=render_template("email/registration.txt", **ctx),
                    body_html=render_template("email/registration.html", **ctx), attachments=attachments)


def queue_reminder(reg: Registration, kind: str, key: str) -> int | None:
    """A reminder (``reminder_24h`` or ``reminder_1h``) under its own dedupe key."""
    if kind not in REMINDER_KINDS:
        raise ValueError(kind)
    return _queue_message(reg, kind, dedupe_key=key)


def _void_pending(reg_id: int, *, kinds: Sequence[str]) -> None:
    """Void messages not sent yet that no longer hold (a reminder for an old time)."""
    db.session.execute(
        update(OutboxMessage)
        .where(or_(*[OutboxMessage.dedupe_key.startswith(f"registration:{reg_id}:{k}:", autoescape=True)
                     for k in kinds]), OutboxMessage.status == OutboxStatus.PENDING)
        .values(status=OutboxStatus.CANCELLED).execution_options(synchronize_session=False))


@session_changed.connect
def _tell_registrants(session: ActivitySession, *, changes: list[Any], actor: Any, **_kw: Any) -> None:
    """Everyone registered hears of a change (an invitation with the higher SEQUENCE) or of a
    cancellation (METHOD:CANCEL); reminders queued for the old time are voided."""
    cancelled = any(c.kind == "cancelled" for c in changes)
    moved = cancelled or any(c.kind == "time" for c in changes)
    for reg in list(db.session.scalars(select(Registration).where(
            Registration.session_id == session.id, Registration.status != RegistrationStatus.CANCELLED))):
        if moved:
            _void_pending(reg.id, kinds=REMINDER_KINDS)
        _queue_message(reg, "cancelled" if cancelled else "changed",
                       key_suffix=":" + "-".join(str(c.id) for c in changes))


# --- staff: counts, attendance, updates, exports ------------------------------------------------


@dataclass
class SessionCounts:
    """Totals of a session: no personal data, so anyone who may see the session sees them."""

    capacity: int
    confirmed: int
    waitlisted: int
    cancelled: int
    present: int
    absent: int
    # (office id, or None for the public form and the API; confirmed, waitlisted, present)
    by_office: list[tuple[int | None, int, int, int]]


def session_counts(session: ActivitySession) -> SessionCounts:
    rows = db.session.execute(
        select(Registration.office_id, Registration.status, Registration.attendance, func.count())
        .where(Registration.session_id == session.id)
        .group_by(Registration.office_id, Registration.status, Registration.attendance)).all()
    totals = {s: 0 for s in RegistrationStatus}
    present = absent = 0
    per_office: dict[int | None, list[int]] = {}
    for office_id, status, attendance, n in rows:
        totals[status] += n
        slot = per_office.setdefault(office_id, [0, 0, 0])
        if status == RegistrationStatus.CONFIRMED:
            slot[0] += n
        elif status == RegistrationStatus.WAITLISTED:
            slot[1] += n
        if status != RegistrationStatus.CANCELLED and attendance == Attendance.PRESENT:
            present += n
            slot[2] += n
        elif status != RegistrationStatus.CANCELLED and attendance == Attendance.ABSENT:
            absent += n
    by_office = [(oid, c, w, p) for oid, (c, w, p) in per_office.items() if c or w or p]
    return SessionCounts(capacity=session.capacity, confirmed=totals[RegistrationStatus.CONFIRMED],
                         waitlisted=totals[RegistrationStatus.WAITLISTED],
                         cancelled=totals[RegistrationStatus.CANCELLED], present=present, absent=absent,
                         by_office=by_office)


def waitlist_positions(session_id: int) -> dict[int, int]:
    """Every waitlisted registration's position in one query: {registration id: position}."""
    ids = db.session.scalars(select(Registration.id).where(
        Registration.session_id == session_id, Registration.status == RegistrationStatus.WAITLISTED)
        .order_by(Registration.created_at, Registration.id))
    return {reg_id: n for n, reg_id in enumerate(ids, start=1)}


def check_attendance_open(session: ActivitySession) -> None:
    """Attendance is taken from the day of the session (in its own zone) onwards."""
    from zoneinfo import ZoneInfo

    from flask_babel import format_date

    today = utcnow().astimezone(ZoneInfo(session.timezone)).date()
    if today < session.local_start.date():
        raise RegistrationError(_("La asistencia se puede registrar desde el día de la sesión (%(day)s).",
                                  day=format_date(session.local_start.date(), "long")), status=409)


def staff_mark_attendance(reg: Registration, value: Attendance | None, *, actor: Any) -> None:
    """Staff mark one person present or absent (or clear it): not for a cancelled registration,
    and not before the day of the session."""
    if reg.status == RegistrationStatus.CANCELLED:
        raise RegistrationError(_("Esta inscripción está cancelada: no se registra su asistencia."), status=409)
    check_attendance_open(reg.session)
    mark_attendance(reg, value, actor=actor)


def mark_present_many(session: ActivitySession, registration_ids: set[int], *, actor: Any,
                      summary: str = "") -> int:
    """Mark several registrations of ``session`` present in one transaction (an attendance
    import); cancelled registrations and ids of other sessions are skipped. Returns how many
    were marked."""
    check_attendance_open(session)
    regs = list(db.session.scalars(select(Registration).where(
        Registration.session_id == session.id, Registration.id.in_(registration_ids or {-1}),
        Registration.status != RegistrationStatus.CANCELLED)))
    for reg in regs:
        reg.attendance = Attendance.PRESENT
        reg.attendance_marked_by_id = getattr(actor, "id", None)
    record("registration.attendance_import", session,
           f"sesión {session.id}: {len(regs)} presentes" + (f"; {summary}" if summary else ""),
           actor=actor, office_id=getattr(actor, "office_id", None))
    db.session.commit()
    return len(regs)


PERSON_FIELDS = ("first_names", "last_names", "email", "phone", "comuna_code", "preferred_channel",
                 "needs_subtitles", "needs_sign_language", "uses_screen_reader", "accessibility_other",
                 "connectivity", "soft_skills", "rural", "availability", "consent_recording", "opt_in_future")


def staff_update_person(person: Person, inp: PersonInput, *, actor: Any) -> list[str]:
    """Staff update a person's stored details (their document stays as it is): validate
    everything first (``PersonError``, nothing written), then one transaction with an audit
    record naming the changed fields (never their values). Returns the changed field names."""
    if person.anonymised_at is not None:
        raise RegistrationError(_("Los datos de esta persona fueron eliminados a su pedido."), status=410)
    inp.document_type = person.document_type.value
    inp.document_number = person.document_number
    inp.consent_data = person.consent_data_at is not None or inp.consent_data
    cleaned = clean_person(inp)
    changed = [name for name in PERSON_FIELDS if getattr(person, name) != cleaned[name]]
    if changed:
        update_person(person, cleaned)
        record("person.update", person, "campos: " + ", ".join(changed), actor=actor,
               office_id=getattr(actor, "office_id", None))
        db.session.commit()
    return changed


def record_export(session: ActivitySession, *, actor: Any, rows: int, masked: int) -> None:
    """Audit an export of a session's registrants (counts only, no personal data)."""
    record("registration.export", session,
           f"sesión {session.id}: {rows} filas, {masked} con identidad enmascarada",
           actor=actor, office_id=getattr(actor, "office_id", None))
    db.session.commit()
