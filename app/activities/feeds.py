"""Private calendar subscriptions: a network's, an office's or a facilitator's activities.

A feed belongs to a staff user and shows what that user may see (``activity.view``) in its
scope, drafts included, so its URL carries an unguessable token: an HMAC-SHA256 of
``calendar-feed:{id}:{nonce}`` under SECRET_KEY. The token is never stored (the nonce is),
so the page can show the URL again; renewing draws a new nonce and the old URL stops
working; revoking ends the feed. A revoked feed, a wrong token, an owner who is no longer
active or who lost sight of the scope: the feed is not found.

Each state change is one transaction with an audit record. Which activities a staff member
facilitates is a domain's knowledge: domains register a query with
``register_facilitated_activities``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Select, false, or_, select
from sqlalchemy.orm import joinedload, selectinload

from app.accounts.models import Role, User
from app.accounts.policy import can, coordinated_network_ids
from app.activities.models import (
    Activity,
    ActivitySession,
    CalendarFeed,
    activity_convening_offices,
    activity_networks,
)
from app.activities.services import ActivityError
from app.audit.services import record
from app.dbtypes import MAX_ROW_ID
from app.extensions import db
from app.territory.models import Network, Office
from app.timeutil import utcnow
from app.urls import base_url

SCOPES = ("network", "office", "facilitator")
SCOPE_FIELDS = {"network": "network_id", "office": "office_id", "facilitator": "facilitator_id"}
WINDOW_PAST = timedelta(days=30)
WINDOW_AHEAD = timedelta(days=365)
TOKEN_LENGTH = 32

FacilitatedQuery = Callable[[int], Select[tuple[int]]]
_FACILITATED: dict[str, FacilitatedQuery] = {}


def register_facilitated_activities(name: str, query: FacilitatedQuery) -> None:
    """``query(user_id)`` selects the ids of the activities that staff member facilitates."""
    _FACILITATED[name] = query


# --- tokens ----------------------------------------------------------------------------------


def feed_token(feed: CalendarFeed) -> str:
    key = current_app.config["SECRET_KEY"]
    key_bytes = key.encode() if isinstance(key, str) else bytes(key)
    mac = hmac.new(key_bytes, f"calendar-feed:{feed.id}:{feed.nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")[:TOKEN_LENGTH]


def feed_from_token(feed_id: int, token: str) -> CalendarFeed | None:
    """The live feed this URL names, or None (wrong token, revoked, owner inactive...)."""
    feed = db.session.get(CalendarFeed, feed_id) if 0 < feed_id <= MAX_ROW_ID else None
    if feed is None or feed.revoked_at is not None:
        return None
    if not hmac.compare_digest(feed_token(feed).encode(), (token or "").encode()):
        return None
    owner = feed_owner(feed)
    if owner is None or not owner.active or not owner.is_staff:
        return None
    target = scope_target(feed.scope, feed.scope_id)
    if target is None or not may_subscribe(owner, feed.scope, target):
        return None
    return feed


# --- scope and permission ----------------------------------------------------------------------


def feed_owner(feed: CalendarFeed) -> User | None:
    return db.session.get(User, feed.user_id)


def scope_target(scope: str, scope_id: int) -> Network | Office | User | None:
    model: Any = {"network": Network, "office": Office, "facilitator": User}.get(scope)
    if model is None or not 0 < scope_id <= MAX_ROW_ID:
        return None
    target = db.session.get(model, scope_id)
    if isinstance(target, User) and target.role != Role.OFFICE_STAFF:
        return None  # only office staff facilitate
    return target  # type: ignore[no-any-return]


def may_subscribe(user: User, scope: str, target: Network | Office | User) -> bool:
    """Network: who may view the network; office: who may view the office; facilitator:
    the person themself, or a coordinator or national admin who may view that person."""
    if scope == "network" and isinstance(target, Network):
        return can(user, "network.view", target)
    if scope == "office" and isinstance(target, Office):
        return can(user, "office.view", target)
    if scope == "facilitator" and isinstance(target, User):
        if not can(user, "staff.view", target):
            return False
        return (target.id == user.id or user.role == Role.SENCE_NATIONAL
                or bool(coordinated_network_ids(user)))
    return False


def facilitator_choices(user: User, candidates: list[User]) -> list[User]:
    """Of ``candidates``, the staff ``user`` may subscribe to as facilitators."""
    return [c for c in candidates if c.role == Role.OFFICE_STAFF and may_subscribe(user, "facilitator", c)]


def describe_feed(feed: CalendarFeed) -> tuple[str, str]:
    """(what kind of calendar, whose) for pages and the calendar's name."""
    target = scope_target(feed.scope, feed.scope_id)
    name = getattr(target, "name", None) or _("(ya no existe)")
    label = {"network": _("Red"), "office": _("Oficina"), "facilitator": _("Facilitación")}.get(feed.scope, "")
    return label, name


# --- services ----------------------------------------------------------------------------------


def _missing_target_message(scope: str) -> str:
    return {"network": _("Elija la red."), "office": _("Elija la oficina."),
            "facilitator": _("Elija la persona facilitadora.")}[scope]


def _audit(action: str, feed: CalendarFeed, actor: User) -> None:
    office_id: int | None = None
    network_id: int | None = None
    if feed.scope == "network":
        network_id = feed.scope_id
    elif feed.scope == "office":
        office_id = feed.scope_id
    else:
        target = db.session.get(User, feed.scope_id)
        office_id = target.office_id if target is not None else None
    record(action, feed, f"{feed.scope} {feed.scope_id}", actor=actor, office_id=office_id,
           network_id=network_id)


def create_feed(user: User, scope: str | None, scope_id: int | None) -> tuple[CalendarFeed, bool]:
    """A subscription for ``user``; returns (feed, created). Asking again for a scope the user
    already follows returns the live feed they have (a retried form makes no second one)."""
    if not user.is_staff or not user.active:
        raise ActivityError(_("No tiene permiso para hacer esto."), status=403)
    if scope not in SCOPES:
        raise ActivityError(_("Elija qué calendario quiere: el de una red, el de una oficina o el de "
                              "una persona facilitadora."), field="scope")
    field = SCOPE_FIELDS[scope]
    if scope_id is None:
        raise ActivityError(_missing_target_message(scope), field=field)
    target = scope_target(scope, scope_id)
    if target is None:
        raise ActivityError(_("No encontramos ese calendario. Elija una opción de la lista."), field=field,
                            status=404)
    if not may_subscribe(user, scope, target):
        raise ActivityError(_("No tiene permiso para suscribirse a ese calendario."), field=field, status=403)
    existing = db.session.scalar(
        select(CalendarFeed).where(CalendarFeed.user_id == user.id, CalendarFeed.scope == scope,
                                   CalendarFeed.scope_id == target.id, CalendarFeed.revoked_at.is_(None))
        .order_by(CalendarFeed.id).limit(1))
    if existing is not None:
        return existing, False
    feed = CalendarFeed(user_id=user.id, scope=scope, scope_id=target.id, nonce=secrets.token_hex(16))
    db.session.add(feed)
    db.session.flush()
    _audit("calendar_feed.create", feed, user)
    db.session.commit()
    return feed, True


def _own_live_feed(feed: CalendarFeed | None, actor: User) -> CalendarFeed:
    if feed is None or feed.user_id != actor.id:
        raise ActivityError(_("Esa suscripción no existe."), status=404)
    return feed


def renew_feed(feed: CalendarFeed | None, actor: User) -> CalendarFeed:
    """A new secret address; the old one stops working at once."""
    feed = _own_live_feed(feed, actor)
    if feed.revoked_at is not None:
        raise ActivityError(_("Esa suscripción fue revocada. Cree una nueva."), status=409)
    feed.nonce = secrets.token_hex(16)
    _audit("calendar_feed.renew", feed, actor)
    db.session.commit()
    return feed


def revoke_feed(feed: CalendarFeed | None, actor: User) -> CalendarFeed:
    feed = _own_live_feed(feed, actor)
    if feed.revoked_at is None:
        feed.revoked_at = utcnow()
        _audit("calendar_feed.revoke", feed, actor)
        db.session.commit()
    return feed


def user_feeds(user: User) -> list[CalendarFeed]:
    return list(db.session.scalars(
        select(CalendarFeed).where(CalendarFeed.user_id == user.id, CalendarFeed.revoked_at.is_(None))
        .order_by(CalendarFeed.created_at, CalendarFeed.id)))


# --- what a feed shows ---------------------------------------------------------------------------


def _scope_clause(feed: CalendarFeed) -> Any:
    if feed.scope == "network":
        return Activity.id.in_(select(activity_networks.c.activity_id)
                               .where(activity_networks.c.network_id == feed.scope_id))
    if feed.scope == "office":
        return or_(Activity.host_office_id == feed.scope_id,
                   Activity.id.in_(select(activity_convening_offices.c.activity_id)
                                   .where(activity_convening_offices.c.office_id == feed.scope_id)))
    if feed.scope == "facilitator" and _FACILITATED:
        return or_(*[Activity.id.in_(query(feed.scope_id)) for _name, query in sorted(_FACILITATED.items())])
    return false()


def feed_sessions(feed: CalendarFeed, *, now: datetime | None = None) -> list[ActivitySession]:
    """Sessions in the feed's scope from 30 days ago to a year ahead, of the activities its
    owner may see (every status: drafts are marked, cancellations shown as cancelled)."""
    owner = feed_owner(feed)
    if owner is None:
        return []
    now = now or utcnow()
    q = (select(ActivitySession)
         .join(Activity, Activity.id == ActivitySession.activity_id)
         .where(_scope_clause(feed), ActivitySession.ends_at >= now - WINDOW_PAST,
                ActivitySession.starts_at <= now + WINDOW_AHEAD)
         .options(
             joinedload(ActivitySession.activity).options(
                 joinedload(Activity.host_office).options(joinedload(Office.comuna),
                                                          selectinload(Office.networks)),
                 selectinload(Activity.networks).selectinload(Network.regions),
                 selectinload(Activity.convening_offices)),
             joinedload(ActivitySession.comuna))
         .order_by(ActivitySession.starts_at, ActivitySession.id))
    sessions = list(db.session.scalars(q).unique())
    allowed: dict[int, bool] = {}
    for s in sessions:
        if s.activity_id not in allowed:
            allowed[s.activity_id] = can(owner, "activity.view", s.activity)
    return [s for s in sessions if allowed[s.activity_id]]


def feed_version(feed: CalendarFeed, *, salt: str = "", now: datetime | None = None) -> Any:
    """The feed's version from one aggregate query and the owner's permission facts, so a
    conditional repeat is answered (304) without loading or building anything.

    It changes when a session in the window is added, removed, moved, changed or cancelled
    (count, ids, sequences, update times), when an activity changes (its update time: editing a
    workshop's details, lists or status moves it), when the owner's role, office or networks
    change, and each day (the window slides). Renaming the host office does not change it.
    """
    from sqlalchemy import func

    from app.accounts.policy import member_network_ids
    from app.calendar import FORMAT_VERSION, CalendarVersion, _locale

    owner = feed_owner(feed)
    now = now or utcnow()
    row = db.session.execute(
        select(func.count(ActivitySession.id), func.coalesce(func.sum(ActivitySession.id), 0),
               func.coalesce(func.sum(ActivitySession.sequence), 0), func.max(ActivitySession.updated_at),
               func.max(Activity.updated_at), func.count(func.distinct(Activity.id)))
        .join(Activity, Activity.id == ActivitySession.activity_id)
        .where(_scope_clause(feed), ActivitySession.ends_at >= now - WINDOW_PAST,
               ActivitySession.starts_at <= now + WINDOW_AHEAD)).one()
    facts = ("none" if owner is None else
             f"{owner.id}:{owner.active}:{owner.role}:{owner.office_id}:{owner.sence_unit_id}:"
             f"{sorted(coordinated_network_ids(owner))}:{sorted(member_network_ids(owner))}")
    h = hashlib.sha256(
        f"feed-v{FORMAT_VERSION}|{salt}|{feed.id}:{feed.nonce}|{_locale()}|{base_url()}|"
        f"{now.date().isoformat()}|{facts}|{tuple(row)}".encode())
    times = [t for t in (row[3], row[4]) if t is not None]
    last = max(t if t.tzinfo else t.replace(tzinfo=utcnow().tzinfo) for t in times) if times else None
    return CalendarVersion(etag="f" + h.hexdigest()[:39], last_modified=last)
