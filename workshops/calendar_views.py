"""The coordinator calendars under /gestion/calendario: a network's workshops by month, week or list.

Plain HTML that works without JavaScript. Days are counted in the network's zone; each
session shows its time in its own zone, and names that zone when it differs. Bad query
values (an unknown view, date, office, facilitator or topic) are ignored with a note on the
page, never an error. Data access lives in ``workshops.calendar_queries``; permissions come
from the policy: ``network.view`` for the page, ``activity.view`` for each workshop on it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton, get_day_names
from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.accounts.models import Role, User
from app.accounts.policy import can, coordinated_network_ids, visible_networks
from app.activities.models import Activity, ActivitySession, ActivityStatus, SessionStatus
from app.extensions import db
from app.territory.models import Network, Office
from app.timeutil import utcnow
from workshops import calendar_queries as queries
from workshops.models import Topic

bp = Blueprint("workshops_calendar", __name__, url_prefix="/gestion/calendario")

VIEWS = ("mes", "semana", "lista")
PAGE_SIZE = 25
MIN_YEAR, MAX_YEAR = 2000, 2100
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
# Written as plain paths: these pages belong to other parts of the workshop work.
WORKSHOP_PATH = "/gestion/talleres/{id}"
SUBSCRIPTIONS_PATH = "/gestion/calendario/suscripciones"


def _me() -> User:
    return cast(User, current_user._get_current_object())  # type: ignore[attr-defined]


def _zone_label(zone: str) -> str:
    labels = {
        "America/Santiago": _("hora de Chile continental"),
        "America/Punta_Arenas": _("hora de Magallanes"),
        "America/Coyhaique": _("hora de Aysén"),
        "Pacific/Easter": _("hora de Isla de Pascua"),
    }
    return labels.get(zone, zone)


def _locale() -> str:
    return str(get_locale() or "es_CL")


def _month_title(d: date) -> str:
    text = format_skeleton("yMMMM", d, locale=_locale())
    return text[:1].upper() + text[1:]


def _day_title(d: date, *, year: bool = False) -> str:
    weekday = get_day_names("wide", locale=_locale())[d.weekday()]
    day = format_skeleton("yMMMMd" if year else "MMMMd", d, locale=_locale())
    return _("%(weekday)s %(date)s", weekday=weekday, date=day)


def _short(value: str) -> str:
    return value if len(value) <= 40 else value[:40] + "…"


# --- request parameters ----------------------------------------------------------------------


@dataclass
class Params:
    """The calendar's query string, checked. Values that failed are left out and explained."""

    vista: str
    day: date
    today: date
    office: Office | None = None
    facilitator: User | None = None
    topic: Topic | None = None
    page: int = 1
    notes: list[str] = field(default_factory=list)

    @property
    def filter(self) -> queries.CalendarFilter:
        return queries.CalendarFilter(
            office_id=self.office.id if self.office else None,
            facilitator_id=self.facilitator.id if self.facilitator else None,
            topic_id=self.topic.id if self.topic else None)

    @property
    def filtered(self) -> bool:
        return bool(self.office or self.facilitator or self.topic)

    def args(self, **changes: Any) -> dict[str, Any]:
        values: dict[str, Any] = {
            "vista": self.vista, "fecha": self.day.isoformat(),
            "oficina": self.office.id if self.office else None,
            "facilitador": self.facilitator.id if self.facilitator else None,
            "tema": self.topic.slug if self.topic else None,
            "pagina": self.page if self.page > 1 else None,
        }
        values.update(changes)
        return {k: v for k, v in values.items() if v not in (None, "")}


def _parse_int(raw: str) -> int | None:
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None


def _parse(args: Any, *, today: date, offices: list[Office], facilitators: list[User],
           topics: list[Topic]) -> Params:
    p = Params(vista="mes", day=today, today=today)
    raw = (args.get("vista") or "").strip()
    if raw in VIEWS:
        p.vista = raw
    elif raw:
        p.notes.append(_("Se ignoró la vista «%(value)s»: elija mes, semana o lista.", value=_short(raw)))
    raw = (args.get("fecha") or "").strip()
    if raw:
        parsed: date | None = None
        if _DATE_RE.fullmatch(raw):
            try:
                parsed = date.fromisoformat(raw)
            except ValueError:
                parsed = None
        if parsed is not None and MIN_YEAR <= parsed.year <= MAX_YEAR:
            p.day = parsed
        else:
            p.notes.append(_("Se ignoró la fecha «%(value)s»: use el formato AAAA-MM-DD, por ejemplo "
                             "%(example)s. Se muestra la fecha de hoy.", value=_short(raw), example=today.isoformat()))
    raw = (args.get("oficina") or "").strip()
    if raw:
        oid = _parse_int(raw)
        p.office = next((o for o in offices if o.id == oid), None)
        if p.office is None:
            p.notes.append(_("Se ignoró el filtro de oficina: «%(value)s» no es una oficina de esta red.",
                             value=_short(raw)))
    raw = (args.get("facilitador") or "").strip()
    if raw:
        uid = _parse_int(raw)
        p.facilitator = next((u for u in facilitators if u.id == uid), None)
        if p.facilitator is None:
            p.notes.append(_("Se ignoró el filtro de facilitación: «%(value)s» no es parte de los equipos "
                             "de esta red.", value=_short(raw)))
    raw = (args.get("tema") or "").strip()
    if raw:
        p.topic = next((t for t in topics if t.slug == raw), None)
        if p.topic is None:
            p.notes.append(_("Se ignoró el filtro de tema: «%(value)s» no es un tema del catálogo.",
                             value=_short(raw)))
    raw = (args.get("pagina") or "").strip()
    if raw:
        page = _parse_int(raw)
        if page is not None and 1 <= page <= 10_000:
            p.page = page
        else:
            p.notes.append(_("Se ignoró la página «%(value)s»: se muestra la primera.", value=_short(raw)))
    return p


# --- what the templates show -----------------------------------------------------------------


@dataclass
class Item:
    """One session as the calendar shows it."""

    session: ActivitySession
    topic: Topic
    facilitators: list[str]
    start: datetime  # in the session's zone
    end: datetime
    zone_label: str | None  # when the session's zone is not the calendar's
    labels: list[str]  # status in words: borrador, cancelada…
    draft: bool
    cancelled: bool
    url: str

    @property
    def activity(self) -> Activity:
        return self.session.activity


@dataclass
class Day:
    date: date
    title: str
    items: list[Item]
    in_month: bool = True
    is_today: bool = False


def _item(entry: queries.CalendarEntry, zone: str) -> Item:
    s, activity = entry.session, entry.session.activity
    labels = []
    draft = activity.status == ActivityStatus.DRAFT
    cancelled = activity.status == ActivityStatus.CANCELLED or s.status == SessionStatus.CANCELLED
    if draft:
        labels.append(_("Borrador"))
    if activity.status == ActivityStatus.CANCELLED:
        labels.append(_("Taller cancelado"))
    elif s.status == SessionStatus.CANCELLED:
        labels.append(_("Sesión cancelada"))
    if activity.status == ActivityStatus.DONE:
        labels.append(_("Realizado"))
    return Item(session=s, topic=entry.topic, facilitators=entry.facilitators, start=s.local_start,
                end=s.local_end, zone_label=_zone_label(s.timezone) if s.timezone != zone else None,
                labels=labels, draft=draft, cancelled=cancelled, url=WORKSHOP_PATH.format(id=activity.id))


def _visible(entries: Iterable[queries.CalendarEntry], user: User) -> list[queries.CalendarEntry]:
    """Only the workshops the policy lets ``user`` see (asked once per workshop)."""
    allowed: dict[int, bool] = {}
    out = []
    for e in entries:
        aid = e.session.activity_id
        if aid not in allowed:
            allowed[aid] = can(user, "activity.view", e.session.activity)
        if allowed[aid]:
            out.append(e)
    return out


def _by_day(items: list[Item], zone: ZoneInfo) -> dict[date, list[Item]]:
    out: dict[date, list[Item]] = {}
    for it in items:
        out.setdefault(it.session.starts_at.astimezone(zone).date(), []).append(it)
    return out


def _midnight(d: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(d, time(), tzinfo=zone)


def _add_months(d: date, n: int) -> date:
    month = d.year * 12 + d.month - 1 + n
    return date(month // 12, month % 12 + 1, 1)


def _in_range(d: date) -> bool:
    return MIN_YEAR <= d.year <= MAX_YEAR


# --- pages -----------------------------------------------------------------------------------


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    """Straight to the user's network calendar, or a chooser for those who see many networks."""
    me = _me()
    if not can(me, "network.view"):
        abort(403)
    networks = list(db.session.scalars(visible_networks(me)))
    notes: list[str] = []
    raw = (request.args.get("red") or "").strip()
    if raw:
        wanted = _parse_int(raw)
        if any(n.id == wanted for n in networks):
            return redirect(url_for(".network", network_id=wanted))
        notes.append(_("La red elegida no existe o no tiene acceso a ella. Elija otra de la lista."))
    else:
        coordinated = coordinated_network_ids(me)
        mine = [n for n in networks if n.id in coordinated]
        if not mine and (me.role == Role.OFFICE_STAFF or len(networks) == 1):
            mine = networks
        if mine:
            return redirect(url_for(".network", network_id=mine[0].id))
    return render_template("workshops/calendar/chooser.html", networks=networks, notes=notes)


@bp.get("/red/<int:network_id>")
@login_required
def network(network_id: int) -> ResponseReturnValue:
    network = db.get_or_404(Network, network_id)
    me = _me()
    if not can(me, "network.view", network):
        abort(403)
    zone_name = queries.network_timezone(network)
    zone = ZoneInfo(zone_name)
    offices = queries.network_offices(network)
    facilitators = queries.network_facilitators(network)
    topics = queries.topics()
    today = utcnow().astimezone(zone).date()
    p = _parse(request.args, today=today, offices=offices, facilitators=facilitators, topics=topics)

    def cal_url(**changes: Any) -> str:
        return _link(network, p, **changes)

    ctx: dict[str, Any] = {
        "network": network, "zone_label": _zone_label(zone_name), "zone_name": zone_name, "p": p,
        "offices": offices, "facilitators": facilitators, "topics": topics, "cal_url": cal_url,
        "subscriptions_url": SUBSCRIPTIONS_PATH,
        "other_networks": [n for n in db.session.scalars(visible_networks(me)) if n.id != network.id],
        "weekday_names": [get_day_names("wide", locale=_locale())[i] for i in range(7)],
        "weekday_short": [get_day_names("abbreviated", locale=_locale())[i] for i in range(7)],
    }
    render: Callable[..., dict[str, Any]] = {"mes": _month, "semana": _week, "lista": _list}[p.vista]
    ctx.update(render(network, p, zone, me))
    return render_template("workshops/calendar/network.html", **ctx)


def _month(network: Network, p: Params, zone: ZoneInfo, me: User) -> dict[str, Any]:
    first = p.day.replace(day=1)
    following = _add_months(first, 1)
    grid_start = first - timedelta(days=first.weekday())
    grid_end = following + timedelta(days=(7 - following.weekday()) % 7)
    entries = queries.sessions_between(network, _midnight(grid_start, zone), _midnight(grid_end, zone), p.filter)
    items = [_item(e, zone.key) for e in _visible(entries, me)]
    days = _by_day(items, zone)
    grid = [grid_start + timedelta(days=i) for i in range((grid_end - grid_start).days)]
    cells = [Day(date=d, title=_day_title(d), items=days.get(d, []), in_month=d.month == first.month,
                 is_today=d == p.today) for d in grid]
    weeks = [cells[i:i + 7] for i in range(0, len(cells), 7)]
    prev, nxt = _add_months(first, -1), following
    return {
        "heading": _month_title(first), "weeks": weeks,
        "count": sum(len(day.items) for day in cells if day.in_month),
        "prev": (_link(network, p, prev), _("Mes anterior"), _month_title(prev)) if _in_range(prev) else None,
        "next": (_link(network, p, nxt), _("Mes siguiente"), _month_title(nxt)) if _in_range(nxt) else None,
        "today_link": (_link(network, p, p.today), _("Hoy")),
        "empty_text": _("No hay sesiones este mes."),
    }


def _week(network: Network, p: Params, zone: ZoneInfo, me: User) -> dict[str, Any]:
    monday = p.day - timedelta(days=p.day.weekday())
    sunday = monday + timedelta(days=6)
    entries = queries.sessions_between(network, _midnight(monday, zone), _midnight(sunday + timedelta(days=1), zone),
                                       p.filter, with_facilitators=True)
    items = [_item(e, zone.key) for e in _visible(entries, me)]
    days = _by_day(items, zone)
    week = [Day(date=monday + timedelta(days=i), title=_day_title(monday + timedelta(days=i)),
                items=days.get(monday + timedelta(days=i), []), is_today=monday + timedelta(days=i) == p.today)
            for i in range(7)]
    prev, nxt = monday - timedelta(days=7), monday + timedelta(days=7)
    return {
        "heading": _("Semana del %(start)s al %(end)s", start=format_skeleton("MMMMd", monday, locale=_locale()),
                     end=format_skeleton("yMMMMd", sunday, locale=_locale())),
        "days": week, "count": len(items),
        "prev": (_link(network, p, prev), _("Semana anterior"), None) if _in_range(prev) else None,
        "next": (_link(network, p, nxt), _("Semana siguiente"), None) if _in_range(nxt) else None,
        "today_link": (_link(network, p, p.today), _("Esta semana")),
        "empty_text": _("No hay sesiones esta semana."),
    }


def _list(network: Network, p: Params, zone: ZoneInfo, me: User) -> dict[str, Any]:
    # Every workshop on a network's calendar is one the network's viewers may see, so the
    # policy check below drops nothing in practice and pages stay PAGE_SIZE long.
    entries, more = queries.sessions_from(network, _midnight(p.day, zone), p.filter, limit=PAGE_SIZE,
                                          offset=(p.page - 1) * PAGE_SIZE)
    items = [_item(e, zone.key) for e in _visible(entries, me)]
    days = _by_day(items, zone)
    listed = [Day(date=d, title=_day_title(d, year=True), items=its, is_today=d == p.today) for d, its in days.items()]
    since = format_skeleton("yMMMMd", p.day, locale=_locale())
    return {
        "heading": _("Próximas sesiones desde el %(date)s", date=since) if p.page == 1
        else _("Próximas sesiones desde el %(date)s, página %(page)s", date=since, page=p.page),
        "days": listed, "count": len(items),
        "prev": (_link(network, p, pagina=p.page - 1 if p.page > 2 else None), _("Página anterior"), None)
        if p.page > 1 else None,
        "next": (_link(network, p, pagina=p.page + 1), _("Página siguiente"), None) if more else None,
        "today_link": (_link(network, p, p.today), _("Desde hoy")) if p.day != p.today or p.page > 1 else None,
        "empty_text": _("No hay sesiones próximas.") if p.page == 1 else _("No hay más sesiones."),
    }


def _link(network: Network, p: Params, d: date | None = None, **changes: Any) -> str:
    """The calendar's URL with the current view and filters, on day ``d`` (first page)."""
    if d is not None:
        changes["fecha"] = d.isoformat()
    changes.setdefault("pagina", None)
    return url_for(".network", network_id=network.id, **p.args(**changes))
