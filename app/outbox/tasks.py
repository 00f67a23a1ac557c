"""Background delivery of the outbox."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

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


#: Kicks within this many seconds of a scheduled delivery run share it (see ``kick_delivery``).
KICK_COALESCE_SECONDS = 0.5
_kick_lock = threading.Lock()
_next_run = 0.0


def kick_delivery() -> None:
    """Ask the worker to deliver soon; call after the transaction that queued messages commits.

    Kicks are coalesced per process: the first schedules one delivery run
    ``KICK_COALESCE_SECONDS`` later, and kicks until then rely on it (the run starts after
    their commit, so it sees their messages). At the morning peak that is one queue write per
    half second instead of one per registration. If the queue is unreachable nothing is lost:
    the periodic task delivers within a minute.
    """
    global _next_run
    if huey.immediate:  # tests: deliver inline, now
        _enqueue(lambda: deliver_outbox())
        return
    now = time.monotonic()
    with _kick_lock:
        if now < _next_run:
            return
        _next_run = now + KICK_COALESCE_SECONDS
    if not _enqueue(lambda: deliver_outbox.schedule(delay=KICK_COALESCE_SECONDS)):
        with _kick_lock:
            _next_run = 0.0


def _enqueue(call: Callable[[], object]) -> bool:
    try:
        call()
    except Exception as exc:  # the message is safe in the outbox table
        log.warning("could not enqueue outbox delivery (%s); the periodic task will pick it up",
                    type(exc).__name__)
        return False
    return True
