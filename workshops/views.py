"""Public workshop pages: the listing at /talleres and each workshop at /talleres/<slug>.

Both are light pages that work without JavaScript. Times are shown in each session's own zone
with the zone named in words; the join link is never shown here (it comes with registration).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_date, format_number, format_time, get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from app.activities.models import (
    Activity,
    ActivityChange,
    ActivityKind,
    ActivitySession,
    ActivityStatus,
    Modality,
    SessionStatus,
)
from app.extensions import db
from app.territory.branding import cobrand_for
from app.territory.models import Office
from app.timeutil import utcnow
from app.urls import external_url
from workshops import queries
from workshops.cards import seat_info
from workshops.models import Facilitator, Workshop
from workshops.sharing import map_url, share_links

bp = Blueprint("workshops", __name__)

OG_IMAGE = "img/og-taller.png"
OG_IMAGE_SIZE = (1200, 630)
SCHEMA = "https://schema.org/"


# --- words for times, places and offers -------------------------------------------------------


ZONE_NAMES = {
    "America/Santiago": _l("hora de Santiago"),
    "America/Punta_Arenas": _l("hora de Magallanes"),
    "Pacific/Easter": _l("hora de Isla de Pascua"),
    "America/Coyhaique": _l("hora de Aysén"),
}
MODALITY_NAMES = {
    Modality.REMOTE: _l("En línea"),
    Modality.IN_PERSON: _l("Presencial"),
    Modality.HYBRID: _l("Híbrida: presencial o en línea"),
}


def zone_label(tz: str) -> str:
    name = ZONE_NAMES.get(tz)
    return str(name) if name is not None else tz


def _english() -> bool:
    locale = get_locale()
    return locale is not None and locale.language == "en"


def day_in_words(day: date, today: date) -> str:
    """"martes 8 de diciembre" (with the year when it is not this year)."""
    if _english():
        pattern = "EEEE, MMMM d" if day.year == today.year else "EEEE, MMMM d, y"
    else:
        pattern = "EEEE d 'de' MMMM" if day.year == today.year else "EEEE d 'de' MMMM 'de' y"
    return format_date(day, pattern)


def when_in_words(starts_at: datetime, ends_at: datetime, tz: str) -> str:
    """"martes 8 de diciembre, 10:00 a 12:00 (hora de Santiago)", in the session's own zone."""
    zone = ZoneInfo(tz)
    start, end = starts_at.astimezone(zone), ends_at.astimezone(zone)
    today = datetime.now(zone).date()
    day = day_in_words(start.date(), today)
    t0 = format_time(start, "short", rebase=False)
    t1 = format_time(end, "short", rebase=False)
    if end.date() != start.date():
        return _("%(day)s, %(start)s a %(end_day)s, %(end)s (%(zone)s)", day=day, start=t0,
                 end_day=day_in_words(end.date(), today), end=t1, zone=zone_label(tz))
    return _("%(day)s, %(start)s a %(end)s (%(zone)s)", day=day, start=t0, end=t1, zone=zone_label(tz))


def session_when(session: ActivitySession) -> str:
    return when_in_words(session.starts_at, session.ends_at, session.timezone)


def modality_label(modality: Modality) -> str:
    return str(MODALITY_NAMES[modality])


def place_label(session: ActivitySession) -> str:
    """Where, in a few words: "En línea", or the venue and comuna (and "o en línea" if hybrid)."""
    if session.modality == Modality.REMOTE:
        return _("En línea")
    parts = [p for p in (session.venue_name, session.comuna.name if session.comuna else None) if p]
    where = ", ".join(parts)
    if session.modality == Modality.HYBRID:
        return _("%(where)s, o en línea", where=where) if where else _("En línea")
    return where


OFFER_NAMES = {
    "offers_subtitles": _l("Subtítulos"),
    "offers_sign_language": _l("Intérprete de lengua de señas chilena (LSCh)"),
    "offers_materials_in_advance": _l("Materiales por adelantado"),
}


def accessibility_offers(workshop: Workshop) -> list[str]:
    return [str(name) for attr, name in OFFER_NAMES.items() if getattr(workshop, attr)]


def _card_words() -> dict[str, str]:
    """The labels every result repeats, translated once per page rather than once per result."""
    return {"modality": _("Modalidad"), "place": _("Lugar"), "host": _("Dicta"), "topic": _("Tema"),
            "accessibility": _("Accesibilidad")}


def template_helpers() -> dict[str, Any]:
    return {"session_when": session_when, "modality_label": modality_label, "place_label": place_label,
            "accessibility_offers": accessibility_offers, "zone_label": zone_label, "words": _card_words()}


# --- the listing ---------------------------------------------------------------------------


def _listing_url(params: dict[str, str], page: int | None = None) -> str:
    query = dict(params)
    if page and page > 1:
        query["page"] = str(page)
    base = url_for("workshops.index")
    return f"{base}?{urlencode(query)}" if query else base


def _page_window(page: int, last: int, *, last_known: bool, width: int = 2) -> list[int | None]:
    """Page numbers to link: the first, ``width`` around the current and the last (when the
    count is exact); None marks a gap."""
    shown = {1, *range(max(1, page - width), min(last, page + width) + 1)}
    if last_known:
        shown.add(last)
    out: list[int | None] = []
    previous = 0
    for n in sorted(shown):
        if previous and n - previous > 1:
            out.append(None)
        out.append(n)
        previous = n
    return out


@bp.get("/talleres")
def index() -> ResponseReturnValue:
    """Upcoming sessions of published workshops. A filter value that cannot be used is ignored
    with a note rather than refused: a link pasted in a chat may be cut or mistyped, and an
    error page would leave the person with nothing (a 400 would also hide the other filters)."""
    choices = queries.load_choices()
    parsed = queries.parse_filters(request.args, choices)
    page = queries.upcoming_sessions(parsed.filters, parsed.page)
    params = parsed.params
    return render_template(
        "workshops/index.html",
        page=page, params=params, notes=parsed.notes, choices=choices,
        seats=seat_info((item.session, item.workshop) for item in page.items),
        register_args={"comuna": params["comuna"]} if params.get("comuna") else {},
        comuna_options=choices.comuna_options(params.get("region")),
        modalities=[(value, modality_label(m)) for value, m in queries.MODALITY_PARAMS.items()],
        page_url=lambda n: _listing_url(params, n),
        page_window=[] if page.beyond_last else _page_window(
            page.page, max(page.known_pages, page.page + (1 if page.has_next else 0)), last_known=not page.capped),
        cap=format_number(page.cap),
        filtered=bool(params),
        **template_helpers(),
    )


# --- one workshop --------------------------------------------------------------------------


def load_public_workshop(slug: str) -> Workshop:
    """The workshop with everything its page shows, or 404 unless it is public."""
    stmt = (
        select(Workshop)
        .join(Activity, Activity.id == Workshop.activity_id)
        .where(Activity.slug == slug, Activity.kind == ActivityKind.WORKSHOP)
        .options(
            joinedload(Workshop.activity).joinedload(Activity.host_office).joinedload(Office.comuna),
            joinedload(Workshop.activity).selectinload(Activity.sessions).joinedload(ActivitySession.comuna),
            joinedload(Workshop.activity).selectinload(Activity.networks),
            joinedload(Workshop.activity).selectinload(Activity.convening_offices).joinedload(Office.comuna),
            selectinload(Workshop.facilitators).joinedload(Facilitator.user),
            selectinload(Workshop.materials),
        )
    )
    workshop = db.session.scalar(stmt)
    if workshop is None or not workshop.activity.is_public:
        abort(404)
    return workshop


@dataclass
class SessionView:
    session: ActivitySession
    when: str
    past: bool
    cancelled: bool
    rescheduled: bool
    ics_path: str


def _relevant_sessions(sessions: list[ActivitySession], now: datetime) -> list[ActivitySession]:
    """The sessions a preview and search engines describe: the upcoming scheduled ones, or,
    when none is left (a finished or cancelled workshop), all of them."""
    upcoming = [s for s in sessions if s.status == SessionStatus.SCHEDULED and s.ends_at > now]
    return upcoming or list(sessions)


def _iso(value: datetime, tz: str) -> str:
    return value.astimezone(ZoneInfo(tz)).isoformat(timespec="seconds")


def _attendance_mode(modalities: set[Modality]) -> str:
    if modalities == {Modality.REMOTE}:
        return SCHEMA + "OnlineEventAttendanceMode"
    if modalities == {Modality.IN_PERSON}:
        return SCHEMA + "OfflineEventAttendanceMode"
    return SCHEMA + "MixedEventAttendanceMode"


def _place(session: ActivitySession) -> dict[str, Any]:
    address: dict[str, Any] = {"@type": "PostalAddress", "addressCountry": "CL"}
    if session.address:
        address["streetAddress"] = session.address
    if session.comuna is not None:
        address["addressLocality"] = session.comuna.name
    return {"@type": "Place", "name": session.venue_name or "", "address": address}


def _locations(sessions: list[ActivitySession], page_url: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    seen: set[tuple[str, str, str]] = set()
    for s in sessions:
        if s.is_in_person:
            key = (s.venue_name or "", s.address or "", s.comuna_code or "")
            if key not in seen:
                seen.add(key)
                out.append(_place(s))
    if any(s.is_remote for s in sessions):
        # The join link is given on registration; the public page is where to start.
        out.append({"@type": "VirtualLocation", "url": page_url})
    return out


def _one_or_list(items: list[dict[str, Any]]) -> dict[str, Any] | list[dict[str, Any]]:
    return items[0] if len(items) == 1 else items


def _status(cancelled: bool, rescheduled: bool) -> str:
    if cancelled:
        return SCHEMA + "EventCancelled"
    if rescheduled:
        return SCHEMA + "EventRescheduled"
    return SCHEMA + "EventScheduled"


def event_json_ld(workshop: Workshop, sessions: list[ActivitySession], rescheduled_ids: set[int],
                  page_url: str, image_url: str, description: str) -> dict[str, Any]:
    """schema.org Event for the workshop: its dates are those of the sessions still to come
    (first start to last end); with more than one session each is also a ``subEvent``."""
    activity = workshop.activity
    office = activity.host_office
    first, last = sessions[0], max(sessions, key=lambda s: s.ends_at)
    organizer: dict[str, Any] = {"@type": "Organization", "name": office.name}
    if office.website and office.website.startswith(("https://", "http://")):
        organizer["url"] = office.website
    if office.email:
        organizer["email"] = office.email
    if office.phone:
        organizer["telephone"] = office.phone
    language = "es-CL" if workshop.language == "es" else workshop.language
    all_cancelled = activity.status == ActivityStatus.CANCELLED or all(
        s.status == SessionStatus.CANCELLED for s in sessions)
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Event",
        "name": activity.title,
        "description": description,
        "url": page_url,
        "image": [image_url],
        "startDate": _iso(first.starts_at, first.timezone),
        "endDate": _iso(last.ends_at, last.timezone),
        "eventStatus": _status(all_cancelled, any(s.id in rescheduled_ids for s in sessions)),
        "eventAttendanceMode": _attendance_mode({s.modality for s in sessions}),
        "location": _one_or_list(_locations(sessions, page_url)),
        "organizer": organizer,
        "isAccessibleForFree": True,
        "inLanguage": language,
        "about": workshop.topic.name,
        "offers": {"@type": "Offer", "price": 0, "priceCurrency": "CLP", "url": page_url},
    }
    if activity.published_at is not None:
        data["offers"]["validFrom"] = _iso(activity.published_at, first.timezone)
    if len(sessions) > 1:
        data["subEvent"] = [
            {
                "@type": "Event",
                "name": activity.title,
                "url": page_url,
                "startDate": _iso(s.starts_at, s.timezone),
                "endDate": _iso(s.ends_at, s.timezone),
                "eventStatus": _status(s.status == SessionStatus.CANCELLED or all_cancelled,
                                       s.id in rescheduled_ids),
                "eventAttendanceMode": _attendance_mode({s.modality}),
                "location": _one_or_list(_locations([s], page_url)),
            }
            for s in sessions
        ]
    return data


def json_for_html(data: Any) -> Markup:
    """JSON safe inside a <script> element: <, > and & escaped so no text can close it."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)  # noqa: S704 - escaped above: it cannot contain markup


def _safe_web_link(url: str | None) -> str | None:
    return url if url and url.startswith(("https://", "http://")) else None


def _whatsapp_link(number: str | None) -> str | None:
    digits = "".join(ch for ch in number or "" if ch.isdigit())
    return f"https://wa.me/{digits}" if digits else None


@bp.get("/talleres/<slug>")
def detail(slug: str) -> ResponseReturnValue:
    workshop = load_public_workshop(slug)
    activity = workshop.activity
    now = utcnow()
    rescheduled_ids = set(db.session.scalars(
        select(ActivityChange.session_id).where(ActivityChange.activity_id == activity.id,
                                                ActivityChange.kind == "time")))
    base_path = url_for("workshops.detail", slug=activity.slug)
    sessions = [
        SessionView(session=s, when=session_when(s), past=s.ends_at <= now,
                    cancelled=s.status == SessionStatus.CANCELLED, rescheduled=s.id in rescheduled_ids,
                    ics_path=f"{base_path}/sesiones/{s.id}.ics")
        for s in activity.sessions
    ]
    has_upcoming = any(not v.past and not v.cancelled for v in sessions)
    finished = None
    if activity.status == ActivityStatus.DONE or (not has_upcoming and any(not v.cancelled for v in sessions)):
        finished = "done"
    elif not has_upcoming:
        finished = "sessions_cancelled"
    relevant = _relevant_sessions(activity.sessions, now)
    office = activity.host_office
    page_url = external_url("workshops.detail", slug=activity.slug)
    image_url = external_url("static", filename=OG_IMAGE)
    summary = ""
    if relevant:
        summary = session_when(relevant[0])
        extra = len([s for s in relevant if s.status == SessionStatus.SCHEDULED]) - 1
        if extra > 0:
            summary = ngettext("%(when)s y %(num)s sesión más", "%(when)s y %(num)s sesiones más", extra,
                               when=summary)
    og_description = " · ".join(p for p in (summary, office.name) if p)
    if activity.status == ActivityStatus.CANCELLED:
        og_description = _("Cancelado: %(reason)s", reason=activity.cancel_reason or "") + " · " + og_description
    json_ld = None
    if relevant:
        description = (activity.description or "").strip() or og_description
        json_ld = json_for_html(event_json_ld(workshop, relevant, rescheduled_ids, page_url, image_url,
                                              description[:500]))
    contacts = {
        "email": office.email,
        "phone": office.phone,  # shown with the |phone filter, dialled as stored (E.164)
        "whatsapp": office.whatsapp,
        "whatsapp_link": _whatsapp_link(office.whatsapp),
        "website": _safe_web_link(office.website),
        "facebook": _safe_web_link(office.facebook_url),
        "address": office.address,
        "opening_hours": office.opening_hours,
    }
    return render_template(
        "workshops/detail.html",
        workshop=workshop, activity=activity, office=office, sessions=sessions, contacts=contacts,
        has_upcoming=has_upcoming, finished=finished,
        page_url=page_url, image_url=image_url, image_size=OG_IMAGE_SIZE,
        og_title=activity.title, og_description=og_description, json_ld=json_ld,
        ics_path=f"{base_path}.ics",
        cobrand=cobrand_for(office),
        seats=seat_info((v.session, workshop) for v in sessions if not v.past and not v.cancelled),
        share=share_links(activity.title, summary if has_upcoming else "", page_url), map_url=map_url,
        facilitators=[f.display_name for f in workshop.facilitators if f.display_name],
        **template_helpers(),
    )
