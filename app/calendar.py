"""iCalendar (RFC 5545) for every kind of activity: files, subscription feeds, invitations.

The core reads only ``app.activities`` models. What only a domain knows (the page of one of
its activities, accessibility or audience lines for the description) it tells the core once,
through ``register_kind``; ``build_calendar`` also takes those callbacks directly, so the
registration issue can send an invitation (METHOD:REQUEST with an ATTENDEE) or a
cancellation (METHOD:CANCEL) with links of its own.

Each event carries the session's stable UID and its SEQUENCE (raised by the activity
services on every change of time, place or link and on cancellation), start and end in the
session's own zone (``DTSTART;TZID=America/Santiago:...``) and one VTIMEZONE per zone used,
generated from zoneinfo by ``icalendar`` for the years the calendar spans.

Conditional requests: ``calendar_version`` hashes what the body is made of (session and
activity ids, sequences, statuses, update times, the host office's name and email, the
domain's extra lines, the locale) without building it, so a 304 costs only the queries that
choose the sessions; ``ics_response`` answers If-None-Match / If-Modified-Since with it.
Serialised events are kept in a bounded in-process cache keyed by everything they show, so
feeds that share sessions (a network's, an office's, a facilitator's) build each event once.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.utils import parseaddr
from functools import lru_cache
from typing import Literal

from flask import Response, current_app, has_request_context, request
from flask_babel import get_locale
from flask_babel import gettext as _
from icalendar import Alarm, Calendar, Event, Timezone, vCalAddress, vDuration, vText
from werkzeug.http import is_resource_modified

from app.activities.models import (
    Activity,
    ActivityKind,
    ActivitySession,
    ActivityStatus,
    Modality,
    SessionStatus,
)
from app.text import multi_line, one_line
from app.timeutil import utcnow
from app.urls import base_url

PRODID = "-//Puente Laboral//Calendario de actividades OMIL//ES"
# Raise when the layout of the output changes, so every ETag handed out before changes too.
FORMAT_VERSION = "1"

Method = Literal["PUBLISH", "REQUEST", "CANCEL"]
UrlForSession = Callable[[ActivitySession], "str | None"]
DetailsForSession = Callable[[ActivitySession], Sequence[str]]


@dataclass(frozen=True)
class Attendee:
    """The person an invitation (METHOD:REQUEST) or a cancellation (METHOD:CANCEL) is for."""

    email: str
    name: str = ""
    partstat: str = "NEEDS-ACTION"
    rsvp: bool = False


# --- what a domain tells the core ------------------------------------------------------------


@dataclass(frozen=True)
class KindHooks:
    """What a domain knows about its activities that the calendar needs.

    ``page_url``: the public page of a public activity (absolute URL).
    ``staff_url``: the staff page, used in private feeds (optional).
    ``details``: extra plain-text description lines per activity id, for a batch of
    activities (one query per kind, not one per event): accessibility, audience, topic.
    """

    page_url: Callable[[Activity], str]
    staff_url: Callable[[Activity], str | None] | None = None
    details: Callable[[Sequence[Activity]], Mapping[int, Sequence[str]]] | None = None


_KINDS: dict[ActivityKind, KindHooks] = {}


def register_kind(kind: ActivityKind, hooks: KindHooks) -> None:
    """Called by a domain package when it is imported; registering again replaces."""
    _KINDS[kind] = hooks


@dataclass(frozen=True)
class SessionCallbacks:
    url_for_session: UrlForSession
    details: DetailsForSession
    details_by_activity: Mapping[int, Sequence[str]]


def callbacks_for(sessions: Sequence[ActivitySession], *, private: bool) -> SessionCallbacks:
    """URL and description callbacks for these sessions from the registered domains.

    Public calendars link to the public page; private feeds (which may show drafts) link to
    the staff page when the domain has one, else to the public page of a public activity.
    """
    activities: dict[int, Activity] = {}
    for s in sessions:
        activities.setdefault(s.activity_id, s.activity)
    details: dict[int, Sequence[str]] = {}
    by_kind: dict[ActivityKind, list[Activity]] = {}
    for a in activities.values():
        by_kind.setdefault(a.kind, []).append(a)
    for kind, group in by_kind.items():
        hooks = _KINDS.get(kind)
        if hooks is not None and hooks.details is not None:
            details.update(hooks.details(group))

    urls: dict[int, str | None] = {}

    def activity_url(a: Activity) -> str | None:
        hooks = _KINDS.get(a.kind)
        if hooks is None:
            return None
        if private and hooks.staff_url is not None:
            url = hooks.staff_url(a)
            if url:
                return url
        return hooks.page_url(a) if a.is_public else None

    def url_for_session(s: ActivitySession) -> str | None:
        if s.activity_id not in urls:
            urls[s.activity_id] = activity_url(s.activity)
        return urls[s.activity_id]

    return SessionCallbacks(url_for_session=url_for_session,
                            details=lambda s: details.get(s.activity_id, ()),
                            details_by_activity=details)


# --- building --------------------------------------------------------------------------------


def _modality_label(m: Modality) -> str:
    return {Modality.REMOTE: _("Remota (en línea)"), Modality.IN_PERSON: _("Presencial"),
            Modality.HYBRID: _("Híbrida (presencial y en línea)")}[m]


def _place(s: ActivitySession) -> str:
    parts = [s.venue_name, s.address, s.comuna.name if s.comuna is not None else None]
    return ", ".join(p.strip() for p in parts if p and p.strip())


def is_cancelled(s: ActivitySession) -> bool:
    return s.status == SessionStatus.CANCELLED or s.activity.status == ActivityStatus.CANCELLED


def session_modified(s: ActivitySession) -> datetime:
    """When what an event shows last changed: the session or its activity."""
    return max(s.updated_at, s.activity.updated_at)


def _organizer(activity: Activity) -> vCalAddress | None:
    office = activity.host_office
    email = (office.email or "").strip()
    if not email:
        email = parseaddr(current_app.config.get("MAIL_FROM") or "")[1]
    if not email:
        return None
    organizer = vCalAddress(f"mailto:{email}")
    organizer.params["CN"] = one_line(office.name)
    return organizer


def _description(s: ActivitySession, *, url: str | None, join_url: str | None,
                 extra: Sequence[str], cancelled: bool, staff: bool) -> str:
    a = s.activity
    lines: list[str] = []
    if cancelled:
        reason = s.cancel_reason or a.cancel_reason
        lines.append(_("CANCELADA: %(reason)s", reason=reason) if reason else _("CANCELADA"))
        lines.append("")
    if a.description.strip():
        lines += [a.description.strip(), ""]
    lines.append(_("Modalidad: %(m)s", m=_modality_label(s.modality)))
    if s.is_in_person and _place(s):
        lines.append(_("Lugar: %(place)s", place=_place(s)))
    if join_url and s.is_remote:
        lines.append(_("Enlace para conectarse: %(url)s", url=join_url))
    elif url:
        if staff:
            lines.append(_("Ficha en Puente Laboral: %(url)s", url=url))
        elif s.is_remote:
            lines.append(_("Cómo participar: inscríbase y vea cómo conectarse en %(url)s", url=url))
        else:
            lines.append(_("Más información e inscripción: %(url)s", url=url))
    lines.append(_("Organiza: %(office)s", office=a.host_office.name))
    lines += [line for line in extra if line]
    return "\n".join(lines).strip()


def _event(s: ActivitySession, *, url: str | None, join_url: str | None, extra: Sequence[str],
           method: Method | None, attendee: Attendee | None, stamp: datetime | None, staff: bool = False,
           alarm: timedelta | None = None) -> Event:
    a = s.activity
    cancelled = method == "CANCEL" or is_cancelled(s)
    modified = session_modified(s)
    summary = a.title
    if a.status == ActivityStatus.DRAFT:
        summary = _("[Borrador] %(title)s", title=summary)
    ev = Event()
    ev.add("uid", s.uid)
    ev.add("dtstamp", (stamp or modified).astimezone(UTC))
    ev.add("dtstart", s.local_start)
    ev.add("dtend", s.local_end)
    ev.add("sequence", s.sequence)
    # Text properties: one-line values lose line breaks and control characters, the
    # description keeps its line breaks; vText escapes "\\", ";", "," and "\n" (RFC 5545 3.3.11).
    ev.add("summary", vText(one_line(summary)))
    ev.add("description", vText(multi_line(_description(s, url=url, join_url=join_url, extra=extra,
                                                         cancelled=cancelled, staff=staff))))
    location = one_line(_place(s) if s.is_in_person else (url or ""))
    if location:
        ev.add("location", vText(location))
    if url:
        ev.add("url", url)
    ev.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    ev.add("transp", "TRANSPARENT" if cancelled else "OPAQUE")
    ev.add("last-modified", modified.astimezone(UTC))
    ev.add("created", s.created_at.astimezone(UTC))
    organizer = _organizer(a)
    if organizer is not None:
        ev.add("organizer", organizer)
    if attendee is not None:
        who = vCalAddress(f"mailto:{attendee.email}")
        if one_line(attendee.name):
            who.params["CN"] = one_line(attendee.name)
        who.params["ROLE"] = "REQ-PARTICIPANT"
        who.params["PARTSTAT"] = attendee.partstat
        who.params["RSVP"] = "TRUE" if attendee.rsvp else "FALSE"
        ev.add("attendee", who)
    if alarm is not None and not cancelled:
        reminder = Alarm()
        reminder.add("action", "DISPLAY")
        reminder.add("description", summary)
        reminder.add("trigger", -alarm)
        ev.add_component(reminder)
    return ev


@lru_cache(maxsize=64)
def _vtimezone(tzid: str, first_year: int, last_year: int) -> Timezone:
    """A VTIMEZONE for ``tzid`` with its transitions from ``first_year`` to ``last_year``,
    generated from zoneinfo (cached: the same zone and years give the same component)."""
    return Timezone.from_tzid(tzid, first_date=date(first_year, 1, 1), last_date=date(last_year, 12, 31))


def build_calendar(
    sessions: Iterable[ActivitySession],
    *,
    name: str,
    url_for_session: UrlForSession,
    details: DetailsForSession | None = None,
    join_url_for_session: UrlForSession | None = None,
    method: Method | None = None,
    attendee: Attendee | None = None,
    refresh: timedelta | None = None,
    now: datetime | None = None,
    staff: bool = False,
    alarm: timedelta | None = None,
) -> bytes:
    """An RFC 5545 calendar with one VEVENT per session, as bytes with CRLF line endings.

    ``url_for_session`` gives the page people use to join (URL, and LOCATION for a remote
    session); the raw join link only appears when ``join_url_for_session`` is given (a
    registrant's own invitation), never in public files. ``method`` REQUEST and CANCEL make
    an iTIP message (RFC 5546) for ``attendee``; without a method, DTSTAMP is the time the
    event last changed, so the same data always gives the same bytes. ``staff`` words the
    link for staff (a private feed links to the staff page) rather than for the public.
    ``alarm``: a VALARM that long before the start (a registrant's own invitation).
    """
    sessions = list(sessions)
    if method in ("REQUEST", "CANCEL") and attendee is None:
        raise ValueError(f"METHOD:{method} needs an attendee")
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method is not None:
        cal.add("method", method)
    # An X- property is not escaped by icalendar unless it is given as vText: a name with a
    # line break would otherwise make the whole file fail to serialise.
    cal.add("x-wr-calname", vText(one_line(name)))
    if refresh is not None:
        cal.add("refresh-interval", refresh, parameters={"VALUE": "DURATION"})
        cal.add("x-published-ttl", vDuration(refresh))
    if sessions:
        years = [y for s in sessions for y in (s.local_start.year, s.local_end.year)]
        for tzid in sorted({s.timezone for s in sessions}):
            cal.add_component(_vtimezone(tzid, min(years), max(years) + 1))
    stamp = (now or utcnow()) if method is not None else None
    events: list[bytes] = []
    # what else an event's bytes depend on: the layout, the language, the platform's address
    context = f"{FORMAT_VERSION}|{_locale()}|{current_app.config.get('MAIL_FROM')}|{staff}"
    for s in sessions:
        url = url_for_session(s)
        join_url = join_url_for_session(s) if join_url_for_session is not None else None
        extra = tuple(details(s)) if details else ()
        if method is None and alarm is None:
            events.append(_cached_event(s, url=url, join_url=join_url, extra=extra, context=context, staff=staff))
        else:
            events.append(_event(s, url=url, join_url=join_url, extra=extra, method=method, attendee=attendee,
                                 stamp=stamp, staff=staff, alarm=alarm).to_ical())
    head = cal.to_ical()
    end = b"END:VCALENDAR\r\n"
    if not head.endswith(end):  # pragma: no cover - icalendar always ends a calendar so
        raise RuntimeError("unexpected iCalendar serialisation")
    return head[: -len(end)] + b"".join(events) + end


# Serialising an event with icalendar costs about a millisecond; a feed of a network's year
# has hundreds. Without a METHOD an event's bytes depend only on what the key below holds,
# so they are kept (bounded, least recently used first out) and shared by every feed and file.
_EVENT_CACHE_SIZE = 20_000
_event_cache: OrderedDict[bytes, bytes] = OrderedDict()
_event_cache_lock = threading.Lock()


def _locale() -> str:
    return str(get_locale()) if has_request_context() else ""


def _event_key(s: ActivitySession, url: str | None, join_url: str | None, extra: tuple[str, ...],
               context: str) -> bytes:
    a = s.activity
    office = a.host_office
    parts = (context, s.id, s.uid, s.sequence, s.status.value, s.updated_at.isoformat(),
             s.created_at.isoformat(), s.starts_at.isoformat(), s.ends_at.isoformat(), s.timezone,
             s.modality.value, s.venue_name, s.address, s.comuna_code, s.cancel_reason,
             a.id, a.status.value, a.updated_at.isoformat(), a.title, a.description, a.cancel_reason,
             office.id, office.name, office.email, url, join_url, extra)
    return hashlib.blake2b(repr(parts).encode(), digest_size=20).digest()


def _cached_event(s: ActivitySession, *, url: str | None, join_url: str | None, extra: tuple[str, ...],
                  context: str, staff: bool) -> bytes:
    key = _event_key(s, url, join_url, extra, context)
    with _event_cache_lock:
        hit = _event_cache.get(key)
        if hit is not None:
            _event_cache.move_to_end(key)
            return hit
    body = _event(s, url=url, join_url=join_url, extra=extra, method=None, attendee=None, stamp=None,
                  staff=staff).to_ical()
    with _event_cache_lock:
        _event_cache[key] = body
        while len(_event_cache) > _EVENT_CACHE_SIZE:
            _event_cache.popitem(last=False)
    return body


# --- HTTP: ETag, Last-Modified, 304 ------------------------------------------------------------


@dataclass(frozen=True)
class CalendarVersion:
    etag: str
    last_modified: datetime | None


def calendar_version(sessions: Sequence[ActivitySession], *, salt: str = "",
                     extra: Iterable[object] = ()) -> CalendarVersion:
    """A version of the calendar these sessions make, computed without building it.

    ``salt`` names the calendar (a feed, a file) and ``extra`` adds what else goes into the
    body (the domain's description lines). Sessions leaving a feed's window or an owner
    losing sight of an activity change the set of ids and so the ETag.
    """
    h = hashlib.sha256()
    h.update(f"v{FORMAT_VERSION}|{salt}|{_locale()}|{base_url()}|{len(sessions)}".encode())
    seen: set[int] = set()
    for s in sorted(sessions, key=lambda x: x.id):
        h.update(f"|s{s.id}:{s.sequence}:{s.status}:{s.updated_at.isoformat()}".encode())
        a = s.activity
        if a.id not in seen:
            seen.add(a.id)
            office = a.host_office
            h.update(f"|a{a.id}:{a.status}:{a.updated_at.isoformat()}:{office.id}:{office.name}:"
                     f"{office.email or ''}".encode())
    for item in extra:
        h.update(b"|")
        h.update(repr(item).encode())
    last = max((session_modified(s) for s in sessions), default=None)
    return CalendarVersion(etag=h.hexdigest()[:40], last_modified=last)


def ics_response(version: CalendarVersion, build: Callable[[], bytes], *, filename: str,
                 cache_control: str, disposition: str = "attachment") -> Response:
    """The calendar as ``text/calendar``, or 304 when the client already has this version.

    ``build`` is called only when the body is needed.
    """
    if not is_resource_modified(request.environ, etag=version.etag, last_modified=version.last_modified):
        response = Response(status=304)  # Werkzeug drops the entity headers of a 304
    else:
        response = Response(build(), content_type="text/calendar; charset=utf-8")
        response.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response.set_etag(version.etag)
    if version.last_modified is not None:
        response.last_modified = version.last_modified.replace(microsecond=0)
    response.headers["Cache-Control"] = cache_control
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
