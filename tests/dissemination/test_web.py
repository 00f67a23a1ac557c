"""The web channel: the embeddable widget, its script and snippet page, and the Atom feeds."""

from __future__ import annotations

import base64
import hashlib
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from app.activities.models import SessionStatus
from app.extensions import db
from app.timeutil import utcnow
from tests.registration import conftest as registration_fixtures
from tests.workshops.conftest import local_in

# The registration tests' fixtures (a published workshop session and its world). The browser
# tests are in tests/e2e/test_dissemination_web.py, beside the session's one browser.
published_session = registration_fixtures.published_session
world = registration_fixtures.world

ATOM = "{http://www.w3.org/2005/Atom}"


def registration_link(session: Any) -> str:
    return f"http://localhost/inscripcion/sesion/{session.id}"


def widget_style_hash(html: str) -> str:
    css = re.search(r"<style>(.*?)</style>", html, re.S)
    assert css
    return "sha256-" + base64.b64encode(hashlib.sha256(css.group(1).encode()).digest()).decode()


def parse_feed(body: bytes) -> ET.Element:
    root = ET.fromstring(body)  # noqa: S314 - our own output
    assert root.tag == f"{ATOM}feed"
    return root


def entries(root: ET.Element) -> list[ET.Element]:
    return root.findall(f"{ATOM}entry")


def alternate(entry: ET.Element) -> str:
    links = [link for link in entry.findall(f"{ATOM}link") if link.get("rel", "alternate") == "alternate"]
    assert len(links) == 1
    return links[0].get("href") or ""


@pytest.fixture
def other_region(world: Any, factory: Any) -> Any:
    """A published workshop in Valparaíso (region 05), hosted there by an office of a network there."""
    from workshops import services

    office = factory.office("05101", name="OMIL Valparaíso", category="avanzada")
    network = factory.network(("05",), name="Red Costa", offices=[office], coordinator=office)
    staff = factory.user(office=office, name="Vale Paraíso")
    data = world.data(title="Taller en Valparaíso", host_office_id=office.id, network_ids=[network.id],
                      convening_office_ids=[], facilitator_user_ids=[staff.id])
    from tests.workshops.conftest import session_input

    w = services.create_workshop(data, services.Schedule(first=session_input(local_in(12)), count=1), actor=staff,
                                 confirm_warnings=True, confirm_facilitator=True)
    services.publish(w, actor=staff)
    return w


# --- the widget ----------------------------------------------------------------------------------


def test_office_widget_lists_upcoming_sessions_with_registration_links(client: FlaskClient, world: Any,
                                                                       published_session: Any) -> None:
    session = published_session()
    resp = client.get(f"/widget/oficina/{world.host.slug}")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert '<html lang="es-CL">' in html
    assert "<h1>Próximas actividades de OMIL Ñuñoa</h1>" in html
    assert "<h2>Cómo enfrentar una entrevista de trabajo</h2>" in html
    assert f'href="{registration_link(session)}" target="_blank" rel="noopener"' in html
    assert "<script" not in html


def test_office_widget_by_id_and_for_a_convening_office(client: FlaskClient, world: Any,
                                                        published_session: Any) -> None:
    published_session()
    assert "entrevista de trabajo" in client.get(f"/widget/oficina/{world.host.id}").get_data(as_text=True)
    assert "entrevista de trabajo" in client.get(f"/widget/oficina/{world.convening.slug}").get_data(as_text=True)
    other = client.get(f"/widget/oficina/{world.other.slug}").get_data(as_text=True)
    assert "entrevista de trabajo" not in other and "no hay actividades publicadas" in other


def test_widget_leaves_out_drafts_cancelled_and_started_sessions(client: FlaskClient, world: Any) -> None:
    world.workshop(title="Borrador sin publicar")
    cancelled = world.workshop(publish=True, title="Sesión cancelada").activity.sessions[0]
    cancelled.status = SessionStatus.CANCELLED
    started = world.workshop(publish=True, title="Ya empezó").activity.sessions[0]
    started.starts_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    world.workshop(publish=True, title="Sí se muestra")
    html = client.get(f"/widget/oficina/{world.host.slug}").get_data(as_text=True)
    assert "Sí se muestra" in html
    for title in ("Borrador sin publicar", "Sesión cancelada", "Ya empezó"):
        assert title not in html


def test_network_widget_shows_the_networks_activities_only(client: FlaskClient, world: Any) -> None:
    world.workshop(publish=True, title="Taller de la red oriente")
    mine = client.get(f"/widget/red/{world.network.slug}").get_data(as_text=True)
    theirs = client.get(f"/widget/red/{world.other_network.id}").get_data(as_text=True)
    assert "Taller de la red oriente" in mine
    assert "Taller de la red oriente" not in theirs


def test_widget_limit_is_read_and_bounded(client: FlaskClient, world: Any) -> None:
    for i in range(3):
        world.workshop(publish=True, title=f"Taller número {i}", start=local_in(5 + i))
    one = client.get(f"/widget/oficina/{world.host.slug}?limite=1").get_data(as_text=True)
    assert one.count("<li>") == 1 and "Taller número 0" in one
    assert client.get(f"/widget/oficina/{world.host.slug}?limite=9999").get_data(as_text=True).count("<li>") == 3


def test_widget_may_be_framed_by_other_sites(client: FlaskClient, world: Any) -> None:
    resp = client.get(f"/widget/oficina/{world.host.slug}")
    csp = resp.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self' https: http:" in csp
    assert "'none'" not in csp.split("frame-ancestors", 1)[1]
    assert "X-Frame-Options" not in resp.headers
    assert "script-src" not in csp and "default-src 'none'" in csp
    assert f"style-src '{widget_style_hash(resp.get_data(as_text=True))}'" in csp


def test_widget_frame_ancestors_can_be_narrowed_by_configuration(app: Any, client: FlaskClient, world: Any) -> None:
    app.config["WIDGET_FRAME_ANCESTORS"] = "https://www.nunoa.cl"
    try:
        csp = client.get(f"/widget/oficina/{world.host.slug}").headers["Content-Security-Policy"]
    finally:
        app.config.pop("WIDGET_FRAME_ANCESTORS")
    assert "frame-ancestors https://www.nunoa.cl" in csp


@pytest.mark.parametrize("path", ["/talleres", "/feeds/oficina/{slug}.atom", "/widget/oficina/{slug}/insertar", "/"])
def test_every_other_page_still_refuses_to_be_framed(client: FlaskClient, world: Any, path: str) -> None:
    resp = client.get(path.format(slug=world.host.slug))
    assert resp.status_code == 200
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]


@pytest.mark.parametrize("path", [
    "/widget/oficina/no-existe", "/widget/oficina/999999", "/widget/oficina/0", "/widget/oficina/99999999999999999",
    "/widget/oficina/" + "x" * 500, "/widget/red/no-existe", "/widget/red/2147483648", "/widget/region/99",
    "/widget/region/CL-XX", "/widget/region/trece",
])
def test_widget_for_something_unknown_is_a_framed_404_page(client: FlaskClient, path: str) -> None:
    resp = client.get(path)
    assert resp.status_code == 404
    assert "No encontramos estas actividades" in resp.get_data(as_text=True)
    assert "frame-ancestors 'self' https: http:" in resp.headers["Content-Security-Policy"]


def test_inactive_office_has_no_widget_or_feed(client: FlaskClient, world: Any) -> None:
    world.other.active = False
    db.session.commit()
    assert client.get(f"/widget/oficina/{world.other.slug}").status_code == 404
    assert client.get(f"/feeds/oficina/{world.other.slug}.atom").status_code == 404


def test_widget_answers_304_when_nothing_changed(client: FlaskClient, world: Any, published_session: Any) -> None:
    published_session()
    first = client.get(f"/widget/oficina/{world.host.slug}")
    again = client.get(f"/widget/oficina/{world.host.slug}", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    # The 304 carries the widget's own policy too: a cache refreshing its headers keeps it frameable.
    assert "frame-ancestors 'self'" in again.headers["Content-Security-Policy"]


def test_widget_script_is_served_and_self_contained(client: FlaskClient) -> None:
    resp = client.get("/static/js/widget.js")
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    resp.close()
    assert "data-oficina" in body and "/widget/" in body
    assert "eval(" not in body and "innerHTML" not in body and "import " not in body


def test_snippet_page_shows_the_code_to_copy_and_the_feed(client: FlaskClient, world: Any) -> None:
    resp = client.get(f"/widget/oficina/{world.host.slug}/insertar")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert (f'&lt;script src=&#34;http://localhost/static/js/widget.js&#34; data-oficina=&#34;{world.host.slug}'
            f'&#34; async&gt;&lt;/script&gt;') in html
    assert f"&lt;iframe src=&#34;http://localhost/widget/oficina/{world.host.slug}&#34;" in html
    assert f'<iframe class="message-html" src="/widget/oficina/{world.host.slug}"' in html
    assert (f'<link rel="alternate" type="application/atom+xml" title="Próximas actividades de OMIL Ñuñoa" '
            f'href="http://localhost/feeds/oficina/{world.host.slug}.atom">') in html


def test_snippet_page_for_an_unknown_network_is_404(client: FlaskClient) -> None:
    assert client.get("/widget/red/no-existe/insertar").status_code == 404


# --- feeds -----------------------------------------------------------------------------------------


def test_office_feed_is_valid_atom_with_an_entry_per_upcoming_session(client: FlaskClient, world: Any) -> None:
    first = world.workshop(publish=True, title="Primero", start=local_in(5)).activity.sessions[0]
    second = world.workshop(publish=True, title="Segundo", start=local_in(9)).activity.sessions[0]
    resp = client.get(f"/feeds/oficina/{world.host.slug}.atom")
    assert resp.status_code == 200
    assert resp.mimetype == "application/atom+xml"
    root = parse_feed(resp.data)
    feed_url = f"http://localhost/feeds/oficina/{world.host.slug}.atom"
    assert root.findtext(f"{ATOM}id") == feed_url
    assert root.findtext(f"{ATOM}title") == "Próximas actividades de OMIL Ñuñoa · Puente Laboral"
    assert datetime.fromisoformat(root.findtext(f"{ATOM}updated") or "").tzinfo is not None
    assert root.findtext(f"{ATOM}author/{ATOM}name") == "OMIL Ñuñoa"
    assert any(link.get("rel") == "self" and link.get("href") == feed_url for link in root.findall(f"{ATOM}link"))
    items = entries(root)
    assert [e.findtext(f"{ATOM}title") for e in items] == ["Primero", "Segundo"]
    assert [alternate(e) for e in items] == [registration_link(first), registration_link(second)]
    for entry, session in zip(items, (first, second), strict=True):
        assert entry.findtext(f"{ATOM}id") == f"tag:localhost,2025:puente-laboral/sesion/{session.id}"
        assert datetime.fromisoformat(entry.findtext(f"{ATOM}updated") or "").tzinfo is not None
        summary = entry.findtext(f"{ATOM}summary") or ""
        assert "10:00 a 12:00 (hora de Chile continental)" in summary
        assert "Lugar: En línea" in summary and "Organiza: OMIL Ñuñoa, Ñuñoa" in summary
    related = [link.get("href") for link in items[0].findall(f"{ATOM}link") if link.get("rel") == "related"]
    assert related and related[0].startswith("http://localhost/talleres/")


def test_network_feed_and_region_feed(client: FlaskClient, world: Any, other_region: Any) -> None:
    world.workshop(publish=True, title="Taller en Ñuñoa")
    network = parse_feed(client.get(f"/feeds/red/{world.network.id}.atom").data)
    assert [e.findtext(f"{ATOM}title") for e in entries(network)] == ["Taller en Ñuñoa"]
    metropolitana = parse_feed(client.get("/feeds/region/13.atom").data)
    assert [e.findtext(f"{ATOM}title") for e in entries(metropolitana)] == ["Taller en Ñuñoa"]
    assert metropolitana.findtext(f"{ATOM}title") == \
        "Próximas actividades en la Región Metropolitana de Santiago · Puente Laboral"
    valparaiso = parse_feed(client.get("/feeds/region/5.atom").data)
    assert [e.findtext(f"{ATOM}title") for e in entries(valparaiso)] == ["Taller en Valparaíso"]
    assert client.get("/feeds/region/CL-VS.atom").status_code == 200


def test_feed_text_never_carries_characters_xml_forbids(client: FlaskClient, world: Any) -> None:
    w = world.workshop(publish=True)
    # written to the row directly: the services now save titles on one line (app.text)
    w.activity.title = "Taller\x0b con \x01 controles & <marcas>"
    db.session.commit()
    root = parse_feed(client.get(f"/feeds/oficina/{world.host.slug}.atom").data)
    assert [e.findtext(f"{ATOM}title") for e in entries(root)] == ["Taller con  controles & <marcas>"]


def test_empty_feed_is_still_valid_atom(client: FlaskClient, world: Any) -> None:
    root = parse_feed(client.get(f"/feeds/red/{world.other_network.slug}.atom").data)
    assert entries(root) == []
    assert root.findtext(f"{ATOM}updated") and root.findtext(f"{ATOM}id")


@pytest.mark.parametrize("path", ["/feeds/oficina/no-existe.atom", "/feeds/oficina/999999.atom",
                                  "/feeds/red/-1.atom", "/feeds/region/99.atom", "/feeds/region/metropolitana.atom",
                                  "/feeds/otra/1.atom"])
def test_feed_for_something_unknown_is_404(client: FlaskClient, path: str) -> None:
    assert client.get(path).status_code == 404


def test_feed_answers_304_to_its_etag_and_changes_when_a_session_is_added(client: FlaskClient, world: Any) -> None:
    world.workshop(publish=True, title="Primero")
    url = f"/feeds/red/{world.network.slug}.atom"
    first = client.get(url)
    etag = first.headers["ETag"]
    assert first.headers["Last-Modified"]
    repeat = client.get(url, headers={"If-None-Match": etag})
    assert repeat.status_code == 304 and repeat.data == b""
    assert client.get(url, headers={"If-Modified-Since": first.headers["Last-Modified"]}).status_code == 304
    world.workshop(publish=True, title="Segundo")
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert len(entries(parse_feed(changed.data))) == 2


def test_feed_changes_when_a_session_is_cancelled(client: FlaskClient, world: Any) -> None:
    from workshops import services

    session = world.workshop(publish=True, title="Se cancelará").activity.sessions[0]
    url = f"/feeds/oficina/{world.host.slug}.atom"
    first = client.get(url)
    services.cancel_session(session, "Sin sala", actor=world.host_staff)
    changed = client.get(url, headers={"If-None-Match": first.headers["ETag"],
                                       "If-Modified-Since": first.headers["Last-Modified"]})
    assert changed.status_code == 200
    assert entries(parse_feed(changed.data)) == []


# --- the public pages announce their feeds -----------------------------------------------------------


def test_listing_by_network_or_region_links_to_its_feed(client: FlaskClient, world: Any) -> None:
    by_network = client.get(f"/talleres?network={world.network.slug}").get_data(as_text=True)
    assert (f'<link rel="alternate" type="application/atom+xml" title="Próximas actividades de Red Oriente" '
            f'href="/feeds/red/{world.network.slug}.atom">') in by_network
    by_region = client.get("/talleres?region=13").get_data(as_text=True)
    assert 'href="/feeds/region/13.atom"' in by_region
    unfiltered = client.get("/talleres").get_data(as_text=True)
    assert unfiltered.count("application/atom+xml") == 1  # the national feed only
    assert ('<link rel="alternate" type="application/atom+xml" title="Próximas actividades en todo Chile" '
            'href="/feeds/chile.atom">') in unfiltered


def test_national_feed_lists_upcoming_activities_of_every_region(client: FlaskClient, world: Any,
                                                                 other_region: Any) -> None:
    world.workshop(publish=True, title="Taller en Ñuñoa")
    resp = client.get("/feeds/chile.atom")
    assert resp.status_code == 200 and resp.mimetype == "application/atom+xml"
    root = parse_feed(resp.data)
    assert root.findtext(f"{ATOM}title") == "Próximas actividades en todo Chile · Puente Laboral"
    assert root.findtext(f"{ATOM}id") == "http://localhost/feeds/chile.atom"
    assert {e.findtext(f"{ATOM}title") for e in entries(root)} == {"Taller en Ñuñoa", "Taller en Valparaíso"}
    html_links = [link.get("href") for link in root.findall(f"{ATOM}link") if link.get("rel") == "alternate"]
    assert html_links == ["http://localhost/talleres"]
    again = client.get("/feeds/chile.atom", headers={"If-None-Match": resp.headers["ETag"]})
    assert again.status_code == 304


def test_workshop_page_links_to_its_office_and_network_feeds(client: FlaskClient, world: Any) -> None:
    w = world.workshop(publish=True)
    html = client.get(f"/talleres/{w.activity.slug}").get_data(as_text=True)
    assert f'href="/feeds/oficina/{world.host.slug}.atom"' in html
    assert f'href="/feeds/red/{world.network.slug}.atom"' in html
