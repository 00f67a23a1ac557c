"""Co-branding: an office uploads its logo; its workshop pages show it beside the partner mark."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from app.extensions import db
from app.files_models import StoredFile
from app.territory.models import OfficeLogo
from tests.conftest import count, get_csrf
from tests.workshops.conftest import WorkshopWorld


def png_bytes(colour: str = "navy") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (96, 48), colour).save(out, "PNG")
    return out.getvalue()


def upload(client: Any, office_id: int, *, data: bytes | None = None, alt: str = "Municipalidad de Ñuñoa",
           filename: str = "logo.png") -> Any:
    form: dict[str, Any] = {"alt": alt, "csrf_token": get_csrf(client, "/gestion/")}
    if data is not None:
        form["logo"] = (io.BytesIO(data), filename)
    return client.post(f"/gestion/oficinas/{office_id}/logo", data=form, content_type="multipart/form-data")


def test_staff_upload_a_logo_shown_on_the_office_workshop_pages_beside_the_partner_mark(client, factory, logged_in):
    world = WorkshopWorld(factory)
    w = world.workshop(publish=True)
    logged_in(office=world.host)
    assert upload(client, world.host.id, data=png_bytes()).status_code == 302
    html = client.get(f"/talleres/{w.activity.slug}").get_data(as_text=True)
    assert f'src="/oficinas/{world.host.slug}/logo?v=' in html
    assert 'alt="Municipalidad de Ñuñoa"' in html
    assert "Servicio Nacional de Capacitación y Empleo (SENCE)" in html
    logo_url = html.split('class="cobrand__logo" src="')[1].split('"')[0].replace("&amp;", "&")
    resp = client.get(logo_url)
    assert resp.status_code == 200 and resp.mimetype == "image/png"
    assert resp.headers["Cache-Control"] == "public, max-age=86400"
    assert client.get(logo_url, headers={"If-None-Match": resp.headers["ETag"]}).status_code == 304


def test_a_new_logo_replaces_the_old_file(client, factory, logged_in):
    world = WorkshopWorld(factory)
    logged_in(office=world.host)
    upload(client, world.host.id, data=png_bytes("navy"))
    upload(client, world.host.id, data=png_bytes("red"), alt="Municipalidad de Ñuñoa, nuevo")
    db.session.expire_all()
    assert count(OfficeLogo) == 1 and count(StoredFile) == 1
    assert db.session.get(OfficeLogo, world.host.id).alt == "Municipalidad de Ñuñoa, nuevo"


def test_a_logo_without_its_description_is_refused_and_what_was_typed_kept(client, factory, logged_in):
    world = WorkshopWorld(factory)
    logged_in(office=world.host)
    resp = upload(client, world.host.id, data=png_bytes(), alt="   ")
    assert resp.status_code == 400
    assert "Escriba qué dice el logo" in resp.get_data(as_text=True)
    assert count(StoredFile) == 0


def test_a_file_that_is_not_an_image_is_refused(client, factory, logged_in):
    world = WorkshopWorld(factory)
    logged_in(office=world.host)
    resp = upload(client, world.host.id, data=b"%PDF-1.4 not a logo", filename="logo.png", alt="Municipalidad")
    assert resp.status_code == 415
    assert 'value="Municipalidad"' in resp.get_data(as_text=True)
    assert count(OfficeLogo) == 0


def test_staff_of_another_office_cannot_change_the_logo(client, factory, logged_in):
    world = WorkshopWorld(factory)
    logged_in(office=world.other)
    assert upload(client, world.host.id, data=png_bytes()).status_code == 403


def test_removing_the_logo_leaves_the_partner_mark_only(client, factory, logged_in):
    world = WorkshopWorld(factory)
    w = world.workshop(publish=True)
    logged_in(office=world.host)
    upload(client, world.host.id, data=png_bytes())
    resp = client.post(f"/gestion/oficinas/{world.host.id}/logo",
                       data={"action": "remove", "csrf_token": get_csrf(client, "/gestion/")})
    assert resp.status_code == 302
    assert count(OfficeLogo) == 0
    assert client.get(f"/oficinas/{world.host.slug}/logo").status_code == 404
    html = client.get(f"/talleres/{w.activity.slug}").get_data(as_text=True)
    assert "cobrand__logo" not in html and "cobrand__mark" in html


def test_the_partner_mark_is_configurable_and_can_be_hidden(client, factory, app):
    w = WorkshopWorld(factory).workshop(publish=True)
    app.config["PARTNER_MARK_TEXT"] = ""
    try:
        html = client.get(f"/talleres/{w.activity.slug}").get_data(as_text=True)
    finally:
        app.config["PARTNER_MARK_TEXT"] = "Servicio Nacional de Capacitación y Empleo (SENCE)"
    assert 'class="cobrand"' not in html
