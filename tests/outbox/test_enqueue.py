"""Writing to the outbox: in the caller's transaction, once per dedupe key."""

from __future__ import annotations

import threading
import time

from app.extensions import db
from app.outbox.models import OutboxMessage, OutboxStatus
from app.outbox.services import enqueue_email
from tests.conftest import count
from tests.outbox.conftest import make_message


def test_enqueue_twice_with_same_key_keeps_one_message(app):
    first = make_message(dedupe_key="invitation:7:1")
    second = make_message(dedupe_key="invitation:7:1", subject="Otro asunto")
    assert second.id == first.id
    assert second.subject == first.subject
    assert count(OutboxMessage) == 1


def test_enqueue_twice_in_one_transaction_keeps_one_message(app):
    a = make_message(dedupe_key="invitation:8:1", commit=False)
    b = make_message(dedupe_key="invitation:8:1", commit=False)
    db.session.commit()
    assert a.id == b.id
    assert count(OutboxMessage) == 1


def test_new_message_is_pending_and_due_now(app):
    msg = make_message()
    assert msg.status == OutboxStatus.PENDING
    assert msg.attempts == 0
    assert msg.created_at.tzinfo is not None
    assert msg.next_attempt_at.tzinfo is not None


def test_rollback_of_causing_transaction_leaves_no_message(app, factory):
    from app.audit.services import record

    make_message(dedupe_key="registration:1", commit=False)
    record("registration.create", None, "causa")
    db.session.rollback()
    assert count(OutboxMessage) == 0


def test_subject_line_breaks_are_flattened(app):
    msg = make_message(subject="Invitación\r\na Puente Laboral\n")
    assert msg.subject == "Invitación a Puente Laboral"


def test_concurrent_enqueue_of_same_key_does_not_fail_the_second_transaction(app):
    """A second transaction queuing the same key waits, then gets the first one's message."""
    first = make_message(dedupe_key="invitation:9:1", commit=False)
    db.session.flush()  # the row (and its unique key) is written, not yet committed
    results: list[int] = []
    errors: list[BaseException] = []

    def other_transaction() -> None:
        try:
            with app.app_context():
                msg = enqueue_email(dedupe_key="invitation:9:1", to="otra@example.cl",
                                    subject="s", body_text="b", kind="invitation")
                db.session.commit()
                results.append(msg.id)
        except BaseException as exc:
            errors.append(exc)

    t = threading.Thread(target=other_transaction)
    t.start()
    time.sleep(0.3)  # the other transaction is now waiting on our uncommitted key
    db.session.commit()
    t.join(timeout=20)
    assert not t.is_alive()
    assert errors == []
    assert results == [first.id]
    assert count(OutboxMessage) == 1
