"""Coordinator calendars under /gestion/calendario: month, week and list views of a network."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import pytest
from flask import g
from sqlalchemy import event

from app.activities.models import Modality
from app.extensions import db
from tests.conftest import login
from tests.workshops.conftest import WorkshopWorld, local_in, topic
from workshops import services

APRIL_2027 = "/gestion/calendario/red/{id}?vista=mes&fecha=2027-04-01"


def _text(resp: Any) -> str:
    return resp.get_data(as_text=True)


def _calendar(network: Any, **args: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in args.items())
    return f"/gestion/calendario/red/{network.id}" + (f"?{query}" if query else "")


@pytest.fixture
def as_user(app: Any) -> Any:
    """A fresh test client logged in as ``user``. The tests share one app context, where
    Flask-Login keeps the current user in ``g``: forget it before switching users."""

    def _as(user: Any) -> Any:
        g.pop("_login_user", None)
        g.pop("csrf_token", None)
        client = app.test_client()
        resp = login(client, user.email)
        assert resp.status_code == 302
        return client

    return _as


def _workshop(world: WorkshopWorld, start: datetime, *, title: str = "Cómo enfrentar una entrevista de trabajo",
              count: int = 1, publish: bool = False, actor: Any = None, **kw: Any) -> Any:
    return world.workshop(start=start, count=count, publish=publish, title=title, actor=actor, **kw)


@contextmanager
def _queries() -> Iterator[list[str]]:
    seen: list[str] = []

    def _count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", _count)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", _count)


# --- the entry page --------------------------------------------------------------------------


def test_calendar_requires_login(client, world):
    resp = client.get(_calendar(world.network))
    assert resp.status_code == 302
    assert "/cuenta/ingresar" in resp.headers["Location"]


def test_the_staff_home_links_to_the_calendar(world, as_user):
    c = as_user(world.host_staff)
    assert 'href="/gestion/calendario/"' in _text(c.get("/gestion/"))


def test_coordinator_is_sent_to_the_network_they_coordinate(world, as_user):
    c = as_user(world.host_staff)
    resp = c.get("/gestion/calendario/")
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith(f"/gestion/calendario/red/{world.network.id}")


def test_regional_staff_choose_among_the_networks_of_their_region(world, factory, as_user):
    factory.network(("05",), name="Red Costa")
    c = as_user(world.sence_rm)
    body = _text(c.get("/gestion/calendario/"))
    assert "Red Oriente" in body and "Red Sur" in body
    assert "Red Costa" not in body
    assert f'href="/gestion/calendario/red/{world.network.id}"' in body


def test_the_network_switch_only_goes_to_visible_networks(world, factory, as_user):
    hidden = factory.network(("05",), name="Red Costa")
    c = as_user(world.sence_rm)
    resp = c.get(f"/gestion/calendario/?red={world.other_network.id}")
    assert resp.headers["Location"].endswith(f"/gestion/calendario/red/{world.other_network.id}")
    body = _text(c.get(f"/gestion/calendario/?red={hidden.id}"))
    assert "no tiene acceso" in body


# --- month, week, list -----------------------------------------------------------------------


def test_month_view_is_a_table_with_monday_first_and_links_to_each_workshop(world, as_user):
    w = _workshop(world, datetime(2027, 4, 13, 10, 0))
    c = as_user(world.host_staff)
    resp = c.get(APRIL_2027.format(id=world.network.id))
    body = _text(resp)
    assert resp.status_code == 200
    assert "<caption>Abril de 2027</caption>" in body
    headers = re.findall(r'<th scope="col">.*?visually-hidden">(\w+)</span></th>', body)
    assert headers == ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"]
    assert f'href="/gestion/talleres/{w.activity_id}"' in body
    assert 'datetime="2027-04-13T10:00:00-04:00">10:00</time>' in body
    assert "martes 13 de abril" in body
    assert 'href="/gestion/calendario/suscripciones"' in body
    assert "Suscribirse a este calendario" in body


def test_month_view_links_to_the_previous_and_next_months_and_today(world, as_user):
    c = as_user(world.host_staff)
    body = _text(c.get(APRIL_2027.format(id=world.network.id)))
    assert "fecha=2027-03-01" in body and "Mes anterior" in body
    assert "fecha=2027-05-01" in body and "Mes siguiente" in body
    assert ">Hoy</a>" in body


def test_week_view_lists_the_seven_days_with_the_sessions_of_each(world, as_user):
    _workshop(world, datetime(2027, 4, 14, 15, 30), session={"hours": 1.5})
    c = as_user(world.host_staff)
    body = _text(c.get(_calendar(world.network, vista="semana", fecha="2027-04-15")))
    days = re.findall(r'<h3 id="dia-([\d-]+)">', body)
    assert days == [f"2027-04-{d}" for d in range(12, 19)]
    wednesday = body.split('id="dia-2027-04-14"')[1].split("<h3")[0]
    assert "15:30" in wednesday and "17:00" in wednesday
    assert "Cómo enfrentar una entrevista de trabajo" in wednesday
    assert "facilita Hilda Host" in wednesday
    assert "Semana anterior" in body and "fecha=2027-04-05" in body


def test_list_view_shows_upcoming_sessions_in_date_order_with_pages(world, as_user, monkeypatch):
    from workshops import calendar_views

    monkeypatch.setattr(calendar_views, "PAGE_SIZE", 2)
    _workshop(world, local_in(10), title="Tercero")
    _workshop(world, local_in(3), title="Primero")
    _workshop(world, local_in(5), title="Segundo")
    _workshop(world, local_in(-3), title="Ya pasó")
    c = as_user(world.host_staff)
    body = _text(c.get(_calendar(world.network, vista="lista")))
    assert body.index("Primero") < body.index("Segundo")
    assert "Tercero" not in body and "Ya pasó" not in body
    assert "Página siguiente" in body
    page2 = _text(c.get(_calendar(world.network, vista="lista", pagina="2")))
    assert "Tercero" in page2 and "Primero" not in page2
    assert "Página anterior" in page2 and "Página siguiente" not in page2


# --- which workshops show --------------------------------------------------------------------


def test_an_inter_network_workshop_shows_on_both_networks_calendars(world, as_user):
    w = _workshop(world, datetime(2027, 4, 20, 10, 0), title="Taller entre redes",
                  network_ids=[world.network.id, world.other_network.id])
    c = as_user(world.host_staff)
    assert "Taller entre redes" in _text(c.get(APRIL_2027.format(id=world.network.id)))
    c = as_user(world.other_staff)
    body = _text(c.get(APRIL_2027.format(id=world.other_network.id)))
    assert "Taller entre redes" in body
    assert f'href="/gestion/talleres/{w.activity_id}"' in body


def test_a_workshop_of_another_network_does_not_show(world, as_user):
    _workshop(world, datetime(2027, 4, 20, 10, 0), title="Solo de Red Oriente")
    c = as_user(world.other_staff)
    assert "Solo de Red Oriente" not in _text(c.get(APRIL_2027.format(id=world.other_network.id)))


def test_convening_office_staff_see_the_workshop_on_their_networks_calendar(world, as_user):
    _workshop(world, datetime(2027, 4, 20, 10, 0))
    c = as_user(world.convening_staff)
    resp = c.get(APRIL_2027.format(id=world.network.id))
    assert resp.status_code == 200
    assert "Cómo enfrentar una entrevista de trabajo" in _text(resp)


def test_drafts_and_cancelled_sessions_are_marked_in_words(world, as_user):
    _workshop(world, datetime(2027, 4, 6, 10, 0), title="Taller en borrador")
    published = _workshop(world, local_in(20), title="Taller publicado", count=2, publish=True)
    services.cancel_session(published.activity.sessions[1], "Feriado", actor=world.host_staff)
    c = as_user(world.host_staff)
    april = _text(c.get(APRIL_2027.format(id=world.network.id)))
    draft = april.split("Taller en borrador")[1].split("</li>")[0]
    assert "Borrador" in draft
    listing = _text(c.get(_calendar(world.network, vista="lista")))
    items = re.findall(r'<li class="cal-session([^"]*)">(.*?)</li>', listing, re.S)
    marks = [("Taller publicado" in html, "is-cancelled" in cls, "Sesión cancelada" in html, "Borrador" in html)
             for cls, html in items]
    assert marks == [(True, False, False, False), (True, True, True, False), (False, False, False, True)]


def test_cancelled_drafts_are_left_out_but_cancelled_published_workshops_stay(world, as_user):
    dropped = _workshop(world, local_in(8), title="Borrador descartado")
    services.cancel(dropped, "Se duplicó", actor=world.host_staff)
    kept = _workshop(world, local_in(9), title="Publicado y cancelado", publish=True)
    services.cancel(kept, "Sin facilitador", actor=world.host_staff)
    c = as_user(world.host_staff)
    body = _text(c.get(_calendar(world.network, vista="lista")))
    assert "Borrador descartado" not in body
    assert "Publicado y cancelado" in body and "Taller cancelado" in body


# --- filters ---------------------------------------------------------------------------------


@pytest.fixture
def filtered_world(world: WorkshopWorld, factory: Any) -> WorkshopWorld:
    """Three workshops in Red Oriente: hosted by Ñuñoa, convened by Peñalolén, and by a third office."""
    third = factory.office("13119", name="OMIL Maipú")
    world.network.offices.append(third)
    db.session.commit()
    third_staff = factory.user(office=third, name="Tomás Tercero")
    world.third, world.third_staff = third, third_staff  # type: ignore[attr-defined]
    _workshop(world, datetime(2027, 4, 6, 10, 0), title="Entrevista en Ñuñoa")
    _workshop(world, datetime(2027, 4, 7, 10, 0), title="Currículum en Maipú", host_office_id=third.id,
              convening_office_ids=[], facilitator_user_ids=[third_staff.id],
              topic_id=topic("elaboracion-de-curriculum").id, actor=third_staff)
    return world


def test_filter_by_office_keeps_what_it_hosts_or_convenes(filtered_world, as_user):
    w = filtered_world
    c = as_user(w.host_staff)
    url = APRIL_2027.format(id=w.network.id)
    by_convening = _text(c.get(f"{url}&oficina={w.convening.id}"))
    assert "Entrevista en Ñuñoa" in by_convening and "Currículum en Maipú" not in by_convening
    by_third = _text(c.get(f"{url}&oficina={w.third.id}"))
    assert "Currículum en Maipú" in by_third and "Entrevista en Ñuñoa" not in by_third
    assert f'<option value="{w.third.id}" selected>' in by_third
    assert "Quitar filtros" in by_third


def test_filter_by_facilitator(filtered_world, as_user):
    w = filtered_world
    c = as_user(w.host_staff)
    body = _text(c.get(f"{APRIL_2027.format(id=w.network.id)}&facilitador={w.third_staff.id}"))
    assert "Currículum en Maipú" in body and "Entrevista en Ñuñoa" not in body


def test_filter_by_topic(filtered_world, as_user):
    w = filtered_world
    c = as_user(w.host_staff)
    body = _text(c.get(f"{APRIL_2027.format(id=w.network.id)}&tema=entrevista-de-trabajo"))
    assert "Entrevista en Ñuñoa" in body and "Currículum en Maipú" not in body


def test_filters_are_kept_when_changing_view_or_month(filtered_world, as_user):
    w = filtered_world
    c = as_user(w.host_staff)
    body = _text(c.get(f"{APRIL_2027.format(id=w.network.id)}&tema=entrevista-de-trabajo"))
    assert "vista=semana&amp;fecha=2027-04-01&amp;tema=entrevista-de-trabajo" in body
    assert "fecha=2027-05-01&amp;tema=entrevista-de-trabajo" in body


# --- who may see -----------------------------------------------------------------------------


def test_sence_regional_of_the_region_sees_the_network_calendar(world, as_user):
    _workshop(world, datetime(2027, 4, 20, 10, 0))
    c = as_user(world.sence_rm)
    resp = c.get(APRIL_2027.format(id=world.network.id))
    assert resp.status_code == 200
    assert "Cómo enfrentar una entrevista de trabajo" in _text(resp)


def test_staff_of_another_regions_network_get_403(world, factory, as_user):
    office = factory.office("05101", name="OMIL Valparaíso")
    factory.network(("05",), name="Red Costa", offices=[office], coordinator=office)
    c = as_user(factory.user(office=office))
    assert c.get(APRIL_2027.format(id=world.network.id)).status_code == 403


def test_sence_regional_of_another_region_gets_403(world, factory, as_user):
    c = as_user(factory.user("sence_regional", sence_unit=factory.sence_unit("05")))
    assert c.get(_calendar(world.network)).status_code == 403


def test_an_unknown_network_is_404(world, as_user):
    c = as_user(world.host_staff)
    assert c.get("/gestion/calendario/red/999999").status_code == 404


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(("args", "note"), [
    ({"vista": "año"}, "Se ignoró la vista «año»"),
    ({"fecha": "2027-02-30"}, "Se ignoró la fecha «2027-02-30»"),
    ({"fecha": "mañana"}, "Se ignoró la fecha «mañana»"),
    ({"fecha": "99999-01-01"}, "Se ignoró la fecha"),
    ({"fecha": "1492-10-12"}, "Se ignoró la fecha"),
    ({"fecha": "２０２７-04-01"}, "Se ignoró la fecha"),
    ({"oficina": "abc"}, "Se ignoró el filtro de oficina"),
    ({"oficina": "²"}, "Se ignoró el filtro de oficina"),
    ({"facilitador": "99999999999999999999"}, "Se ignoró el filtro de facilitación"),
    ({"tema": "astrologia"}, "Se ignoró el filtro de tema"),
    ({"vista": "lista", "pagina": "0"}, "Se ignoró la página"),
])
def test_bad_values_are_ignored_with_a_visible_note(world, as_user, args, note):
    c = as_user(world.host_staff)
    query = "&".join(f"{k}={v}" for k, v in args.items())
    resp = c.get(f"/gestion/calendario/red/{world.network.id}?{query}")
    assert resp.status_code == 200
    assert note in _text(resp)


def test_an_office_or_facilitator_outside_the_network_is_ignored(world, as_user):
    c = as_user(world.host_staff)
    body = _text(c.get(_calendar(world.network, oficina=str(world.other.id),
                                      facilitador=str(world.other_staff.id))))
    assert "Se ignoró el filtro de oficina" in body
    assert "Se ignoró el filtro de facilitación" in body
    assert f'<option value="{world.other.id}"' not in body


def test_december_and_january_months_wrap_the_year(world, as_user):
    c = as_user(world.host_staff)
    body = _text(c.get(_calendar(world.network, fecha="2027-12-31")))
    assert "Diciembre de 2027" in body and "fecha=2028-01-01" in body and "fecha=2027-11-01" in body


# --- time zones ------------------------------------------------------------------------------


def test_a_series_across_the_april_dst_change_shows_its_local_hour_every_week(world, as_user):
    _workshop(world, datetime(2027, 3, 30, 10, 0), count=3)
    c = as_user(world.host_staff)
    body = _text(c.get(APRIL_2027.format(id=world.network.id)))
    times = re.findall(r'<time datetime="([^"]+)">([^<]+)</time>', body)
    assert times == [("2027-03-30T10:00:00-03:00", "10:00"), ("2027-04-06T10:00:00-04:00", "10:00"),
                     ("2027-04-13T10:00:00-04:00", "10:00")]


def test_a_magallanes_network_counts_days_in_punta_arenas_and_names_other_zones(factory, as_user):
    office = factory.office("12101", name="OMIL Punta Arenas", category="avanzada")
    network = factory.network(("12",), name="Red Magallanes", offices=[office], coordinator=office)
    staff = factory.user(office=office, name="Paula Austral")
    world = WorkshopWorld.__new__(WorkshopWorld)
    world.host, world.network, world.convening, world.host_staff = office, network, office, staff
    _workshop(world, datetime(2027, 4, 6, 10, 0), title="Taller austral", convening_office_ids=[],
              session={"tz": "America/Punta_Arenas"})
    _workshop(world, datetime(2027, 4, 6, 23, 30), title="Taller con Santiago", convening_office_ids=[])
    c = as_user(staff)
    body = _text(c.get(APRIL_2027.format(id=network.id)))
    assert "hora de Magallanes" in body  # the calendar's own zone, in the hint
    austral = body.split("Taller austral")[0].rsplit("<li", 1)[1]
    assert ">10:00</time>" in austral and "hora de" not in austral
    # 23:30 in Santiago (UTC-4) is 00:30 of the 7th in Punta Arenas (UTC-3): the day is the 7th.
    seventh = body.split("miércoles 7 de abril")[1].split("</td>")[0]
    assert "Taller con Santiago" in seventh
    assert ">23:30</time> <span class=\"cal-zone\">(hora de Chile continental)</span>" in seventh


def test_an_easter_island_session_shows_its_own_hour_and_zone(world, as_user):
    _workshop(world, datetime(2027, 4, 20, 9, 0), title="Taller en Rapa Nui",
              session={"tz": "Pacific/Easter", "modality": Modality.REMOTE})
    c = as_user(world.host_staff)
    body = _text(c.get(APRIL_2027.format(id=world.network.id)))
    item = body.split("Taller en Rapa Nui")[0].rsplit("<li", 1)[1]
    assert ">09:00</time>" in item and "hora de Isla de Pascua" in item


# --- speed -----------------------------------------------------------------------------------


@pytest.mark.parametrize("vista", ["mes", "semana", "lista"])
def test_query_count_does_not_grow_with_sessions(world, as_user, vista):
    c = as_user(world.sence_rm)
    url = _calendar(world.network, vista=vista, fecha="2027-04-05")
    _workshop(world, datetime(2027, 4, 6, 10, 0), title="Uno")
    with _queries() as few:
        assert c.get(url).status_code == 200
    _workshop(world, datetime(2027, 4, 7, 10, 0), title="Dos", count=4)
    _workshop(world, datetime(2027, 4, 8, 10, 0), title="Tres", count=3,
              network_ids=[world.network.id, world.other_network.id])
    _workshop(world, datetime(2027, 4, 9, 10, 0), title="Cuatro", publish=True, count=2)
    with _queries() as many:
        body = _text(c.get(url))
    assert "Cuatro" in body
    assert len(many) == len(few), "\n".join(many)


def test_a_coordinators_query_count_grows_only_by_a_policy_check_per_workshop(world, as_user):
    c = as_user(world.host_staff)
    url = APRIL_2027.format(id=world.network.id)
    _workshop(world, datetime(2027, 4, 6, 10, 0), title="Uno", count=4)
    with _queries() as one:
        c.get(url)
    _workshop(world, datetime(2027, 4, 7, 10, 0), title="Dos", count=4)
    _workshop(world, datetime(2027, 4, 8, 10, 0), title="Tres", count=4)
    with _queries() as three:
        c.get(url)
    assert len(three) - len(one) <= 2, "\n".join(three)
