"""Staff flows in a real browser."""

from __future__ import annotations

from tests.e2e.conftest import visit


def log_in(page, axe, email, password):
    visit(page, axe, "/cuenta/ingresar")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("main button[type=submit]")


def test_wrong_password_shows_an_accessible_error_summary(page, axe, factory):
    user = factory.user()
    log_in(page, axe, user.email, "no-es-esta-clave")
    assert page.locator(".error-summary").is_visible()
    assert "no son correctos" in page.locator(".error-summary").inner_text()
    axe.check(page)


def test_staff_logs_in_and_creates_an_api_token(page, axe, factory):
    user = factory.user()
    log_in(page, axe, user.email, factory.password)
    assert page.url.endswith("/gestion/"), page.content()[-3000:]
    axe.check(page)
    visit(page, axe, "/cuenta/")
    page.fill("#name", "planilla de asistencia")
    page.click("text=Crear token")
    assert page.locator("#new-token").inner_text().startswith("pl_")
    axe.check(page)
