"""The workshops' part of the home page: what is on in the comuna searched, online, and nearby.

Registered with ``app.public.add_home_section`` when this (route-less) blueprint is registered,
so the core's home page shows it without importing this package.

For a comuna, three lists in this order: in-person (or hybrid) sessions held in that comuna;
online sessions, which anyone can join and which no comuna filter hides (hybrid sessions
elsewhere count, they can be followed online); in-person sessions in nearby comunas. With no
coordinates in the data, "nearby" is the same province first, then the rest of the region.
Without a comuna: the next sessions in the country.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, render_template, url_for
from markupsafe import Markup
from sqlalchemy import case, select

from app.activities.models import Activity, ActivitySession, Modality
from app.extensions import db
from app.public import add_home_section
from app.territory.search import ComunaEntry, comuna_index
from app.timeutil import utcnow
from workshops import queries
from workshops.cards import seat_info
from workshops.queries import ListedSession, ListingFilters

bp = Blueprint("workshops_home", __name__)

HERE_LIMIT = 10
ONLINE_LIMIT = 6
NEARBY_LIMIT = 6
UPCOMING_LIMIT = 6


def _base(now: datetime) -> Any:
    ids = select(ActivitySession.id).join(Activity, Activity.id == ActivitySession.activity_id)
    return queries._filtered(ids, ListingFilters(), now, workshop_joined=False, office_joined=False)


def _load(ids: list[int]) -> list[ListedSession]:
    """The cards for ``ids``, kept in the order given."""
    if not ids:
        return []
    found = {s.id: ListedSession(s, w) for s, w in db.session.execute(queries.cards_statement(ids))}
    return [found[i] for i in ids if i in found]


def in_comuna(code: str, now: datetime, limit: int = HERE_LIMIT) -> list[ListedSession]:
    stmt = _base(now).where(ActivitySession.comuna_code == code, ActivitySession.modality != Modality.REMOTE)
    return _load(list(db.session.scalars(stmt.order_by(ActivitySession.starts_at, ActivitySession.id).limit(limit))))


def online(now: datetime, *, except_comuna: str | None = None, limit: int = ONLINE_LIMIT) -> list[ListedSession]:
    stmt = _base(now).where(ActivitySession.modality.in_((Modality.REMOTE, Modality.HYBRID)))
    if except_comuna:  # a hybrid session in the comuna is already listed under it
        stmt = stmt.where((ActivitySession.modality == Modality.REMOTE)
                          | (ActivitySession.comuna_code.is_(None))
                          | (ActivitySession.comuna_code != except_comuna))
    return _load(list(db.session.scalars(stmt.order_by(ActivitySession.starts_at, ActivitySession.id).limit(limit))))


def nearby(comuna: ComunaEntry, now: datetime, limit: int = NEARBY_LIMIT) -> list[ListedSession]:
    around = comuna_index().nearby(comuna.code)
    if not around:
        return []
    same_province = [e.code for e in around if e.province == comuna.province]
    stmt = (_base(now)
            .where(ActivitySession.comuna_code.in_([e.code for e in around]),
                   ActivitySession.modality != Modality.REMOTE)
            .order_by(case((ActivitySession.comuna_code.in_(same_province or [""]), 0), else_=1),
                      ActivitySession.starts_at, ActivitySession.id)
            .limit(limit))
    return _load(list(db.session.scalars(stmt)))


def upcoming(now: datetime, limit: int = UPCOMING_LIMIT) -> list[ListedSession]:
    stmt = queries.page_ids_statement(ListingFilters(), now, limit=limit, offset=0)
    return _load(list(db.session.scalars(stmt)))


def section(comuna: ComunaEntry | None) -> Markup:
    from workshops.views import template_helpers  # views imports this module's neighbours only

    now = utcnow()
    if comuna is not None:
        lists = {"here": in_comuna(comuna.code, now), "online": online(now, except_comuna=comuna.code),
                 "nearby": nearby(comuna, now)}
    else:
        lists = {"upcoming": upcoming(now)}
    shown = [item for items in lists.values() for item in items]
    seats = seat_info((item.session, item.workshop) for item in shown)
    more = {
        "here": url_for("workshops.index", comuna=comuna.code) if comuna else None,
        "online": url_for("workshops.index", modality="remota"),
        "nearby": url_for("workshops.index", region=comuna.region_code) if comuna else None,
        "upcoming": url_for("workshops.index"),
    }
    return Markup(render_template(  # noqa: S704 - a rendered (autoescaped) template
        "workshops/_home.html", comuna=comuna, lists=lists, seats=seats, more=more,
        register_args={"comuna": comuna.code} if comuna else {}, **template_helpers()))


@bp.record_once
def _register(state: Any) -> None:
    add_home_section(state.app, section)
