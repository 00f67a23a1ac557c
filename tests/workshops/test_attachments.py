"""What a workshop may be tied to: its host office, its networks and its convening offices.

Moving a workshop to another host passes the same check as creating one there; a workshop
joins only networks and convening offices the actor works with (a coordinator: the networks of
the regions they coordinate in, for inter-network workshops). Refusals are 403 and change
nothing; what a workshop already has stays when someone else edits it.

The world (``WorkshopWorld``): Red Oriente (Ñuñoa coordinates, Peñalolén convenes) and Red Sur
(La Florida coordinates) in the Metropolitan region; here also Red Magallanes (Punta Arenas)
in another region, with no network in common.
"""

from __future__ import annotations

import html
from typing import Any

import pytest

from app.activities.services import ActivityError
from app.extensions import db
from tests.api.conftest import assert_problem, bearer
from tests.conftest import get_csrf, login, table_counts
from tests.workshops.conftest import WorkshopWorld, local_in, topic
from workshops import services

API = "/api/v1/workshops"
STAFF = "/gestion/talleres"


class FarWorld(WorkshopWorld):
    def __init__(self, factory: Any) -> None:
        super().__init__(factory)
        self.far = factory.office("12101", name="OMIL Punta Arenas", category="avanzada")
        self.far_network = factory.network(("12",), name="Red Magallanes", offices=[self.far],
                                           coordinator=self.far)
        self.far_staff = factory.user(office=self.far, name="Fabiola Lejana")


@pytest.fixture
def world(factory: Any) -> FarWorld:
    return FarWorld(factory)


@pytest.fixture
def api(client: Any) -> Any:
    from app.accounts.services import create_api_token

    class Api:
        """Bearer-token calls; each user's token is made once, on first use (``api.token(user)``)."""

        def __init__(self) -> None:
            self.secrets: dict[int, str] = {}

        def token(self, user: Any) -> dict[str, str]:
            if user.id not in self.secrets:
                self.secrets[user.id] = create_api_token(user, "pruebas")[1]
            return bearer(self.secrets[user.id])

        def patch(self, user: Any, url: str, json: Any) -> Any:
            return client.patch(url, json=json, headers=self.token(user))

        def post(self, user: Any, url: str, json: Any) -> Any:
            return client.post(url, json=json, headers=self.token(user))

    return Api()


def _snapshot(workshop: Any) -> tuple[Any, ...]:
    db.session.expire_all()
    a = workshop.activity
    return (a.title, a.host_office_id, sorted(n.id for n in a.networks), sorted(o.id for o in a.convening_offices))


def _no_new_rows(before: dict[str, int]) -> None:
    after = table_counts()
    changed = {t: (before[t], after[t]) for t in before if before[t] != after[t]}
    assert not changed, changed


# --- the host office -----------------------------------------------------------------------


def test_a_coordinator_cannot_move_a_workshop_to_an_office_with_no_network_in_common(world, api):
    w = world.workshop()
    before = _snapshot(w)
    body = assert_problem(api.patch(world.host_staff, f"{API}/{w.activity_id}",
                                    {"host_office_id": world.far.id, "title": "Movido",
                                     "facilitator_user_ids": []}), 403)
    assert "host_office_id" in str(body)
    assert _snapshot(w) == before


def test_a_coordinator_can_still_move_a_workshop_to_another_office_of_their_network(world, api):
    w = world.workshop()
    resp = api.patch(world.host_staff, f"{API}/{w.activity_id}", {"host_office_id": world.convening.id,
                                                                        "facilitator_user_ids": []})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert _snapshot(w)[1] == world.convening.id


def test_moving_the_host_checks_the_new_host_in_the_service_too(world):
    w = world.workshop()
    with pytest.raises(ActivityError) as err:
        services.update_workshop(w, world.data(host_office_id=world.far.id, facilitator_user_ids=[]),
                                 actor=world.host_staff)
    assert err.value.status == 403 and err.value.field == "host_office_id"


def test_the_staff_form_refuses_a_far_host_and_changes_nothing(client, world):
    w = world.workshop()
    before = _snapshot(w)
    login(client, world.host_staff.email)
    day = local_in(7)
    resp = client.post(f"{STAFF}/{w.activity_id}/editar", data={
        "csrf_token": get_csrf(client, "/gestion/"), "title": "Movido", "topic_id": str(topic().id),
        "description": "x", "language": "es", "host_office_id": str(world.far.id),
        "network_ids": [str(world.network.id)], "convening_office_ids": [str(world.convening.id)],
        "date": f"{day:%Y-%m-%d}"})
    assert resp.status_code == 403
    page = html.unescape(resp.get_data(as_text=True))
    assert "No puede trasladar el taller a «OMIL Punta Arenas»" in page and 'value="Movido"' in page
    assert _snapshot(w) == before


def test_the_staff_form_offers_as_host_only_offices_the_coordinator_could_create_for(client, world):
    # An inter-network workshop of Oriente and Sur: Oriente's coordinator may not move it to La Florida.
    w = world.workshop(network_ids=[world.network.id, world.other_network.id])
    login(client, world.host_staff.email)
    page = html.unescape(client.get(f"{STAFF}/{w.activity_id}/editar").get_data(as_text=True))
    host_select = page.split('name="host_office_id"', 1)[1].split("</select>", 1)[0]
    assert "OMIL Peñalolén" in host_select and "OMIL La Florida" not in host_select


# --- networks and convening offices --------------------------------------------------------


def test_a_host_office_cannot_attach_its_workshop_to_a_network_in_another_region(world, api):
    w = world.workshop(host_office_id=world.convening.id, facilitator_user_ids=[], convening_office_ids=[],
                       actor=world.convening_staff)
    before = _snapshot(w)
    body = assert_problem(api.patch(world.convening_staff, f"{API}/{w.activity_id}",
                                    {"network_ids": [world.network.id, world.far_network.id]}), 403)
    assert "Red Magallanes" in body["detail"]
    assert _snapshot(w) == before


def test_a_host_office_that_does_not_coordinate_cannot_attach_a_neighbouring_network(world, api):
    w = world.workshop(host_office_id=world.convening.id, facilitator_user_ids=[], convening_office_ids=[],
                       actor=world.convening_staff)
    assert_problem(api.patch(world.convening_staff, f"{API}/{w.activity_id}",
                             {"network_ids": [world.network.id, world.other_network.id]}), 403)


def test_a_coordinator_makes_an_inter_network_workshop_with_a_network_of_their_region(world, api):
    w = world.workshop()
    resp = api.patch(world.host_staff, f"{API}/{w.activity_id}",
                     {"network_ids": [world.network.id, world.other_network.id],
                      "convening_office_ids": [world.convening.id, world.other.id]})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert _snapshot(w)[2:] == (sorted([world.network.id, world.other_network.id]),
                                sorted([world.convening.id, world.other.id]))


def test_a_coordinator_cannot_attach_a_network_of_a_region_they_do_not_coordinate_in(world, api):
    w = world.workshop()
    assert_problem(api.patch(world.host_staff, f"{API}/{w.activity_id}",
                             {"network_ids": [world.network.id, world.far_network.id]}), 403)


def test_a_host_office_cannot_make_an_office_of_another_region_convene(world, api):
    w = world.workshop()
    before = _snapshot(w)
    body = assert_problem(api.patch(world.host_staff, f"{API}/{w.activity_id}",
                                    {"convening_office_ids": [world.convening.id, world.far.id]}), 403)
    assert "OMIL Punta Arenas" in body["detail"]
    assert _snapshot(w) == before


def test_creating_a_workshop_with_a_far_convening_office_is_refused_and_writes_nothing(world, api):
    api.token(world.host_staff)
    before = table_counts()
    body = {"title": "Entrevistas", "topic_id": topic().id, "host_office_id": world.host.id,
            "network_ids": [world.network.id], "convening_office_ids": [world.far.id]}
    assert_problem(api.post(world.host_staff, API, body), 403)
    _no_new_rows(before)


def test_creating_a_workshop_in_a_far_network_is_refused_in_the_service(world):
    with pytest.raises(ActivityError) as err:
        world.workshop(network_ids=[world.far_network.id])
    assert err.value.status == 403 and err.value.field == "network_ids"


def test_what_a_workshop_already_has_stays_when_its_host_staff_edit_it(world, api):
    # Oriente's coordinator made Peñalolén's workshop inter-network with Red Sur and La Florida;
    # Peñalolén's staff, who could not have added them, still edit the workshop as it is.
    w = world.workshop(host_office_id=world.convening.id, facilitator_user_ids=[], actor=world.host_staff,
                       network_ids=[world.network.id, world.other_network.id], convening_office_ids=[world.other.id])
    resp = api.patch(world.convening_staff, f"{API}/{w.activity_id}", {"title": "Entrevistas sin miedo"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert _snapshot(w) == ("Entrevistas sin miedo", world.convening.id,
                            sorted([world.network.id, world.other_network.id]), [world.other.id])


def test_the_staff_form_offers_the_coordinator_the_networks_of_their_region_only(client, world):
    login(client, world.host_staff.email)
    page = html.unescape(client.get(f"{STAFF}/nuevo").get_data(as_text=True))
    assert "Red Oriente" in page and "Red Sur" in page and "OMIL La Florida" in page
    assert "Red Magallanes" not in page and "OMIL Punta Arenas" not in page
