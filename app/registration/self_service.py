"""What a person sees and may do through their own personal link, after registering.

- ``overview``: all of the person's registrations, upcoming first (soonest first), then past
  ones (latest first), then cancelled ones, each with its own link and what it allows.
- ``other_dates``: the other dates of the same workshop open for registration, with their
  free seats, for "Cambiar de fecha" and for the offer made after cancelling.
- ``calendar_links``: "Agregar a mi calendario" for Google Calendar and Outlook.com (the
  event's text carries the join page); Apple and other calendars download the invitation
  file (``services.invitation_ics``, with an alarm).

Queries and rules only; the seat itself moves in ``services.move`` (one transaction).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.activities.models import Activity, ActivitySession, ActivityStatus, SessionStatus
from app.calendar import is_cancelled
from app.extensions import db
from app.people.models import Person
from app.registration import services
from app.registration.models import Registration, RegistrationStatus
from app.timeutil import utcnow
from app.urls import external_url

OTHER_DATES_MAX = 12


def changeable(reg: Registration, now: datetime | None = None) -> bool:
    """The person may still change or cancel this registration: it is active, the office did
    not cancel the session, and the session has not started."""
    now = now or utcnow()
    return (reg.status != RegistrationStatus.CANCELLED and not is_cancelled(reg.session)
            and reg.session.starts_at > now)


@dataclass(frozen=True)
class DateOption:
    session: ActivitySession
    free: int  # seats left now (0: only the waitlist)


def other_dates(reg: Registration) -> list[DateOption]:
    """Other dates of this registration's workshop the person can still register for, soonest
    first, leaving out those where they already have a place."""
    now = utcnow()
    taken = select(Registration.session_id).where(Registration.person_id == reg.person_id,
                                                  Registration.status != RegistrationStatus.CANCELLED)
    sessions = db.session.scalars(
        select(ActivitySession).join(Activity)
        .where(ActivitySession.activity_id == reg.session.activity_id, ActivitySession.id != reg.session_id,
               ActivitySession.status == SessionStatus.SCHEDULED, Activity.status == ActivityStatus.PUBLISHED,
               ActivitySession.starts_at > now, ActivitySession.id.not_in(taken))
        .order_by(ActivitySession.starts_at).limit(OTHER_DATES_MAX * 2)).all()
    open_ = [s for s in sessions if services.closes_at(s) > now][:OTHER_DATES_MAX]
    return [DateOption(s, max(s.capacity - s.confirmed_count, 0)) for s in open_]


@dataclass(frozen=True)
class Entry:
    """One registration on the personal page, with its own link and actions."""

    reg: Registration
    token: str
    position: int | None
    can_change: bool
    can_add_to_calendar: bool
    session_cancelled: bool
    ended: bool


@dataclass(frozen=True)
class Overview:
    upcoming: list[Entry]
    past: list[Entry]
    cancelled: list[Entry]


def overview(person: Person) -> Overview:
    now = utcnow()
    regs = db.session.scalars(
        select(Registration).join(ActivitySession)
        .options(joinedload(Registration.session).joinedload(ActivitySession.activity))
        .where(Registration.person_id == person.id)
        .where(ActivitySession.ends_at > now - services.LINK_VALID_AFTER_END)  # links still valid
        .order_by(ActivitySession.starts_at, Registration.id)).unique().all()
    upcoming, past, cancelled = [], [], []
    for reg in regs:
        session_cancelled = is_cancelled(reg.session)
        entry = Entry(reg=reg, token=services.personal_token(reg), position=services.waitlist_position(reg),
                      can_change=changeable(reg, now), session_cancelled=session_cancelled,
                      ended=reg.session.ends_at <= now,
                      can_add_to_calendar=(reg.status == RegistrationStatus.CONFIRMED and not session_cancelled
                                           and reg.session.ends_at > now))
        if reg.status == RegistrationStatus.CANCELLED:
            cancelled.append(entry)
        elif not entry.ended:
            upcoming.append(entry)
        else:
            past.append(entry)
    past.reverse()
    cancelled.reverse()
    return Overview(upcoming, past, cancelled)


# --- "Agregar a mi calendario" ----------------------------------------------------------------


def join_page_url(reg: Registration) -> str:
    return external_url("conferencing.join", token=services.personal_token(reg))


def _event_text(reg: Registration) -> tuple[str, str]:
    """(details, location) for a calendar link: how to join inside, and the personal page."""
    session = reg.session
    lines = []
    place = ", ".join(p for p in (session.venue_name, session.address,
                                  session.comuna.name if session.comuna else None) if p)
    if session.is_remote:
        lines.append(_("Para conectarse, abra esta página el día de la sesión: %(url)s", url=join_page_url(reg)))
    if session.is_in_person and place:
        lines.append(_("Lugar: %(place)s", place=place))
    lines.append(_("Su inscripción (cambiar o cancelar): %(url)s", url=services.personal_url(reg)))
    lines.append(_("Organiza: %(office)s", office=session.activity.host_office.name))
    location = place if session.is_in_person and place else join_page_url(reg) if session.is_remote else ""
    return "\n".join(lines), location


@dataclass(frozen=True)
class CalendarLinks:
    google: str
    outlook: str


def calendar_links(reg: Registration) -> CalendarLinks:
    session = reg.session
    details, location = _event_text(reg)
    title = session.activity.title
    utc = "%Y%m%dT%H%M%SZ"
    google = "https://calendar.google.com/calendar/render?" + urlencode({
        "action": "TEMPLATE", "text": title,
        "dates": f"{session.starts_at.astimezone(UTC):{utc}}/{session.ends_at.astimezone(UTC):{utc}}",
        "ctz": session.timezone, "details": details, "location": location})
    outlook = "https://outlook.live.com/calendar/0/action/compose?" + urlencode({
        "rru": "addevent", "subject": title, "startdt": session.local_start.isoformat(),
        "enddt": session.local_end.isoformat(), "body": details, "location": location})
    return CalendarLinks(google=google, outlook=outlook)
