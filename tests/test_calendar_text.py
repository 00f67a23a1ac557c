"""Calendar text properties are escaped and folded whatever a title or a name holds: a line
break, a comma, a semicolon, a backslash, a control character. Titles saved before one-line
fields were normalised still give a valid file, and their registrants still get their invitation."""

from __future__ import annotations

from typing import Any

import pytest
from icalendar import Calendar
from sqlalchemy import select

from app.activities.models import Modality
from app.calendar import Attendee, build_calendar
from app.extensions import db
from app.outbox.models import OutboxMessage
from app.outbox.rendering import render
from app.registration import services as registration
from tests.registration.conftest import person_input
from tests.workshops.conftest import WorkshopWorld, local_in

RAW_TITLE = "Línea uno\r\nLínea dos, tres; cuatro \\ cinco\x0b"
ONE_LINE = "Línea uno Línea dos, tres; cuatro \\ cinco"


@pytest.fixture
def world(factory: Any) -> WorkshopWorld:
    return WorkshopWorld(factory)


@pytest.fixture
def legacy(world: WorkshopWorld) -> Any:
    """A published workshop whose title, description and venue were stored before the
    normalisers existed (written to the row directly, as old data is)."""
    w = world.workshop(publish=True, start=local_in(10), session={"modality": Modality.IN_PERSON})
    w.activity.title = RAW_TITLE
    w.activity.description = "Primera línea\r\nSegunda; con coma, y \\ barra\x07"
    session = w.activity.sessions[0]
    session.venue_name = "Sala\n1, piso 2; ala \\ norte"
    world.host.name = "OMIL\r\nÑuñoa"
    db.session.commit()
    return w


def calname(ics: bytes) -> str:
    """X-WR-CALNAME read as the TEXT it is: icalendar keeps an unknown X- property's value as
    written (escaped) unless told its type, as calendar programs know it."""
    typed = ics.replace(b"\r\nX-WR-CALNAME:", b"\r\nX-WR-CALNAME;VALUE=TEXT:")
    return str(Calendar.from_ical(typed)["X-WR-CALNAME"])


def _physical_lines_fit(ics: bytes) -> bool:
    return all(len(line) <= 75 for line in ics.split(b"\r\n"))


def test_every_text_property_round_trips_through_icalendar(legacy):
    session = legacy.activity.sessions[0]
    ics = build_calendar([session], name=RAW_TITLE, url_for_session=lambda _s: "https://example.cl/x",
                         method="REQUEST", attendee=Attendee(email="ana@example.cl", name="Ana\r\nRojas; \"A\""))
    assert b"\n" not in ics.replace(b"\r\n", b"") and b"\x0b" not in ics and b"\x07" not in ics
    assert _physical_lines_fit(ics)
    cal = Calendar.from_ical(ics)
    assert calname(ics) == ONE_LINE
    event = cal.walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == ONE_LINE
    assert str(event["LOCATION"]).startswith("Sala 1, piso 2; ala \\ norte")
    assert "Primera línea\nSegunda; con coma, y \\ barra" in str(event["DESCRIPTION"])
    assert event["ORGANIZER"].params["CN"] == "OMIL Ñuñoa"
    assert event["ATTENDEE"].params["CN"] == 'Ana Rojas; "A"'


def test_the_public_file_of_a_workshop_with_a_line_break_in_its_title_is_served(client, legacy):
    resp = client.get(f"/talleres/{legacy.activity.slug}.ics")
    assert resp.status_code == 200
    assert calname(resp.data) == ONE_LINE


def test_registrants_of_such_a_workshop_still_get_their_invitation(legacy):
    session = legacy.activity.sessions[0]
    registration.register(session.id, person_input(1))
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "registration_confirmation"))
    assert message is not None
    rendered = render(message)
    assert rendered is not None
    (attachment,) = rendered.attachments
    event = Calendar.from_ical(attachment.content).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == ONE_LINE
