"""The Huey tasks: in immediate mode (as the suite runs them) and in a real consumer."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from app.config import PROJECT_ROOT
from app.extensions import db
from app.outbox import delivery, tasks
from app.outbox.models import OutboxStatus
from app.timeutil import utcnow
from tests.conftest import IN_CI
from tests.outbox.conftest import make_message, reload


def test_deliver_outbox_delivers_every_due_message(app):
    due = [make_message() for _ in range(3)]
    assert tasks.deliver_outbox().get() == 3
    assert {reload(m).status for m in due} == {OutboxStatus.SENT}


def test_deliver_outbox_leaves_messages_that_are_not_due(app):
    later = make_message()
    later.next_attempt_at = utcnow() + timedelta(hours=1)
    failed = make_message()
    failed.status = OutboxStatus.FAILED
    db.session.commit()
    assert tasks.deliver_outbox().get() == 0
    assert reload(later).status == OutboxStatus.PENDING
    assert reload(failed).status == OutboxStatus.FAILED


def test_deliver_outbox_goes_on_batch_after_batch(app, monkeypatch):
    monkeypatch.setattr(delivery, "BATCH", 2)
    msgs = [make_message() for _ in range(5)]
    assert tasks.deliver_outbox().get() == 5
    assert {reload(m).status for m in msgs} == {OutboxStatus.SENT}


def test_kick_delivery_sends_what_was_just_queued(app):
    msg = make_message()
    tasks.kick_delivery()
    assert reload(msg).status == OutboxStatus.SENT


def test_kick_delivery_never_fails_the_caller_when_the_queue_is_down(app, monkeypatch):
    def queue_down() -> None:
        raise ConnectionError("redis no responde")

    monkeypatch.setattr(tasks, "deliver_outbox", queue_down)
    msg = make_message()
    tasks.kick_delivery()  # no exception: the periodic task will deliver it
    assert reload(msg).status == OutboxStatus.PENDING


def test_periodic_task_recovers_stale_claims_and_delivers(app):
    stuck = make_message()
    stuck.status = OutboxStatus.SENDING
    stuck.claimed_at = utcnow() - delivery.STALE_AFTER - timedelta(minutes=1)
    due = make_message()
    db.session.commit()
    assert tasks.deliver_outbox_periodically.call_local() == 1
    assert reload(stuck).status == OutboxStatus.UNKNOWN
    assert reload(due).status == OutboxStatus.SENT


# --- a real consumer process -----------------------------------------------------------------


def _consumer_bin() -> str:
    path = Path(sys.executable).with_name("huey_consumer")
    if not path.exists():
        msg = f"huey_consumer no está junto a {sys.executable}"
        if IN_CI:
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg)
    return str(path)


def test_real_consumer_process_delivers_a_kicked_message(app, smtp, database_url, tmp_path):
    """A ``huey_consumer`` process (SQLite queue in a temp file, its own app built from the
    environment, pointed at the test database and the test SMTP server) delivers what another
    process queues with ``kick_delivery``."""
    msg = make_message(subject="Entregado por el worker")
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "SMTP_URL", "PUENTE_ENV")}
    env.update({
        "DATABASE_URL": database_url,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "HUEY_SQLITE_PATH": str(tmp_path / "huey.db"),
        "SMTP_URL": smtp.url,
        "PYTHONPATH": str(PROJECT_ROOT),
    })
    log_path = tmp_path / "consumer.log"
    with log_path.open("wb") as log:
        consumer = subprocess.Popen(
            [_consumer_bin(), "app.tasks.huey", "-w", "1", "-k", "thread",
             "-d", "0.05", "-m", "0.25", "-b", "1.1"],
            cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            kick = subprocess.run(
                [sys.executable, "-c",
                 "from app.outbox.tasks import kick_delivery; kick_delivery()"],
                cwd=PROJECT_ROOT, env=env, capture_output=True, timeout=30)
            assert kick.returncode == 0, kick.stderr.decode()[-2000:]
            assert b"could not enqueue" not in kick.stderr
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and reload(msg).status != OutboxStatus.SENT:
                assert consumer.poll() is None, "el consumidor terminó antes de tiempo"
                time.sleep(0.1)
            db.session.rollback()
            assert reload(msg).status == OutboxStatus.SENT, log_path.read_text()[-3000:]
        finally:
            consumer.send_signal(signal.SIGINT)
            try:
                consumer.wait(timeout=10)
            except subprocess.TimeoutExpired:
                consumer.kill()
                consumer.wait(timeout=5)
    assert [r.message["Subject"] for r in smtp.received] == ["Entregado por el worker"]
    assert reload(msg).transport == "smtp"


def test_kicks_close_together_share_one_scheduled_delivery(app, monkeypatch):
    """At the peak one scheduled run serves every kick of the next half second."""
    scheduled: list[float] = []

    class FakeTask:
        def schedule(self, delay: float) -> None:
            scheduled.append(delay)

    clock = [1000.0]
    monkeypatch.setattr(tasks, "deliver_outbox", FakeTask())
    monkeypatch.setattr(tasks.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(tasks, "_next_run", 0.0)
    monkeypatch.setattr(tasks.huey, "immediate", False)
    for _ in range(50):
        tasks.kick_delivery()
    assert scheduled == [tasks.KICK_COALESCE_SECONDS]
    clock[0] += tasks.KICK_COALESCE_SECONDS  # the run has started: the next kick needs another
    tasks.kick_delivery()
    assert len(scheduled) == 2


def test_a_failed_schedule_does_not_swallow_the_next_kick(app, monkeypatch):
    calls: list[str] = []

    class DownThenUp:
        def schedule(self, delay: float) -> None:
            calls.append("try")
            if len(calls) == 1:
                raise ConnectionError("redis no responde")

    monkeypatch.setattr(tasks, "deliver_outbox", DownThenUp())
    monkeypatch.setattr(tasks, "_next_run", 0.0)
    monkeypatch.setattr(tasks.huey, "immediate", False)
    tasks.kick_delivery()
    tasks.kick_delivery()
    assert calls == ["try", "try"]
