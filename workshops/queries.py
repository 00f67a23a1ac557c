"""The public listing of upcoming workshop sessions: its filters and its two queries.

``parse_filters`` turns the GET parameters of /talleres into a ``ListingFilters``; a value it
cannot use is dropped with a note in plain Spanish (the page never fails on a bad link).
``upcoming_sessions`` answers one page with one SELECT (every row the page shows is joined in
and loaded eagerly) plus one COUNT, whatever the number of sessions.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Select, func, select
from sqlalchemy.orm import aliased, contains_eager, load_only

from app.activities.models import (
    Activity,
    ActivityKind,
    ActivitySession,
    ActivityStatus,
    Modality,
    SessionStatus,
    activity_networks,
)
from app.activities.services import MAX_SESSION_HOURS
from app.extensions import db
from app.territory.models import Comuna, Network, Office, Region
from app.territory.search import spanish_key
from app.timeutil import utcnow
from workshops.models import Topic, Workshop

PER_PAGE = 20
COUNT_CAP = 500  # sessions counted exactly; past it the listing says "more than 500"
MAX_PAGE = 10_000
#: Dates typed in the filter are days in continental Chile.
LISTING_TZ = "America/Santiago"
#: Spanish URL values of the modality filter.
MODALITY_PARAMS: dict[str, Modality] = {
    "remota": Modality.REMOTE,
    "presencial": Modality.IN_PERSON,
    "hibrida": Modality.HYBRID,
}
MODALITY_VALUES: dict[Modality, str] = {v: k for k, v in MODALITY_PARAMS.items()}
FILTER_PARAMS = ("region", "comuna", "network", "topic", "modality", "desde", "hasta")

_DATE_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DATE_CL = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$")
_SHOWN_MAX = 40  # characters of a bad value echoed back in a note


# --- reference data ------------------------------------------------------------------------


@dataclass(frozen=True)
class Territory:
    """Regions and comunas (reference tables loaded by migrations), kept per application."""

    regions: list[tuple[str, str]]  # (code, name), north to south
    comunas: dict[str, tuple[str, str]]  # code -> (name, region code)

    def comunas_of(self, region_code: str) -> list[tuple[str, str]]:
        return sorted(((c, n) for c, (n, r) in self.comunas.items() if r == region_code),
                      key=lambda x: spanish_key(x[1]))


def territory() -> Territory:
    """Regions and comunas change only with a migration (and a restart), so they are read once."""
    cached: Territory | None = current_app.extensions.get("workshops.territory")
    if cached is None:
        regions = [(r.code, r.name) for r in db.session.scalars(select(Region).order_by(Region.position))]
        comunas = {c: (n, r) for c, n, r in db.session.execute(select(Comuna.code, Comuna.name, Comuna.region_code))}
        if not regions:  # an unmigrated database: do not remember an empty country
            return Territory([], {})
        cached = Territory(regions, comunas)
        current_app.extensions["workshops.territory"] = cached
    return cached


class NetworkChoice(NamedTuple):
    id: int
    slug: str
    name: str


class TopicChoice(NamedTuple):
    id: int
    slug: str
    name: str
    active: bool


@dataclass
class Choices:
    """What the filter form offers (and what a filter value is checked against)."""

    territory: Territory
    networks: list[NetworkChoice]
    topics: list[TopicChoice]

    def comuna_options(self, region_code: str | None) -> list[tuple[str, str]]:
        """The comunas of the chosen region (the whole country's 346 would weigh down the page)."""
        return self.territory.comunas_of(region_code) if region_code else []


def load_choices() -> Choices:
    networks = [NetworkChoice(*row) for row in db.session.execute(
        select(Network.id, Network.slug, Network.name).where(Network.active.is_(True)).order_by(Network.name))]
    topics = [TopicChoice(*row) for row in db.session.execute(
        select(Topic.id, Topic.slug, Topic.name, Topic.active).order_by(Topic.position, Topic.name))]
    return Choices(territory(), networks, topics)


# --- filters -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListingFilters:
    region: str | None = None  # CUT, two digits
    comuna: str | None = None  # CUT, five digits
    network_id: int | None = None
    topic_id: int | None = None
    modality: Modality | None = None
    date_from: date | None = None  # a day in LISTING_TZ, inclusive
    date_to: date | None = None  # a day in LISTING_TZ, inclusive


@dataclass
class ParsedFilters:
    filters: ListingFilters
    params: dict[str, str]  # the accepted values, normalised: what links and the form carry
    notes: list[str] = field(default_factory=list)
    page: int = 1


def _shown(value: str) -> str:
    value = " ".join(value.split())
    return value if len(value) <= _SHOWN_MAX else value[: _SHOWN_MAX - 1] + "…"


def parse_date(value: str) -> date | None:
    """2025-12-08 (what a date field sends) or 08-12-2025 / 08/12/2025 (what people type)."""
    value = value.strip()
    m = _DATE_ISO.match(value)
    if m:
        y, mo, d = (int(x) for x in m.groups())
    else:
        m = _DATE_CL.match(value)
        if not m:
            return None
        d, mo, y = (int(x) for x in m.groups())
    if not 2000 <= y <= 2100:
        return None
    try:
        return date(y, mo, d)
    except ValueError:
        return None


def parse_filters(args: Mapping[str, str], choices: Choices) -> ParsedFilters:
    """Read the listing's GET parameters; unusable values are dropped with a note, never an error."""
    notes: list[str] = []
    params: dict[str, str] = {}
    values: dict[str, Any] = {}

    def arg(name: str) -> str:
        return (args.get(name) or "").strip()

    if raw := arg("region"):
        code = raw.zfill(2) if raw.isdecimal() and len(raw) <= 2 else raw
        if any(code == c for c, _n in choices.territory.regions):
            values["region"] = params["region"] = code
        else:
            notes.append(_("No encontramos la región «%(v)s»; se muestran todas las regiones.", v=_shown(raw)))

    if raw := arg("comuna"):
        known = choices.territory.comunas.get(raw) if len(raw) == 5 and raw.isdecimal() else None
        if known is None:
            notes.append(_("No encontramos la comuna «%(v)s»; se muestran todas las comunas.", v=_shown(raw)))
        elif "region" in values and known[1] != values["region"]:
            notes.append(_("La comuna %(name)s no está en la región elegida; se muestran todas las comunas "
                           "de la región.", name=known[0]))
        else:
            values["comuna"] = params["comuna"] = raw
            # The comuna's region is implied: the form then offers that region's comunas.
            values.setdefault("region", known[1])
            params.setdefault("region", known[1])

    if raw := arg("network"):
        net = next((n for n in choices.networks if (raw.isdecimal() and n.id == int(raw)) or n.slug == raw), None)
        if net is None:
            notes.append(_("No encontramos la red «%(v)s»; se muestran todas las redes.", v=_shown(raw)))
        else:
            values["network_id"] = net.id
            params["network"] = net.slug

    if raw := arg("topic"):
        topic = next((t for t in choices.topics if t.slug == raw), None)
        if topic is None:
            notes.append(_("No encontramos el tema «%(v)s»; se muestran todos los temas.", v=_shown(raw)))
        else:
            values["topic_id"] = topic.id
            params["topic"] = topic.slug

    if raw := arg("modality"):
        modality = MODALITY_PARAMS.get(raw.lower())
        if modality is None:
            notes.append(_("No entendimos la modalidad «%(v)s»; se muestran todas las modalidades.", v=_shown(raw)))
        else:
            values["modality"] = modality
            params["modality"] = MODALITY_VALUES[modality]

    raw_from, raw_to = arg("desde"), arg("hasta")
    date_from = parse_date(raw_from) if raw_from else None
    date_to = parse_date(raw_to) if raw_to else None
    if raw_from and date_from is None:
        notes.append(_("No entendimos la fecha «%(v)s»; se muestran todas las fechas.", v=_shown(raw_from))
                     if date_to is None else
                     _("No entendimos la fecha «%(v)s»; se muestran las fechas sin ese límite.", v=_shown(raw_from)))
    if raw_to and date_to is None:
        notes.append(_("No entendimos la fecha «%(v)s»; se muestran todas las fechas.", v=_shown(raw_to))
                     if date_from is None else
                     _("No entendimos la fecha «%(v)s»; se muestran las fechas sin ese límite.", v=_shown(raw_to)))
    if date_from and date_to and date_to < date_from:
        notes.append(_("La fecha «hasta» (%(to)s) es anterior a «desde» (%(frm)s); se muestran todas las fechas "
                       "desde %(frm)s.", to=date_to.isoformat(), frm=date_from.isoformat()))
        date_to = None
    if date_from:
        values["date_from"] = date_from
        params["desde"] = date_from.isoformat()
    if date_to:
        values["date_to"] = date_to
        params["hasta"] = date_to.isoformat()

    page = 1
    if raw := arg("page"):
        if raw.isdecimal() and 1 <= int(raw) <= MAX_PAGE:
            page = int(raw)
        else:
            notes.append(_("No entendimos la página «%(v)s»; se muestra la primera.", v=_shown(raw)))
    return ParsedFilters(ListingFilters(**values), params, notes, page)


# --- the queries ---------------------------------------------------------------------------


def day_start_utc(day: date, tz: str = LISTING_TZ) -> datetime:
    """Midnight of ``day`` in ``tz`` as UTC (a midnight skipped by DST means the day's first instant)."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(tz)).astimezone(UTC)


def _filtered(stmt: Select[Any], f: ListingFilters, now: datetime, *, workshop_joined: bool,
              office_joined: bool) -> Select[Any]:
    """Add the listing's conditions to a statement that selects from sessions joined to activities."""
    # No session lasts longer than MAX_SESSION_HOURS, so one still running started after
    # ``earliest``: a bound on starts_at (one, the later of the two) lets the database walk
    # the sessions' start index from the right place instead of from the past.
    earliest = now - timedelta(hours=MAX_SESSION_HOURS)
    from_day = day_start_utc(f.date_from) if f.date_from is not None else None
    if from_day is not None and from_day > earliest:
        starts_bound = ActivitySession.starts_at >= from_day
    else:
        starts_bound = ActivitySession.starts_at > earliest
    stmt = stmt.where(
        Activity.kind == ActivityKind.WORKSHOP,
        Activity.status == ActivityStatus.PUBLISHED,
        ActivitySession.status == SessionStatus.SCHEDULED,
        ActivitySession.ends_at > now,
        starts_bound,
    )
    if f.comuna:
        # Both sides are columns of the session, so each can use its own index (a comuna
        # has few sessions); "host office's comuna" through a join would scan them all.
        hosted_there = select(Activity.id).where(Activity.host_office_id.in_(
            select(Office.id).where(Office.comuna_code == f.comuna)))
        stmt = stmt.where(ActivitySession.activity_id.in_(hosted_there) | (ActivitySession.comuna_code == f.comuna))
    elif f.region:
        # A region holds many sessions: walking them in start order and checking is cheaper.
        if not office_joined:
            stmt = stmt.join(Office, Office.id == Activity.host_office_id)
        in_region = select(Comuna.code).where(Comuna.region_code == f.region).scalar_subquery()
        stmt = stmt.where(Office.comuna_code.in_(in_region) | ActivitySession.comuna_code.in_(in_region))
    if f.topic_id is not None:
        if not workshop_joined:
            stmt = stmt.join(Workshop, Workshop.activity_id == Activity.id)
        stmt = stmt.where(Workshop.topic_id == f.topic_id)
    if f.network_id is not None:
        stmt = stmt.where(Activity.id.in_(select(activity_networks.c.activity_id)
                                          .where(activity_networks.c.network_id == f.network_id)))
    if f.modality is not None:
        stmt = stmt.where(ActivitySession.modality == f.modality)
    if f.date_to is not None:
        stmt = stmt.where(ActivitySession.starts_at < day_start_utc(f.date_to + timedelta(days=1)))
    return stmt


@dataclass
class ListedSession:
    session: ActivitySession
    workshop: Workshop


@dataclass
class ListingPage:
    """One page of results. ``total`` is exact up to ``cap``; past it the listing says "more
    than cap" and pages on with "next" (counting every upcoming session in the country on
    each visit would cost more than the page itself)."""

    items: list[ListedSession]
    total: int
    page: int
    per_page: int = PER_PAGE
    cap: int = COUNT_CAP

    @property
    def capped(self) -> bool:
        return self.total > self.cap

    @property
    def known_pages(self) -> int:
        return max(1, math.ceil(min(self.total, self.cap) / self.per_page))

    @property
    def has_next(self) -> bool:
        return bool(self.items) and (self.page < self.known_pages or (self.capped and len(self.items) == self.per_page))

    @property
    def beyond_last(self) -> bool:
        return self.page > 1 and not self.items

    @property
    def first_index(self) -> int:
        return (self.page - 1) * self.per_page + 1

    @property
    def last_index(self) -> int:
        return self.first_index + len(self.items) - 1


def page_ids_statement(f: ListingFilters, now: datetime, *, limit: int, offset: int) -> Select[Any]:
    """The ids of one page of matching sessions, in start order: only the joins the filters need,
    so skipping many rows (a deep page) does not pay for joining what is not shown."""
    ids = select(ActivitySession.id).join(Activity, Activity.id == ActivitySession.activity_id)
    ids = _filtered(ids, f, now, workshop_joined=False, office_joined=False)
    return ids.order_by(ActivitySession.starts_at, ActivitySession.id).limit(limit).offset(offset)


def listing_statement(f: ListingFilters, now: datetime, *, limit: int = PER_PAGE, offset: int = 0) -> Select[Any]:
    """One page of sessions with everything a result shows, in one SELECT, in start order."""
    return cards_statement(page_ids_statement(f, now, limit=limit, offset=offset).scalar_subquery())


def cards_statement(ids: Any) -> Select[Any]:
    """The sessions whose ids ``ids`` (a subquery or a list) gives, with everything a result
    shows, in one SELECT, in start order."""
    host_comuna = aliased(Comuna, name="host_comuna")
    session_comuna = aliased(Comuna, name="session_comuna")
    activity_columns = (Activity.id, Activity.title, Activity.slug, Activity.status, Activity.host_office_id)
    stmt = (
        select(ActivitySession, Workshop)
        .join(Activity, Activity.id == ActivitySession.activity_id)
        .join(Workshop, Workshop.activity_id == Activity.id)
        .join(Topic, Topic.id == Workshop.topic_id)
        .join(Office, Office.id == Activity.host_office_id)
        .join(host_comuna, host_comuna.code == Office.comuna_code)
        .outerjoin(session_comuna, session_comuna.code == ActivitySession.comuna_code)
        .options(
            # Only the columns a result shows: no descriptions, contacts or join links.
            load_only(ActivitySession.id, ActivitySession.activity_id, ActivitySession.starts_at,
                      ActivitySession.ends_at, ActivitySession.timezone, ActivitySession.modality,
                      ActivitySession.venue_name, ActivitySession.comuna_code, ActivitySession.status,
                      ActivitySession.capacity, ActivitySession.confirmed_count),
            load_only(Workshop.activity_id, Workshop.topic_id, Workshop.offers_subtitles,
                      Workshop.offers_sign_language, Workshop.offers_materials_in_advance),
            contains_eager(ActivitySession.activity).load_only(*activity_columns)
            .contains_eager(Activity.host_office)
            .load_only(Office.id, Office.name, Office.comuna_code)
            .contains_eager(Office.comuna.of_type(host_comuna)),
            contains_eager(ActivitySession.comuna.of_type(session_comuna)),
            contains_eager(Workshop.activity).load_only(*activity_columns),
            contains_eager(Workshop.topic).load_only(Topic.id, Topic.name, Topic.slug),
        )
    )
    return stmt.where(ActivitySession.id.in_(ids)).order_by(ActivitySession.starts_at, ActivitySession.id)


def count_statement(f: ListingFilters, now: datetime, cap: int) -> Select[Any]:
    """How many sessions match, counting at most ``cap + 1`` (the database stops there)."""
    matching = select(ActivitySession.id).join(Activity, Activity.id == ActivitySession.activity_id)
    matching = _filtered(matching, f, now, workshop_joined=False, office_joined=False).limit(cap + 1)
    return select(func.count()).select_from(matching.subquery())


def upcoming_sessions(f: ListingFilters, page: int = 1, *, per_page: int = PER_PAGE, cap: int | None = None,
                      now: datetime | None = None) -> ListingPage:
    now = now or utcnow()
    cap = cap or COUNT_CAP
    total = int(db.session.scalar(count_statement(f, now, cap)) or 0)
    items: list[ListedSession] = []
    if total > cap or (page - 1) * per_page < total:
        stmt = listing_statement(f, now, limit=per_page, offset=(page - 1) * per_page)
        items = [ListedSession(s, w) for s, w in db.session.execute(stmt)]
    return ListingPage(items, total, page, per_page, cap)
