"""A workshop page can be shared and tells the way to in-person sessions; phones read as people write them."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from app.activities.models import Modality
from app.channels.phone import as_written
from app.extensions import db
from tests.workshops.conftest import WorkshopWorld


def test_phones_are_shown_as_people_write_them():
    assert as_written("+56222486200") == "+56 2 2248 6200"
    assert as_written("+56912345678") == "+56 9 1234 5678"
    assert as_written("+56452123456") == "+56 45 212 3456"
    assert as_written("no es un número") == "no es un número"
    assert as_written(None) == ""


def test_the_workshop_page_offers_whatsapp_facebook_and_a_link_to_copy(client, factory):
    w = WorkshopWorld(factory).workshop(publish=True, title="Currículum que funciona")
    html = client.get(f"/talleres/{w.activity.slug}").get_data(as_text=True)
    page_url = f"http://localhost/talleres/{w.activity.slug}"
    wa = html.split('href="https://wa.me/?')[1].split('"')[0].replace("&amp;", "&")
    text = parse_qs(wa)["text"][0]
    assert text.startswith("Currículum que funciona (") and text.endswith(page_url)
    fb = html.split('href="https://www.facebook.com/sharer/sharer.php?')[1].split('"')[0]
    assert parse_qs(fb)["u"] == [page_url]
    assert f'value="{page_url}" readonly' in html


def test_an_in_person_session_has_a_map_link_and_an_online_one_does_not(client, factory):
    world = WorkshopWorld(factory)
    here = world.workshop(publish=True, session={"modality": Modality.IN_PERSON})
    online = world.workshop(publish=True, title="Solo en línea")
    html = client.get(f"/talleres/{here.activity.slug}").get_data(as_text=True)
    link = html.split('href="https://www.google.com/maps/search/?')[1].split('"')[0].replace("&amp;", "&")
    assert parse_qs(link)["query"] == ["Av. Irarrázaval 3550, Ñuñoa, Chile"]
    assert "Cómo llegar (mapa)" in html
    assert "google.com/maps" not in client.get(f"/talleres/{online.activity.slug}").get_data(as_text=True)
    assert urlsplit("https://www.google.com/maps/search/?" + link).netloc == "www.google.com"


def test_the_office_phone_on_the_workshop_page_is_written_with_spaces(client, factory):
    world = WorkshopWorld(factory)
    w = world.workshop(publish=True)
    world.host.phone = "+56222486200"
    db.session.commit()
    html = client.get(f"/talleres/{w.activity.slug}").get_data(as_text=True)
    assert '<a href="tel:+56222486200">+56 2 2248 6200</a>' in html


def test_the_workshop_page_buttons_tell_the_truth_about_seats(client, factory):
    from app.registration import services as registration_services
    from tests.registration.conftest import person_input

    w = WorkshopWorld(factory).workshop(publish=True, session={"capacity": 1})
    session = w.activity.sessions[0]
    html = client.get(f"/talleres/{w.activity.slug}").get_data(as_text=True)
    assert "Queda 1 cupo" in html and "Inscribirme en esta sesión" in html
    registration_services.register(session.id, person_input(1))
    registration_services.register(session.id, person_input(2))
    db.session.expire_all()
    html = client.get(f"/talleres/{w.activity.slug}").get_data(as_text=True)
    assert "Sin cupos: lista de espera (quedaría en el lugar 2)" in html
    assert "Anotarme en la lista de espera" in html
    assert "Inscribirme en esta sesión<" not in html
