"""Registering for several dates of a series in one submission.

"Inscribirme en todas las fechas" (or the dates the person marks) is one transaction: the
person is recognised or created once, and each date gets its own seat, taken with the same
conditional UPDATE as a single registration (``services._take_seat``), or its own waitlist
place. Seats are taken in session-id order, so two submissions for the same dates lock the
rows in the same order. A date the person already holds is reported, not touched; a date that
closed since the page was shown is reported and skipped. If anything fails, nothing is written.

One message lists every date (renderer ``registration_series``, written by the worker), not
one message per date.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import render_template
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from app.activities.models import ActivitySession
from app.extensions import db
from app.outbox.models import Attachment
from app.outbox.rendering import NothingToSend, Rendered, renderer
from app.outbox.services import enqueue
from app.people.models import Person
from app.people.services import PersonInput, clean_person, find_person, new_person
from app.registration import services
from app.registration.models import Registration, RegistrationStatus, Source
from app.timeutil import utcnow


@dataclass
class DateOutcome:
    """What happened to one date: ``confirmed``, ``waitlisted``, ``already`` (the person held
    it before: ``registration.status`` says how) or ``closed`` (``note`` says why)."""

    session: ActivitySession
    outcome: str
    registration: Registration | None = None
    position: int | None = None
    note: str = ""


@dataclass
class SeriesResult:
    person: Person
    recognised: bool
    dates: list[DateOutcome] = field(default_factory=list)
    typed_contact: str = ""  # what was typed, masked: the answer names only that

    @property
    def created(self) -> list[Registration]:
        return [d.registration for d in self.dates
                if d.outcome in ("confirmed", "waitlisted") and d.registration is not None]


def series_sessions(session: ActivitySession) -> list[ActivitySession]:
    """Every date of the session's series still open for registration, in date order (just the
    session itself when it is not part of a series)."""
    if session.series_id is None:
        return [session]
    siblings = db.session.scalars(
        select(ActivitySession).where(ActivitySession.series_id == session.series_id,
                                      ActivitySession.activity_id == session.activity_id)
        .order_by(ActivitySession.starts_at, ActivitySession.id))
    out = []
    for s in siblings:
        try:
            services.check_open(s)
        except services.RegistrationError:
            continue
        out.append(s)
    return out or [session]


def register_series(anchor: ActivitySession, session_ids: Sequence[int], inp: PersonInput, *,
                    source: Source = Source.PUBLIC, campaign_code: str | None = None) -> SeriesResult:
    """Register one person for the chosen dates of ``anchor``'s series; one transaction.

    Raises ``PersonError`` (the person's details), or ``RegistrationError`` when no date was
    chosen, a date is not of this series, or every chosen date has closed."""
    chosen = sorted(set(int(i) for i in session_ids))
    if not chosen:
        raise services.RegistrationError(_("Marque al menos una fecha."), field="sessions")
    allowed = {anchor.id} if anchor.series_id is None else set(db.session.scalars(
        select(ActivitySession.id).where(ActivitySession.series_id == anchor.series_id,
                                         ActivitySession.activity_id == anchor.activity_id)))
    if not set(chosen) <= allowed:
        raise services.RegistrationError(_("Elija fechas de este mismo taller."), field="sessions")
    cleaned = clean_person(inp)
    for _attempt in range(4):
        try:
            result = _register_once(chosen, cleaned, source=source, campaign_code=campaign_code)
            result.typed_contact = services.typed_contact(cleaned)
            return result
        except IntegrityError:
            db.session.rollback()  # a concurrent submission made the same person first: look again
        except BaseException:
            db.session.rollback()
            raise
    raise services.RegistrationError(
        _("Hay mucha demanda en este momento. Intente de nuevo en unos segundos."), status=503)


def _register_once(chosen: list[int], cleaned: dict[str, Any], *, source: Source,
                   campaign_code: str | None) -> SeriesResult:
    sessions = list(db.session.scalars(
        select(ActivitySession).options(joinedload(ActivitySession.activity))
        .where(ActivitySession.id.in_(chosen)).order_by(ActivitySession.id)))
    outcomes: dict[int, DateOutcome] = {}
    open_sessions = []
    for s in sessions:
        try:
            services.check_open(s)
        except services.RegistrationError as err:
            outcomes[s.id] = DateOutcome(s, "closed", note=err.message)
        else:
            open_sessions.append(s)
    if not open_sessions:
        db.session.rollback()
        first = next(iter(outcomes.values()), None)
        raise services.RegistrationError(first.note if first else _("Esa sesión no existe."), status=409)
    person = find_person(cleaned)
    if person is not None:
        # A known document books nothing from a public form: whoever typed it may not be the
        # person. The first open date is held and confirmed from the contact on file (holds.py);
        # the other dates are taken afterwards from the personal page.
        from app.registration.holds import hold_for_known_person

        first = min(open_sessions, key=lambda s: (s.starts_at, s.id))
        hold_for_known_person(first, person, source=source, campaign_code=campaign_code)
        return SeriesResult(person=person, recognised=True)
    recognised = False
    existing: dict[int, Registration] = {}
    person = new_person(cleaned, office_id=open_sessions[0].activity.host_office_id)
    db.session.flush()
    now = utcnow()
    for s in open_sessions:  # id order: the same lock order for everyone
        reg = existing.get(s.id)
        if reg is not None and reg.status != RegistrationStatus.CANCELLED:
            outcomes[s.id] = DateOutcome(s, "already", registration=reg)
            continue
        confirmed = services._take_seat(s.id)
        status = RegistrationStatus.CONFIRMED if confirmed else RegistrationStatus.WAITLISTED
        if reg is None:
            reg = Registration(session_id=s.id, session=s, person=person, source=source, created_at=now,
                               nonce=secrets.token_hex(8), status=status)
            db.session.add(reg)
        else:  # came back after cancelling: a fresh registration in the same row
            reg.status, reg.created_at, reg.cancelled_at, reg.cancel_reason = status, now, None, None
            reg.source, reg.office_id, reg.staff_user_id, reg.campaign_channel_id = source, None, None, None
            reg.attendance, reg.attendance_marked_by_id, reg.joined_at = None, None, None
            reg.nonce = secrets.token_hex(8)
        reg.confirmed_at = now if confirmed else None
        reg.via = None
        if campaign_code:
            from app.dissemination.services import attribute

            attribute(reg, campaign_code)
        outcomes[s.id] = DateOutcome(s, status.value, registration=reg)
    db.session.flush()
    result = SeriesResult(person=person, recognised=recognised,
                          dates=sorted(outcomes.values(), key=lambda d: (d.session.starts_at, d.session.id)))
    if result.created:
        queue_series_message(result.created)
    services._commit_keeping_state()
    for d in result.dates:
        if d.registration is not None and d.registration.status == RegistrationStatus.WAITLISTED:
            d.position = services.waitlist_position(d.registration)
    return result


# --- the one message -----------------------------------------------------------------------


def _series_key(regs: Sequence[Registration]) -> str:
    """Starts like the first registration's own messages (``registration:<id>:``), so the
    person's message list and "Eliminar mis datos" find it; the rest changes when any of the
    registrations is made again."""
    tag = hashlib.sha256("|".join(f"{r.id}:{r.nonce}" for r in regs).encode()).hexdigest()[:12]
    return f"registration:{regs[0].id}:series:{tag}"


def queue_series_message(regs: Sequence[Registration]) -> int | None:
    """One message on the person's channel listing every registration (in the caller's transaction)."""
    person = regs[0].person
    if person.anonymised_at is not None:
        return None
    channel_name, to = services.message_channel(person)
    if not to:
        return None
    activity = regs[0].session.activity
    context = {"registration_ids": [r.id for r in regs], "channel": channel_name}
    return enqueue(dedupe_key=_series_key(regs), channel=channel_name, to=to, to_name=person.full_name,
                   subject=_series_subject(len(regs), activity.title), kind="registration_series",
                   office_id=activity.host_office_id, renderer="registration_series", context=context)


def _series_subject(n: int, title: str) -> str:
    return _("Su inscripción en %(n)s fechas: %(title)s", n=n, title=title)


@renderer("registration_series")
def render_series_message(context: dict[str, Any]) -> Rendered:
    """The list of dates as they are now: confirmed, waiting (with the place) or cancelled since."""
    regs = [r for r in (db.session.get(Registration, int(i)) for i in context["registration_ids"]) if r is not None]
    if not regs or regs[0].person.anonymised_at is not None:
        raise NothingToSend("la persona pidió eliminar sus datos")
    regs.sort(key=lambda r: (r.session.starts_at, r.id))
    items = [{"reg": r, "session": r.session, "link": services.personal_url(r),
              "position": services.waitlist_position(r)} for r in regs]
    activity = regs[0].session.activity
    ctx = {"person": regs[0].person, "activity": activity, "items": items}
    subject = _series_subject(len(regs), activity.title)
    if context.get("channel", "email") != "email":
        return Rendered(subject=subject, body_text=render_template("email/registration_series.short.txt", **ctx))
    attachments = []
    for n, r in enumerate((r for r in regs if r.status == RegistrationStatus.CONFIRMED), start=1):
        ics = services.invitation_attachment(r, "REQUEST")
        attachments.append(Attachment(filename=f"invitacion-{n}.ics", content_type=ics.content_type,
                                      content=ics.content))
    return Rendered(subject=subject, body_text=render_template("email/registration_series.txt", **ctx),
                    body_html=render_template("email/registration_series.html", **ctx), attachments=attachments)
