"""The person's own pages after registering: every registration listed with its actions,
changing date in one step, cancelling (asked once, then other dates), calendar buttons."""

from __future__ import annotations

import html
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from icalendar import Calendar

from app.activities.models import ActivitySession
from app.extensions import db
from app.registration import self_service, services
from app.registration.models import Registration, RegistrationStatus
from app.timeutil import utcnow
from tests.conftest import csrf_from
from tests.registration.conftest import person_input, register_as_person
from tests.workshops.conftest import local_in


def page_of(reg: Registration, suffix: str = "") -> str:
    return f"/inscripcion/{services.personal_token(reg)}{suffix}"


def text(resp: Any) -> str:
    return html.unescape(resp.get_data(as_text=True))


def dates(world: Any, count: int = 3, capacity: int = 5, days: int = 10) -> list[ActivitySession]:
    return list(world.workshop(count=count, publish=True, start=local_in(days),
                               session={"capacity": capacity}).activity.sessions)


# --- the personal page ----------------------------------------------------------------------


def test_the_personal_page_lists_every_registration_upcoming_soonest_first_then_past(client, world):
    later = dates(world, count=1, days=20)[0]
    sooner = world.workshop(publish=True, start=local_in(5), title="Entrevista laboral").activity.sessions[0]
    past = world.workshop(publish=True, start=local_in(8), title="Currículum").activity.sessions[0]
    reg = services.register(later.id, person_input(1)).registration
    # Her later registrations: a known document is held until she confirms from her message.
    register_as_person(sooner.id, person_input(1))
    register_as_person(past.id, person_input(1))
    past.starts_at, past.ends_at = utcnow() - timedelta(days=2, hours=2), utcnow() - timedelta(days=2)
    db.session.commit()
    page = text(client.get(page_of(reg)))
    upcoming, rest = page.split("Anteriores")
    assert upcoming.index("Entrevista laboral") < upcoming.index(later.activity.title)
    assert "Currículum" in rest and "Currículum" not in upcoming


def test_each_registration_has_its_own_actions(client, world):
    a = dates(world, count=2)[0]
    b = world.workshop(publish=True, start=local_in(12), title="Entrevista laboral").activity.sessions[0]
    reg_a = services.register(a.id, person_input(1)).registration
    reg_b = register_as_person(b.id, person_input(1))
    assert reg_b.person_id == reg_a.person_id and reg_b.status == RegistrationStatus.CONFIRMED
    page = text(client.get(page_of(reg_a)))
    for reg in (reg_a, reg_b):
        assert page_of(reg, "/cancelar") in page and page_of(reg, "/invitacion.ics") in page
        assert page_of(reg, "/conectarse") in page
    assert page_of(reg_a, "/cambiar-fecha") in page  # its workshop has another date
    assert page_of(reg_b, "/cambiar-fecha") not in page  # a single date: no dead end offered
    assert "<script" not in page


def test_the_personal_page_weighs_less_than_60_kb_with_many_registrations(client, world):
    sessions = dates(world, count=8)
    regs = [register_as_person(s.id, person_input(1)) for s in sessions]
    assert len({r.id for r in regs}) == 8 and {r.person_id for r in regs} == {regs[0].person_id}
    resp = client.get(page_of(regs[-1]))
    assert resp.status_code == 200 and len(resp.data) < 60_000


# --- calendar ---------------------------------------------------------------------------------


def test_calendar_buttons_for_google_outlook_and_apple_never_say_ics(client, world):
    s = dates(world, count=1)[0]
    reg = services.register(s.id, person_input(1)).registration
    page = text(client.get(page_of(reg)))
    assert "Agregar a mi calendario" in page
    for label in ("Google Calendar", "Outlook.com", "Apple / otro calendario"):
        assert label in page
    visible = page.replace(page_of(reg, "/invitacion.ics"), "")
    assert ".ics" not in visible


def test_google_and_outlook_links_carry_the_time_and_the_join_page(app, world):
    s = dates(world, count=1)[0]
    reg = services.register(s.id, person_input(1)).registration
    links = self_service.calendar_links(reg)
    g = parse_qs(urlsplit(links.google).query)
    assert urlsplit(links.google).netloc == "calendar.google.com"
    assert g["text"] == [s.activity.title]
    assert g["dates"] == [f"{s.starts_at:%Y%m%dT%H%M%SZ}/{s.ends_at:%Y%m%dT%H%M%SZ}"]
    assert g["ctz"] == ["America/Santiago"]
    assert self_service.join_page_url(reg) in g["details"][0]
    o = parse_qs(urlsplit(links.outlook).query)
    assert urlsplit(links.outlook).netloc == "outlook.live.com"
    assert o["startdt"] == [s.local_start.isoformat()] and o["enddt"] == [s.local_end.isoformat()]
    assert self_service.join_page_url(reg) in o["body"][0]


def test_the_calendar_file_has_the_join_page_and_an_alarm(client, world):
    s = dates(world, count=1)[0]
    reg = services.register(s.id, person_input(1)).registration
    cal = Calendar.from_ical(client.get(page_of(reg, "/invitacion.ics")).data)
    event = cal.events[0]
    assert self_service.join_page_url(reg) in str(event["DESCRIPTION"])
    alarms = [c for c in event.subcomponents if c.name == "VALARM"]
    assert len(alarms) == 1 and alarms[0]["TRIGGER"].dt == -services.CALENDAR_ALARM
    assert str(alarms[0]["ACTION"]) == "DISPLAY"


def test_a_cancellation_invitation_carries_no_alarm(world):
    s = dates(world, count=1)[0]
    reg = services.register(s.id, person_input(1)).registration
    cal = Calendar.from_ical(services.invitation_ics(reg, "CANCEL"))
    assert not [c for c in cal.events[0].subcomponents if c.name == "VALARM"]


# --- cancelling -------------------------------------------------------------------------------


def test_cancelling_asks_once_then_offers_the_other_dates(client, world):
    first, second, third = dates(world)
    reg = services.register(first.id, person_input(1)).registration
    confirm = client.get(page_of(reg, "/cancelar"))
    assert confirm.status_code == 200
    page = text(confirm)
    assert "Su cupo pasará a otra persona." in page and 'class="button button--warning"' in page
    db.session.refresh(reg)
    assert reg.status == RegistrationStatus.CONFIRMED  # asking changed nothing
    resp = client.post(page_of(reg, "/cancelar"), data={"csrf_token": csrf_from(page)})
    assert resp.status_code == 303 and resp.headers["Location"].endswith(page_of(reg, "/cambiar-fecha"))
    offer = text(client.get(resp.headers["Location"]))
    assert "Su inscripción quedó cancelada" in offer
    assert "¿Quiere inscribirse en otra fecha?" in offer
    assert f'value="{second.id}"' in offer and f'value="{third.id}"' in offer
    db.session.refresh(reg)
    assert reg.status == RegistrationStatus.CANCELLED


def test_after_cancelling_one_click_registers_for_another_date(client, world):
    first, second, _third = dates(world)
    reg = services.register(first.id, person_input(1)).registration
    services.cancel(reg)
    offer = text(client.get(page_of(reg, "/cambiar-fecha")))
    resp = client.post(page_of(reg, "/cambiar-fecha"), data={"csrf_token": csrf_from(offer), "sesion": second.id})
    assert resp.status_code == 303
    new = db.session.query(Registration).filter_by(session_id=second.id).one()
    assert new.status == RegistrationStatus.CONFIRMED
    assert "Listo: su inscripción quedó confirmada" in text(client.get(resp.headers["Location"]))


def test_a_started_session_can_no_longer_be_cancelled_or_changed_from_the_link(client, world):
    s = dates(world, count=2)[0]
    reg = services.register(s.id, person_input(1)).registration
    s.starts_at = utcnow() - timedelta(minutes=10)
    db.session.commit()
    page = text(client.get(page_of(reg)))
    assert page_of(reg, "/cancelar") not in page and page_of(reg, "/cambiar-fecha") not in page
    assert client.get(page_of(reg, "/cancelar")).status_code == 303


# --- changing date ----------------------------------------------------------------------------


def test_change_date_in_one_step(client, world):
    first, second, _third = dates(world)
    reg = services.register(first.id, person_input(1)).registration
    page = text(client.get(page_of(reg, "/cambiar-fecha")))
    assert "Cambiar de fecha" in page and f'value="{first.id}"' not in page
    resp = client.post(page_of(reg, "/cambiar-fecha"), data={"csrf_token": csrf_from(page), "sesion": second.id})
    assert resp.status_code == 303
    db.session.expire_all()
    new = db.session.query(Registration).filter_by(session_id=second.id).one()
    assert resp.headers["Location"].endswith(page_of(new))
    assert db.session.get(Registration, reg.id).status == RegistrationStatus.CANCELLED
    assert "Listo: su inscripción quedó confirmada" in text(client.get(resp.headers["Location"]))


def test_a_date_that_filled_up_meanwhile_leaves_the_person_where_they_were_and_says_so(client, world):
    first, second, _third = dates(world, capacity=1)
    reg = services.register(first.id, person_input(1)).registration
    page = text(client.get(page_of(reg, "/cambiar-fecha")))
    services.register(second.id, person_input(2))  # someone else takes the last seat
    resp = client.post(page_of(reg, "/cambiar-fecha"), data={"csrf_token": csrf_from(page), "sesion": second.id})
    assert resp.status_code == 409
    answer = text(resp)
    assert "Esa fecha ya no tiene cupos. Su inscripción sigue como estaba." in answer
    assert "Anotarme en la lista de espera" in answer and "perderá el cupo que tiene ahora" in answer
    db.session.expire_all()
    assert db.session.get(Registration, reg.id).status == RegistrationStatus.CONFIRMED
    # Choosing the waitlist explicitly moves there.
    resp = client.post(page_of(reg, "/cambiar-fecha"),
                       data={"csrf_token": csrf_from(answer), "sesion": second.id, "espera": "si"})
    assert resp.status_code == 303
    assert "lista de espera" in text(client.get(resp.headers["Location"]))


def test_change_date_refuses_a_date_of_another_workshop_or_nonsense(client, world):
    first, _second, _third = dates(world)
    other = world.workshop(publish=True, start=local_in(11)).activity.sessions[0]
    reg = services.register(first.id, person_input(1)).registration
    token = csrf_from(text(client.get(page_of(reg, "/cambiar-fecha"))))
    assert client.post(page_of(reg, "/cambiar-fecha"), data={"csrf_token": token, "sesion": other.id}
                       ).status_code == 404
    assert client.post(page_of(reg, "/cambiar-fecha"), data={"csrf_token": token, "sesion": "x"}).status_code == 400
    db.session.expire_all()
    assert db.session.get(Registration, reg.id).status == RegistrationStatus.CONFIRMED


def test_the_personal_page_leads_to_the_optional_extras(client, world, published_session):
    """A newcomer's link arrives by message; the optional second page is one tap from it."""
    reg = register_as_person(published_session().id, person_input(77))
    token = services.personal_token(reg)
    body = client.get(f"/inscripcion/{token}").get_data(as_text=True)
    assert f"/inscripcion/{token}/mas-datos" in body
