"""After registering, on a small phone (320 and 360 px): from the personal link the person
sees the calendar buttons, changes to another date in one step, then cancels (asked once) and
is offered the other dates. Every page is checked with axe-core and must not scroll sideways."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from app.extensions import db
from app.registration import services
from app.registration.models import Registration, RegistrationStatus
from tests.e2e.conftest import visit
from tests.registration.conftest import person_input
from tests.workshops.conftest import WorkshopWorld, local_in

SHOTS = os.environ.get("E2E_SCREENSHOTS")  # a folder: save what the person sees, to look at


def _fits(page: Any) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px"


def _shot(page: Any, name: str, width: int) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{width}-{name}.png"), full_page=True)


@pytest.mark.parametrize("width", [320, 360])
def test_from_the_personal_link_change_date_then_cancel_and_see_other_dates(browser, live_server, axe, factory,
                                                                            width):
    world = WorkshopWorld(factory)
    first, second, third = world.workshop(count=3, publish=True, start=local_in(9),
                                          session={"capacity": 2}).activity.sessions
    reg = services.register(first.id, person_input(width, first_names="Rosa")).registration
    context = browser.new_context(base_url=live_server, locale="es-CL", viewport={"width": width, "height": 740})
    page = context.new_page()

    visit(page, axe, f"/inscripcion/{services.personal_token(reg)}")
    _fits(page)
    _shot(page, "1-personal", width)
    for label in ("Google Calendar", "Outlook.com", "Apple / otro calendario"):
        assert page.get_by_role("link", name=label).is_visible()
    assert ".ics" not in page.inner_text("main")

    # Change date: one click on the date wanted.
    page.click("main a:has-text('Cambiar de fecha')")
    axe.check(page)
    _fits(page)
    _shot(page, "2-change-date", width)
    page.locator("main li.registration-item").nth(0).locator("button").click()
    axe.check(page)
    _fits(page)
    assert "Listo: su inscripción quedó confirmada" in page.content()
    db.session.expire_all()
    moved = db.session.query(Registration).filter_by(session_id=second.id).one()
    assert moved.status == RegistrationStatus.CONFIRMED
    assert db.session.get(Registration, reg.id).status == RegistrationStatus.CANCELLED

    # Cancel: asked once, then the other dates are offered.
    page.locator("main ul.registration-list").first.locator("a:has-text('Cancelar mi inscripción')").click()
    axe.check(page)
    _fits(page)
    _shot(page, "3-cancel", width)
    assert "Su cupo pasará a otra persona." in page.content()
    page.click("main button:has-text('Sí, cancelar mi inscripción')")
    axe.check(page)
    _fits(page)
    _shot(page, "4-other-dates", width)
    assert "Su inscripción quedó cancelada" in page.content()
    assert page.locator("main button:has-text('Inscribirme en esta fecha')").count() == 2  # first and third
    db.session.expire_all()
    assert db.session.get(Registration, moved.id).status == RegistrationStatus.CANCELLED
    context.close()


@pytest.mark.parametrize("width", [320, 360])
def test_the_join_page_names_the_platform_on_a_small_phone(browser, live_server, axe, factory, width):
    world = WorkshopWorld(factory)
    session = world.workshop(publish=True, start=local_in(3),
                             session={"join_url": "https://us02web.zoom.us/j/987654321"}).activity.sessions[0]
    reg = services.register(session.id, person_input(900 + width)).registration
    context = browser.new_context(base_url=live_server, locale="es-CL", viewport={"width": width, "height": 740})
    page = context.new_page()
    visit(page, axe, f"/inscripcion/{services.personal_token(reg)}/conectarse")
    _fits(page)
    _shot(page, "5-join", width)
    assert page.locator("main button:has-text('Entrar a la sesión')").is_disabled()
    assert "Se activa a las" in page.inner_text("main")
    assert page.get_by_role("link", name="Probar Zoom ahora").is_visible()
    context.close()
