"""Failures: retried with back-off when certain nothing went out, never when it may have."""

from __future__ import annotations

from datetime import timedelta

from app.extensions import db
from app.outbox.delivery import SmtpTransport, backoff, deliver_due, deliver_one
from app.outbox.models import OutboxStatus
from app.timeutil import utcnow
from tests.outbox.conftest import free_port, make_message, reload


def make_due(msg):
    """Pretend the back-off has elapsed."""
    msg = reload(msg)
    msg.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    return msg


def test_backoff_doubles_from_one_minute_up_to_six_hours():
    assert [backoff(n) for n in (1, 2, 3, 4)] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert backoff(30) == timedelta(hours=6)


def test_451_after_body_leaves_message_pending_with_backoff(app, smtp):
    smtp.handler.data_replies.append("451 4.3.0 Sistema ocupado, intente más tarde")
    msg = make_message()
    before = utcnow()
    assert deliver_one(msg.id) == OutboxStatus.PENDING
    msg = reload(msg)
    assert msg.attempts == 1
    assert msg.next_attempt_at >= before + timedelta(minutes=1)
    assert "451" in msg.last_error
    assert msg.sent_at is None
    assert smtp.received == []


def test_message_in_backoff_is_not_sent_before_its_time(app, smtp):
    smtp.handler.data_replies.append("451 4.3.0 Sistema ocupado")
    msg = make_message()
    deliver_one(msg.id)
    assert deliver_due() == 0
    assert reload(msg).status == OutboxStatus.PENDING
    assert len(smtp.seen) == 1


def test_451_then_accepted_is_sent_on_a_later_run(app, smtp):
    smtp.handler.data_replies.append("451 4.3.0 Sistema ocupado")
    msg = make_message()
    deliver_due()
    make_due(msg)
    assert deliver_due() == 1
    msg = reload(msg)
    assert msg.status == OutboxStatus.SENT
    assert msg.attempts == 2
    assert msg.last_error is None
    assert len(smtp.received) == 1


def test_greylisting_at_rcpt_is_retried_not_failed(app, smtp):
    smtp.handler.rcpt_replies.append("450 4.2.0 Greylisted, vuelva en 5 minutos")
    msg = make_message()
    assert deliver_one(msg.id) == OutboxStatus.PENDING
    assert "450" in reload(msg).last_error
    make_due(msg)
    assert deliver_one(msg.id) == OutboxStatus.SENT


def test_550_after_body_fails_with_the_reason_and_is_never_retried(app, smtp):
    smtp.handler.data_replies.append("550 5.7.1 Contenido rechazado por política")
    msg = make_message()
    assert deliver_one(msg.id) == OutboxStatus.FAILED
    msg = make_due(msg)
    assert "550" in msg.last_error
    assert "Contenido rechazado por política" in msg.last_error
    assert deliver_due() == 0
    assert deliver_one(msg.id) is None
    assert reload(msg).status == OutboxStatus.FAILED
    assert len(smtp.seen) == 1
    assert smtp.received == []


def test_550_unknown_recipient_fails_permanently(app, smtp):
    smtp.handler.rcpt_replies.append("550 5.1.1 Buzón inexistente")
    msg = make_message()
    assert deliver_one(msg.id) == OutboxStatus.FAILED
    msg = reload(msg)
    assert "destinatario rechazado" in msg.last_error
    assert "550" in msg.last_error
    assert smtp.handler.transactions == 0


def test_transient_failure_on_last_attempt_fails_the_message(app, smtp):
    limit = app.config["OUTBOX_MAX_ATTEMPTS"]
    msg = make_message()
    msg.attempts = limit - 1
    db.session.commit()
    smtp.handler.data_replies.append("451 4.3.0 Sistema ocupado")
    assert deliver_one(msg.id) == OutboxStatus.FAILED
    msg = make_due(msg)
    assert msg.attempts == limit
    assert "451" in msg.last_error
    assert deliver_due() == 0


def test_each_transient_failure_counts_until_attempts_run_out(app, smtp):
    limit = app.config["OUTBOX_MAX_ATTEMPTS"]
    msg = make_message()
    smtp.handler.data_replies.extend(["451 4.3.0 ocupado"] * limit)
    for _ in range(limit - 1):
        assert deliver_one(msg.id) == OutboxStatus.PENDING
        make_due(msg)
    assert deliver_one(msg.id) == OutboxStatus.FAILED
    assert len(smtp.seen) == limit
    assert smtp.received == []


def test_connection_refused_leaves_message_pending_with_backoff(app):
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{free_port()}"  # nothing listens there
    try:
        msg = make_message()
        before = utcnow()
        assert deliver_one(msg.id) == OutboxStatus.PENDING
    finally:
        app.config["SMTP_URL"] = None
    msg = reload(msg)
    assert msg.attempts == 1
    assert msg.next_attempt_at >= before + timedelta(minutes=1)
    assert "no se pudo conectar" in msg.last_error


def test_timeout_after_handing_over_the_body_is_unknown_and_not_retried(app, smtp):
    """The server got the whole message but its answer never came: it may have gone out."""
    smtp.handler.data_delay = 2.0
    msg = make_message()
    transport = SmtpTransport(smtp.url, app.config["MAIL_FROM"], timeout=0.5)
    assert deliver_one(msg.id, transport) == OutboxStatus.UNKNOWN
    msg = make_due(msg)
    assert "se cortó" in msg.last_error
    assert deliver_due() == 0
    assert len(smtp.seen) == 1


def test_unexpected_transport_error_is_unknown_not_stuck_in_sending(app):
    class Broken:
        name = "roto"

        def send(self, msg):
            raise RuntimeError("bug")

    msg = make_message()
    assert deliver_one(msg.id, Broken()) == OutboxStatus.UNKNOWN
    msg = reload(msg)
    assert msg.status == OutboxStatus.UNKNOWN
    assert msg.transport == "roto"
    assert "RuntimeError" in msg.last_error


def test_bad_smtp_url_raises_before_claiming(app):
    import pytest

    msg = make_message()
    app.config["SMTP_URL"] = "http://no-es-smtp"
    try:
        with pytest.raises(ValueError, match="SMTP_URL"):
            deliver_one(msg.id)
    finally:
        app.config["SMTP_URL"] = None
    msg = reload(msg)
    assert msg.status == OutboxStatus.PENDING
    assert msg.attempts == 0
