"""Public workshop pages: the listing at /talleres and the shareable page at /talleres/<slug>."""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event

from app.activities.models import ActivitySession, Modality
from app.config import PROJECT_ROOT
from app.extensions import db
from tests.workshops.conftest import WorkshopWorld, local_in, session_input, topic
from workshops import services

JOIN_URL = "https://us02web.zoom.us/j/123456789"


# --- helpers -------------------------------------------------------------------------------


class Page(HTMLParser):
    """What the tests look at in a page: meta tags, links, JSON-LD, headings, form controls."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}
        self.links: list[dict[str, str]] = []
        self.json_ld: list[Any] = []
        self.h1 = 0
        self.labels: set[str] = set()
        self.controls: list[dict[str, str]] = []
        self.anchors: list[dict[str, str]] = []
        self._in_ld = False
        self._buf: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "meta" and ("property" in a or "name" in a):
            self.meta[a.get("property") or a["name"]] = a.get("content", "")
        elif tag == "link":
            self.links.append(a)
        elif tag == "script" and a.get("type") == "application/ld+json":
            self._in_ld, self._buf = True, []
        elif tag == "h1":
            self.h1 += 1
        elif tag == "label" and "for" in a:
            self.labels.add(a["for"])
        elif tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit"):
            self.controls.append(a)
        elif tag == "a":
            self.anchors.append(a)

    def handle_data(self, data: str) -> None:
        if self._in_ld:
            self._buf.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._in_ld:
            self._in_ld = False
            self.json_ld.append(json.loads("".join(self._buf)))


def get_page(client: Any, url: str) -> tuple[str, Page]:
    resp = client.get(url)
    assert resp.status_code == 200, resp.status_code
    html = resp.get_data(as_text=True)
    return html, Page(html)


def titles(html: str) -> list[str]:
    """Titles of the listed sessions, in order."""
    return re.findall(r'<h3 class="session-title"><a href="[^"]+">([^<]+)</a>', html)


def event_ld(page: Page) -> dict[str, Any]:
    assert len(page.json_ld) == 1
    data: dict[str, Any] = page.json_ld[0]
    return data


@contextmanager
def count_queries() -> Iterator[list[str]]:
    statements: list[str] = []

    def _count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", _count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", _count)


def published(world: WorkshopWorld, title: str, days: int = 7, **kw: Any) -> Any:
    return world.workshop(title=title, start=local_in(days, tz=kw.get("session", {}).get("tz", "America/Santiago")),
                          publish=True, **kw)


def hosted_by(world: WorkshopWorld, comuna: str, *, region: str, name: str) -> tuple[Any, Any, Any]:
    """An office in another comuna with its own network and staff."""
    office = world.factory.office(comuna, name=name)
    network = world.factory.network((region,), name=f"Red de {name}", offices=[office], coordinator=office)
    staff = world.factory.user(office=office)
    return office, network, staff


def elsewhere(world: WorkshopWorld, title: str, office: Any, network: Any, staff: Any, *, days: int = 7,
              session: dict[str, Any] | None = None, **kw: Any) -> Any:
    tz = (session or {}).get("tz", "America/Santiago")
    return world.workshop(title=title, start=local_in(days, tz=tz), publish=True, actor=staff,
                          host_office_id=office.id, network_ids=[network.id], convening_office_ids=[],
                          facilitator_user_ids=[staff.id], session=session or {}, **kw)


def move_to_past(session: ActivitySession) -> None:
    session.starts_at = datetime.now(UTC) - timedelta(days=2)
    session.ends_at = session.starts_at + timedelta(hours=2)
    db.session.commit()


# --- the listing: what it shows ------------------------------------------------------------


def test_listing_shows_only_upcoming_sessions_of_published_workshops(client, world):
    published(world, "Taller publicado", 5)
    world.workshop(title="Taller en borrador", start=local_in(6))
    cancelled = published(world, "Taller cancelado", 7)
    services.cancel(cancelled, "La sala no está disponible", actor=world.host_staff)
    two = published(world, "Taller con una sesión cancelada", 8, count=2)
    services.cancel_session(two.activity.sessions[0], "Feriado", actor=world.host_staff)
    past = published(world, "Taller con una sesión pasada", 9, count=2)
    move_to_past(past.activity.sessions[0])

    html, _page = get_page(client, "/talleres")

    assert titles(html) == ["Taller publicado", "Taller con una sesión cancelada", "Taller con una sesión pasada"]
    assert html.count('class="session-item"') == 3
    assert "2 sesiones próximas" not in html and "3 sesiones próximas" in html


def test_listing_is_ordered_by_start_across_time_zones(client, world):
    office, network, staff = hosted_by(world, "05201", region="05", name="OMIL Isla de Pascua")
    published(world, "Segundo", 3)
    elsewhere(world, "Primero", office, network, staff, days=2, session={"tz": "Pacific/Easter"})
    published(world, "Tercero", 4)
    html, _page = get_page(client, "/talleres")
    assert titles(html) == ["Primero", "Segundo", "Tercero"]


def test_a_result_says_when_where_who_and_what_in_words(client, world):
    w = world.workshop(title="Currículum que funciona", start=local_in(7, 10), publish=True,
                       topic_id=topic("elaboracion-de-curriculum").id, offers_subtitles=True,
                       offers_sign_language=True,
                       session={"modality": Modality.IN_PERSON, "venue_name": "Casa de la Cultura",
                                "comuna_code": "13120"})
    s = w.activity.sessions[0]
    html, _page = get_page(client, "/talleres")
    day = s.local_start
    months = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
              "noviembre", "diciembre"]
    days = ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"]
    words = f"{days[day.weekday()]} {day.day} de {months[day.month - 1]}"
    assert f"{words}" in html
    assert "10:00 a 12:00 (hora de Santiago)" in html
    assert f'href="/talleres/{w.activity.slug}"' in html
    assert "Presencial" in html and "Casa de la Cultura, Ñuñoa" in html
    assert "OMIL Ñuñoa, Ñuñoa" in html
    assert "Elaboración de currículum" in html
    assert "Subtítulos" in html and "lengua de señas chilena" in html


def test_a_remote_session_is_listed_as_online_without_its_link(client, world):
    published(world, "Entrevista en línea", 4)
    html, _page = get_page(client, "/talleres")
    assert "En línea" in html
    assert JOIN_URL not in html and "zoom.us" not in html


def test_listing_with_no_sessions_says_so(client, world):
    html, _page = get_page(client, "/talleres")
    assert "Por ahora no hay sesiones próximas publicadas." in html


# --- the listing: filters ------------------------------------------------------------------


def test_filter_by_region_uses_the_host_office_or_the_session_comuna(client, world):
    office, network, staff = hosted_by(world, "12101", region="12", name="OMIL Punta Arenas")
    published(world, "Taller en Santiago", 3)
    elsewhere(world, "Taller en Magallanes", office, network, staff, days=4, session={"tz": "America/Punta_Arenas"})
    published(world, "Taller de Ñuñoa dado en Punta Arenas", 5,
              session={"modality": Modality.IN_PERSON, "comuna_code": "12101", "tz": "America/Punta_Arenas"})
    html, page = get_page(client, "/talleres?region=12")
    assert titles(html) == ["Taller en Magallanes", "Taller de Ñuñoa dado en Punta Arenas"]
    assert any(c.get("id") == "f-region" for c in page.controls)
    assert '<option value="12" selected>' in html


def test_filter_by_comuna_matches_the_host_office_or_the_session_comuna(client, world):
    office, network, staff = hosted_by(world, "13110", region="13", name="OMIL La Florida 2")
    published(world, "Dictado en Ñuñoa", 3)
    elsewhere(world, "Dictado en La Florida", office, network, staff, days=4)
    published(world, "De Ñuñoa, en sala de La Florida", 5,
              session={"modality": Modality.IN_PERSON, "comuna_code": "13110"})
    html, _page = get_page(client, "/talleres?comuna=13110")
    assert titles(html) == ["Dictado en La Florida", "De Ñuñoa, en sala de La Florida"]
    html, _page = get_page(client, "/talleres?comuna=13120")
    assert titles(html) == ["Dictado en Ñuñoa", "De Ñuñoa, en sala de La Florida"]


def test_filter_by_network_accepts_its_id_or_its_slug(client, world):
    published(world, "De la Red Oriente", 3)
    world.workshop(title="De la Red Sur", start=local_in(4), publish=True, actor=world.other_staff,
                   host_office_id=world.other.id, network_ids=[world.other_network.id], convening_office_ids=[],
                   facilitator_user_ids=[world.other_staff.id])
    by_slug, _page = get_page(client, f"/talleres?network={world.other_network.slug}")
    by_id, _page = get_page(client, f"/talleres?network={world.other_network.id}")
    assert titles(by_slug) == titles(by_id) == ["De la Red Sur"]
    assert f'<option value="{world.other_network.slug}" selected>' in by_id


def test_an_inter_network_workshop_shows_under_each_network(client, world):
    world.workshop(title="Interredes", start=local_in(4), publish=True,
                   network_ids=[world.network.id, world.other_network.id])
    for net in (world.network, world.other_network):
        html, _page = get_page(client, f"/talleres?network={net.slug}")
        assert titles(html) == ["Interredes"]


def test_filter_by_topic(client, world):
    published(world, "Entrevista", 3)
    published(world, "Derechos", 4, topic_id=topic("derechos-laborales").id)
    html, _page = get_page(client, "/talleres?topic=derechos-laborales")
    assert titles(html) == ["Derechos"]


@pytest.mark.parametrize(("value", "expected"), [("remota", ["Remoto"]), ("presencial", ["Presencial"]),
                                                 ("hibrida", ["Híbrido"])])
def test_filter_by_modality_uses_spanish_values(client, world, value, expected):
    published(world, "Remoto", 3)
    published(world, "Presencial", 4, session={"modality": Modality.IN_PERSON})
    published(world, "Híbrido", 5, session={"modality": Modality.HYBRID, "join_url": JOIN_URL})
    html, _page = get_page(client, f"/talleres?modality={value}")
    assert titles(html) == expected


def test_filter_by_date_range_in_santiago_days(client, world):
    for days in (3, 5, 9):
        published(world, f"En {days} días", days)
    desde = local_in(4).date().isoformat()
    hasta = local_in(5).date()
    html, _page = get_page(client, f"/talleres?desde={desde}&hasta={hasta:%d-%m-%Y}")
    assert titles(html) == ["En 5 días"]
    assert f'name="hasta" value="{hasta.isoformat()}"' in html  # typed dd-mm-aaaa, shown normalised


def test_a_late_evening_session_counts_for_its_santiago_day(client, world):
    published(world, "Tarde", 5)  # 10:00
    late = world.workshop(title="Noche", start=local_in(5, 23, 0), publish=True)
    day = late.activity.sessions[0].local_start.date().isoformat()
    html, _page = get_page(client, f"/talleres?desde={day}&hasta={day}")
    assert titles(html) == ["Tarde", "Noche"]  # 23:00 Santiago is already the next day in UTC


def test_filters_combine(client, world):
    published(world, "Entrevista presencial", 3, session={"modality": Modality.IN_PERSON})
    published(world, "Entrevista remota", 4)
    published(world, "Derechos presencial", 5, topic_id=topic("derechos-laborales").id,
              session={"modality": Modality.IN_PERSON})
    html, _page = get_page(client, "/talleres?region=13&topic=entrevista-de-trabajo&modality=presencial")
    assert titles(html) == ["Entrevista presencial"]


# --- the listing: bad filter values --------------------------------------------------------


@pytest.mark.parametrize(("query", "note"), [
    ("desde=mañana", "No entendimos la fecha «mañana»; se muestran todas las fechas."),
    ("hasta=2025-02-30", "No entendimos la fecha «2025-02-30»; se muestran todas las fechas."),
    ("desde=99999-01-01", "No entendimos la fecha «99999-01-01»"),
    ("region=99", "No encontramos la región «99»; se muestran todas las regiones."),
    ("comuna=abc", "No encontramos la comuna «abc»"),
    ("comuna=99999", "No encontramos la comuna «99999»"),
    ("network=no-existe", "No encontramos la red «no-existe»"),
    ("network=123456", "No encontramos la red «123456»"),
    ("topic=cocina", "No encontramos el tema «cocina»"),
    ("modality=telepatica", "No entendimos la modalidad «telepatica»"),
    ("page=dos", "No entendimos la página «dos»; se muestra la primera."),
    ("page=0", "No entendimos la página «0»"),
    ("region=13&comuna=12101", "La comuna Punta Arenas no está en la región elegida"),
])
def test_a_bad_filter_value_is_ignored_with_a_visible_note(client, world, query, note):
    published(world, "Sigue apareciendo", 3)
    html, _page = get_page(client, f"/talleres?{query}")
    assert note in html
    assert 'class="notice" role="status"' in html
    assert titles(html) == ["Sigue apareciendo"]


def test_hasta_before_desde_is_dropped_with_a_note(client, world):
    published(world, "A los 3 días", 3)
    desde, hasta = local_in(2).date(), local_in(1).date()
    html, _page = get_page(client, f"/talleres?desde={desde}&hasta={hasta}")
    assert "es anterior a «desde»" in html
    assert titles(html) == ["A los 3 días"]


def test_a_long_hostile_value_is_echoed_escaped_and_shortened(client, world):
    html, _page = get_page(client, "/talleres?topic=" + "<script>alert(1)</script>" * 5)
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)" in html
    assert "…" in html


def test_a_valid_filter_survives_next_to_a_bad_one(client, world):
    published(world, "Presencial", 3, session={"modality": Modality.IN_PERSON})
    published(world, "Remoto", 4)
    html, _page = get_page(client, "/talleres?modality=presencial&desde=ayer")
    assert titles(html) == ["Presencial"]
    assert "No entendimos la fecha «ayer»" in html


# --- the listing: pagination and speed -----------------------------------------------------


def _many(world: WorkshopWorld, workshops: int, sessions_each: int) -> None:
    topics = ["entrevista-de-trabajo", "derechos-laborales", "habilidades-blandas", "orientacion-laboral",
              "emprendimiento"]
    for i in range(workshops):
        world.workshop(title=f"Taller {i:02d}", start=local_in(1 + i, 8 + i % 10), count=sessions_each,
                       publish=True, topic_id=topic(topics[i % len(topics)]).id)


def test_listing_pages_twenty_sessions_at_a_time(client, world):
    _many(world, 5, 5)  # 25 sessions
    html, page = get_page(client, "/talleres")
    assert html.count('class="session-item"') == 20
    assert "25 sesiones próximas" in html and "mostrando 1 a 20" in html
    assert '<nav class="pagination" aria-label="Páginas de resultados">' in html
    assert 'aria-current="page"' in html
    assert any(a.get("href") == "/talleres?page=2" and a.get("rel") == "next" for a in page.anchors)
    html2, _page = get_page(client, "/talleres?page=2")
    assert html2.count('class="session-item"') == 5
    assert "mostrando 21 a 25" in html2


def test_pagination_links_keep_the_filters(client, world):
    _many(world, 5, 5)
    html, page = get_page(client, "/talleres?region=13&modality=remota")
    assert any(a.get("href") == "/talleres?region=13&modality=remota&page=2" for a in page.anchors)


def test_a_page_beyond_the_last_is_empty_with_a_link_back(client, world):
    _many(world, 1, 3)
    html, page = get_page(client, "/talleres?page=7")
    assert 'class="session-item"' not in html
    assert "Esta página no tiene resultados." in html
    assert "Ir a la última página (1)" in html
    assert any(a.get("href") == "/talleres" for a in page.anchors)
    assert '<meta name="robots" content="noindex">' in html


def test_past_the_counting_cap_the_listing_says_more_than_and_pages_on(client, world, monkeypatch):
    from workshops import queries

    monkeypatch.setattr(queries, "COUNT_CAP", 30)
    _many(world, 9, 5)  # 45 sessions, counted up to 30
    html, page = get_page(client, "/talleres?page=2")
    assert "Más de 30 sesiones próximas" in html
    assert html.count('class="session-item"') == 20
    hrefs = [a.get("href") for a in page.anchors]
    assert "/talleres?page=3" in hrefs  # "next" goes on past what was counted
    html3, _page = get_page(client, "/talleres?page=3")
    assert html3.count('class="session-item"') == 5
    assert 'rel="next"' not in html3


@pytest.mark.parametrize("query", ["", "?region=13&topic=entrevista-de-trabajo&modality=remota&desde=2020-01-01",
                                   "?comuna=13120&network=1"])
def test_listing_queries_do_not_grow_with_the_number_of_sessions(client, world, query):
    client.get("/talleres")  # first request: schema check and reference data

    def queries_for_listing() -> int:
        with count_queries() as statements:
            assert client.get(f"/talleres{query}").status_code == 200
        return len(statements)

    _many(world, 5, 1)
    few = queries_for_listing()
    _many(world, 9, 5)  # 50 sessions in all
    many = queries_for_listing()
    assert few == many
    assert many <= 4  # networks, topics, the COUNT, the page


def test_the_page_of_sessions_is_one_select(client, world):
    _many(world, 3, 2)
    client.get("/talleres")
    with count_queries() as statements:
        client.get("/talleres")
    selects_of_sessions = [s for s in statements if "FROM activity_sessions" in s]
    assert len(selects_of_sessions) == 2  # the COUNT and the page
    page_select = next(s for s in selects_of_sessions if "count(" not in s.lower())
    assert "LIMIT" in page_select.upper()
    # Only what a result shows: the join link and long texts never leave the database here.
    assert "join_url" not in page_select and "description" not in page_select


# --- the workshop page ---------------------------------------------------------------------


def test_a_draft_workshop_has_no_public_page(client, world):
    w = world.workshop(title="Borrador")
    assert client.get(f"/talleres/{w.activity.slug}").status_code == 404
    assert client.get("/talleres/no-existe").status_code == 404


def test_the_page_shows_the_workshop(client, world):
    w = world.workshop(title="Entrevista segura", start=local_in(7, 10), publish=True, audience="Jóvenes de 18 a 29",
                       guest_facilitators=["Gabriela Invitada"], offers_materials_in_advance=True,
                       count=2, session={"modality": Modality.HYBRID, "join_url": JOIN_URL})
    world.host.whatsapp = "+56912345678"
    world.host.phone = "+56222223333"
    world.host.website = "javascript:alert(1)"
    db.session.commit()
    html, page = get_page(client, f"/talleres/{w.activity.slug}")
    assert page.h1 == 1
    for text in ("Entrevista segura", "Entrevista de trabajo", "Practicamos preguntas frecuentes.",
                 "Jóvenes de 18 a 29", "OMIL Ñuñoa", "OMIL Peñalolén", "Red Oriente", "Hilda Host",
                 "Gabriela Invitada", "Materiales por adelantado", "Sala de capacitación OMIL",
                 "Av. Irarrázaval 3550", "Cómo conectarse", "el enlace se entrega al inscribirse",
                 "Inscribirme en esta sesión", "https://wa.me/56912345678", "tel:+56222223333"):
        assert text in html, text
    assert "javascript:alert" not in html
    assert JOIN_URL not in html and "zoom.us" not in html
    hrefs = {a.get("href") for a in page.anchors}
    assert f"/talleres/{w.activity.slug}.ics" in hrefs
    for s in w.activity.sessions:
        assert f"/talleres/{w.activity.slug}/sesiones/{s.id}.ics" in hrefs


def test_materials_are_listed_by_title_without_a_download_link(client, world):
    w = published(world, "Con materiales", 4)
    services.add_material(w, b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",
                          filename="guia.pdf", title="Guía de preguntas", actor=world.host_staff)
    html, page = get_page(client, f"/talleres/{w.activity.slug}")
    assert "Guía de preguntas" in html
    assert not any("/archivos" in (a.get("href") or "") or "guia.pdf" in (a.get("href") or "")
                   for a in page.anchors)


def test_the_page_carries_open_graph_and_twitter_tags_with_absolute_urls(client, world):
    w = world.workshop(title="Habilidades para el trabajo", start=local_in(7, 10), publish=True)
    html, page = get_page(client, f"/talleres/{w.activity.slug}")
    url = f"http://localhost/talleres/{w.activity.slug}"
    assert {"rel": "canonical", "href": url} in page.links
    m = page.meta
    assert m["og:title"] == "Habilidades para el trabajo"
    assert m["og:type"] == "website"
    assert m["og:url"] == url
    assert m["og:locale"] == "es_CL"
    assert m["og:image"] == "http://localhost/static/img/og-taller.png"
    assert (m["og:image:width"], m["og:image:height"]) == ("1200", "630")
    assert m["og:image:alt"]
    assert "10:00 a 12:00 (hora de Santiago)" in m["og:description"]
    assert "OMIL Ñuñoa" in m["og:description"]
    assert m["twitter:card"] == "summary_large_image"
    assert m["twitter:image"] == m["og:image"]
    assert m["twitter:title"] == m["og:title"]


def test_the_preview_image_is_a_small_1200_by_630_png(app):
    data = Path(PROJECT_ROOT / "static" / "img" / "og-taller.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (1200, 630)
    assert len(data) < 60_000


def test_the_preview_image_is_served(client):
    resp = client.get("/static/img/og-taller.png")
    assert resp.status_code == 200 and resp.mimetype == "image/png"


def test_json_ld_describes_a_remote_event(client, world):
    w = world.workshop(title="Entrevista remota", start=local_in(7, 10), publish=True)
    s = w.activity.sessions[0]
    _html, page = get_page(client, f"/talleres/{w.activity.slug}")
    ld = event_ld(page)
    url = f"http://localhost/talleres/{w.activity.slug}"
    assert ld["@context"] == "https://schema.org" and ld["@type"] == "Event"
    assert ld["name"] == "Entrevista remota"
    assert ld["description"] == "Practicamos preguntas frecuentes."
    assert datetime.fromisoformat(ld["startDate"]) == s.starts_at
    assert datetime.fromisoformat(ld["endDate"]) == s.ends_at
    assert ld["startDate"].endswith(("-03:00", "-04:00"))
    assert ld["eventStatus"] == "https://schema.org/EventScheduled"
    assert ld["eventAttendanceMode"] == "https://schema.org/OnlineEventAttendanceMode"
    assert ld["location"] == {"@type": "VirtualLocation", "url": url}
    assert ld["organizer"]["@type"] == "Organization" and ld["organizer"]["name"] == "OMIL Ñuñoa"
    assert ld["organizer"]["email"] == world.host.email
    assert ld["isAccessibleForFree"] is True
    assert ld["inLanguage"] == "es-CL"
    assert ld["offers"]["price"] == 0 and ld["offers"]["priceCurrency"] == "CLP" and ld["offers"]["url"] == url
    assert ld["image"] == ["http://localhost/static/img/og-taller.png"]
    assert "subEvent" not in ld


def test_json_ld_describes_an_in_person_event_with_its_address(client, world):
    w = world.workshop(title="Presencial", start=local_in(7), publish=True,
                       session={"modality": Modality.IN_PERSON})
    _html, page = get_page(client, f"/talleres/{w.activity.slug}")
    ld = event_ld(page)
    assert ld["eventAttendanceMode"] == "https://schema.org/OfflineEventAttendanceMode"
    assert ld["location"] == {
        "@type": "Place", "name": "Sala de capacitación OMIL",
        "address": {"@type": "PostalAddress", "addressCountry": "CL", "streetAddress": "Av. Irarrázaval 3550",
                    "addressLocality": "Ñuñoa"}}


def test_json_ld_describes_a_hybrid_event_with_both_locations(client, world):
    w = world.workshop(title="Híbrido", start=local_in(7), publish=True, count=3,
                       session={"modality": Modality.HYBRID, "join_url": JOIN_URL})
    html, page = get_page(client, f"/talleres/{w.activity.slug}")
    ld = event_ld(page)
    assert ld["eventAttendanceMode"] == "https://schema.org/MixedEventAttendanceMode"
    assert [loc["@type"] for loc in ld["location"]] == ["Place", "VirtualLocation"]
    assert len(ld["subEvent"]) == 3
    sessions = w.activity.sessions
    assert datetime.fromisoformat(ld["startDate"]) == sessions[0].starts_at
    assert datetime.fromisoformat(ld["endDate"]) == sessions[-1].ends_at
    assert [datetime.fromisoformat(e["startDate"]) for e in ld["subEvent"]] == [s.starts_at for s in sessions]
    assert all(e["eventAttendanceMode"].endswith("MixedEventAttendanceMode") for e in ld["subEvent"])
    assert JOIN_URL not in html
    assert "y 2 sesiones más · OMIL Ñuñoa" in page.meta["og:description"]


def test_json_ld_is_escaped_so_a_title_cannot_close_the_script(client, world):
    w = world.workshop(title="Taller </script><script>alert(1)</script> & más", start=local_in(7), publish=True)
    html, page = get_page(client, f"/talleres/{w.activity.slug}")
    assert "<script>alert(1)" not in html
    assert "\\u003c/script\\u003e" in html and "\\u0026" in html
    assert event_ld(page)["name"] == "Taller </script><script>alert(1)</script> & más"


def test_the_content_security_policy_is_unchanged_on_the_workshop_page(client, world):
    w = published(world, "Con CSP", 4)
    resp = client.get(f"/talleres/{w.activity.slug}")
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    # The JSON-LD data block (browsers do not execute it) and the platform's own "copy link"
    # script, served from /static under script-src 'self': nothing inline, nothing third-party.
    assert re.findall(r"<script[^>]*>", resp.get_data(as_text=True)) == [
        '<script type="application/ld+json">', '<script src="/static/js/share.js" defer>']


def test_a_cancelled_workshop_shows_a_banner_and_an_event_cancelled(client, world):
    w = published(world, "Se cancela", 4)
    services.cancel(w, "La facilitadora está con licencia médica", actor=world.host_staff)
    html, page = get_page(client, f"/talleres/{w.activity.slug}")
    assert re.search(r"<strong>Cancelado:</strong>\s*La facilitadora está con licencia médica", html)
    assert event_ld(page)["eventStatus"] == "https://schema.org/EventCancelled"
    assert page.meta["og:description"].startswith("Cancelado: La facilitadora está con licencia médica")
    assert "Inscribirme en esta sesión" not in html
    assert "Sesión cancelada" in html


def test_a_rescheduled_session_makes_an_event_rescheduled(client, world):
    w = published(world, "Cambia de hora", 4)
    s = w.activity.sessions[0]
    services.update_session(s, session_input(local_in(4, 15)), actor=world.host_staff, confirm_warnings=True)
    html, page = get_page(client, f"/talleres/{w.activity.slug}")
    assert event_ld(page)["eventStatus"] == "https://schema.org/EventRescheduled"
    assert "Cambió de horario" in html
    assert "15:00 a 17:00" in html


def test_a_workshop_whose_sessions_are_over_says_it_took_place(client, world):
    w = published(world, "Ya fue", 4)
    move_to_past(w.activity.sessions[0])
    html, page = get_page(client, f"/talleres/{w.activity.slug}")
    assert "Este taller ya se realizó." in html
    assert "Inscripción: pronto" not in html
    assert event_ld(page)["startDate"]


# --- time zones ----------------------------------------------------------------------------


def test_punta_arenas_times_are_shown_in_magallanes_time(client, world):
    office, network, staff = hosted_by(world, "12101", region="12", name="OMIL Punta Arenas")
    w = elsewhere(world, "Taller austral", office, network, staff, session={"tz": "America/Punta_Arenas"})
    s = w.activity.sessions[0]
    assert s.local_start.hour == 10
    listing, _page = get_page(client, "/talleres")
    html, page = get_page(client, f"/talleres/{w.activity.slug}")
    for text in (listing, html, page.meta["og:description"]):
        assert "10:00 a 12:00 (hora de Magallanes)" in text
    ld = event_ld(page)
    assert ld["startDate"].endswith("-03:00")  # Magallanes keeps UTC-3 all year
    assert datetime.fromisoformat(ld["startDate"]) == s.starts_at


def test_easter_island_times_are_shown_in_easter_island_time(client, world):
    office, network, staff = hosted_by(world, "05201", region="05", name="OMIL Rapa Nui")
    w = elsewhere(world, "Taller en Rapa Nui", office, network, staff, session={"tz": "Pacific/Easter"})
    s = w.activity.sessions[0]
    html, page = get_page(client, f"/talleres/{w.activity.slug}")
    assert "10:00 a 12:00 (hora de Isla de Pascua)" in html
    santiago = s.starts_at.astimezone(ZoneInfo("America/Santiago"))
    assert santiago.hour == 12  # two hours ahead on the continent, all year
    ld = event_ld(page)
    assert ld["startDate"].endswith(("-05:00", "-06:00"))
    assert datetime.fromisoformat(ld["startDate"]) == s.starts_at


def test_aysen_times_are_named_in_words(client, world):
    office, network, staff = hosted_by(world, "11101", region="11", name="OMIL Coyhaique")
    w = elsewhere(world, "Taller en Aysén", office, network, staff, session={"tz": "America/Coyhaique"})
    html, _page = get_page(client, f"/talleres/{w.activity.slug}")
    assert "10:00 a 12:00 (hora de Aysén)" in html


# --- accessible markup basics --------------------------------------------------------------


def test_the_listing_has_one_h1_and_a_label_for_every_filter_field(client, world):
    published(world, "Accesible", 3)
    html, page = get_page(client, "/talleres?region=13")
    assert page.h1 == 1
    form_controls = [c for c in page.controls if c.get("id", "").startswith("f-")]
    assert {c["name"] for c in form_controls} == {"region", "comuna", "network", "topic", "modality", "desde",
                                                   "hasta"}
    for control in form_controls:
        assert control["id"] in page.labels, control
    assert 'role="search"' in html
    assert "<script" not in html  # works without JavaScript


def test_the_listing_offers_the_comunas_of_the_chosen_region_only(client, world):
    html, _page = get_page(client, "/talleres?region=12")
    assert '<option value="12101">Punta Arenas</option>' in html
    assert '<option value="13120">' not in html
    html, page = get_page(client, "/talleres")
    assert not any(c.get("name") == "comuna" for c in page.controls)
    assert "Elija una región y presione «Buscar talleres» para elegir la comuna." in html


def test_a_comuna_alone_selects_its_region_in_the_form(client, world):
    html, _page = get_page(client, "/talleres?comuna=12101")
    assert '<option value="12" selected>' in html
    assert '<option value="12101" selected>Punta Arenas</option>' in html
