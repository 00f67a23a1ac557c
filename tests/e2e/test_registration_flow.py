"""A jobseeker registers on a small phone, gets the confirmation, manages it from the personal
link and cancels; the first person waiting is promoted; staff register a walk-in and export."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db
from app.outbox.models import OutboxMessage
from app.outbox.rendering import render_now
from app.registration import services as registration_services
from app.registration.models import Registration, RegistrationStatus
from tests.e2e.conftest import visit
from tests.e2e.test_staff_flows import log_in
from tests.registration.conftest import make_rut, person_input
from tests.workshops.conftest import WorkshopWorld, local_in


def _personal_link(email: str) -> str:
    db.session.expire_all()
    msg = db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == email,
                                                        OutboxMessage.kind == "registration_confirmation"))
    assert msg is not None, "no confirmation in the outbox"
    match = re.search(r"(/inscripcion/[^\s/]+)", render_now(msg).body_text)
    assert match
    return match.group(1)


def test_jobseeker_registers_on_a_phone_cancels_and_the_waitlist_moves(browser, live_server, axe, factory):
    world = WorkshopWorld(factory)
    workshop = world.workshop(publish=True, start=local_in(9), session={"capacity": 1})
    session = workshop.activity.sessions[0]
    context = browser.new_context(base_url=live_server, locale="es-CL", viewport={"width": 360, "height": 740})
    page = context.new_page()
    visit(page, axe, f"/inscripcion/sesion/{session.id}")
    page.fill("#first_names", "Valentina")
    page.fill("#last_names", "Muñoz Peña")
    page.fill("#document_number", make_rut(501))
    page.fill("#email", "valentina@example.cl")
    page.fill("#comuna_code", "Ñuñoa")  # the comuna type-ahead (a plain select without JavaScript)
    page.check("#consent_data")
    page.click("main button[type=submit]")
    axe.check(page)
    assert "Revise sus mensajes" in page.content()  # the same answer for everyone; the link comes by message
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0

    # Someone else fills the last... there was one seat: the next person waits.
    waiting = registration_services.register(session.id, person_input(502)).registration
    assert waiting.status == RegistrationStatus.WAITLISTED

    link = _personal_link("valentina@example.cl")
    visit(page, axe, link)
    ics = page.request.get(f"{link}/invitacion.ics")
    assert ics.status == 200 and "METHOD:REQUEST" in ics.text()
    assert session.uid in ics.text()
    page.click("main a:has-text('Cancelar mi inscripción')")
    axe.check(page)  # asked once
    page.click("main button:has-text('Sí, cancelar mi inscripción')")
    axe.check(page)
    assert "cancelada" in page.content()
    db.session.expire_all()
    assert db.session.get(Registration, waiting.id).status == RegistrationStatus.CONFIRMED
    promoted = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "registration_promoted"))
    assert promoted is not None
    context.close()


def test_staff_register_a_walk_in_and_export_the_list(browser, live_server, axe, factory):
    world = WorkshopWorld(factory)
    workshop = world.workshop(publish=True, start=local_in(9))
    session = workshop.activity.sessions[0]
    context = browser.new_context(base_url=live_server, locale="es-CL")
    page = context.new_page()
    log_in(page, axe, world.convening_staff.email, factory.password)
    visit(page, axe, f"/gestion/inscripciones/sesion/{session.id}/nueva")
    page.fill("#first_names", "José")
    page.fill("#last_names", "Araya")
    page.fill("#document_number", make_rut(601))
    page.fill("#phone", "9 8765 4321")
    page.check("input[name=preferred_channel][value=phone_call]")
    page.select_option("#comuna_code", "13122")
    page.check("#consent_data")
    page.click("main button[type=submit]")
    axe.check(page)
    reg = db.session.scalar(select(Registration).where(Registration.session_id == session.id))
    assert reg is not None and reg.office_id == world.convening.id
    assert reg.staff_user_id == world.convening_staff.id
    visit(page, axe, f"/gestion/inscripciones/sesion/{session.id}")
    csv = page.request.get(f"/gestion/inscripciones/sesion/{session.id}/exportar.csv")
    assert csv.status == 200
    body = csv.body()
    assert body.startswith(b"\xef\xbb\xbf")
    assert "José".encode() in body
    context.close()
