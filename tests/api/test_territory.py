"""Regions and comunas: public, paginated with the one envelope."""

from __future__ import annotations

from tests.api.conftest import assert_problem


def test_regions_are_public_and_listed_north_to_south(client):
    resp = client.get("/api/v1/regions")
    assert resp.status_code == 200
    body = resp.get_json()
    assert (body["page"], body["per_page"], body["total"]) == (1, 50, 16)
    assert len(body["items"]) == 16
    assert body["items"][0]["code"] == "15"  # Arica y Parinacota
    assert body["items"][-1]["code"] == "12"  # Magallanes
    rm = next(r for r in body["items"] if r["code"] == "13")
    assert rm == {"code": "13", "name": "Metropolitana de Santiago", "iso_code": "CL-RM",
                  "roman": "RM"}


def test_pages_split_the_list_and_a_page_past_the_end_is_empty(client):
    first = client.get("/api/v1/regions?per_page=10").get_json()
    second = client.get("/api/v1/regions?per_page=10&page=2").get_json()
    past = client.get("/api/v1/regions?per_page=10&page=3").get_json()
    assert len(first["items"]) == 10 and len(second["items"]) == 6
    assert {r["code"] for r in first["items"]}.isdisjoint(r["code"] for r in second["items"])
    assert past["items"] == [] and past["total"] == 16


def test_comunas_of_a_region(client):
    body = client.get("/api/v1/regions/13/comunas?per_page=100").get_json()
    assert body["total"] == 52
    assert {c["region_code"] for c in body["items"]} == {"13"}
    santiago = next(c for c in body["items"] if c["code"] == "13101")
    assert santiago == {"code": "13101", "name": "Santiago", "province": "Santiago",
                        "region_code": "13", "timezone": "America/Santiago"}


def test_comunas_carry_their_own_time_zone(client):
    body = client.get("/api/v1/regions/12/comunas").get_json()
    assert {c["timezone"] for c in body["items"]} == {"America/Punta_Arenas"}


def test_unknown_region_in_the_path_is_404(client):
    for code in ["99", "RM", "1", "１３"]:
        body = assert_problem(client.get(f"/api/v1/regions/{code}/comunas"), 404)
        assert "región" in body["detail"]


def test_comunas_filtered_by_region_match_the_region_route(client):
    by_query = client.get("/api/v1/comunas?region=13&per_page=100").get_json()
    by_path = client.get("/api/v1/regions/13/comunas?per_page=100").get_json()
    assert by_query == by_path


def test_all_comunas_are_listed_in_code_order(client):
    seen = []
    page = 1
    while True:
        body = client.get(f"/api/v1/comunas?per_page=100&page={page}").get_json()
        seen += [c["code"] for c in body["items"]]
        if not body["items"]:
            break
        page += 1
    assert body["total"] == len(seen) == 346
    assert seen == sorted(seen)
