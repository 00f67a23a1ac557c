"""A known person on a small phone: someone types her RUT, she confirms from her message;
"Mis inscripciones" sends her links again. Every page checked with axe at 360 px."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db
from app.outbox.models import OutboxMessage
from app.outbox.rendering import render_now
from app.registration import services as registration_services
from app.registration.models import Registration, RegistrationStatus
from tests.e2e.conftest import visit
from tests.registration.conftest import make_rut, person_input
from tests.workshops.conftest import WorkshopWorld, local_in


def test_a_known_person_confirms_from_her_message_and_asks_for_her_links(browser, live_server, axe, factory):
    world = WorkshopWorld(factory)
    first = world.workshop(publish=True, start=local_in(9)).activity.sessions[0]
    second = world.workshop(publish=True, start=local_in(12)).activity.sessions[0]
    registration_services.register(first.id, person_input(601, email="rosa@example.cl", first_names="Rosa"))
    context = browser.new_context(base_url=live_server, locale="es-CL", viewport={"width": 360, "height": 740})
    page = context.new_page()
    visit(page, axe, f"/inscripcion/sesion/{second.id}")
    page.fill("#first_names", "Rosa")
    page.fill("#last_names", "Paz")
    page.fill("#document_number", make_rut(601))
    page.fill("#email", "otro@example.cl")
    page.fill("#comuna_code", "Ñuñoa")  # the comuna type-ahead (a plain select without JavaScript)
    page.check("#consent_data")
    page.click("main button[type=submit]")
    axe.check(page)
    assert "Revise sus mensajes" in page.content()

    db.session.expire_all()
    msg = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "registration_hold"))
    assert msg is not None and msg.recipient == "rosa@example.cl"
    link = re.search(r"(/inscripcion/confirmar/\S+)", render_now(msg).body_text).group(1)
    db.session.commit()
    visit(page, axe, link)
    page.click("main button[type=submit]")
    axe.check(page)
    db.session.expire_all()
    reg = db.session.scalar(select(Registration).where(Registration.session_id == second.id))
    assert reg is not None and reg.status == RegistrationStatus.CONFIRMED

    visit(page, axe, "/mis-inscripciones")
    page.fill("#who", make_rut(601))
    page.click("main button[type=submit]")
    axe.check(page)
    assert "Revise sus mensajes" in page.content()
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
