"""A person on a small phone finds a session from the home page: types "nunoa" (no accents, no
JavaScript), sees Ñuñoa's sessions, the online ones and the truth about seats; the parts of the
platform that do not exist yet say so."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from app.activities.models import ActivitySession, Modality
from app.extensions import db
from app.registration import services as registration_services
from tests.e2e.conftest import visit
from tests.registration.conftest import person_input
from tests.workshops.conftest import WorkshopWorld, local_in

WIDTHS = [320, 360]


def phone_context(browser: Any, live_server: str, width: int, *, javascript: bool = True) -> Any:
    return browser.new_context(base_url=live_server, locale="es-CL", java_script_enabled=javascript,
                               viewport={"width": width, "height": 740})


def no_overflow(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0


@pytest.fixture
def sessions(factory: Any) -> dict[str, Any]:
    world = WorkshopWorld(factory)
    here = world.workshop(publish=True, title="Entrevistas en Ñuñoa", start=local_in(6),
                          session={"modality": Modality.IN_PERSON, "comuna_code": "13120", "capacity": 1})
    online = world.workshop(publish=True, title="Currículum en línea", start=local_in(8))
    later = world.workshop(publish=True, title="Entrevistas más adelante", start=local_in(15),
                           session={"modality": Modality.IN_PERSON, "comuna_code": "13118"})
    session = here.activity.sessions[0]
    for n in (1, 2, 3):  # one seat: 1 confirmed, 2 waiting
        registration_services.register(session.id, person_input(n))
    db.session.execute(update(ActivitySession).where(ActivitySession.id == online.activity.sessions[0].id)
                       .values(confirmed_count=47))
    db.session.commit()
    return {"here": here, "online": online, "later": later}


@pytest.mark.parametrize("width", WIDTHS)
def test_a_phone_without_javascript_types_nunoa_and_finds_its_sessions_and_the_online_ones(
        browser, live_server, axe, sessions, width):
    context = phone_context(browser, live_server, width, javascript=False)
    page = context.new_page()
    page.goto("/")
    page.fill("#comuna", "nunoa")
    page.click("form[role=search] button[type=submit]")
    assert "comuna=nunoa" in page.url
    assert page.input_value("#comuna") == "Ñuñoa"
    here = page.locator("section:has(#h-here)")
    assert "Entrevistas en Ñuñoa" in here.inner_text()
    assert "Sin cupos: lista de espera (quedaría en el lugar 3)" in here.inner_text()
    assert "Próxima sesión de este tema con cupos:" in here.inner_text()
    online = page.locator("section:has(#h-online)")
    assert "Currículum en línea" in online.inner_text() and "Quedan 3 cupos" in online.inner_text()
    assert "Entrevistas más adelante" in page.locator("section:has(#h-nearby)").inner_text()
    no_overflow(page)
    context.close()
    # The same page, with JavaScript, is checked by axe-core.
    context = phone_context(browser, live_server, width)
    page = context.new_page()
    visit(page, axe, "/?comuna=nunoa")
    context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_listing_cards_tell_the_seats_at_phone_width(browser, live_server, axe, sessions, width):
    context = phone_context(browser, live_server, width)
    page = context.new_page()
    visit(page, axe, "/talleres")
    cards = page.locator(".session-item")
    texts = [cards.nth(i).inner_text() for i in range(cards.count())]
    assert any("Sin cupos: lista de espera (quedaría en el lugar 3)" in t for t in texts)
    assert any("Quedan 3 cupos" in t for t in texts)
    waitlist_button = page.get_by_role("link", name="Anotarme en la lista de espera").first
    assert "button--secondary" in (waitlist_button.get_attribute("class") or "")
    no_overflow(page)
    context.close()


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("path", ["/ferias", "/grabaciones"])
def test_parts_not_built_yet_say_proximamente_and_lead_to_workshops(browser, live_server, axe, width, path):
    context = phone_context(browser, live_server, width)
    page = context.new_page()
    visit(page, axe, path)
    assert "Próximamente" in page.locator("main").inner_text()
    page.locator("main a[href='/talleres']").click()
    assert page.url.endswith("/talleres")
    no_overflow(page)
    context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_phone_header_is_one_line_and_its_menu_opens_without_javascript(browser, live_server, axe, width):
    context = phone_context(browser, live_server, width, javascript=False)
    page = context.new_page()
    page.goto("/ferias")
    header = page.locator(".site-header").bounding_box()
    assert header is not None and header["height"] < 70
    page.click(".menu summary")
    current = page.locator(".menu__panel a[aria-current]")
    assert current.inner_text() == "Ferias"
    page.locator(".menu__panel a", has_text="Talleres").click()
    assert page.url.endswith("/talleres")
    context.close()
    context = phone_context(browser, live_server, width)
    page = context.new_page()
    visit(page, axe, "/ferias")
    page.click(".menu summary")
    axe.check(page)
    context.close()


def test_the_workshop_page_copies_its_link_and_shows_the_way(browser, live_server, axe, sessions):
    from playwright.sync_api import expect  # imported where used, like the browser fixture

    context = phone_context(browser, live_server, 360)
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    visit(page, axe, f"/talleres/{sessions['here'].activity.slug}")
    assert page.get_by_role("link", name="Cómo llegar (mapa)").count() == 1
    copy = page.get_by_role("button", name="Copiar enlace")
    # A secondary <button> looks secondary (white), not like the page's main action.
    assert copy.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(255, 255, 255)"
    copy.click()
    # The clipboard answers asynchronously: wait for the status (auto-retrying), exact text.
    expect(page.locator("#share-status")).to_have_text("Enlace copiado.")
    assert page.evaluate("navigator.clipboard.readText()").endswith(f"/talleres/{sessions['here'].activity.slug}")
    no_overflow(page)
    context.close()


def test_office_staff_upload_their_logo_and_the_workshop_page_shows_it(browser, live_server, axe, factory, tmp_path):
    from tests.e2e.test_staff_flows import log_in
    from tests.territory.test_office_logo import png_bytes

    world = WorkshopWorld(factory)
    w = world.workshop(publish=True)
    staff = factory.user(office=world.host)
    logo = tmp_path / "logo.png"
    logo.write_bytes(png_bytes())
    context = phone_context(browser, live_server, 360)
    page = context.new_page()
    log_in(page, axe, staff.email, factory.password)
    visit(page, axe, f"/gestion/oficinas/{world.host.id}/logo")
    page.click("main button[type=submit]")  # nothing chosen: an error summary, accessible
    assert page.locator(".error-summary").is_visible()
    axe.check(page)
    page.set_input_files("#logo", str(logo))
    page.fill("#alt", "Municipalidad de Ñuñoa")
    page.click("main form[enctype] button[type=submit]")
    assert page.locator(".cobrand__logo").get_attribute("alt") == "Municipalidad de Ñuñoa"
    remove = page.get_by_role("button", name="Quitar el logo")  # destructive: red, never the main blue
    assert remove.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(176, 0, 32)"
    axe.check(page)
    visit(page, axe, f"/talleres/{w.activity.slug}")
    assert page.locator(".cobrand__logo").evaluate("img => img.naturalWidth") == 96
    no_overflow(page)
    context.close()
