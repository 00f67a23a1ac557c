"""A coordinator plans a three-session inter-network series in the browser; a convening office
sees it on its network's calendar; the public finds its page and downloads its calendar."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tests.e2e.conftest import visit
from tests.e2e.test_staff_flows import log_in


def test_coordinator_plans_an_inter_network_series_that_others_and_the_public_can_see(
        browser, live_server, axe, factory):
    host = factory.office("13120", name="OMIL Ñuñoa", category="avanzada")
    convening = factory.office("13122", name="OMIL Peñalolén", category="basica")
    other = factory.office("13110", name="OMIL La Florida", category="intermedia")
    oriente = factory.network(("13",), name="Red Oriente", offices=[host, convening], coordinator=host)
    sur = factory.network(("13",), name="Red Sur", offices=[other, host], coordinator=other)
    coordinator = factory.user(office=host, name="Coordinadora Oriente")
    colleague = factory.user(office=other, name="Personal La Florida")
    day = (datetime.now(ZoneInfo("America/Santiago")) + timedelta(days=10)).date()

    context = browser.new_context(base_url=live_server, locale="es-CL")
    page = context.new_page()
    log_in(page, axe, coordinator.email, factory.password)
    visit(page, axe, "/gestion/talleres/nuevo")
    page.fill("#title", "Prepara tu entrevista de trabajo")
    page.select_option("#topic_id", label="Entrevista de trabajo")
    page.fill("#description", "Tres sesiones para practicar entrevistas.")
    page.check(f"#network_ids-{oriente.id}")
    page.check(f"#network_ids-{sur.id}")
    page.check(f"#convening_office_ids-{convening.id}")
    page.fill("#date", day.isoformat())
    page.fill("#start_time", "10:00")
    page.fill("#end_time", "12:00")
    page.check("input[name=modality][value=remote]")
    page.fill("#capacity", "40")
    page.fill("#join_url", "https://us02web.zoom.us/j/123456789")
    page.fill("#count", "3")
    page.click("main button.button:has-text('Crear taller en borrador')")
    page.wait_for_url("**/gestion/talleres/*")
    axe.check(page)
    assert page.locator("main table tbody tr").count() == 3
    page.click("main button:has-text('Publicar')")
    axe.check(page)
    public_link = page.locator("main a[href^='/talleres/']").first.get_attribute("href")
    context.close()

    # The other network's office sees the workshop on its own network calendar.
    context = browser.new_context(base_url=live_server, locale="es-CL")
    page = context.new_page()
    log_in(page, axe, colleague.email, factory.password)
    visit(page, axe, f"/gestion/calendario/red/{sur.id}?vista=lista")
    assert page.locator("main").get_by_text("Prepara tu entrevista de trabajo").count() == 3
    context.close()

    # The public page, without logging in, and its calendar file.
    context = browser.new_context(base_url=live_server, locale="es-CL")
    page = context.new_page()
    visit(page, axe, public_link)
    assert page.locator("h1").inner_text() == "Prepara tu entrevista de trabajo"
    assert "zoom.us" not in page.content()
    ics = page.request.get(f"{public_link}.ics")
    assert ics.status == 200
    assert ics.headers["content-type"].startswith("text/calendar")
    assert ics.text().count("BEGIN:VEVENT") == 3
    context.close()
