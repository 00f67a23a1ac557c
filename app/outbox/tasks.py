"""Background delivery of the outbox."""

from __future__ import annotations

import logging

from huey import crontab

from app.tasks import huey, task_context

log = logging.getLogger("puente.outbox")


@huey.task()
def deliver_outbox() -> int:
    """Deliver everything due, batch after batch, until a batch comes back short."""
    from app.outbox.delivery import BATCH, deliver_due

    with task_context():
        total = 0
        while True:
            n = deliver_due(BATCH)
            total += n
            if n < BATCH:
                return total


@huey.periodic_task(crontab(minute="*"))
def deliver_outbox_periodically() -> int:
    """Retries with back-off, stale claims, and anything a lost kick left behind."""
    return int(deliver_outbox.call_local())


def kick_delivery() -> None:
    """Ask the worker to deliver now; call after the transaction that queued messages commits.

    If the queue is unreachable nothing is lost: the periodic task delivers within a minute.
    """
    try:
        deliver_outbox()
    except Exception as exc:  # the message is safe in the outbox table
        log.warning("could not enqueue outbox delivery (%s); the periodic task will pick it up",
                    type(exc).__name__)
