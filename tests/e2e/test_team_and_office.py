"""Staff in a real browser: invite a colleague, the colleague accepts, an office is managed."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db
from app.outbox.models import OutboxMessage
from app.territory.models import Office
from tests.e2e.conftest import visit
from tests.e2e.test_staff_flows import log_in


def test_a_coordinator_invites_a_colleague_who_accepts_and_then_manages_the_office(browser, live_server, axe,
                                                                                  factory):
    office = factory.office("12101", name="OMIL Punta Arenas", category="avanzada")
    factory.network(("12",), name="Red Magallanes", offices=[office], coordinator=office)
    coordinator = factory.user(office=office, name="Coordinación Magallanes")

    context = browser.new_context(base_url=live_server, locale="es-CL")
    page = context.new_page()
    log_in(page, axe, coordinator.email, factory.password)
    visit(page, axe, f"/gestion/oficinas/{office.id}/equipo")
    page.fill("#name", "Ignacio Nuevo")
    page.fill("#email", "ignacio.nuevo@example.cl")
    page.click("main button:has-text('Enviar invitación')")
    axe.check(page)
    assert "ignacio.nuevo@example.cl" in page.content()
    # The invitation went through the outbox; the coordinator sees it there too.
    visit(page, axe, "/gestion/mensajes/")
    context.close()

    db.session.expire_all()
    msg = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "invitation"))
    assert msg is not None and msg.recipient == "ignacio.nuevo@example.cl"
    link = re.search(r"(/cuenta/invitacion/\S+)", msg.body_text).group(1)

    context = browser.new_context(base_url=live_server, locale="es-CL")
    page = context.new_page()
    visit(page, axe, link)
    page.fill("#password", "una-clave-segura-2026")
    page.fill("#confirm", "una-clave-segura-2026")
    page.click("main button[type=submit]")
    page.wait_for_url("**/gestion/")
    axe.check(page)

    visit(page, axe, f"/gestion/oficinas/{office.id}/editar")
    page.fill("#opening_hours", "Lunes a viernes, 8:30 a 14:00")
    page.fill("#whatsapp", "9 8765 4321")
    page.click("main button:has-text('Guardar cambios')")
    axe.check(page)
    assert not page.locator(".error-summary").count(), page.locator(".error-summary").inner_text()
    db.session.expire_all()
    saved = db.session.get(Office, office.id)
    assert saved.opening_hours == "Lunes a viernes, 8:30 a 14:00"
    assert saved.whatsapp == "+56987654321"
    # A wrong phone is refused next to the field, with what was typed kept.
    visit(page, axe, f"/gestion/oficinas/{office.id}/editar")
    page.fill("#whatsapp", "12")
    page.click("main button:has-text('Guardar cambios')")
    axe.check(page)
    assert page.locator("#whatsapp").input_value() == "12"
    assert page.locator(".error-summary").is_visible()
    context.close()
