"""Public pages in a real browser: accessible, usable at 320 px, working without JavaScript."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import visit

PUBLIC = ["/", "/talleres", "/ferias", "/grabaciones", "/cuenta/ingresar", "/cuenta/olvide-mi-contrasena",
          "/no-existe"]


@pytest.mark.parametrize("path", PUBLIC)
def test_public_page_has_no_wcag_violation(page, axe, path):
    visit(page, axe, path)


@pytest.mark.parametrize("path", ["/", "/cuenta/ingresar"])
def test_public_page_fits_a_320px_screen(page, axe, path):
    page.set_viewport_size({"width": 320, "height": 640})
    visit(page, axe, path)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0


def test_skip_link_moves_focus_to_the_content(page, axe):
    visit(page, axe, "/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Saltar al contenido"


def test_login_works_without_javascript(browser, live_server, factory, axe):
    user = factory.user(email="sinjs@example.cl")
    context = browser.new_context(base_url=live_server, java_script_enabled=False, locale="es-CL")
    pg = context.new_page()
    pg.goto("/cuenta/ingresar")
    pg.fill("#email", user.email)
    pg.fill("#password", factory.password)
    pg.click("main button[type=submit]")
    assert pg.url.endswith("/gestion/")
    assert pg.locator("h1").inner_text() == "Gestión"
    context.close()


def test_english_can_be_chosen_from_any_page(page, axe):
    visit(page, axe, "/")
    page.click("button[value=en]")
    assert page.get_attribute("html", "lang") == "en"
    axe.check(page)
