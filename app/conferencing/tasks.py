"""Background jobs of conferencing: make, move and delete rooms on the providers."""

from __future__ import annotations

from huey import crontab

from app.tasks import huey, task_context


@huey.task()
def sync_room_task(room_id: int) -> str | None:
    """Bring one room's provider in step with its session (claimed: never twice at once)."""
    from app.conferencing.rooms import sync_room

    with task_context():
        status = sync_room(room_id)
    return status.value if status is not None else None


@huey.periodic_task(crontab(minute="17", hour="4"))
def purge_old_zoom_payloads() -> int:
    """Every night: stored Zoom events past their retention lose their bodies."""
    from app.conferencing.webhooks import purge_old_payloads

    with task_context():
        return purge_old_payloads()


@huey.periodic_task(crontab(minute="*"))
def sync_due_rooms() -> int:
    """Every minute: retries with back-off, rooms whose worker died, and any lost kick."""
    from app.conferencing.rooms import sync_due

    with task_context():
        return sync_due()
