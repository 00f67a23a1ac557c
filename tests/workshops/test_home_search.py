"""The home page: a comuna search tolerant of missing accents, and what each card says about seats."""

from __future__ import annotations

import re

from sqlalchemy import event

from app.activities.models import Modality
from app.extensions import db
from app.registration import services as registration_services
from tests.registration.conftest import person_input
from tests.workshops.conftest import WorkshopWorld, local_in


def in_person(comuna: str, **kw):
    return {"modality": Modality.IN_PERSON, "comuna_code": comuna, **kw}


def section(html: str, heading_id: str) -> str:
    start = html.index(f'id="{heading_id}"')
    end = html.find("</section>", start)
    return html[start:end]


def fill(session, n: int, start: int = 0) -> None:
    for i in range(n):
        registration_services.register(session.id, person_input(start + i + 1))
    db.session.expire_all()  # seats are counted by an UPDATE the identity map does not see


def test_nunoa_typed_without_accents_shows_its_sessions_then_online_then_nearby(client, factory):
    world = WorkshopWorld(factory)
    world.workshop(publish=True, title="Presencial en Ñuñoa", session=in_person("13120"))
    world.workshop(publish=True, title="Abierto a todo Chile")  # remote
    world.workshop(publish=True, title="Presencial en Macul", session=in_person("13118"))
    world.workshop(publish=True, title="Presencial en Valparaíso", session=in_person("05101"))
    html = client.get("/?comuna=nunoa").get_data(as_text=True)
    assert 'value="Ñuñoa"' in html
    here, online, near = section(html, "h-here"), section(html, "h-online"), section(html, "h-nearby")
    assert "Presencial en Ñuñoa" in here and "Abierto a todo Chile" not in here
    assert "Abierto a todo Chile" in online
    assert "Presencial en Macul" in near and "Presencial en Ñuñoa" not in near
    assert "Presencial en Valparaíso" not in html
    assert html.index('id="h-here"') < html.index('id="h-online"') < html.index('id="h-nearby"')


def test_online_sessions_show_even_for_a_comuna_with_nothing_in_person(client, factory):
    world = WorkshopWorld(factory)
    world.workshop(publish=True, title="Abierto a todo Chile")
    html = client.get("/?comuna=Ollague").get_data(as_text=True)
    assert "Por ahora no hay talleres presenciales en Ollagüe" in html
    assert "Abierto a todo Chile" in section(html, "h-online")


def test_a_result_card_links_to_the_form_with_the_comuna_filled_in(client, factory):
    world = WorkshopWorld(factory)
    w = world.workshop(publish=True)
    html = client.get("/?comuna=13120").get_data(as_text=True)
    assert f"/inscripcion/sesion/{w.activity.sessions[0].id}?comuna=13120" in html


def test_several_matching_comunas_are_offered_to_choose(client, factory):
    html = client.get("/?comuna=los").get_data(as_text=True)
    assert "¿Cuál de estas comunas?" in html
    assert "/?comuna=05301" in html  # Los Andes, offered as a link by its code
    assert "/?comuna=08301" in html  # Los Ángeles
    assert 'id="h-here"' not in html


def test_an_unknown_comuna_says_so_and_keeps_what_was_typed(client, factory):
    resp = client.get("/?comuna=Gotham")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "No encontramos la comuna «Gotham»" in html
    assert 'value="Gotham"' in html


def test_without_a_comuna_the_home_lists_the_next_sessions(client, factory):
    world = WorkshopWorld(factory)
    world.workshop(publish=True, title="El próximo taller")
    html = client.get("/").get_data(as_text=True)
    assert "El próximo taller" in section(html, "h-upcoming")
    assert len(client.get("/").data) < 60_000


def test_cards_say_seats_left_waitlist_place_and_closed(client, factory):
    world = WorkshopWorld(factory)
    open_w = world.workshop(publish=True, title="Con cupos", session={"capacity": 5})
    full_w = world.workshop(publish=True, title="Lleno", session={"capacity": 2}, start=local_in(8))
    closing = world.workshop(publish=True, title="Cerrado", start=local_in(0, hour=23, minute=59))
    fill(open_w.activity.sessions[0], 2)
    fill(full_w.activity.sessions[0], 5, start=100)  # 2 confirmed, 3 waiting
    client.application.config["REGISTRATION_CLOSES_MINUTES"] = 60 * 48  # everything within 2 days is closed
    try:
        html = client.get("/talleres").get_data(as_text=True)
    finally:
        client.application.config["REGISTRATION_CLOSES_MINUTES"] = 60
    cards = {m.group(1): m.group(0) for m in re.finditer(r'<li class="session-item">.*?">([^<]+)</a></h3>.*?</li>',
                                                         html, re.S)}
    assert "Quedan 3 cupos" in cards["Con cupos"]
    assert "Sin cupos: lista de espera (quedaría en el lugar 4)" in cards["Lleno"]
    assert "Anotarme en la lista de espera" in cards["Lleno"]
    assert "Inscripciones cerradas" in cards["Cerrado"]
    assert "/inscripcion/sesion/" not in cards["Cerrado"].split("Próxima sesión")[0]
    assert closing is not None


def test_a_full_card_points_to_the_next_session_of_the_topic_with_seats(client, factory):
    world = WorkshopWorld(factory)
    full_w = world.workshop(publish=True, title="Lleno", session={"capacity": 1}, start=local_in(5))
    later = world.workshop(publish=True, title="Más adelante", start=local_in(12))
    fill(full_w.activity.sessions[0], 1)
    html = client.get("/talleres").get_data(as_text=True)
    card = html[html.index(">Lleno<"):]
    card = card[:card.index("</li>")]
    assert "Próxima sesión de este tema con cupos:" in card
    assert f"/inscripcion/sesion/{later.activity.sessions[0].id}" in card


def test_seats_for_a_page_of_cards_take_a_fixed_number_of_queries(client, factory, app):
    world = WorkshopWorld(factory)
    for i in range(3):
        w = world.workshop(publish=True, title=f"Taller {i}", session={"capacity": 1}, start=local_in(3 + i))
        fill(w.activity.sessions[0], 2, start=10 * i)

    def count_queries() -> int:
        statements: list[str] = []

        def on_execute(*_args):
            statements.append("q")
        event.listen(db.engine, "before_cursor_execute", on_execute)
        try:
            assert client.get("/talleres").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", on_execute)
        return len(statements)

    few = count_queries()
    for i in range(3, 9):
        w = world.workshop(publish=True, title=f"Taller {i}", session={"capacity": 1}, start=local_in(3 + i))
        fill(w.activity.sessions[0], 2, start=10 * i)
    assert count_queries() == few


def test_the_listing_offers_a_region_s_comunas_in_spanish_order(client):
    html = client.get("/talleres?region=13").get_data(as_text=True)
    options = html[html.index('id="f-comuna"'):]
    assert options.index(">Melipilla<") < options.index(">Ñuñoa<") < options.index(">Padre Hurtado<")


def test_a_full_comuna_search_page_stays_under_60_kb(client, factory):
    world = WorkshopWorld(factory)
    long = "Taller de apresto laboral: cómo preparar su currículum y enfrentar una entrevista de trabajo"
    for i in range(11):
        world.workshop(publish=True, title=f"{long} {i}", start=local_in(2 + i),
                       session=in_person("13120", capacity=1), offers_subtitles=True, offers_sign_language=True)
    for i in range(7):
        world.workshop(publish=True, title=f"{long} en línea {i}", start=local_in(3 + i))
        world.workshop(publish=True, title=f"{long} Macul {i}", start=local_in(3 + i), session=in_person("13118"))
    html = client.get("/?comuna=nunoa").get_data(as_text=True)
    assert html.count('class="session-item"') == 10 + 6 + 6
    assert len(html.encode()) < 60_000


def test_the_listing_filtered_by_comuna_passes_it_to_the_form(client, factory):
    w = WorkshopWorld(factory).workshop(publish=True, session=in_person("13120"))
    html = client.get("/talleres?comuna=13120").get_data(as_text=True)
    assert f"/inscripcion/sesion/{w.activity.sessions[0].id}?comuna=13120" in html
