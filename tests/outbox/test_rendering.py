"""Messages written by the worker: queued as one row, rendered just before they are sent."""

from __future__ import annotations

from typing import Any

from app.extensions import db
from app.outbox import delivery, rendering
from app.outbox.models import Attachment, OutboxMessage, OutboxStatus
from app.outbox.services import enqueue
from tests.outbox.conftest import reload

CALLS: list[dict[str, Any]] = []


@rendering.renderer("test_greeting")
def _greeting(context: dict[str, Any]) -> rendering.Rendered:
    CALLS.append(context)
    if context.get("gone"):
        raise rendering.NothingToSend("la persona ya no está")
    if context.get("broken"):
        raise KeyError("plantilla")
    return rendering.Rendered(subject=f"Hola\n{context['name']}", body_text=f"Hola {context['name']}",
                              body_html=f"<p>Hola {context['name']}</p>",
                              attachments=[Attachment("a.ics", "text/calendar", b"BEGIN:VCALENDAR")])


def _queue(**context: Any) -> OutboxMessage:
    msg_id = enqueue(dedupe_key=f"saludo:{len(CALLS)}:{sorted(context.items())}", channel="email",
                     to="ana@example.cl", kind="invitation", subject="Hola", renderer="test_greeting",
                     context=context)
    db.session.commit()
    msg = db.session.get(OutboxMessage, msg_id)
    assert msg is not None
    return msg


def test_queueing_with_a_renderer_writes_one_row_and_renders_nothing(app):
    CALLS.clear()
    msg = _queue(name="Ana")
    assert CALLS == [] and msg.body_text == "" and msg.renderer == "test_greeting"
    assert msg.context == {"name": "Ana"}


def test_the_same_key_queued_twice_is_one_message(app):
    first = enqueue(dedupe_key="saludo:doble", channel="sms", to="+56987654321", kind="invitation",
                    renderer="test_greeting", context={"name": "Ana"})
    second = enqueue(dedupe_key="saludo:doble", channel="sms", to="+56987654321", kind="invitation",
                     renderer="test_greeting", context={"name": "Otra"})
    db.session.commit()
    assert first == second and db.session.query(OutboxMessage).count() == 1


def test_delivery_renders_stores_and_sends_the_rendered_text(app):
    msg = _queue(name="Ñandú")
    assert delivery.deliver_one(msg.id) == OutboxStatus.SENT
    msg = reload(msg)
    assert msg.renderer is None and msg.body_text == "Hola Ñandú" and msg.subject == "Hola Ñandú"
    assert msg.body_html == "<p>Hola Ñandú</p>" and msg.attachment_names == ["a.ics"]


def test_a_message_about_something_gone_is_cancelled_not_sent(app):
    msg = _queue(name="Ana", gone=True)
    assert delivery.deliver_one(msg.id) == OutboxStatus.CANCELLED
    msg = reload(msg)
    assert msg.sent_at is None and "ya no está" in (msg.last_error or "")


def test_a_renderer_that_fails_leaves_the_message_failed_and_retriable(app):
    msg = _queue(name="Ana", broken=True)
    assert delivery.deliver_one(msg.id) == OutboxStatus.FAILED
    msg = reload(msg)
    assert msg.sent_at is None and "no se pudo redactar" in (msg.last_error or "")
    assert msg.renderer == "test_greeting"  # rendered again when retried
    delivery.requeue(msg)
    db.session.commit()
    assert reload(msg).status == OutboxStatus.PENDING


def test_an_unknown_renderer_fails_visibly(app):
    msg_id = enqueue(dedupe_key="saludo:desconocido", channel="email", to="ana@example.cl", kind="invitation",
                     renderer="no_existe", context={})
    db.session.commit()
    assert delivery.deliver_one(msg_id) == OutboxStatus.FAILED
    assert "no_existe" in (db.session.get(OutboxMessage, msg_id).last_error or "")


def test_the_viewer_previews_an_unrendered_message_without_writing_it(client, logged_in):
    msg = _queue(name="Ana")
    logged_in(role="sence_national")
    page = client.get(f"/gestion/mensajes/{msg.id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Hola Ana" in text and "Vista previa" in text
    assert reload(msg).renderer == "test_greeting" and reload(msg).body_text == ""
    html = client.get(f"/gestion/mensajes/{msg.id}/html")
    assert html.status_code == 200 and b"Hola Ana" in html.data


def test_the_viewer_says_when_a_message_will_not_be_sent(client, logged_in):
    msg = _queue(name="Ana", gone=True)
    logged_in(role="sence_national")
    page = client.get(f"/gestion/mensajes/{msg.id}")
    assert page.status_code == 200 and "ya no se enviará" in page.get_data(as_text=True)
