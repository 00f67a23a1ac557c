"""What the coordinator calendars read: a network's workshop sessions, filtered and eager-loaded.

Each calendar view runs one query for its sessions (the activity, host office and topic joined
in; the networks, regions and convening offices that the permission policy reads loaded in one
batch each), plus, for the week and list views, one query for the facilitators' names. Nothing
here decides permissions: the views ask the policy about each activity.

A session belongs to a network's calendar when its workshop belongs to the network
(``activity_networks``), so an inter-network workshop shows on every participating network's
calendar. What was cancelled before it was ever published (a cancelled draft, or a cancelled
session of a workshop never published) is left out: it was never announced to anyone.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, and_, not_, or_, select
from sqlalchemy.orm import contains_eager, joinedload

from app.accounts.models import Role, User
from app.activities.models import (
    Activity,
    ActivitySession,
    ActivityStatus,
    SessionStatus,
    activity_convening_offices,
    activity_networks,
)
from app.extensions import db
from app.territory.data import DEFAULT_TIMEZONE, timezone_for_region
from app.territory.models import Network, Office
from workshops.models import Facilitator, Topic, Workshop


@dataclass(frozen=True)
class CalendarFilter:
    """Already-checked filter values (ids that exist and belong to the network)."""

    office_id: int | None = None
    facilitator_id: int | None = None
    topic_id: int | None = None


@dataclass
class CalendarEntry:
    session: ActivitySession
    topic: Topic
    facilitators: list[str] = field(default_factory=list)

    @property
    def activity(self) -> Activity:
        return self.session.activity


# --- the network's frame ---------------------------------------------------------------------


def network_timezone(network: Network) -> str:
    """The zone the network's calendar counts days in: its regions' zone when they agree
    (a Magallanes network → America/Punta_Arenas), else America/Santiago."""
    zones = Counter(timezone_for_region(r.code) for r in network.regions)
    if len(zones) == 1:
        return next(iter(zones))
    return DEFAULT_TIMEZONE


def network_offices(network: Network) -> list[Office]:
    return list(network.offices)


def network_facilitators(network: Network) -> list[User]:
    """Active staff of the network's offices: who may be chosen as facilitator filter."""
    in_network = select(Office.id).join(Office.networks).where(Network.id == network.id)
    return list(db.session.scalars(
        select(User).where(User.role == Role.OFFICE_STAFF, User.active.is_(True), User.office_id.in_(in_network))
        .order_by(User.name, User.id)))


def topics() -> list[Topic]:
    """Every topic, inactive ones too: old workshops keep theirs."""
    return list(db.session.scalars(select(Topic).order_by(Topic.position, Topic.name)))


# --- sessions --------------------------------------------------------------------------------


def _sessions(network: Network, filt: CalendarFilter) -> Select[tuple[ActivitySession, Topic]]:
    activity = contains_eager(ActivitySession.activity)
    q = (
        select(ActivitySession, Topic)
        .join(ActivitySession.activity)
        .join(Workshop, Workshop.activity_id == Activity.id)
        .join(Topic, Topic.id == Workshop.topic_id)
        .where(Activity.id.in_(select(activity_networks.c.activity_id)
                               .where(activity_networks.c.network_id == network.id)))
        .where(not_(and_(Activity.published_at.is_(None),
                         or_(Activity.status == ActivityStatus.CANCELLED,
                             ActivitySession.status == SessionStatus.CANCELLED))))
        .options(
            activity,
            activity.joinedload(Activity.host_office).joinedload(Office.comuna),
            activity.joinedload(Activity.host_office).selectinload(Office.networks),
            activity.selectinload(Activity.networks).selectinload(Network.regions),
            activity.selectinload(Activity.convening_offices),
        )
    )
    if filt.office_id is not None:
        convening = select(activity_convening_offices.c.activity_id).where(
            activity_convening_offices.c.office_id == filt.office_id)
        q = q.where(or_(Activity.host_office_id == filt.office_id, Activity.id.in_(convening)))
    if filt.facilitator_id is not None:
        q = q.where(Activity.id.in_(select(Facilitator.workshop_id).where(Facilitator.user_id == filt.facilitator_id)))
    if filt.topic_id is not None:
        q = q.where(Workshop.topic_id == filt.topic_id)
    return q.order_by(ActivitySession.starts_at, ActivitySession.id)


def _entries(rows: list[tuple[ActivitySession, Topic]], with_facilitators: bool) -> list[CalendarEntry]:
    entries = [CalendarEntry(session=s, topic=t) for s, t in rows]
    if with_facilitators and entries:
        names: dict[int, list[str]] = {}
        ids = {e.session.activity_id for e in entries}
        for f in db.session.scalars(select(Facilitator).options(joinedload(Facilitator.user))
                                    .where(Facilitator.workshop_id.in_(ids)).order_by(Facilitator.id)):
            names.setdefault(f.workshop_id, []).append(f.display_name)
        for e in entries:
            e.facilitators = names.get(e.session.activity_id, [])
    return entries


def sessions_between(network: Network, start: datetime, end: datetime, filt: CalendarFilter, *,
                     with_facilitators: bool = False) -> list[CalendarEntry]:
    """Sessions of the network's workshops that start in [start, end) (aware datetimes)."""
    q = _sessions(network, filt).where(ActivitySession.starts_at >= start, ActivitySession.starts_at < end)
    rows = [(s, t) for s, t in db.session.execute(q)]
    return _entries(rows, with_facilitators)


def sessions_from(network: Network, start: datetime, filt: CalendarFilter, *, limit: int, offset: int = 0,
                  with_facilitators: bool = True) -> tuple[list[CalendarEntry], bool]:
    """Up to ``limit`` sessions starting at or after ``start``, in date order, and whether more follow."""
    q = _sessions(network, filt).where(ActivitySession.starts_at >= start).limit(limit + 1).offset(offset)
    rows = [(s, t) for s, t in db.session.execute(q)]
    return _entries(rows[:limit], with_facilitators), len(rows) > limit
