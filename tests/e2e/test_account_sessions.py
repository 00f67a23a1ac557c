"""Mi cuenta in a real browser: changing the password and ending the other sessions."""

from __future__ import annotations

from tests.e2e.conftest import visit


def _log_in(page, axe, email, password):
    visit(page, axe, "/cuenta/ingresar")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("main button[type=submit]")
    assert page.url.endswith("/gestion/")


def test_a_wrong_current_password_is_an_accessible_error_then_the_change_works(page, axe, factory):
    user = factory.user()
    _log_in(page, axe, user.email, factory.password)
    page.set_viewport_size({"width": 320, "height": 800})
    visit(page, axe, "/cuenta/")
    page.fill("#current", "no-es-la-actual")
    page.fill("#password", "una-clave-nueva-larga")
    page.fill("#confirm", "una-clave-nueva-larga")
    page.click("text=Cambiar contraseña")
    assert "La contraseña actual no es correcta." in page.locator(".error-summary").inner_text()
    axe.check(page)
    page.fill("#current", factory.password)
    page.fill("#password", "una-clave-nueva-larga")
    page.fill("#confirm", "una-clave-nueva-larga")
    page.click("text=Cambiar contraseña")
    assert page.url.endswith("/cuenta/")
    assert "Cambió su contraseña" in page.content()
    axe.check(page)


def test_ending_the_other_sessions_logs_out_another_browser_and_keeps_this_one(
        browser, live_server, page, axe, factory):
    user = factory.user()
    _log_in(page, axe, user.email, factory.password)
    phone = browser.new_context(base_url=live_server, locale="es-CL")
    other = phone.new_page()
    try:
        _log_in(other, axe, user.email, factory.password)
        visit(page, axe, "/cuenta/")
        page.click("text=Cerrar las demás sesiones")
        assert "Esta sigue abierta" in page.content()
        axe.check(page)
        other.goto("/cuenta/")
        assert "/cuenta/ingresar" in other.url
        page.goto("/cuenta/")
        assert page.url.endswith("/cuenta/")
    finally:
        phone.close()
