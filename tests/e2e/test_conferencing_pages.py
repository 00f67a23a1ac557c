"""Staff pages of video rooms in a browser: the office's credentials (with a refused input) and
the session's room panel, axe-clean and usable at 320 px."""

from __future__ import annotations

from tests.e2e.conftest import visit
from tests.e2e.test_staff_flows import log_in
from tests.workshops.conftest import WorkshopWorld, local_in

# What sticks out of a narrow screen (for the failure message).
WIDE = """() => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right
    > window.innerWidth + 1 || e.scrollWidth > e.clientWidth + 1).map(e => e.tagName + '#' + e.id + '.'
    + e.className + ' ' + e.scrollWidth + '/' + e.clientWidth).slice(0, 8)"""


def test_office_video_credentials_and_the_room_panel_are_accessible(page, axe, factory):
    world = WorkshopWorld(factory)
    workshop = world.workshop(publish=True, start=local_in(6))
    session = workshop.activity.sessions[0]
    log_in(page, axe, world.host_staff.email, factory.password)
    page.set_viewport_size({"width": 320, "height": 640})
    visit(page, axe, f"/gestion/oficinas/{world.host.id}/videoconferencia")
    page.fill("#zoom-account_id", "cuenta con espacios <script>")
    page.click("main button:has-text('Guardar credenciales de Zoom')")
    page.locator(".error-summary").wait_for()
    axe.check(page)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), page.evaluate(WIDE)
    visit(page, axe, f"/gestion/sesiones/{session.id}/conexion")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), page.evaluate(WIDE)
