"""The jobseeker's path on a cheap phone (320 and 360 px): one short step holds the seat with
only a phone, the extras come after, a whole series in one submission; every page axe-clean,
44-px touch targets, errors focused at the top, and the form works without JavaScript."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from app.extensions import db
from app.outbox.models import OutboxMessage
from app.outbox.rendering import render_now
from app.people.models import Channel, Connectivity, Person
from app.registration import services
from app.registration.models import Registration, RegistrationStatus
from tests.e2e.conftest import visit
from tests.registration.conftest import make_rut
from tests.workshops.conftest import WorkshopWorld, local_in

WIDTHS = [320, 360]


def phone_page(browser: Any, live_server: str, width: int, *, js: bool = True) -> tuple[Any, Any]:
    context = browser.new_context(base_url=live_server, locale="es-CL", java_script_enabled=js,
                                  viewport={"width": width, "height": 740}, has_touch=True, is_mobile=True)
    return context, context.new_page()


def fill_the_short_form(page: Any, n: int, phone: str = "9 8765 4321") -> None:
    """Names, document and a phone (the comuna is pre-filled), and the consent."""
    page.fill("#first_names", "Rosa")
    page.fill("#last_names", "Quispe Mamani")
    page.fill("#document_number", make_rut(n))
    page.fill("#phone", phone)
    page.get_by_label("Acepto que la oficina use mis datos").check()


def the_answer(page: Any) -> None:
    """Every public submission gets the same page; the personal link comes only by message."""
    page.get_by_role("heading", name="Revise sus mensajes").wait_for()
    assert page.locator("main a[href*='/inscripcion/']:not([href*='/inscripcion/sesion/'])").count() == 0
    assert page.locator("main form").count() == 0  # no extras on screen


def message_body(recipient: str, kind: str) -> str:
    db.session.expire_all()
    [msg] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == recipient,
                                                            OutboxMessage.kind == kind)).all()
    body = render_now(msg).body_text
    db.session.commit()
    return body


def no_overflow(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def small_targets(page: Any) -> list[str]:
    """Radios, checkboxes (with their label), buttons and text boxes under 44 px."""
    return page.evaluate("""() => {
      const out = [];
      for (const el of document.querySelectorAll('main input, main select, main button, main textarea')) {
        if (el.type === 'hidden' || el.hidden || el.closest('[hidden]')) continue;
        let box = el.getBoundingClientRect();
        if (el.type === 'checkbox' || el.type === 'radio') {
          const row = el.closest('.checkbox');
          box = row ? row.getBoundingClientRect() : box;
        }
        const name = el.id || el.name || el.textContent.trim();
        if (box.height < 44 || box.width < 44) out.push(`${name} ${Math.round(box.width)}x${Math.round(box.height)}`);
      }
      return out;
    }""")


@pytest.mark.parametrize("width", WIDTHS)
def test_a_phone_only_person_registers_in_one_step_then_adds_the_extras(browser, live_server, axe, factory, width):
    world = WorkshopWorld(factory)
    session = world.workshop(publish=True, start=local_in(9)).activity.sessions[0]
    context, page = phone_page(browser, live_server, width)
    visit(page, axe, f"/inscripcion/sesion/{session.id}")
    no_overflow(page)
    assert small_targets(page) == []
    assert page.input_value("#comuna_code") == "Ñuñoa"  # the host office's comuna, as a type-ahead
    for name in ("connectivity", "soft_skills", "needs_subtitles"):
        assert page.locator(f"[name={name}]").count() == 0
    fill_the_short_form(page, 801)
    page.get_by_role("button", name="Inscribirme").click()
    the_answer(page)
    axe.check(page)
    no_overflow(page)
    assert "+5698****4321" in page.inner_text("main")  # the phone typed, masked
    db.session.expire_all()
    person = db.session.scalar(select(Person))
    assert person.preferred_channel == Channel.WHATSAPP and person.email is None
    body = message_body("+56987654321", "registration_confirmation")
    link = re.search(r"https?://[^/\s]+(/inscripcion/[^\s/]+)", body).group(1)
    reg = db.session.scalar(select(Registration))
    assert link == f"/inscripcion/{services.personal_token(reg)}" and reg.status == RegistrationStatus.CONFIRMED

    # The optional second page, behind the personal link of the message: nothing here was needed for the seat.
    visit(page, axe, f"{link}/mas-datos")
    no_overflow(page)
    assert small_targets(page) == []
    page.get_by_label("Intérprete de lengua de señas chilena").check()
    page.get_by_label("Solo datos del celular").check()
    page.get_by_role("button", name="Guardar").click()
    page.wait_for_url("**/inscripcion/*")
    axe.check(page)
    assert "Guardamos sus datos" in page.content()
    db.session.expire_all()
    person = db.session.scalar(select(Person))
    assert person.needs_sign_language and person.connectivity == Connectivity.MOBILE_ONLY
    context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_a_person_registers_for_a_whole_series_in_one_submission(browser, live_server, axe, factory, width):
    world = WorkshopWorld(factory)
    sessions = world.workshop(publish=True, count=4, start=local_in(9), session={"capacity": 1}).activity.sessions
    session_ids = [s.id for s in sessions]
    context, page = phone_page(browser, live_server, width)
    # Someone holds the only seat of the third date already.
    other_context, other = phone_page(browser, live_server, width)
    other.goto(f"/inscripcion/sesion/{session_ids[2]}")
    fill_the_short_form(other, 901, phone="9 8123 4567")
    other.get_by_role("button", name="Inscribirme solo en las fechas marcadas").click()
    the_answer(other)
    other_context.close()
    db.session.expire_all()
    assert [r.session_id for r in db.session.scalars(select(Registration))] == [session_ids[2]]

    visit(page, axe, f"/inscripcion/sesion/{session_ids[0]}")
    assert small_targets(page) == [] and page.locator("input[name=sessions]").count() == 4
    no_overflow(page)
    fill_the_short_form(page, 902)
    page.get_by_role("button", name="Inscribirme en todas las fechas").click()
    the_answer(page)
    axe.check(page)
    no_overflow(page)
    assert "+5698****4321" in page.inner_text("main")
    db.session.expire_all()
    mine = db.session.scalars(select(Registration).join(Person).where(
        Person.document_number == make_rut(902).replace(".", "")).order_by(Registration.session_id)).all()
    assert [(r.session_id, r.status) for r in mine] == [
        (sid, RegistrationStatus.WAITLISTED if sid == session_ids[2] else RegistrationStatus.CONFIRMED)
        for sid in session_ids]
    # One message lists every date, with its own personal link.
    body = message_body("+56987654321", "registration_series")
    assert body.count("confirmada") == 3 and "lista de espera, lugar 1" in body
    for reg in mine:
        assert f"/inscripcion/{services.personal_token(reg)}" in body
    context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_errors_are_summarised_and_focused_and_what_was_typed_stays(browser, live_server, axe, factory, width):
    world = WorkshopWorld(factory)
    session = world.workshop(publish=True, start=local_in(9)).activity.sessions[0]
    context, page = phone_page(browser, live_server, width)
    visit(page, axe, f"/inscripcion/sesion/{session.id}")
    page.fill("#first_names", "Rosa")
    page.fill("#document_number", "12.345.678-9")
    page.get_by_role("button", name="Inscribirme").click()
    page.locator(".error-summary").wait_for()
    axe.check(page)
    assert page.evaluate("document.activeElement.classList.contains('error-summary')")
    assert page.evaluate("document.querySelector('.error-summary').getBoundingClientRect().top >= 0")
    assert page.input_value("#first_names") == "Rosa" and page.input_value("#document_number") == "12.345.678-9"
    page.get_by_role("link", name="Escriba sus apellidos.").click()
    assert page.evaluate("location.hash") == "#last_names"
    context.close()


def test_the_comuna_type_ahead_finds_a_comuna_without_accents(browser, live_server, axe, factory):
    world = WorkshopWorld(factory)
    session = world.workshop(publish=True, start=local_in(9)).activity.sessions[0]
    context, page = phone_page(browser, live_server, 360)
    visit(page, axe, f"/inscripcion/sesion/{session.id}?comuna=13101")
    assert page.input_value("#comuna_code") == "Santiago"
    page.fill("#comuna_code", "penalolen")
    assert page.eval_on_selector("select[name=comuna_code]", "s => s.value") == "13122"
    context.close()


def test_without_javascript_the_form_is_a_plain_form_that_works(browser, live_server, axe, factory):
    world = WorkshopWorld(factory)
    session = world.workshop(publish=True, start=local_in(9)).activity.sessions[0]
    context, page = phone_page(browser, live_server, 320, js=False)
    page.goto(f"/inscripcion/sesion/{session.id}")
    assert page.locator("select#comuna_code").is_visible()
    page.select_option("#comuna_code", "13122")
    fill_the_short_form(page, 903)
    page.get_by_role("button", name="Inscribirme").click()
    the_answer(page)
    db.session.expire_all()
    assert db.session.scalar(select(Person.comuna_code)) == "13122"
    assert db.session.scalar(select(Registration.status)) == RegistrationStatus.CONFIRMED
    context.close()
