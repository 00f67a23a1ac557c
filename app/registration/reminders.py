"""Reminders 24 hours and 1 hour before a session, worked out from the database.

Every minute the worker asks ``send_due_reminders(now)`` which reminders are due *now*:

- the 24-hour reminder while 1 h < starts_at - now <= 24 h;
- the 1-hour reminder while 0 < starts_at - now <= 1 h;

for confirmed registrations of scheduled sessions of published activities, of people who
have not asked to be deleted. A reminder is skipped when the person was confirmed after its
time (their confirmation or promotion message already told them), and it is never sent late:
once the 1-hour window opens, the 24-hour reminder is no longer due.

Nothing is remembered in memory or in the queue. Each reminder has an outbox dedupe key made
of the registration id, the kind and the session's start time, so a restarted (or a second)
worker finds it already queued and does not send it twice, a moved session gets a reminder for
its new time and none for the old one (which the change voids if still pending), and a
cancelled session or registration simply no longer matches.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from app.activities.models import Activity, ActivitySession, ActivityStatus, SessionStatus
from app.extensions import db
from app.outbox.models import OutboxMessage
from app.people.models import Person
from app.registration.models import Registration, RegistrationStatus
from app.registration.services import queue_reminder, reminder_key
from app.timeutil import utcnow

log = logging.getLogger("puente.registration")


@dataclass(frozen=True)
class Reminder:
    kind: str
    lead: timedelta  # sent once the session is this close
    until: timedelta  # and no longer once it is this close (the next reminder takes over)


REMINDERS = (
    Reminder("reminder_24h", lead=timedelta(hours=24), until=timedelta(hours=1)),
    Reminder("reminder_1h", lead=timedelta(hours=1), until=timedelta(0)),
)

_KEY_BATCH = 500


@dataclass(frozen=True)
class Due:
    registration_id: int
    kind: str
    key: str


def due_reminders(now: datetime) -> list[Due]:
    """Reminders due at ``now`` that are not in the outbox yet."""
    candidates: list[Due] = []
    for reminder in REMINDERS:
        rows = db.session.execute(
            select(Registration.id, Registration.confirmed_at, ActivitySession.starts_at)
            .join(ActivitySession, Registration.session_id == ActivitySession.id)
            .join(Activity, ActivitySession.activity_id == Activity.id)
            .join(Person, Registration.person_id == Person.id)
            .where(Registration.status == RegistrationStatus.CONFIRMED,
                   ActivitySession.status == SessionStatus.SCHEDULED,
                   Activity.status == ActivityStatus.PUBLISHED,
                   Person.anonymised_at.is_(None),
                   ActivitySession.starts_at > now + reminder.until,
                   ActivitySession.starts_at <= now + reminder.lead)
            .order_by(ActivitySession.starts_at, Registration.id)).all()
        for reg_id, confirmed_at, starts_at in rows:
            if confirmed_at is not None and confirmed_at > starts_at - reminder.lead:
                continue  # confirmed after the reminder's time: their confirmation told them
            candidates.append(Due(reg_id, reminder.kind, reminder_key(reg_id, reminder.kind, starts_at)))
    queued: set[str] = set()
    for i in range(0, len(candidates), _KEY_BATCH):
        keys = [c.key for c in candidates[i:i + _KEY_BATCH]]
        queued.update(db.session.scalars(select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(keys))))
    return [c for c in candidates if c.key not in queued]


def send_due_reminders(now: datetime | None = None) -> int:
    """Queue every reminder due at ``now`` (one transaction each); returns how many were queued.

    The caller kicks delivery afterwards. A reminder that fails to render is logged and left
    for the next run; the others still go.
    """
    now = now or utcnow()
    sent = 0
    for due in due_reminders(now):
        try:
            reg = db.session.get(Registration, due.registration_id)
            if reg is None or reg.status != RegistrationStatus.CONFIRMED:
                db.session.rollback()
                continue
            msg = queue_reminder(reg, due.kind, due.key)
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("reminder %s for registration %s could not be queued", due.kind, due.registration_id)
            continue
        if msg is not None:
            sent += 1
    return sent
