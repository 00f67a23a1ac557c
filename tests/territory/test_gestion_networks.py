"""Network pages under /gestion/redes: list, create, detail, edit, members, coordination."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from app.accounts.policy import current_year
from app.audit.models import AuditEvent
from app.extensions import db
from app.territory.models import Network, NetworkCoordination, network_offices
from app.territory.services import slugify
from tests.conftest import count, get_csrf


@pytest.fixture
def post(client: Any) -> Any:
    def _post(url: str, data: dict[str, Any]) -> Any:
        return client.post(url, data={**data, "csrf_token": get_csrf(client, "/gestion/")})

    return _post


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _text(resp: Any) -> str:
    return resp.get_data(as_text=True)


# --- list ----------------------------------------------------------------------------------


def test_regional_sees_networks_of_their_region_only(client, factory, logged_in):
    factory.network(("13",), name="Red Santiago Centro")
    factory.network(("05",), name="Red Valparaíso Costa")
    logged_in(role="sence_regional")
    resp = client.get("/gestion/redes")
    assert resp.status_code == 200
    assert "Red Santiago Centro" in _text(resp)
    assert "Red Valparaíso Costa" not in _text(resp)
    assert "Nueva red" in _text(resp)


def test_office_staff_sees_own_networks_without_create_button(client, factory, logged_in):
    office = factory.office()
    factory.network(name="Red Propia", offices=[office])
    factory.network(name="Red Ajena", offices=[factory.office()])
    logged_in(office=office)
    body = _text(client.get("/gestion/redes"))
    assert "Red Propia" in body
    assert "Red Ajena" not in body
    assert "Nueva red" not in body


def test_employer_cannot_open_network_list(client, logged_in):
    logged_in(role="employer")
    assert client.get("/gestion/redes").status_code == 403


def test_network_list_requires_login(client):
    resp = client.get("/gestion/redes")
    assert resp.status_code == 302
    assert "/cuenta/ingresar" in resp.headers["Location"]


# --- create --------------------------------------------------------------------------------


def test_new_network_page_is_forbidden_to_office_staff(client, logged_in):
    logged_in()
    assert client.get("/gestion/redes/nueva").status_code == 403


def test_new_network_page_ticks_the_regional_users_region(client, logged_in):
    logged_in(role="sence_regional")
    body = _text(client.get("/gestion/redes/nueva"))
    assert 'value="13" checked' in body
    assert 'value="05"' not in body


def test_regional_creates_network_in_their_region(client, logged_in, post):
    logged_in(role="sence_regional")
    resp = post("/gestion/redes/nueva", {"name": "Red Ñuñoa–Providencia", "description": "Oriente",
                                         "regions": ["13"]})
    assert resp.status_code == 302
    net = db.session.scalar(select(Network))
    assert net.name == "Red Ñuñoa–Providencia"
    assert net.slug == "red-nunoa-providencia"
    assert net.region_codes == {"13"}
    assert resp.headers["Location"].endswith(f"/gestion/redes/{net.id}")
    [event] = _events("network.create")
    assert event.network_id == net.id and event.region_code == "13"


def test_national_admin_creates_network_across_regions(client, logged_in, post):
    logged_in(role="sence_national")
    resp = post("/gestion/redes/nueva", {"name": "Red Interregional", "regions": ["05", "13"]})
    assert resp.status_code == 302
    assert db.session.scalar(select(Network)).region_codes == {"05", "13"}


def test_regional_cannot_create_network_in_another_region(client, logged_in, post):
    logged_in(role="sence_regional")
    resp = post("/gestion/redes/nueva", {"name": "Red Ajena", "regions": ["05"]})
    assert resp.status_code == 403
    assert "No puede incluir la región de Valparaíso" in _text(resp)
    assert 'value="Red Ajena"' in _text(resp)
    assert count(Network) == 0


def test_network_without_name_or_region_is_refused(client, logged_in, post):
    logged_in(role="sence_national")
    resp = post("/gestion/redes/nueva", {"name": "  "})
    assert resp.status_code == 400
    assert "Escriba el nombre." in _text(resp)
    assert "Elija al menos una región." in _text(resp)
    assert "error-summary" in _text(resp)
    assert count(Network) == 0


def test_oversized_network_name_is_refused(client, logged_in, post):
    logged_in(role="sence_national")
    resp = post("/gestion/redes/nueva", {"name": "R" * 10_000, "regions": ["13"]})
    assert resp.status_code == 400
    assert "no puede superar 160 caracteres" in _text(resp)
    assert count(Network) == 0


def test_unknown_region_code_is_refused(client, logged_in, post):
    logged_in(role="sence_national")
    resp = post("/gestion/redes/nueva", {"name": "Red X", "regions": ["99"]})
    assert resp.status_code == 400
    assert "Elija regiones de la lista." in _text(resp)
    assert count(Network) == 0


def test_duplicate_network_name_is_refused_whatever_the_case(client, factory, logged_in, post):
    factory.network(name="Red Sur")
    logged_in(role="sence_national")
    resp = post("/gestion/redes/nueva", {"name": "red sur", "regions": ["13"]})
    assert resp.status_code == 409
    assert "Ya existe una red con ese nombre" in _text(resp)
    assert count(Network) == 1


def test_slug_is_ascii_and_unique_when_names_differ_only_in_punctuation(client, logged_in, post):
    logged_in(role="sence_national")
    post("/gestion/redes/nueva", {"name": "Red Ñuble", "regions": ["16"]})
    post("/gestion/redes/nueva", {"name": "Red-Ñuble", "regions": ["16"]})
    assert sorted(db.session.scalars(select(Network.slug))) == ["red-nuble", "red-nuble-2"]


def test_slugify_strips_accents():
    assert slugify("  Red Los Ángeles / Biobío  ") == "red-los-angeles-biobio"


# --- detail --------------------------------------------------------------------------------


def test_member_office_staff_sees_network_detail(client, factory, logged_in):
    office = factory.office(name="OMIL Miembro", category="avanzada")
    net = factory.network(name="Red Norte", offices=[office])
    logged_in(office=office)
    resp = client.get(f"/gestion/redes/{net.id}")
    assert resp.status_code == 200
    assert "OMIL Miembro" in _text(resp)
    assert "avanzada" in _text(resp)
    assert "Quitar de la red" not in _text(resp)


def test_staff_of_another_network_cannot_see_network(client, factory, logged_in):
    net = factory.network(offices=[factory.office()])
    other = factory.office()
    factory.network(offices=[other])
    logged_in(office=other)
    assert client.get(f"/gestion/redes/{net.id}").status_code == 403


def test_regional_of_another_region_cannot_see_network(client, factory, logged_in):
    net = factory.network(("05",))
    logged_in(role="sence_regional")
    assert client.get(f"/gestion/redes/{net.id}").status_code == 403


def test_unknown_network_is_404(client, logged_in):
    logged_in(role="sence_national")
    assert client.get("/gestion/redes/999999").status_code == 404


def test_detail_shows_history_with_current_year_highlighted(client, factory, logged_in):
    old, new = factory.office(name="OMIL Antes"), factory.office(name="OMIL Ahora")
    net = factory.network(offices=[old, new], coordinator=old, year=current_year() - 1)
    db.session.add(NetworkCoordination(network_id=net.id, office_id=new.id, year=current_year()))
    db.session.commit()
    logged_in(role="sence_regional")
    body = _text(client.get(f"/gestion/redes/{net.id}"))
    assert str(current_year() - 1) in body and "OMIL Antes" in body
    assert "año en curso" in body
    assert f"<strong>{current_year()}</strong>" in body


# --- edit ----------------------------------------------------------------------------------


def test_coordinator_renames_network(client, factory, logged_in, post):
    office = factory.office()
    net = factory.network(name="Red Vieja", coordinator=office)
    logged_in(office=office)
    assert client.get(f"/gestion/redes/{net.id}/editar").status_code == 200
    resp = post(f"/gestion/redes/{net.id}/editar", {"name": "Red Nueva", "regions": ["13"]})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(Network, net.id).name == "Red Nueva"
    [event] = _events("network.update")
    assert event.network_id == net.id


def test_plain_member_cannot_edit_network(client, factory, logged_in):
    office = factory.office()
    net = factory.network(offices=[office])
    logged_in(office=office)
    assert client.get(f"/gestion/redes/{net.id}/editar").status_code == 403


def test_coordinator_cannot_add_a_region(client, factory, logged_in, post):
    office = factory.office()
    net = factory.network(name="Red Fija", coordinator=office)
    logged_in(office=office)
    resp = post(f"/gestion/redes/{net.id}/editar", {"name": "Red Fija", "regions": ["13", "05"]})
    assert resp.status_code == 403
    db.session.expire_all()
    assert db.session.get(Network, net.id).region_codes == {"13"}


def test_regional_keeps_other_regions_of_a_shared_network(client, factory, logged_in, post):
    net = factory.network(("05", "13"), name="Red Compartida")
    logged_in(role="sence_regional")
    body = _text(client.get(f"/gestion/redes/{net.id}/editar"))
    assert 'type="hidden" name="regions" value="05"' in body
    resp = post(f"/gestion/redes/{net.id}/editar",
                {"name": "Red Compartida 2", "regions": ["05", "13"]})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(Network, net.id).region_codes == {"05", "13"}


# --- members -------------------------------------------------------------------------------


def test_regional_adds_office_to_network(client, factory, logged_in, post):
    net = factory.network()
    office = factory.office(name="OMIL Nueva Socia")
    logged_in(role="sence_regional")
    assert "OMIL Nueva Socia" in _text(client.get(f"/gestion/redes/{net.id}"))
    resp = post(f"/gestion/redes/{net.id}/oficinas", {"member-office_id": str(office.id)})
    assert resp.status_code == 302
    assert count(network_offices) == 1
    [event] = _events("network.office_add")
    assert event.office_id == office.id and event.network_id == net.id


def test_office_outside_network_regions_cannot_join(client, factory, logged_in, post):
    net = factory.network(("13",))
    office = factory.office("05101")
    logged_in(role="sence_national")
    resp = post(f"/gestion/redes/{net.id}/oficinas", {"member-office_id": str(office.id)})
    assert resp.status_code == 400
    assert "no es parte de la red" in _text(resp)
    assert count(network_offices) == 0


def test_adding_office_with_garbage_id_is_400(client, factory, logged_in, post):
    net = factory.network()
    logged_in(role="sence_national")
    resp = post(f"/gestion/redes/{net.id}/oficinas", {"member-office_id": "abc"})
    assert resp.status_code == 400
    assert "Elija una oficina de la lista." in _text(resp)


def test_regional_removes_office_from_network(client, factory, logged_in, post):
    office = factory.office()
    net = factory.network(offices=[office])
    logged_in(role="sence_regional")
    resp = post(f"/gestion/redes/{net.id}/oficinas/{office.id}/quitar", {})
    assert resp.status_code == 302
    assert count(network_offices) == 0
    assert len(_events("network.office_remove")) == 1


def test_coordinating_office_cannot_be_removed(client, factory, logged_in, post):
    office = factory.office(name="OMIL Coordinadora")
    net = factory.network(coordinator=office)
    logged_in(role="sence_regional")
    resp = post(f"/gestion/redes/{net.id}/oficinas/{office.id}/quitar", {})
    assert resp.status_code == 409
    assert "tiene la coordinación" in _text(resp)
    assert count(network_offices) == 1


# --- coordination --------------------------------------------------------------------------


def test_regional_assigns_this_years_coordinator(client, factory, logged_in, post):
    office = factory.office()
    net = factory.network(offices=[office])
    logged_in(role="sence_regional")
    resp = post(f"/gestion/redes/{net.id}/coordinacion",
                {"year": str(current_year()), "office_id": str(office.id)})
    assert resp.status_code == 302
    row = db.session.scalar(select(NetworkCoordination))
    assert (row.office_id, row.year) == (office.id, current_year())
    [event] = _events("network.coordinator_assign")
    assert event.network_id == net.id


def test_reassigning_the_same_year_replaces_and_keeps_audit_trail(client, factory, logged_in, post):
    first, second = factory.office(name="OMIL Primera"), factory.office(name="OMIL Segunda")
    net = factory.network(offices=[first, second])
    logged_in(role="sence_regional")
    year = str(current_year())
    post(f"/gestion/redes/{net.id}/coordinacion",
         {"year": year, "office_id": str(first.id)})
    resp = post(f"/gestion/redes/{net.id}/coordinacion",
                {"year": year, "office_id": str(second.id)})
    assert resp.status_code == 302
    rows = list(db.session.scalars(select(NetworkCoordination)))
    assert [(r.office_id, r.year) for r in rows] == [(second.id, current_year())]
    [replaced] = _events("network.coordinator_replace")
    assert "OMIL Primera" in replaced.summary and "OMIL Segunda" in replaced.summary
    assert len(_events("network.coordinator_assign")) == 1


def test_assigning_this_year_keeps_past_years_as_history(client, factory, logged_in, post):
    old, new = factory.office(), factory.office()
    net = factory.network(offices=[old, new], coordinator=old, year=current_year() - 1)
    logged_in(role="sence_regional")
    post(f"/gestion/redes/{net.id}/coordinacion",
         {"year": str(current_year()), "office_id": str(new.id)})
    rows = db.session.execute(select(NetworkCoordination.year, NetworkCoordination.office_id)
                              .order_by(NetworkCoordination.year)).all()
    assert [tuple(r) for r in rows] == [(current_year() - 1, old.id), (current_year(), new.id)]


def test_coordinator_office_must_be_a_member(client, factory, logged_in, post):
    net = factory.network(offices=[factory.office()])
    outsider = factory.office()
    logged_in(role="sence_regional")
    resp = post(f"/gestion/redes/{net.id}/coordinacion",
                {"year": str(current_year()), "office_id": str(outsider.id)})
    assert resp.status_code == 400
    assert "Elija una de las oficinas de la red." in _text(resp)
    assert count(NetworkCoordination) == 0


def test_coordination_of_a_past_year_cannot_be_rewritten(client, factory, logged_in, post):
    office = factory.office()
    net = factory.network(offices=[office])
    logged_in(role="sence_regional")
    resp = post(f"/gestion/redes/{net.id}/coordinacion",
                {"year": str(current_year() - 3), "office_id": str(office.id)})
    assert resp.status_code == 400
    assert count(NetworkCoordination) == 0


def test_coordinator_cannot_assign_coordination(client, factory, logged_in, post):
    office = factory.office()
    net = factory.network(coordinator=office)
    logged_in(office=office)
    resp = post(f"/gestion/redes/{net.id}/coordinacion",
                {"year": str(current_year()), "office_id": str(office.id)})
    assert resp.status_code == 403
