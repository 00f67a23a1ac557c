"""At most once: concurrent workers, crashed workers and requeues never send a message twice."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from app.extensions import db
from app.outbox import delivery
from app.outbox.delivery import STALE_AFTER, deliver_due, deliver_one, recover_stale, requeue
from app.outbox.models import OutboxMessage, OutboxStatus
from app.timeutil import utcnow
from tests.outbox.conftest import make_message, reload


def run_together(app: Any, n: int, work: Callable[[], Any]) -> list[Any]:
    """Run ``work`` in ``n`` threads, each in its own app context (own session, own
    connection), released at the same moment. Returns their results; re-raises errors."""
    barrier = threading.Barrier(n)
    results: list[Any] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                results.append(work())
                db.session.remove()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=target) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads)
    if errors:
        raise errors[0]
    return results


def test_two_workers_delivering_the_same_message_send_it_once(app, smtp):
    smtp.handler.data_delay = 0.2  # keep the first sender busy while the second tries
    msg_id = make_message().id  # a plain int: the threads must not touch this session
    results = run_together(app, 2, lambda: deliver_one(msg_id))
    assert sorted(results, key=str) == [None, OutboxStatus.SENT]  # one sent, one found it taken
    assert smtp.handler.transactions == 1
    assert len(smtp.received) == 1
    assert db.session.get(OutboxMessage, msg_id).attempts == 1


def test_many_workers_draining_the_outbox_send_each_message_once(app, smtp):
    msgs = [make_message() for _ in range(5)]
    run_together(app, 4, deliver_due)
    assert smtp.handler.transactions == 5
    assert sorted(r.rcpt_tos[0] for r in smtp.received) == sorted(m.recipient for m in msgs)
    assert {reload(m).status for m in msgs} == {OutboxStatus.SENT}


def test_control_without_the_conditional_claim_the_race_sends_twice(app, smtp, monkeypatch):
    """Shows the concurrency test above can see a double send: a claim that reads the
    status and then writes it lets both workers through."""
    gate = threading.Barrier(2)

    def naive_claim(message_id: int) -> OutboxMessage | None:
        msg = db.session.get(OutboxMessage, message_id)
        if msg is None or msg.status != OutboxStatus.PENDING:
            return None
        gate.wait(timeout=10)  # both workers have seen "pending"
        msg.status = OutboxStatus.SENDING
        msg.claimed_at = utcnow()
        msg.attempts += 1
        db.session.commit()
        return msg

    monkeypatch.setattr(delivery, "claim", naive_claim)
    msg_id = make_message().id
    run_together(app, 2, lambda: deliver_one(msg_id))
    assert smtp.handler.transactions == 2


def leave_in_sending(msg: Any, claimed_ago: timedelta) -> Any:
    """What a worker that died between handing over and recording leaves behind."""
    msg = reload(msg)
    msg.status = OutboxStatus.SENDING
    msg.attempts = 1
    msg.claimed_at = utcnow() - claimed_ago
    db.session.commit()
    return msg


def test_message_left_sending_by_a_dead_worker_becomes_unknown(app, smtp):
    msg = leave_in_sending(make_message(), STALE_AFTER + timedelta(minutes=1))
    assert recover_stale() == 1
    msg = reload(msg)
    assert msg.status == OutboxStatus.UNKNOWN
    assert "puede haber salido" in msg.last_error


def test_unknown_message_is_not_sent_again_automatically(app, smtp):
    msg = leave_in_sending(make_message(), STALE_AFTER + timedelta(minutes=1))
    assert deliver_due() == 0
    assert deliver_one(msg.id) is None
    assert reload(msg).status == OutboxStatus.UNKNOWN
    assert smtp.handler.transactions == 0


def test_message_still_being_sent_is_left_alone(app, smtp):
    msg = leave_in_sending(make_message(), timedelta(seconds=30))
    assert recover_stale() == 0
    assert deliver_due() == 0
    assert reload(msg).status == OutboxStatus.SENDING
    assert smtp.handler.transactions == 0


def test_requeued_unknown_message_is_delivered_once(app, smtp):
    msg = leave_in_sending(make_message(), STALE_AFTER + timedelta(minutes=1))
    deliver_due()
    msg = reload(msg)
    requeue(msg)
    db.session.commit()
    assert msg.status == OutboxStatus.PENDING
    assert msg.attempts == 0
    assert deliver_due() == 1
    assert deliver_due() == 0
    assert reload(msg).status == OutboxStatus.SENT
    assert smtp.handler.transactions == 1


def test_requeue_refuses_a_message_that_is_not_failed_or_unknown(app):
    import pytest

    msg = make_message()
    deliver_one(msg.id)
    msg = reload(msg)
    with pytest.raises(ValueError):
        requeue(msg)
    db.session.rollback()
    assert reload(msg).status == OutboxStatus.SENT


def test_stale_requeue_cannot_turn_a_sent_message_back_to_pending(app):
    """Two staff open the same failed message; one requeues and it is sent; the other's
    requeue, working from the old copy, must not make it pending again."""
    import pytest

    msg = make_message()
    msg.status = OutboxStatus.FAILED
    db.session.commit()
    stale_copy = reload(msg)
    msg_id = msg.id

    def other_staff_requeues_and_worker_sends() -> None:
        requeue(db.session.get(OutboxMessage, msg_id))
        db.session.commit()
        deliver_one(msg_id)

    run_together(app, 1, other_staff_requeues_and_worker_sends)
    assert stale_copy.status == OutboxStatus.FAILED  # this session has not looked again
    with pytest.raises(ValueError):
        requeue(stale_copy)
    db.session.rollback()
    assert reload(msg).status == OutboxStatus.SENT
