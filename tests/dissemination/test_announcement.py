"""The announcement of a session, its placeholders, and message templates staff write."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from app.activities.models import Modality
from app.conferencing import join_page_accessibility
from app.dissemination.announcement import (
    Announcement,
    MessageTemplateError,
    UnknownPlaceholder,
    announcement_for_session,
    placeholders,
    placeholders_in,
    render_message,
)
from app.extensions import db
from tests.registration import conftest as registration_fixtures
from tests.workshops.conftest import local_in

# The registration tests' fixtures: a published workshop session and its world.
published_session = registration_fixtures.published_session
world = registration_fixtures.world

SANTIAGO = ZoneInfo("America/Santiago")
URL = "https://puentelaboral.cl/c/K7QF2"


def session_of(world: Any, start: datetime | None = None, **session: Any) -> Any:
    """The first session of a published workshop, with these session settings."""
    return world.workshop(publish=True, start=start or local_in(10), session=session).activity.sessions[0]


def make(**kw: Any) -> Announcement:
    values: dict[str, Any] = {
        "title": "Cómo enfrentar una entrevista de trabajo",
        "starts_at": datetime(2030, 12, 3, 10, 0, tzinfo=SANTIAGO),  # a Tuesday
        "ends_at": datetime(2030, 12, 3, 12, 0, tzinfo=SANTIAGO),
        "timezone": "America/Santiago",
        "place": None,
        "online": True,
        "accessibility": ("Subtítulos",),
        "registration_url": URL,
        "office_name": "OMIL Ñuñoa",
        "office_phone": "+56223456789",
        "office_comuna": "Ñuñoa",
    }
    values.update(kw)
    return Announcement(**values)


# --- from a session ---------------------------------------------------------------------------


def test_announcement_of_a_remote_session_is_online_with_local_times(published_session: Any) -> None:
    session = published_session()
    a = announcement_for_session(session, URL, short_code="K7QF2")
    assert a.title == "Cómo enfrentar una entrevista de trabajo"
    assert a.online is True and a.place is None
    assert a.timezone == "America/Santiago"
    assert a.starts_at == session.starts_at and a.starts_at.utcoffset() == session.local_start.utcoffset()
    assert (a.starts_at.hour, a.starts_at.minute) == (10, 0)  # the wall-clock time staff typed
    assert a.office_name == "OMIL Ñuñoa" and a.office_comuna == "Ñuñoa"
    assert a.registration_url == URL and a.short_code == "K7QF2" and a.kind == "workshop"


def test_announcement_of_an_in_person_session_names_venue_address_and_comuna(world: Any) -> None:
    session = session_of(world, modality=Modality.IN_PERSON)
    a = announcement_for_session(session, URL)
    assert a.online is False
    assert a.place == "Sala de capacitación OMIL, Av. Irarrázaval 3550, Ñuñoa"
    assert placeholders(a)["lugar"] == a.place


def test_hybrid_session_is_a_place_or_online(world: Any) -> None:
    a = announcement_for_session(session_of(world, modality=Modality.HYBRID), URL)
    assert a.online is True and a.place
    assert placeholders(a)["lugar"] == f"{a.place} o en línea"


def test_office_phone_comes_from_the_host_office(published_session: Any, world: Any) -> None:
    world.host.phone = "+56223456789"
    db.session.commit()
    assert announcement_for_session(published_session(), URL).office_phone == "+56223456789"


def test_accessibility_comes_from_the_domain_through_the_core_signal(published_session: Any) -> None:
    session = published_session()

    def offers(sender: Any) -> list[str]:
        return ["Subtítulos", " Intérprete de lengua de señas chilena (LSCh) ", "Subtítulos", ""]

    with join_page_accessibility.connected_to(offers):
        a = announcement_for_session(session, URL)
    assert a.accessibility == ("Subtítulos", "Intérprete de lengua de señas chilena (LSCh)")
    assert announcement_for_session(session, URL).accessibility == ()


def test_times_are_shown_in_the_sessions_own_zone(world: Any) -> None:
    session = session_of(world, local_in(10, 9, 30, tz="Pacific/Easter"), tz="Pacific/Easter")
    a = announcement_for_session(session, URL)
    assert a.timezone == "Pacific/Easter"
    assert placeholders(a)["hora"] == "09:30"


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError):
        make(starts_at=datetime(2030, 12, 3, 10, 0))


def test_times_are_converted_to_the_announcements_zone() -> None:
    a = make(starts_at=datetime(2030, 12, 3, 13, 0, tzinfo=ZoneInfo("UTC")))
    assert a.starts_at.hour == 10 and str(a.starts_at.tzinfo) == "America/Santiago"


# --- placeholders ------------------------------------------------------------------------------


def test_placeholders_say_day_time_place_and_link() -> None:
    values = placeholders(make(), today=date(2030, 6, 1))
    assert values == {"titulo": "Cómo enfrentar una entrevista de trabajo", "fecha": "martes 3 de diciembre",
                      "hora": "10:00", "lugar": "en línea", "enlace": URL}


def test_the_date_has_its_year_when_it_is_not_this_year() -> None:
    assert placeholders(make(), today=date(2029, 12, 1))["fecha"] == "martes 3 de diciembre de 2030"


def test_render_message_fills_every_placeholder_and_keeps_doubled_braces() -> None:
    text = render_message("{titulo}: {fecha} a las {hora}, {lugar}. Inscríbase en {enlace} {{gratis}}", make())
    assert text.startswith("Cómo enfrentar una entrevista de trabajo: martes 3 de diciembre")
    assert "a las 10:00, en línea. Inscríbase en https://puentelaboral.cl/c/K7QF2 {gratis}" in text


def test_render_message_accepts_the_accented_and_capitalised_spelling() -> None:
    assert render_message("{título} / {TITULO}", make(title="Taller")) == "Taller / Taller"


@pytest.mark.parametrize("field", [
    "{desconocido}", "{0}", "{}", "{titulo.__class__}", "{titulo.__class__.__mro__}", "{titulo[0]}",
    "{titulo!r}", "{titulo:>99999999}", "{titulo:{fecha}}", "{enlace.__globals__}", "{ titulo }",
])
def test_a_placeholder_that_does_not_exist_is_refused_and_named(field: str) -> None:
    with pytest.raises(UnknownPlaceholder) as err:
        render_message(f"Hola {field} chao", make())
    assert err.value.placeholder == field
    assert field in str(err.value) and "{titulo}" in str(err.value)
    assert isinstance(err.value, ValueError)


@pytest.mark.parametrize("template", ["Hola {titulo", "Hola } chao", "{titulo}}"])
def test_an_unpaired_brace_is_a_clear_error(template: str) -> None:
    with pytest.raises(MessageTemplateError) as err:
        render_message(template, make())
    assert not isinstance(err.value, UnknownPlaceholder)
    assert "{{" in str(err.value)


def test_placeholders_in_lists_what_a_template_uses_without_an_announcement() -> None:
    assert placeholders_in("{enlace} {titulo} {enlace} {{x}}") == ["enlace", "titulo"]
    with pytest.raises(UnknownPlaceholder):
        placeholders_in("{nombre}")


def test_values_are_not_read_as_templates() -> None:
    a = make(title="{enlace} {0.__class__}")
    assert render_message("«{titulo}»", a) == "«{enlace} {0.__class__}»"
