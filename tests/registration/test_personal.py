"""What the person receives and their own page: messages with an .ics invitation, the personal
link, "Mis datos" (access and correction) and "Eliminar mis datos" (deletion)."""

from __future__ import annotations

import html
from datetime import timedelta
from typing import Any

from icalendar import Calendar
from sqlalchemy import select

from app.extensions import db
from app.outbox.delivery import deliver_one
from app.outbox.models import OutboxMessage, OutboxStatus
from app.outbox.rendering import render_now
from app.people.models import Channel, Person
from app.registration import services
from app.registration.models import Attendance, Registration, RegistrationStatus
from app.timeutil import utcnow
from tests.conftest import count, csrf_from
from tests.outbox import conftest as outbox_fixtures
from tests.registration.conftest import make_rut, person_input, register_as_person
from tests.workshops.conftest import local_in, session_input

# The real SMTP transport against a real SMTP server on loopback (aiosmtpd).
smtp_server = outbox_fixtures.smtp_server
smtp = outbox_fixtures.smtp


def register(session: Any, n: int = 1, **kw: Any) -> Registration:
    """Person ``n`` registers; a known person confirms from the message on file, as they would."""
    return register_as_person(session.id, person_input(n, **kw))


def page_of(reg: Registration, suffix: str = "") -> str:
    return f"/inscripcion/{services.personal_token(reg)}{suffix}"


def message(kind: str, reg: Registration | None = None) -> OutboxMessage:
    db.session.expire_all()
    q = select(OutboxMessage).where(OutboxMessage.kind == f"registration_{kind}")
    if reg is not None:
        q = q.where(OutboxMessage.dedupe_key.startswith(f"registration:{reg.id}:"))
    msgs = list(db.session.scalars(q))
    assert len(msgs) == 1, [m.dedupe_key for m in msgs]
    return render_now(msgs[0])


def ics_of(msg: OutboxMessage) -> tuple[Any, Calendar]:
    attachments = msg.attachment_list
    assert len(attachments) == 1, attachments
    return attachments[0], Calendar.from_ical(attachments[0].content)


def workshop_of(session: Any) -> Any:
    from workshops.models import Workshop

    return db.session.get(Workshop, session.activity_id)


# --- messages --------------------------------------------------------------------------------


def test_the_confirmation_email_gives_time_in_the_session_zone_and_the_personal_link(published_session):
    s = published_session()
    reg = register(s)
    msg = message("confirmation")
    start = s.local_start
    assert f"{start:%H:%M} a {s.local_end:%H:%M}" in msg.body_text
    assert "hora de Chile continental" in msg.body_text
    assert services.personal_url(reg) in msg.body_text
    assert "Cómo participar en línea" in msg.body_text


def test_the_confirmation_email_carries_an_invitation_for_the_person(published_session, world):
    s = published_session()
    register(s)
    attachment, cal = ics_of(message("confirmation"))
    assert attachment.filename == "invitacion.ics"
    assert attachment.content_type.startswith("text/calendar; method=REQUEST")
    assert str(cal["METHOD"]) == "REQUEST"
    ev = cal.events[0]
    assert str(ev["UID"]) == s.uid
    assert int(ev["SEQUENCE"]) == s.sequence == 0
    assert str(ev["ATTENDEE"]) == "mailto:camila1@example.cl"
    assert ev["ATTENDEE"].params["CN"] == "Camila Rojas 1"
    assert str(ev["ORGANIZER"]) == f"mailto:{world.host.email}"
    assert ev["DTSTART"].params["TZID"] == "America/Santiago"
    assert ev.decoded("DTSTART") == s.local_start


def test_a_waitlisted_person_gets_no_invitation_until_promoted(published_session):
    s = published_session(capacity=1)
    first = register(s, 1)
    waiting = register(s, 2)
    assert message("waitlisted").attachment_list == []
    services.cancel(first)
    _attachment, cal = ics_of(message("promoted", waiting))
    assert str(cal["METHOD"]) == "REQUEST"


def test_a_whatsapp_person_gets_a_short_text_without_attachment(published_session):
    s = published_session()
    register(s, phone="9 8765 4321", preferred_channel="whatsapp")
    msg = message("confirmation")
    assert msg.channel == "whatsapp" and msg.recipient == "+56987654321"
    assert msg.body_html is None and msg.attachment_list == []
    assert len(msg.body_text) < 400
    assert "/inscripcion/" in msg.body_text


def test_a_moved_session_sends_a_new_request_with_the_higher_sequence(published_session, world):
    from workshops import services as workshop_services

    s = published_session()
    register(s)
    workshop_services.update_session(s, session_input(local_in(12, 15)), actor=world.host_staff)
    db.session.refresh(s)
    assert s.sequence == 1
    _attachment, cal = ics_of(message("changed"))
    ev = cal.events[0]
    assert str(cal["METHOD"]) == "REQUEST"
    assert str(ev["UID"]) == s.uid and int(ev["SEQUENCE"]) == 1
    assert ev.decoded("DTSTART") == s.local_start and s.local_start.hour == 15


def test_a_cancelled_session_sends_method_cancel(published_session, world):
    from workshops import services as workshop_services

    s = published_session()
    register(s)
    workshop_services.cancel_session(s, "Corte de luz en la sala", actor=world.host_staff)
    msg = message("cancelled")
    assert "Corte de luz en la sala" in msg.body_text
    attachment, cal = ics_of(msg)
    assert attachment.content_type.startswith("text/calendar; method=CANCEL")
    ev = cal.events[0]
    assert str(cal["METHOD"]) == "CANCEL" and str(ev["STATUS"]) == "CANCELLED"
    assert str(ev["UID"]) == s.uid and int(ev["SEQUENCE"]) == s.sequence == 1


def test_a_cancelled_activity_sends_method_cancel(published_session, world):
    from workshops import services as workshop_services

    s = published_session()
    register(s)
    workshop_services.cancel(workshop_of(s), "Sin facilitadora", actor=world.host_staff)
    _attachment, cal = ics_of(message("cancelled"))
    assert str(cal["METHOD"]) == "CANCEL" and str(cal.events[0]["STATUS"]) == "CANCELLED"


def test_cancelling_from_the_personal_page_withdraws_the_invitation_and_promotes_the_next(client,
                                                                                        published_session):
    s = published_session(capacity=1)
    first = register(s, 1)
    waiting = register(s, 2)
    url = page_of(first)
    token = csrf_from(client.get(url).get_data(as_text=True))
    assert client.post(url + "/cancelar", data={"csrf_token": token}).status_code == 303
    attachment, cal = ics_of(message("withdrawn", first))
    assert attachment.filename == "cancelacion.ics"
    assert str(cal["METHOD"]) == "CANCEL" and str(cal.events[0]["UID"]) == s.uid
    db.session.refresh(waiting)
    assert waiting.status == RegistrationStatus.CONFIRMED
    assert str(ics_of(message("promoted", waiting))[1]["METHOD"]) == "REQUEST"


def test_smtp_sends_the_invitation_as_a_text_calendar_part_with_its_method(app, smtp, published_session):
    s = published_session()
    register(s)
    msg = message("confirmation")
    assert deliver_one(msg.id) == OutboxStatus.SENT
    email = smtp.received[0].message
    assert email.get_content_type() == "multipart/mixed"
    parts = [p for p in email.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1
    part = parts[0]
    assert part.get_param("method") == "REQUEST"
    assert part.get_filename() == "invitacion.ics"
    cal = Calendar.from_ical(part.get_content())
    assert str(cal.events[0]["UID"]) == s.uid
    assert email.get_body(("plain",)) is not None and email.get_body(("html",)) is not None
    smtp.received[0].raw.decode("ascii")  # still 7-bit on the wire


def test_dedupe_keys_hold_no_personal_data(client, published_session, world):
    from workshops import services as workshop_services

    s = published_session(capacity=1)
    first = register(s, 1, phone="9 8765 4321")
    register(s, 2)
    services.cancel(first)
    workshop_services.update_session(s, session_input(local_in(11)), actor=world.host_staff)
    db.session.expire_all()
    keys = list(db.session.scalars(select(OutboxMessage.dedupe_key).where(OutboxMessage.kind.like("registration_%"))))
    assert len(keys) >= 4
    people = db.session.scalars(select(Person)).all()
    regs = db.session.scalars(select(Registration)).all()
    secrets_ = [x for p in people for x in (p.email, p.phone, p.document_number, p.first_names, p.last_names)
                if x] + [r.nonce for r in regs]
    for key in keys:
        assert not any(x.lower() in key.lower() for x in secrets_), key


# --- the personal page -----------------------------------------------------------------------


def test_the_personal_page_shows_status_session_and_what_the_person_can_do(client, published_session):
    s = published_session()
    reg = register(s)
    resp = client.get(page_of(reg))
    assert resp.status_code == 200
    page = html.unescape(resp.get_data(as_text=True))
    assert "Inscripción confirmada." in page
    assert s.activity.title in page
    assert "Agregar a mi calendario" in page and page_of(reg, "/invitacion.ics") in page
    assert "Cancelar mi inscripción" in page
    assert page_of(reg, "/datos") in page and page_of(reg, "/eliminar-datos") in page
    assert "<script" not in page


def test_the_personal_page_is_private(client, published_session):
    s = published_session()
    reg = register(s)
    resp = client.get(page_of(reg))
    page = resp.get_data(as_text=True)
    assert resp.headers["Cache-Control"] == "no-store"
    assert "noindex" in resp.headers["X-Robots-Tag"]
    assert '<meta name="robots" content="noindex, nofollow">' in page
    assert '<meta name="referrer" content="no-referrer">' in page
    assert "camila1@example.cl" not in page and make_rut(1) not in page


def test_a_waitlisted_person_sees_their_position_and_cannot_add_to_calendar_yet(client, published_session):
    s = published_session(capacity=1)
    register(s, 1)
    waiting = register(s, 2)
    page = html.unescape(client.get(page_of(waiting)).get_data(as_text=True))
    assert "en el lugar 1" in page
    assert "Agregar a mi calendario" not in page
    assert client.get(page_of(waiting, "/invitacion.ics")).status_code == 409


def test_a_cancelled_session_is_shown_as_such(client, published_session, world):
    from workshops import services as workshop_services

    s = published_session()
    reg = register(s)
    workshop_services.cancel_session(s, "Corte de luz", actor=world.host_staff)
    page = html.unescape(client.get(page_of(reg)).get_data(as_text=True))
    assert "La oficina canceló esta sesión." in page and "Corte de luz" in page
    assert "Cancelar mi inscripción" not in page and "Agregar a mi calendario" not in page


def test_a_tampered_link_is_not_found(client, published_session):
    reg = register(published_session())
    assert client.get(page_of(reg)[:-3] + "abc").status_code == 404


def test_add_to_calendar_downloads_a_request_with_the_person_as_attendee(client, published_session, world):
    s = published_session()
    reg = register(s)
    resp = client.get(page_of(reg, "/invitacion.ics"))
    assert resp.status_code == 200
    assert resp.mimetype == "text/calendar"
    assert resp.headers["Content-Disposition"].startswith("attachment;")
    assert resp.headers["Cache-Control"] == "no-store"
    cal = Calendar.from_ical(resp.data)
    ev = cal.events[0]
    assert str(cal["METHOD"]) == "REQUEST"
    assert str(ev["UID"]) == s.uid and int(ev["SEQUENCE"]) == s.sequence
    assert str(ev["ATTENDEE"]) == "mailto:camila1@example.cl"
    assert str(ev["ORGANIZER"]) == f"mailto:{world.host.email}"
    assert services.personal_url(reg) in str(ev["DESCRIPTION"])


def test_add_to_calendar_without_an_email_is_a_plain_calendar_file(client, published_session):
    s = published_session()
    reg = register(s, email="", phone="9 8765 4321", preferred_channel="sms")
    cal = Calendar.from_ical(client.get(page_of(reg, "/invitacion.ics")).data)
    assert "METHOD" not in cal and "ATTENDEE" not in cal.events[0]
    assert str(cal.events[0]["UID"]) == s.uid


# --- "Mis datos" -----------------------------------------------------------------------------


def test_my_data_shows_everything_stored(client, published_session):
    s = published_session()
    reg = register(s, phone="9 8765 4321", availability="Tardes", soft_skills="Trabajo en equipo")
    resp = client.get(page_of(reg, "/datos"))
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    page = html.unescape(resp.get_data(as_text=True))
    for value in ("Camila", "Rojas 1", make_rut(1), "camila1@example.cl", "+56987654321", "Ñuñoa", "Tardes",
                  "Trabajo en equipo", s.activity.title, "Inscripción confirmada: " + s.activity.title):
        assert value in page, value


def _data_form(client: Any, reg: Registration, **changes: Any) -> dict[str, str]:
    page = client.get(page_of(reg, "/datos")).get_data(as_text=True)
    data = {"csrf_token": csrf_from(page), "first_names": "Camila", "last_names": "Rojas 1",
            "email": "camila1@example.cl", "phone": "", "comuna_code": "13120", "preferred_channel": "email",
            "connectivity": "good"}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_my_data_updates_the_persons_details_but_not_the_document(client, published_session):
    reg = register(published_session())
    data = _data_form(client, reg, email="nueva@example.cl", phone="9 8765 4321", preferred_channel="sms",
                      document_number="11111111-1", opt_in_future="y")
    resp = client.post(page_of(reg, "/datos"), data=data)
    assert resp.status_code == 303
    person = db.session.scalars(select(Person)).one()
    db.session.refresh(person)
    assert person.email == "nueva@example.cl" and person.phone == "+56987654321"
    assert person.preferred_channel == Channel.SMS and person.opt_in_future and person.opt_in_at
    assert person.document_number == make_rut(1)
    assert "Guardamos sus datos." in client.get(resp.headers["Location"]).get_data(as_text=True)


def test_my_data_with_bad_input_answers_400_keeps_what_was_typed_and_changes_nothing(client, published_session):
    reg = register(published_session())
    data = _data_form(client, reg, first_names="Camila Andrea", email="camila@", phone="")
    resp = client.post(page_of(reg, "/datos"), data=data)
    assert resp.status_code == 400
    page = html.unescape(resp.get_data(as_text=True))
    assert 'class="error-summary"' in page and 'id="email-error"' in page
    assert 'value="Camila Andrea"' in page and 'value="camila@"' in page
    db.session.expire_all()
    assert db.session.scalars(select(Person)).one().first_names == "Camila"


def test_my_data_without_the_security_code_keeps_what_was_typed(client, published_session):
    reg = register(published_session())
    data = _data_form(client, reg, first_names="Camila Andrea")
    del data["csrf_token"]
    resp = client.post(page_of(reg, "/datos"), data=data)
    assert resp.status_code == 400
    page = html.unescape(resp.get_data(as_text=True))
    assert "El formulario caducó" in page and 'value="Camila Andrea"' in page
    db.session.expire_all()
    assert db.session.scalars(select(Person)).one().first_names == "Camila"


# --- "Eliminar mis datos" --------------------------------------------------------------------


def test_erasing_asks_for_confirmation_first(client, published_session):
    reg = register(published_session())
    page = client.get(page_of(reg, "/eliminar-datos"))
    assert page.status_code == 200 and "no se puede deshacer" in page.get_data(as_text=True)
    resp = client.post(page_of(reg, "/eliminar-datos"), data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert resp.status_code == 400
    assert "Marque la casilla" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalars(select(Person)).one().anonymised_at is None


def _erase(client: Any, reg: Registration) -> Any:
    page = client.get(page_of(reg, "/eliminar-datos")).get_data(as_text=True)
    return client.post(page_of(reg, "/eliminar-datos"), data={"csrf_token": csrf_from(page), "confirmar": "si"})


def test_erasing_anonymises_cancels_promotes_and_keeps_the_counts(client, published_session):
    s = published_session(capacity=1)
    reg = register(s, 1, phone="9 8765 4321")
    waiting = register(s, 2)
    resp = _erase(client, reg)
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/inscripcion/datos-eliminados")
    assert "Eliminamos sus datos" in client.get(resp.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()
    person = db.session.get(Person, reg.person_id)
    assert person.anonymised_at is not None
    assert (person.email, person.phone) == (None, None)
    assert "Camila" not in person.full_name and make_rut(1) != person.document_number
    assert count(Registration) == 2  # anonymous counts stay
    assert db.session.get(Registration, reg.id).status == RegistrationStatus.CANCELLED
    assert db.session.get(Registration, waiting.id).status == RegistrationStatus.CONFIRMED
    message("promoted", waiting)


def test_erasing_leaves_no_personal_data_in_the_outbox(client, published_session):
    reg = register(published_session(), phone="9 8765 4321")
    _erase(client, reg)
    db.session.expire_all()
    for msg in db.session.scalars(select(OutboxMessage)):
        text = " ".join(str(x) for x in (msg.recipient, msg.recipient_name, msg.body_text, msg.body_html,
                                         msg.attachments, msg.subject))
        assert "camila1@example.cl" not in text and "Camila" not in text and "+56987654321" not in text


def test_after_erasing_the_link_answers_410_everywhere(client, published_session):
    reg = register(published_session())
    _erase(client, reg)
    for suffix in ("", "/listo", "/datos", "/invitacion.ics", "/eliminar-datos"):
        resp = client.get(page_of(reg, suffix))
        assert resp.status_code == 410, suffix
        assert "Sus datos fueron eliminados a su pedido." in resp.get_data(as_text=True)


def test_erasing_keeps_attendance_of_past_sessions(client, published_session):
    past, upcoming = published_session(), published_session()
    old = register(past)
    new = register(upcoming)
    past.starts_at = utcnow() - timedelta(days=3)
    past.ends_at = past.starts_at + timedelta(hours=2)
    old.attendance = Attendance.PRESENT
    db.session.commit()
    _erase(client, new)
    db.session.expire_all()
    kept = db.session.get(Registration, old.id)
    assert kept.status == RegistrationStatus.CONFIRMED and kept.attendance == Attendance.PRESENT
    assert db.session.get(Registration, new.id).status == RegistrationStatus.CANCELLED


def test_anonymised_people_get_no_more_messages(client, published_session, world):
    from workshops import services as workshop_services

    s = published_session()
    reg = register(s)
    past_messages = count(OutboxMessage)
    services.erase_personal_data(reg)
    workshop_services.update_session(s, session_input(local_in(12, 15)), actor=world.host_staff)
    db.session.expire_all()
    kinds = list(db.session.scalars(select(OutboxMessage.kind).where(OutboxMessage.kind.like("registration_%"))))
    assert len(kinds) == past_messages


def test_my_data_works_for_someone_who_declared_accessibility_needs(client, published_session):
    """The page listed the needs with ``{% set _ = ... %}``, which replaced the translation
    function ``_`` for the rest of the template: a 500 for anyone who declared a need."""
    reg = register(published_session(), needs_subtitles=True, uses_screen_reader=True,
                   accessibility_other="Letra grande")
    resp = client.get(page_of(reg, "/datos"))
    assert resp.status_code == 200
    page = html.unescape(resp.get_data(as_text=True))
    assert "subtítulos, lector de pantalla, Letra grande" in page
    assert "Corregir mis datos" in page
