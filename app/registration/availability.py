"""What a card or a button may truthfully say about a session's seats, for a page of them at once.

Seats taken live on the session row (``confirmed_count``, moved only by the conditional UPDATE
in ``services``), so "Quedan 3 cupos" needs no query; the place a newcomer would get on the
waiting list needs the number waiting, read for every session of the page in one grouped query.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from app.activities.models import ActivitySession, ActivityStatus, SessionStatus
from app.extensions import db
from app.registration.models import Registration, RegistrationStatus
from app.registration.services import closes_at
from app.timeutil import utcnow


class SeatState(enum.StrEnum):
    OPEN = "open"  # seats left
    WAITLIST = "waitlist"  # full: a newcomer goes on the waiting list
    CLOSED = "closed"  # registration closed (too close to the start, cancelled, not published)


@dataclass(frozen=True)
class Seats:
    state: SeatState
    left: int = 0  # seats left when OPEN
    waitlist_place: int = 0  # the place a newcomer would take when WAITLIST

    @property
    def open(self) -> bool:
        return self.state == SeatState.OPEN


def waitlist_counts(session_ids: Iterable[int]) -> dict[int, int]:
    """People waiting per session, in one query: {session id: count} (absent means none)."""
    ids = sorted(set(session_ids))
    if not ids:
        return {}
    rows = db.session.execute(
        select(Registration.session_id, func.count())
        .where(Registration.session_id.in_(ids), Registration.status == RegistrationStatus.WAITLISTED)
        .group_by(Registration.session_id))
    return {sid: int(n) for sid, n in rows}


def seats_of(session: ActivitySession, waiting: int, now: datetime) -> Seats:
    if (session.status != SessionStatus.SCHEDULED or session.activity.status != ActivityStatus.PUBLISHED
            or now >= closes_at(session)):
        return Seats(SeatState.CLOSED)
    left = max(0, session.capacity - session.confirmed_count)
    if left > 0:
        return Seats(SeatState.OPEN, left=left)
    return Seats(SeatState.WAITLIST, waitlist_place=waiting + 1)


def seats_for(sessions: Iterable[ActivitySession], *, now: datetime | None = None) -> dict[int, Seats]:
    """{session id: Seats} for a page of sessions (their activities loaded): one query in all."""
    sessions = list(sessions)
    now = now or utcnow()
    waiting = waitlist_counts(s.id for s in sessions if s.confirmed_count >= s.capacity)
    return {s.id: seats_of(s, waiting.get(s.id, 0), now) for s in sessions}
