"""What the public cards say about seats, for a whole page of sessions in a constant number of queries.

For each session: its ``Seats`` (app.registration.availability: one grouped query for the waiting
lists) and, when it has no seat to offer, the next session of the same topic that does (one
query with a window function for every topic on the page, one to load those sessions).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app.activities.models import Activity, ActivityKind, ActivitySession, ActivityStatus, SessionStatus
from app.extensions import db
from app.registration.availability import Seats, seats_for
from app.timeutil import utcnow
from workshops.models import Workshop


@dataclass(frozen=True)
class SeatInfo:
    seats: Seats
    alternative: ActivitySession | None  # the next session of the topic with seats, when this has none


def next_with_seats(topic_ids: Iterable[int], *, now: datetime) -> dict[int, ActivitySession]:
    """{topic id: its earliest upcoming session still open with seats left}, in two queries."""
    topics = sorted(set(topic_ids))
    if not topics:
        return {}
    closes = timedelta(minutes=int(current_app.config.get("REGISTRATION_CLOSES_MINUTES", 60)))
    rank = func.row_number().over(partition_by=Workshop.topic_id,
                                  order_by=(ActivitySession.starts_at, ActivitySession.id)).label("rank")
    ranked = (
        select(ActivitySession.id.label("session_id"), Workshop.topic_id.label("topic_id"), rank)
        .join(Activity, Activity.id == ActivitySession.activity_id)
        .join(Workshop, Workshop.activity_id == Activity.id)
        .where(Activity.kind == ActivityKind.WORKSHOP, Activity.status == ActivityStatus.PUBLISHED,
               ActivitySession.status == SessionStatus.SCHEDULED,
               ActivitySession.starts_at > now + closes,
               ActivitySession.confirmed_count < ActivitySession.capacity,
               Workshop.topic_id.in_(topics))
        .subquery())
    firsts = dict(db.session.execute(select(ranked.c.session_id, ranked.c.topic_id).where(ranked.c.rank == 1)).all())
    if not firsts:
        return {}
    sessions = db.session.scalars(
        select(ActivitySession).where(ActivitySession.id.in_(firsts))
        .options(joinedload(ActivitySession.activity), joinedload(ActivitySession.comuna))).unique()
    return {firsts[s.id]: s for s in sessions}


def seat_info(pairs: Iterable[tuple[ActivitySession, Workshop]], *, now: datetime | None = None) -> dict[int, SeatInfo]:
    """{session id: SeatInfo} for the (session, workshop) pairs a page shows."""
    pairs = list(pairs)
    now = now or utcnow()
    seats = seats_for((s for s, _w in pairs), now=now)
    wanting = {w.topic_id for s, w in pairs if not seats[s.id].open}
    alternatives = next_with_seats(wanting, now=now)
    out: dict[int, SeatInfo] = {}
    for s, w in pairs:
        alt = None if seats[s.id].open else alternatives.get(w.topic_id)
        out[s.id] = SeatInfo(seats[s.id], alt if alt is not None and alt.id != s.id else None)
    return out
