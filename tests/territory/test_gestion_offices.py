"""Office pages under /gestion/oficinas: list and filters, create, edit, detail."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.extensions import db
from app.territory.models import Office, OfficeCategory, OfficeKind
from tests.conftest import count, get_csrf


@pytest.fixture
def post(client: Any) -> Any:
    def _post(url: str, data: dict[str, Any]) -> Any:
        return client.post(url, data={**data, "csrf_token": get_csrf(client, "/gestion/")})

    return _post


def _text(resp: Any) -> str:
    return resp.get_data(as_text=True)


def _office_data(**overrides: str) -> dict[str, str]:
    data = {
        "name": "OMIL Providencia", "kind": "omil", "category": "avanzada",
        "comuna_code": "13123", "email": "OMIL@Providencia.cl", "whatsapp": "9 8765 4321",
        "phone": "(2) 2345 6789", "facebook_url": "https://www.facebook.com/omilprovidencia",
        "website": "https://www.providencia.cl/omil", "address": "Av. Providencia 1234",
        "opening_hours": "Lunes a viernes, 8:30 a 14:00",
    }
    data.update(overrides)
    return data


# --- list ----------------------------------------------------------------------------------


def test_regional_lists_offices_of_their_region(client, factory, logged_in):
    factory.office("13101", name="OMIL Santiago")
    factory.office("05101", name="OMIL Valparaíso")
    logged_in(role="sence_regional")
    resp = client.get("/gestion/oficinas")
    assert resp.status_code == 200
    assert "OMIL Santiago" in _text(resp)
    assert "OMIL Valparaíso" not in _text(resp)
    assert "Nueva oficina" in _text(resp)


def test_office_list_filters_by_region_and_text(client, factory, logged_in):
    factory.office("13101", name="OMIL Santiago")
    factory.office("13114", name="OMIL Las Condes")
    factory.office("05101", name="OMIL Valparaíso")
    logged_in(role="sence_national")
    body = _text(client.get("/gestion/oficinas?region=13&q=condes"))
    assert "OMIL Las Condes" in body
    assert "OMIL Santiago" not in body and "OMIL Valparaíso" not in body


def test_office_list_text_filter_matches_comuna_name(client, factory, logged_in):
    factory.office("05101", name="Oficina Puerto")
    logged_in(role="sence_national")
    assert "Oficina Puerto" in _text(client.get("/gestion/oficinas?q=valpara"))


def test_office_list_treats_like_wildcards_literally(client, factory, logged_in):
    factory.office(name="OMIL Santiago")
    logged_in(role="sence_national")
    assert "OMIL Santiago" not in _text(client.get("/gestion/oficinas?q=%25"))


def test_employer_cannot_open_office_list(client, logged_in):
    logged_in(role="employer")
    assert client.get("/gestion/oficinas").status_code == 403


def test_office_staff_cannot_open_new_office_page(client, logged_in):
    logged_in()
    body = _text(client.get("/gestion/oficinas"))
    assert "Nueva oficina" not in body
    assert client.get("/gestion/oficinas/nueva").status_code == 403


# --- create --------------------------------------------------------------------------------


def test_new_office_form_groups_comunas_by_region(client, logged_in):
    logged_in(role="sence_national")
    body = _text(client.get("/gestion/oficinas/nueva"))
    assert '<optgroup label="Metropolitana de Santiago">' in body
    assert '<option value="13101">Santiago</option>' in body


def test_regional_form_offers_only_their_regions_comunas(client, logged_in):
    logged_in(role="sence_regional")
    body = _text(client.get("/gestion/oficinas/nueva"))
    assert "13101" in body
    assert "05101" not in body


def test_regional_creates_office_with_normalised_contacts(client, logged_in, post):
    logged_in(role="sence_regional")
    resp = post("/gestion/oficinas/nueva", _office_data())
    assert resp.status_code == 302
    office = db.session.scalar(select(Office))
    assert office.slug == "omil-providencia"
    assert office.kind == OfficeKind.OMIL and office.category == OfficeCategory.AVANZADA
    assert office.email == "omil@providencia.cl"
    assert office.whatsapp == "+56987654321"
    assert office.phone == "+56223456789"
    assert resp.headers["Location"].endswith(f"/gestion/oficinas/{office.id}")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "office.create"))
    assert event.office_id == office.id and event.region_code == "13"


def test_audit_summary_of_office_changes_holds_no_contact_data(client, factory, logged_in, post):
    office = factory.office(name="OMIL Editable")
    logged_in(role="sence_regional")
    post(f"/gestion/oficinas/{office.id}/editar",
         _office_data(name="OMIL Editable", comuna_code="13101", whatsapp="+56 9 8111 2222"))
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "office.update"))
    assert "whatsapp" in event.summary
    assert "8111" not in event.summary and "@" not in event.summary


def test_plataforma_laboral_needs_no_category(client, logged_in, post):
    logged_in(role="sence_national")
    resp = post("/gestion/oficinas/nueva",
                _office_data(name="Plataforma Laboral Maipú", kind="plataforma_laboral",
                             category="", comuna_code="13119"))
    assert resp.status_code == 302
    assert db.session.scalar(select(Office)).category is None


def test_omil_without_category_is_refused(client, logged_in, post):
    logged_in(role="sence_national")
    resp = post("/gestion/oficinas/nueva", _office_data(category=""))
    assert resp.status_code == 400
    assert "Elija la categoría de la OMIL" in _text(resp)
    assert count(Office) == 0


def test_plataforma_with_category_is_refused(client, logged_in, post):
    logged_in(role="sence_national")
    resp = post("/gestion/oficinas/nueva", _office_data(kind="plataforma_laboral"))
    assert resp.status_code == 400
    assert "no tienen categoría" in _text(resp)
    assert count(Office) == 0


@pytest.mark.parametrize("code", ["99999", "1310", "abcde", "13101' OR 1=1"])
def test_unknown_comuna_is_refused_with_spanish_message(client, logged_in, post, code):
    logged_in(role="sence_national")
    resp = post("/gestion/oficinas/nueva", _office_data(comuna_code=code))
    assert resp.status_code == 400
    assert "Elija una comuna de la lista." in _text(resp)
    assert count(Office) == 0
    assert count(AuditEvent) == 1  # the login only


def test_regional_cannot_create_office_in_another_region(client, logged_in, post):
    logged_in(role="sence_regional")
    resp = post("/gestion/oficinas/nueva", _office_data(comuna_code="05101"))
    assert resp.status_code == 403
    assert "No puede registrar oficinas en la región de Valparaíso" in _text(resp)
    assert count(Office) == 0


@pytest.mark.parametrize("field", ["whatsapp", "phone"])
def test_invalid_phone_is_refused(client, logged_in, post, field):
    logged_in(role="sence_national")
    resp = post("/gestion/oficinas/nueva", _office_data(**{field: "12345"}))
    assert resp.status_code == 400
    assert "Escriba un número de teléfono válido" in _text(resp)
    assert 'value="12345"' in _text(resp)
    assert count(Office) == 0


@pytest.mark.parametrize(("field", "value", "message"), [
    ("website", "javascript:alert(1)", "Escriba una dirección web completa"),
    ("website", "ftp://omil.cl", "Escriba una dirección web completa"),
    ("website", "www.omil.cl", "Escriba una dirección web completa"),
    ("facebook_url", "https://example.com/omil", "Escriba la dirección de la página de Facebook"),
])
def test_invalid_url_is_refused(client, logged_in, post, field, value, message):
    logged_in(role="sence_national")
    resp = post("/gestion/oficinas/nueva", _office_data(**{field: value}))
    assert resp.status_code == 400
    assert message in _text(resp)
    assert count(Office) == 0


def test_invalid_email_is_refused(client, logged_in, post):
    logged_in(role="sence_national")
    resp = post("/gestion/oficinas/nueva", _office_data(email="omil@"))
    assert resp.status_code == 400
    assert "Escriba un correo válido" in _text(resp)
    assert count(Office) == 0


def test_duplicate_office_name_is_refused(client, factory, logged_in, post):
    factory.office(name="OMIL Providencia")
    logged_in(role="sence_national")
    resp = post("/gestion/oficinas/nueva", _office_data(name="omil providencia"))
    assert resp.status_code == 409
    assert "Ya existe una oficina con ese nombre" in _text(resp)
    assert count(Office) == 1


def test_missing_fields_are_listed_in_the_summary(client, logged_in, post):
    logged_in(role="sence_national")
    resp = post("/gestion/oficinas/nueva", {"name": "", "kind": "", "comuna_code": ""})
    body = _text(resp)
    assert resp.status_code == 400
    assert "Escriba el nombre." in body
    assert "Elija si es una OMIL o una plataforma laboral." in body
    assert "Elija una comuna de la lista." in body
    assert 'href="#name"' in body and 'aria-invalid="true"' in body
    assert count(Office) == 0


@pytest.mark.parametrize("field", ["name", "address", "opening_hours", "website", "whatsapp"])
def test_oversized_field_is_refused(client, logged_in, post, field):
    logged_in(role="sence_national")
    resp = post("/gestion/oficinas/nueva", _office_data(**{field: "x" * 10_000}))
    assert resp.status_code == 400
    assert "error-summary" in _text(resp)
    assert count(Office) == 0


# --- detail and edit -----------------------------------------------------------------------


def test_office_detail_shows_channels_networks_and_team_link(client, factory, logged_in):
    office = factory.office(name="OMIL Detalle", whatsapp="+56987654321",
                            website="https://omil.example.cl")
    factory.network(name="Red del Detalle", offices=[office])
    logged_in(office=office)
    resp = client.get(f"/gestion/oficinas/{office.id}")
    body = _text(resp)
    assert resp.status_code == 200
    assert "https://wa.me/56987654321" in body
    assert "Red del Detalle" in body
    assert f"/gestion/oficinas/{office.id}/equipo" in body


def test_office_detail_is_forbidden_to_staff_of_another_network(client, factory, logged_in):
    office = factory.office()
    factory.network(offices=[office])
    logged_in(office=factory.office())
    assert client.get(f"/gestion/oficinas/{office.id}").status_code == 403


def test_office_detail_is_forbidden_to_regional_of_another_region(client, factory, logged_in):
    office = factory.office("05101")
    logged_in(role="sence_regional")
    assert client.get(f"/gestion/oficinas/{office.id}").status_code == 403


def test_unknown_office_is_404(client, logged_in):
    logged_in(role="sence_national")
    assert client.get("/gestion/oficinas/424242").status_code == 404


def test_own_staff_edits_office(client, factory, logged_in, post):
    office = factory.office(name="OMIL Antigua")
    logged_in(office=office)
    assert client.get(f"/gestion/oficinas/{office.id}/editar").status_code == 200
    resp = post(f"/gestion/oficinas/{office.id}/editar",
                _office_data(name="OMIL Renovada", comuna_code="13101"))
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(Office, office.id).name == "OMIL Renovada"


def test_staff_of_a_member_office_cannot_edit_another_member(client, factory, logged_in):
    mine, theirs = factory.office(), factory.office()
    factory.network(offices=[mine, theirs])
    logged_in(office=mine)
    assert client.get(f"/gestion/oficinas/{theirs.id}/editar").status_code == 403


def test_office_staff_cannot_move_office_to_another_region(client, factory, logged_in, post):
    office = factory.office(name="OMIL Fija")
    logged_in(office=office)
    resp = post(f"/gestion/oficinas/{office.id}/editar",
                _office_data(name="OMIL Fija", comuna_code="05101"))
    assert resp.status_code == 403
    db.session.expire_all()
    assert db.session.get(Office, office.id).comuna_code == "13101"


def test_edit_with_invalid_phone_keeps_stored_data(client, factory, logged_in, post):
    office = factory.office(name="OMIL Estable")
    logged_in(role="sence_regional")
    resp = post(f"/gestion/oficinas/{office.id}/editar",
                _office_data(name="OMIL Cambiada", comuna_code="13101", phone="0000"))
    assert resp.status_code == 400
    assert 'value="OMIL Cambiada"' in _text(resp)
    db.session.expire_all()
    assert db.session.get(Office, office.id).name == "OMIL Estable"
