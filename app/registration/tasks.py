"""Background jobs of registration: reminders before each session, survey invitations after."""

from __future__ import annotations

from huey import crontab

from app.tasks import huey, task_context


@huey.periodic_task(crontab(minute="*"))
def send_reminders() -> int:
    """Every minute: queue the reminders due now (from the database), then deliver them.

    Safe to run twice or after a restart: each reminder has its own outbox dedupe key.
    """
    from app.outbox.tasks import kick_delivery
    from app.registration.reminders import send_due_reminders
    from app.timeutil import utcnow

    with task_context():
        queued = send_due_reminders(utcnow())
    if queued:
        kick_delivery()
    return queued


@huey.periodic_task(crontab(minute="*/10"))
def send_survey_invitations() -> int:
    """Every 10 minutes: invite the attendees of sessions that ended between 1 hour and 7 days
    ago to the satisfaction survey, then deliver. Safe to run twice or after a restart: each
    invitation has its own outbox dedupe key."""
    from app.outbox.tasks import kick_delivery
    from app.registration.survey import send_due_invitations
    from app.timeutil import utcnow

    with task_context():
        queued = send_due_invitations(utcnow())
    if queued:
        kick_delivery()
    return queued


@huey.periodic_task(crontab(minute="17", hour="4"))
def purge_idempotency_keys() -> int:
    """Daily: forget Idempotency-Key answers older than a day."""
    from app.api.idempotency import purge_expired

    with task_context():
        return purge_expired()


@huey.periodic_task(crontab(minute="*"))
def release_expired_holds() -> int:
    """Every minute: registrations held for a known document and not confirmed in time give
    their seats back (to the waitlist first; those promoted are told). Safe to run twice."""
    from app.outbox.tasks import kick_delivery
    from app.registration.holds import release_expired

    with task_context():
        seats = release_expired()
    if seats:
        kick_delivery()
    return seats
