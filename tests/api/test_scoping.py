"""Networks and offices: each account sees what the policy lets it see, and nothing else."""

from __future__ import annotations

import pytest

from tests.api.conftest import assert_problem, bearer


@pytest.fixture
def world(factory):
    """Two networks in the RM (A, B) and one in Valparaíso (V), each with two offices."""
    a1, a2 = factory.office("13101", name="OMIL A1"), factory.office("13114", name="OMIL A2")
    b1, b2 = factory.office("13101", name="OMIL B1"), factory.office("13114", name="OMIL B2")
    v1, v2 = factory.office("05101", name="OMIL V1"), factory.office("05101", name="OMIL V2")
    return {
        "A": factory.network(("13",), name="Red A", offices=[a2], coordinator=a1),
        "B": factory.network(("13",), name="Red B", offices=[b1, b2]),
        "V": factory.network(("05",), name="Red V", offices=[v1, v2], coordinator=v1),
        "a1": a1, "a2": a2, "b1": b1, "b2": b2, "v1": v1, "v2": v2,
    }


def _get(client, url, secret):
    resp = client.get(url, headers=bearer(secret))
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    return resp.get_json()


def _names(body):
    return [item["name"] for item in body["items"]]


def test_office_staff_see_only_their_networks_and_offices(client, factory, token_for, world):
    secret = token_for(factory.user(office=world["a2"]))
    assert _names(_get(client, "/api/v1/networks", secret)) == ["Red A"]
    assert _names(_get(client, "/api/v1/offices", secret)) == ["OMIL A1", "OMIL A2"]


def test_office_staff_of_another_network_get_403_on_its_offices(client, factory, token_for, world):
    secret = token_for(factory.user(office=world["a1"]))
    for office in ("b1", "v1"):
        body = assert_problem(
            client.get(f"/api/v1/offices/{world[office].id}", headers=bearer(secret)), 403)
        assert "oficina" in body["detail"]
    assert _get(client, f"/api/v1/offices/{world['a2'].id}", secret)["name"] == "OMIL A2"


def test_sence_regional_sees_only_their_region(client, factory, token_for, world):
    secret = token_for(factory.user("sence_regional", sence_unit=factory.sence_unit("05")))
    assert _names(_get(client, "/api/v1/networks", secret)) == ["Red V"]
    assert _names(_get(client, "/api/v1/offices", secret)) == ["OMIL V1", "OMIL V2"]
    assert_problem(client.get(f"/api/v1/offices/{world['a1'].id}", headers=bearer(secret)), 403)
    assert _get(client, f"/api/v1/offices/{world['v2'].id}", secret)["comuna_code"] == "05101"


def test_sence_national_sees_everything(client, factory, token_for, world):
    secret = token_for(factory.user("sence_national"))
    assert _names(_get(client, "/api/v1/networks", secret)) == ["Red A", "Red B", "Red V"]
    assert _get(client, "/api/v1/offices", secret)["total"] == 6
    assert _get(client, f"/api/v1/offices/{world['b2'].id}", secret)["name"] == "OMIL B2"


def test_network_lists_regions_offices_and_this_years_coordinator(client, factory, token_for, world):
    secret = token_for(factory.user("sence_national"))
    items = {n["name"]: n for n in _get(client, "/api/v1/networks", secret)["items"]}
    red_a = items["Red A"]
    assert red_a["region_codes"] == ["13"]
    assert sorted(red_a["office_ids"]) == sorted([world["a1"].id, world["a2"].id])
    assert red_a["coordinating_office_id"] == world["a1"].id
    assert items["Red B"]["coordinating_office_id"] is None


def test_offices_filter_by_region_and_comuna(client, factory, token_for, world):
    secret = token_for(factory.user("sence_national"))
    assert _names(_get(client, "/api/v1/offices?region=05", secret)) == ["OMIL V1", "OMIL V2"]
    assert _names(_get(client, "/api/v1/offices?comuna=13114", secret)) == ["OMIL A2", "OMIL B2"]
    assert _get(client, "/api/v1/offices?region=05&comuna=13114", secret)["items"] == []


@pytest.mark.parametrize("query, field", [("region=99", "region"), ("region=5", "region"),
                                          ("comuna=99999", "comuna"), ("comuna=abc", "comuna")])
def test_bad_office_filters_are_422(client, factory, token_for, query, field):
    secret = token_for(factory.user("sence_national"))
    body = assert_problem(client.get(f"/api/v1/offices?{query}", headers=bearer(secret)), 422)
    assert list(body["errors"]["query"]) == [field]


def test_missing_office_is_404(client, factory, token_for):
    secret = token_for(factory.user("sence_national"))
    body = assert_problem(client.get("/api/v1/offices/999999", headers=bearer(secret)), 404)
    assert "oficina" in body["detail"]
    # Beyond 32 bits it is not an id at all: the route does not match (still problem+json 404).
    body = assert_problem(client.get(f"/api/v1/offices/{2**40}", headers=bearer(secret)), 404)
    assert "/api/v1/openapi.json" in body["detail"]


def test_offices_show_public_contact_data_and_no_staff(client, factory, token_for, world):
    office = world["a1"]
    staff = factory.user(office=office, email="funcionaria.privada@example.cl")
    secret = token_for(factory.user("sence_national"))
    resp = client.get(f"/api/v1/offices/{office.id}", headers=bearer(secret))
    body = resp.get_json()
    assert body["email"] == office.email
    assert body["comuna_name"] == "Santiago" and body["region_code"] == "13"
    assert body["network_ids"] == [world["A"].id]
    assert staff.email not in resp.get_data(as_text=True)
    assert staff.email not in client.get("/api/v1/offices", headers=bearer(secret)).get_data(as_text=True)


def test_session_user_gets_the_same_scoping(client, logged_in, world):
    logged_in(office=world["b1"])
    resp = client.get("/api/v1/networks")
    assert resp.status_code == 200
    assert _names(resp.get_json()) == ["Red B"]
