"""Delivery through the real SMTP transport to a real SMTP server on loopback."""

from __future__ import annotations

from app.outbox.delivery import deliver_one
from app.outbox.models import OutboxStatus
from tests.outbox.conftest import make_message, reload


def test_accepted_message_is_recorded_as_sent_by_smtp(app, smtp):
    msg = make_message()
    assert deliver_one(msg.id) == OutboxStatus.SENT
    msg = reload(msg)
    assert msg.status == OutboxStatus.SENT
    assert msg.transport == "smtp"
    assert msg.attempts == 1
    assert msg.sent_at is not None
    assert msg.last_error is None
    assert len(smtp.received) == 1


def test_envelope_and_headers_name_sender_and_recipient(app, smtp):
    msg = make_message(to="ana.perez@example.cl", to_name="Ana Pérez")
    deliver_one(msg.id)
    got = smtp.received[0]
    assert got.mail_from == "no-responder@puentelaboral.cl"
    assert got.rcpt_tos == ["ana.perez@example.cl"]
    email = got.message
    assert email["From"].addresses[0].addr_spec == "no-responder@puentelaboral.cl"
    assert email["From"].addresses[0].display_name == "Puente Laboral"
    assert email["To"].addresses[0].addr_spec == "ana.perez@example.cl"
    assert email["To"].addresses[0].display_name == "Ana Pérez"
    assert email["Date"] is not None


def test_subject_and_both_bodies_keep_their_accents(app, smtp):
    msg = make_message(subject="Inscripción confirmada en Ñuñoa",
                       body_text="¿Cómo llegar? Pasaje Ñandú 12, señalética azul.",
                       body_html="<p>¿Cómo llegar? <b>Pasaje Ñandú 12</b></p>")
    deliver_one(msg.id)
    email = smtp.received[0].message
    assert email["Subject"] == "Inscripción confirmada en Ñuñoa"
    assert email.is_multipart()
    assert email.get_content_type() == "multipart/alternative"
    text = email.get_body(("plain",))
    html = email.get_body(("html",))
    assert text is not None and html is not None
    assert text.get_content_charset() == "utf-8"
    assert text.get_content().strip() == "¿Cómo llegar? Pasaje Ñandú 12, señalética azul."
    assert html.get_content().strip() == "<p>¿Cómo llegar? <b>Pasaje Ñandú 12</b></p>"


def test_message_travels_as_seven_bit_for_any_relay(app, smtp):
    msg = make_message(body_text="Ñuñoa " * 50)
    deliver_one(msg.id)
    smtp.received[0].raw.decode("ascii")  # no 8-bit byte on the wire


def test_text_only_message_has_a_single_plain_part(app, smtp):
    msg = make_message(body_html=None, body_text="Sólo texto.")
    deliver_one(msg.id)
    email = smtp.received[0].message
    assert not email.is_multipart()
    assert email.get_content_type() == "text/plain"
    assert email.get_content().strip() == "Sólo texto."


def test_message_id_is_stable_and_recorded_as_provider_id(app, smtp):
    msg = make_message()
    deliver_one(msg.id)
    message_id = smtp.received[0].message["Message-ID"]
    assert message_id.startswith(f"<outbox-{msg.id}.")
    assert message_id.endswith("@puentelaboral.cl>")
    assert reload(msg).provider_message_id == message_id


def test_message_id_is_the_same_on_every_attempt(app, smtp):
    from app.extensions import db

    msg = make_message()
    smtp.handler.data_replies.append("451 4.3.0 Intente más tarde")
    deliver_one(msg.id)  # refused after the body: the server saw the Message-ID once
    msg = reload(msg)
    msg.next_attempt_at = msg.created_at
    db.session.commit()
    assert deliver_one(msg.id) == OutboxStatus.SENT
    first, second = (got.message["Message-ID"] for got in smtp.seen)
    assert first == second == reload(msg).provider_message_id


def test_header_injection_in_recipient_fails_without_sending(app, smtp):
    msg = make_message(to="victima@example.cl\r\nBcc: otro@example.cl")
    assert deliver_one(msg.id) == OutboxStatus.FAILED
    assert "no se puede armar" in reload(msg).last_error
    assert smtp.received == []
    assert smtp.handler.transactions == 0


def test_without_smtp_url_the_outbox_viewer_keeps_the_message(app):
    assert not app.config.get("SMTP_URL")
    msg = make_message()
    assert deliver_one(msg.id) == OutboxStatus.SENT
    msg = reload(msg)
    assert msg.transport == "outbox-viewer"
    assert msg.provider_message_id == f"<outbox-{msg.id}@puente.local>"
