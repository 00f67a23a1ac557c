"""A coordinator prepares a campaign on three channels, previews it, sends it; a jobseeker comes
through the SMS link and registers; the report credits the SMS channel."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.dissemination.models import Campaign, ChannelKind
from app.extensions import db
from app.outbox.models import OutboxMessage
from app.people.models import Channel
from tests.dissemination.campaign_fixtures import contact, make_rut
from tests.e2e.conftest import visit
from tests.e2e.test_staff_flows import log_in
from tests.workshops.conftest import WorkshopWorld, local_in


def test_a_coordinator_campaigns_on_three_channels_and_the_report_credits_the_registration(page, axe, factory):
    world = WorkshopWorld(factory)
    workshop = world.workshop(publish=True, start=local_in(9), title="Entrevista de trabajo: práctica")
    contact(world.host)
    sms_person = contact(world.host, channel=Channel.SMS, email=None, phone="+56911112222")
    contact(world.convening, channel=Channel.WHATSAPP, phone="+56933334444")

    log_in(page, axe, world.host_staff.email, factory.password)  # the host office coordinates the network
    visit(page, axe, "/gestion/difusion/")
    page.click("main a:has-text('Nueva campaña')")
    axe.check(page)
    page.click(f"main a:has-text('{workshop.activity.title}')")
    axe.check(page)
    page.fill("#name", "Entrevista: red completa")
    page.check("input[name=scope][value=network]")
    page.select_option("#network_id", str(world.network.id))
    for value in ("email", "whatsapp", "sms"):
        page.check(f"input[name=channels][value={value}]")
    page.click("main button:has-text('Guardar borrador')")
    page.wait_for_url(re.compile(r"/gestion/difusion/\d+$"))
    axe.check(page)
    # The preview shows each channel's own tracked link and the SMS length.
    campaign = db.session.scalar(select(Campaign))
    for channel in campaign.channels:
        assert page.locator(f"main a[href$='/c/{channel.code}']").count() >= 1
    assert "mensaje(s) SMS" in page.content()
    page.click("main button:has-text('Iniciar campaña')")
    page.wait_for_url(re.compile(r"/gestion/difusion/\d+$"))
    axe.check(page)

    # The worker runs inline in tests: the three contacts of the network got one message each.
    db.session.expire_all()
    msgs = {m.recipient: m for m in db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.campaign_id == campaign.id))}
    assert set(msgs) >= {sms_person.phone} and len(msgs) == 3
    sms = msgs[sms_person.phone]
    link = re.search(r"https?://[^/\s]+(/c/[A-Z0-9]+)", sms.body_text).group(1)

    # The jobseeker opens the SMS link on a phone and registers.
    person = page.context.browser.new_context(base_url=page.url.split("/gestion")[0], locale="es-CL",
                                             viewport={"width": 360, "height": 740})
    phone = person.new_page()
    visit(phone, axe, link)
    phone.fill("#first_names", "Rosa")
    phone.fill("#last_names", "Paz")
    phone.fill("#document_number", make_rut(5150))
    phone.fill("#email", "rosa.paz@example.cl")
    phone.fill("#comuna_code", "Ñuñoa")  # the comuna type-ahead (a plain select without JavaScript)
    phone.check("#consent_data")
    phone.click("main button[type=submit]")
    phone.get_by_role("heading", name="Revise sus mensajes").wait_for()  # the same answer for everyone
    axe.check(phone)
    person.close()

    visit(page, axe, f"/gestion/difusion/{campaign.id}")
    sms_row = page.locator("main td.registrations[data-channel=sms]")
    assert sms_row.inner_text().strip() == "1"
    assert page.locator("main td.registrations[data-channel=email]").inner_text().strip() == "0"
    db.session.expire_all()
    assert campaign.channel(ChannelKind.SMS).clicks == 1
    page.set_viewport_size({"width": 320, "height": 640})
    visit(page, axe, f"/gestion/difusion/{campaign.id}")
    wide = page.evaluate("""() => [...document.querySelectorAll('main *')].filter(
        e => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.table-wrap'))
        .map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)).slice(0, 8)""")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), wide


def test_contacts_import_facebook_and_report_pages_are_accessible(page, axe, factory, tmp_path):
    world = WorkshopWorld(factory)
    log_in(page, axe, world.host_staff.email, factory.password)
    visit(page, axe, "/gestion/difusion/contactos")
    csv = tmp_path / "contactos.csv"
    csv.write_text("Nombres;Apellidos;RUT;Correo;Comuna;Acepta avisos\n"
                   f"Ana;Pérez;{make_rut(7001)};ana@example.cl;Ñuñoa;sí\n"
                   f"Luis;Soto;{make_rut(7002)};luis@example.cl;Ñuñoa;no\n", encoding="utf-8")
    page.set_input_files("#file", str(csv))
    page.click("main button:has-text('Revisar el archivo')")
    page.get_by_text("1 contactos nuevos").wait_for()
    axe.check(page)
    page.click("main button:has-text('Importar 1 contactos')")
    page.get_by_text("Importación lista").wait_for()
    axe.check(page)
    visit(page, axe, "/gestion/difusion/facebook")
    page.fill("#page_id", "abc")
    page.fill("#token", "con espacios")
    page.click("main button:has-text('Comprobar y guardar')")
    page.locator(".error-summary").wait_for()
    axe.check(page)
    visit(page, axe, "/gestion/difusion/informe")
    page.set_viewport_size({"width": 320, "height": 640})
    visit(page, axe, "/gestion/difusion/")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
