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

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app, render_template
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from app.activities.models import Activity, ActivitySession, ActivityStatus, SessionStatus
from app.activities.signals import session_changed
from app.audit.services import record
from app.extensions import db
from app.outbox.services import enqueue_email
from app.people.models import Channel, Person
from app.people.services import PersonInput, clean_person, find_person, new_person
from app.registration.models import Attendance, Registration, RegistrationStatus, Source
from app.timeutil import utcnow
from app.urls import external_url

LINK_VALID_AFTER_END = timedelta(days=30)


class RegistrationError(ValueError):
    def __init__(self, message: str, status: int = 400, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.field = field


@dataclass
class RegisterResult:
    registration: Registration
    created: bool
    recognised: bool


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
             staff_user: Any = None) -> RegisterResult:
    """Register a person (recognised or new) for a session; one transaction, safe to retry."""
    cleaned = clean_person(inp)
    for _attempt in range(4):
        try:
            return _register_once(session_id, cleaned, source=source, office=office, staff_user=staff_user)
        except IntegrityError:
            # A concurrent submission created the same person or registration first: look again.
            db.session.rollback()
    raise RegistrationError(_("Hay mucha demanda en este momento. Intente de nuevo en unos segundos."), status=503)


def _register_once(session_id: int, cleaned: dict[str, Any], *, source: Source, office: Any,
                   staff_user: Any) -> RegisterResult:
    session = check_open(db.session.get(ActivitySession, session_id))
    person = find_person(cleaned)
    recognised = person is not None
    if person is None:
        person = new_person(cleaned, office_id=getattr(office, "id", None) or session.activity.host_office_id)
        db.session.flush()
    existing = db.session.scalar(select(Registration).where(Registration.session_id == session.id,
                                                            Registration.person_id == person.id))
    if existing is not None and existing.status != RegistrationStatus.CANCELLED:
        db.session.rollback()
        return RegisterResult(existing, created=False, recognised=True)
    confirmed = _take_seat(session.id)
    now = utcnow()
    status = RegistrationStatus.CONFIRMED if confirmed else RegistrationStatus.WAITLISTED
    if existing is not None:  # came back after cancelling: a fresh place in the queue
        reg = existing
        reg.status, reg.created_at, reg.cancelled_at, reg.cancel_reason = status, now, None, None
        reg.nonce = secrets.token_hex(8)
    else:
        reg = Registration(session_id=session.id, person=person, status=status, source=source,
                           office_id=getattr(office, "id", None), staff_user_id=getattr(staff_user, "id", None),
                           nonce=secrets.token_hex(8), created_at=now)
        db.session.add(reg)
    reg.confirmed_at = now if confirmed else None
    db.session.flush()
    _queue_message(reg, "confirmation" if confirmed else "waitlisted")
    if staff_user is not None:
        record("registration.staff_create", reg, f"sesión {session.id}", actor=staff_user,
               office_id=getattr(office, "id", None))
    db.session.commit()
    return RegisterResult(reg, created=True, recognised=recognised)


def cancel(reg: Registration, *, reason: str = "", actor: Any = None) -> Registration | None:
    """Cancel a registration; a confirmed seat passes to the first person waiting.

    Returns the promoted registration, if any."""
    if reg.status == RegistrationStatus.CANCELLED:
        return None
    was_confirmed = reg.status == RegistrationStatus.CONFIRMED
    claimed = db.session.execute(
        update(Registration).where(Registration.id == reg.id, Registration.status == reg.status)
        .values(status=RegistrationStatus.CANCELLED, cancelled_at=utcnow(), cancel_reason=(reason or "")[:1000])
        .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        db.session.rollback()
        return None
    promoted = None
    if was_confirmed:
        promoted = _promote_next(reg.session_id)
        if promoted is None:
            _release_seat(reg.session_id)
    if actor is not None:
        record("registration.cancel", reg, f"sesión {reg.session_id}", actor=actor, office_id=reg.office_id)
    db.session.commit()
    db.session.refresh(reg)
    return promoted


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


def move(reg: Registration, new_session_id: int, *, actor: Any) -> RegisterResult:
    """Staff move a person to another session of any activity (a new registration there)."""
    target = check_open(db.session.get(ActivitySession, new_session_id))
    if target.id == reg.session_id:
        raise RegistrationError(_("La persona ya está en esa sesión."), status=409)
    person = reg.person
    existing = db.session.scalar(select(Registration).where(Registration.session_id == target.id,
                                                            Registration.person_id == person.id,
                                                            Registration.status != RegistrationStatus.CANCELLED))
    if existing is not None:
        raise RegistrationError(_("La persona ya está inscrita en esa sesión."), status=409)
    cancel(reg, reason=_("Cambio de sesión"), actor=actor)
    confirmed = _take_seat(target.id)
    old = db.session.scalar(select(Registration).where(Registration.session_id == target.id,
                                                       Registration.person_id == person.id))
    now = utcnow()
    status = RegistrationStatus.CONFIRMED if confirmed else RegistrationStatus.WAITLISTED
    if old is None:
        new = Registration(session_id=target.id, person_id=person.id, status=status, source=Source.STAFF,
                           office_id=reg.office_id, staff_user_id=getattr(actor, "id", None),
                           nonce=secrets.token_hex(8), created_at=now, confirmed_at=now if confirmed else None)
        db.session.add(new)
    else:
        new = old
        new.status, new.created_at, new.cancelled_at, new.confirmed_at = status, now, None, now if confirmed else None
        new.nonce = secrets.token_hex(8)
    db.session.flush()
    _queue_message(new, "confirmation" if confirmed else "waitlisted")
    record("registration.move", new, f"{reg.session_id} -> {target.id}", actor=actor, office_id=reg.office_id)
    db.session.commit()
    return RegisterResult(new, created=True, recognised=True)


def mark_attendance(reg: Registration, value: Attendance | None, *, actor: Any) -> None:
    reg.attendance = value
    reg.attendance_marked_by_id = getattr(actor, "id", None)
    record("registration.attendance", reg, value.value if value else "-", actor=actor, office_id=reg.office_id)
    db.session.commit()


def record_join(reg: Registration) -> None:
    """The person clicked "join": attendance evidence, first click kept."""
    if reg.joined_at is None:
        reg.joined_at = utcnow()
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


# --- messages --------------------------------------------------------------------------------


_SUBJECTS = {
    "confirmation": "Inscripción confirmada: %(title)s",
    "waitlisted": "Quedó en lista de espera: %(title)s",
    "promoted": "Se liberó un cupo: su inscripción está confirmada en %(title)s",
    "changed": "Cambio en su sesión: %(title)s",
    "cancelled": "Sesión cancelada: %(title)s",
    "reminder_24h": "Recordatorio: mañana es %(title)s",
    "reminder_1h": "Recordatorio: en una hora comienza %(title)s",
}


def _queue_message(reg: Registration, kind: str, *, key_suffix: str = "") -> None:
    """Queue a message on the person's channel (email; WhatsApp/SMS/phone through the outbox)."""
    person: Person = reg.person
    session = reg.session
    activity = session.activity
    title = activity.title
    ctx = {"reg": reg, "person": person, "session": session, "activity": activity, "kind": kind,
           "link": personal_url(reg), "position": waitlist_position(reg)}
    subject = _(_SUBJECTS[kind], title=title)
    body = render_template("email/registration.txt", **ctx)
    channel = person.preferred_channel
    if channel == Channel.EMAIL or (person.email and not person.phone):
        channel_name, to = "email", person.email
    else:
        channel_name, to = channel.value, person.phone
    if not to:
        return
    key = f"registration:{reg.id}:{kind}:{session.sequence}:{reg.nonce}{key_suffix}"
    msg = enqueue_email(dedupe_key=key, to=to, to_name=person.full_name, subject=subject, body_text=body,
                        body_html=render_template("email/registration.html", **ctx) if channel_name == "email"
                        else None, kind=f"registration_{kind}", office_id=reg.office_id or activity.host_office_id)
    msg.channel = channel_name


@session_changed.connect
def _tell_registrants(session: ActivitySession, *, changes: list[Any], actor: Any, **_kw: Any) -> None:
    cancelled = any(c.kind == "cancelled" for c in changes)
    for reg in db.session.scalars(select(Registration).where(
            Registration.session_id == session.id, Registration.status != RegistrationStatus.CANCELLED)):
        _queue_message(reg, "cancelled" if cancelled else "changed",
                       key_suffix=":" + "-".join(str(c.id) for c in changes))
