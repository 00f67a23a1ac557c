"""Background jobs of dissemination: campaign steps queued when due, then delivered."""

from __future__ import annotations

import logging

from huey import crontab

from app.tasks import huey, task_context

log = logging.getLogger("puente.dissemination")


@huey.task()
def queue_due_steps() -> int:
    """Queue every campaign step that is due (or was left half-queued), then deliver.

    Safe to run twice, concurrently or after a restart: a step is claimed by one conditional
    UPDATE, its messages carry one dedupe key per person and step, and its cursor says where
    a stopped run left off."""
    from app.dissemination.services import due_steps, finish_done_campaigns, queue_step
    from app.extensions import db
    from app.outbox.tasks import kick_delivery

    total = 0
    with task_context():
        for step_id in due_steps():
            try:
                total += queue_step(step_id)
            except Exception:
                db.session.rollback()
                log.exception("campaign step %s could not be queued; the next run resumes it", step_id)
        finish_done_campaigns()
    kick_delivery()
    return total


@huey.periodic_task(crontab(minute="*"))
def queue_due_steps_periodically() -> int:
    return int(queue_due_steps.call_local())


def kick_campaigns() -> None:
    """Ask the worker to queue due steps now (after a campaign starts or resumes); if the
    queue is unreachable, the periodic task does it within a minute."""
    try:
        queue_due_steps()
    except Exception as exc:
        log.warning("could not enqueue campaign steps (%s); the periodic task will", type(exc).__name__)
