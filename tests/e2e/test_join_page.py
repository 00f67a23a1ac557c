"""A jobseeker opens the join page on a phone before, during and after the join window; the
facilitator sees them join on the host page."""

from __future__ import annotations

from datetime import timedelta

from app.extensions import db
from app.registration import services as registration_services
from app.timeutil import utcnow
from tests.e2e.conftest import visit
from tests.e2e.test_staff_flows import log_in
from tests.registration.conftest import person_input
from tests.workshops.conftest import WorkshopWorld, local_in


def _move(session, starts_in: timedelta) -> None:
    session.starts_at = utcnow() + starts_in
    session.ends_at = session.starts_at + timedelta(hours=2)
    db.session.commit()


def test_the_join_button_opens_with_the_window_and_the_host_sees_who_joined(browser, live_server, axe, factory):
    world = WorkshopWorld(factory)
    workshop = world.workshop(publish=True, start=local_in(5),
                              session={"join_url": "https://us02web.zoom.us/j/987654321"})
    session = workshop.activity.sessions[0]
    reg = registration_services.register(session.id, person_input(801, first_names="Rosa")).registration
    token = registration_services.personal_token(reg)

    # The facilitator has the host page open before anyone joins.
    host = browser.new_context(base_url=live_server, locale="es-CL")
    host_page = host.new_page()
    log_in(host_page, axe, world.host_staff.email, factory.password)
    visit(host_page, axe, f"/gestion/sesiones/{session.id}/conexion")
    assert "Nadie se ha conectado todavía." in host_page.content()

    context = browser.new_context(base_url=live_server, locale="es-CL", viewport={"width": 360, "height": 740})
    page = context.new_page()
    # Before the window: the button is there but disabled, and no link is on the page.
    _move(session, timedelta(hours=3))
    visit(page, axe, f"/inscripcion/{token}/conectarse")
    assert page.locator("main button:has-text('Entrar a la sesión')").is_disabled()
    assert "us02web.zoom.us" not in page.content()  # the meeting's address (Zoom's test page may show)
    # During the window: joining records attendance and goes to the provider.
    _move(session, timedelta(minutes=5))
    visit(page, axe, f"/inscripcion/{token}/conectarse")
    context.route("https://us02web.zoom.us/**", lambda route: route.fulfill(status=200, body="zoom"))
    # Zoom (without the Meeting SDK), Meet and Teams refuse to be framed: a new tab opens.
    with page.expect_popup() as popup:
        page.click("main button:has-text('Entrar a la sesión')")
    popup.value.wait_for_url("https://us02web.zoom.us/**")
    popup.value.close()
    db.session.expire_all()
    assert db.session.get(type(reg), reg.id).joined_at is not None
    # The facilitator's list shows her without reloading (it refreshes itself every 10 s).
    host_page.locator("#joined-list").get_by_text("Rosa").wait_for(timeout=20_000)
    axe.check(host_page)
    host.close()
    # After the end: no button.
    _move(session, timedelta(hours=-3))
    visit(page, axe, f"/inscripcion/{token}/conectarse")
    assert "La sesión ya terminó." in page.content()
    context.close()
