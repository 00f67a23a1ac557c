"""The workshops API: /api/v1/workshops reads publicly, writes through the workshop services."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openapi_spec_validator import validate

from app.accounts.policy import can
from app.activities.models import Activity, ActivityChange, ActivitySession, ActivityStatus, Modality
from app.extensions import db
from tests.api.conftest import assert_problem, bearer
from tests.conftest import count, get_csrf, login
from tests.workshops.conftest import local_in, topic
from workshops.models import Workshop

BASE = "/api/v1/workshops"


def _local(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M")


def session_body(days: int = 7, hour: int = 10, *, hours: int = 2, tz: str = "America/Santiago",
                 modality: str = "remote", **kw: Any) -> dict[str, Any]:
    start = local_in(days, hour, tz=tz)
    body: dict[str, Any] = {"start_local": _local(start), "end_local": _local(start + timedelta(hours=hours)),
                            "modality": modality, "capacity": 40}
    if modality == "remote":
        body["join_url"] = "https://us02web.zoom.us/j/123456789"
    else:
        body.update(venue_name="Sala de capacitación", address="Av. Irarrázaval 3550", comuna_code="13120")
    body.update(kw)
    return body


def workshop_body(world: Any, **kw: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Cómo enfrentar una entrevista de trabajo",
        "description": "Practicamos preguntas frecuentes.",
        "topic_id": topic().id,
        "host_office_id": world.host.id,
        "network_ids": [world.network.id],
        "convening_office_ids": [world.convening.id],
        "facilitator_user_ids": [world.host_staff.id],
        "offers_sign_language": True,
        "session": session_body(),
    }
    body.update(kw)
    return body


def rows() -> tuple[int, int, int]:
    return count(Activity), count(Workshop), count(ActivitySession)


class Caller:
    """Requests as one user, with a Bearer token or with the session plus X-CSRFToken."""

    def __init__(self, client: Any, headers: dict[str, str]) -> None:
        self.client, self.headers = client, headers

    def get(self, url: str) -> Any:
        return self.client.get(url, headers=self.headers)

    def post(self, url: str, json: Any = None) -> Any:
        return self.client.post(url, json=json, headers=self.headers)

    def patch(self, url: str, json: Any = None) -> Any:
        return self.client.patch(url, json=json, headers=self.headers)


@pytest.fixture
def token() -> Any:
    from app.accounts.services import create_api_token

    def _make(user: Any) -> dict[str, str]:
        _token, secret = create_api_token(user, "pruebas")
        return bearer(secret)

    return _make


@pytest.fixture
def as_bearer(client: Any, token: Any) -> Any:
    return lambda user: Caller(client, token(user))


@pytest.fixture(params=["bearer", "session"])
def as_user(request: pytest.FixtureRequest, client: Any, token: Any) -> Any:
    """Happy paths run twice: with a Bearer token, and with the browser session + X-CSRFToken."""

    def _as(user: Any) -> Caller:
        if request.param == "bearer":
            return Caller(client, token(user))
        assert login(client, user.email).status_code == 302
        return Caller(client, {"X-CSRFToken": get_csrf(client, "/cuenta/")})

    return _as


def ok(resp: Any, status: int = 200) -> dict[str, Any]:
    assert resp.status_code == status, resp.get_data(as_text=True)[:800]
    return dict(resp.get_json())


# --- reading -------------------------------------------------------------------------------


def test_anonymous_list_shows_only_published_workshops(client, world):
    world.workshop(title="Borrador", start=local_in(5))
    world.workshop(title="Publicado", start=local_in(6), publish=True)
    body = ok(client.get(BASE))
    assert [w["title"] for w in body["items"]] == ["Publicado"]
    assert body["total"] == 1 and body["page"] == 1 and body["per_page"] == 50
    item = body["items"][0]
    assert item["status"] == "published"
    assert item["public_url"].endswith("/talleres/publicado")
    assert item["session_count"] == 1 and item["timezone"] == "America/Santiago"


def test_staff_also_see_the_drafts_the_policy_lets_them_see(client, world, as_user):
    world.workshop(title="Borrador", start=local_in(5))
    world.workshop(title="Publicado", start=local_in(6), publish=True)
    body = ok(as_user(world.host_staff).get(BASE))
    assert [w["title"] for w in body["items"]] == ["Borrador", "Publicado"]


def test_other_networks_staff_see_published_workshops_but_not_drafts(client, world, as_bearer):
    world.workshop(title="Borrador", start=local_in(5))
    world.workshop(title="Publicado", start=local_in(6), publish=True)
    assert [w["title"] for w in ok(as_bearer(world.other_staff).get(BASE))["items"]] == ["Publicado"]


def test_the_list_agrees_with_the_policy_for_every_role(client, factory, world, as_bearer):
    hosted = world.workshop(title="Dictado", start=local_in(5))
    other = world.workshop(title="De otra red", start=local_in(6), host_office_id=world.other.id,
                           network_ids=[world.other_network.id], convening_office_ids=[],
                           facilitator_user_ids=[], actor=world.other_staff)
    published = world.workshop(title="Publicado", start=local_in(7), publish=True, facilitator_user_ids=[])
    magallanes = factory.office("12101", name="OMIL Punta Arenas", category="avanzada")
    users = [world.host_staff, world.convening_staff, world.other_staff, world.sence_rm,
             factory.user("sence_regional", sence_unit=factory.sence_unit("12")),
             factory.user("sence_national"), factory.user("employer"), factory.user(office=magallanes)]
    for user in users:
        listed = {w["id"] for w in ok(as_bearer(user).get(BASE))["items"]}
        expected = {w.activity_id for w in (hosted, other, published)
                    if w.activity.is_public or can(user, "activity.view", w.activity)}
        assert listed == expected, user.email
    assert {w["id"] for w in ok(client.get(BASE))["items"]} == {published.activity_id}


def test_the_list_filters_by_status_topic_and_network(client, world, as_bearer):
    world.workshop(title="Entrevista", start=local_in(5), publish=True)
    world.workshop(title="Currículum", start=local_in(6), topic_id=topic("elaboracion-de-curriculum").id,
                   facilitator_user_ids=[])
    world.workshop(title="Otra red", start=local_in(7), host_office_id=world.other.id,
                   network_ids=[world.other_network.id], convening_office_ids=[], facilitator_user_ids=[],
                   actor=world.other_staff, publish=True)
    api = as_bearer(world.host_staff)

    def titles(query: str) -> list[str]:
        return [w["title"] for w in ok(api.get(f"{BASE}?{query}"))["items"]]

    assert titles("status=draft") == ["Currículum"]
    assert titles(f"topic={topic('elaboracion-de-curriculum').id}") == ["Currículum"]
    assert titles(f"network={world.other_network.id}") == ["Otra red"]
    assert titles(f"network={world.network.id}&status=published") == ["Entrevista"]


@pytest.mark.parametrize("query, field", [
    ("status=borrador", "status"), ("topic=999999", "topic"), ("network=999999", "network"),
    ("topic=abc", "topic"), ("per_page=101", "per_page"), ("network=99999999999999", "network"),
])
def test_bad_list_filters_are_422(client, world, query, field):
    body = assert_problem(client.get(f"{BASE}?{query}"), 422)
    assert list(body["errors"]["query"]) == [field]


def test_the_list_is_paginated(client, world):
    for days in (5, 6, 7):
        world.workshop(title=f"Taller {days}", start=local_in(days), publish=True, facilitator_user_ids=[],
                       topic_id=topic("habilidades-blandas").id if days == 6 else topic().id)
    body = ok(client.get(f"{BASE}?per_page=2&page=2"))
    assert body["total"] == 3 and [w["title"] for w in body["items"]] == ["Taller 7"]


def test_a_bad_token_is_401_even_on_public_reads(client, world):
    resp = client.get(BASE, headers=bearer("pl_no-existe"))
    assert_problem(resp, 401)
    assert "invalid_token" in resp.headers["WWW-Authenticate"]


def test_detail_gives_sessions_in_utc_and_in_local_time_with_the_zone(client, world):
    w = world.workshop(count=2, start=local_in(9, 18), publish=True)
    body = ok(client.get(f"{BASE}/{w.activity_id}"))
    assert body["host_office"] == {"id": world.host.id, "name": "OMIL Ñuñoa"}
    assert body["networks"] == [{"id": world.network.id, "name": "Red Oriente"}]
    assert body["convening_offices"] == [{"id": world.convening.id, "name": "OMIL Peñalolén"}]
    assert body["facilitators"] == ["Hilda Host"]
    assert body["topic"]["slug"] == "entrevista-de-trabajo"
    assert set(body["accessibility"]) == {"subtitles", "sign_language", "materials_in_advance", "notes"}
    first = body["sessions"][0]
    assert first["timezone"] == "America/Santiago"
    starts_at = datetime.fromisoformat(first["starts_at"])
    local_start = datetime.fromisoformat(first["local_start"])
    assert starts_at.utcoffset() == timedelta(0)
    assert local_start == starts_at
    assert local_start.replace(tzinfo=None) == local_in(9, 18)
    assert local_start.utcoffset() == starts_at.astimezone(ZoneInfo("America/Santiago")).utcoffset()
    assert len(body["sessions"]) == 2 and body["sessions"][0]["series_id"] is not None


def test_the_public_detail_hides_the_join_link_staff_see_it(client, world, as_user):
    w = world.workshop(publish=True)
    assert ok(client.get(f"{BASE}/{w.activity_id}"))["sessions"][0]["join_url"] is None
    staff_view = ok(as_user(world.convening_staff).get(f"{BASE}/{w.activity_id}"))
    assert staff_view["sessions"][0]["join_url"] == "https://us02web.zoom.us/j/123456789"


def test_an_unknown_workshop_is_404(client, world):
    assert_problem(client.get(f"{BASE}/999999"), 404)
    assert_problem(client.get(f"{BASE}/99999999999999999999"), 404)


def test_a_draft_is_401_anonymous_403_for_other_networks_and_readable_by_convening_staff(
        client, world, as_bearer):
    w = world.workshop()
    assert_problem(client.get(f"{BASE}/{w.activity_id}"), 401)
    body = assert_problem(as_bearer(world.other_staff).get(f"{BASE}/{w.activity_id}"), 403)
    assert "taller" in body["detail"]
    assert ok(as_bearer(world.convening_staff).get(f"{BASE}/{w.activity_id}"))["status"] == "draft"
    assert ok(as_bearer(world.sence_rm).get(f"{BASE}/{w.activity_id}"))["status"] == "draft"


def test_topics_are_a_public_paginated_catalogue(client):
    body = ok(client.get(f"{BASE}/topics"))
    assert body["total"] == len(body["items"]) >= 8
    assert "entrevista-de-trabajo" in {t["slug"] for t in body["items"]}


# --- creating ------------------------------------------------------------------------------


def test_create_a_workshop_with_a_weekly_series(client, world, as_user):
    api = as_user(world.host_staff)
    resp = api.post(BASE, workshop_body(world, session=session_body(3, 15, repeat_weekly=4)))
    body = ok(resp, 201)
    assert resp.headers["Location"].endswith(f"{BASE}/{body['id']}")
    assert body["status"] == "draft" and body["public_url"] is None
    assert body["accessibility"]["sign_language"] is True
    starts = [datetime.fromisoformat(s["local_start"]) for s in body["sessions"]]
    assert len(starts) == 4 and {s.hour for s in starts} == {15}
    assert {(b.date() - a.date()).days for a, b in zip(starts, starts[1:], strict=False)} == {7}
    assert rows() == (1, 1, 4)


def test_create_without_a_session_and_with_defaults(client, world, as_bearer):
    body = ok(as_bearer(world.host_staff).post(BASE, {"title": "Derechos laborales", "topic_id": topic().id,
                                                       "host_office_id": world.host.id}), 201)
    assert body["sessions"] == [] and body["description"] == "" and body["language"] == "es"
    assert body["networks"] == [{"id": world.network.id, "name": "Red Oriente"}]  # the host's networks


def test_a_punta_arenas_host_schedules_in_punta_arenas_time(client, factory, as_bearer):
    office = factory.office("12101", name="OMIL Punta Arenas", category="avanzada")
    net = factory.network(("12",), name="Red Magallanes", offices=[office], coordinator=office)
    staff = factory.user(office=office)
    start = local_in(10, 10, tz="America/Punta_Arenas")
    body = ok(as_bearer(staff).post(BASE, {
        "title": "Currículum en Magallanes", "topic_id": topic().id, "host_office_id": office.id,
        "network_ids": [net.id],
        "session": {"start_local": _local(start), "end_local": _local(start + timedelta(hours=2)),
                    "modality": "remote", "capacity": 100, "join_url": "https://meet.google.com/abc-defg-hij"}}), 201)
    session = body["sessions"][0]
    assert session["timezone"] == body["timezone"] == "America/Punta_Arenas"
    assert datetime.fromisoformat(session["local_start"]).utcoffset() == timedelta(hours=-3)
    assert datetime.fromisoformat(session["starts_at"]).hour == 13


def test_a_session_post_without_the_csrf_header_is_refused(client, world):
    login(client, world.host_staff.email)
    body = assert_problem(client.post(BASE, json=workshop_body(world)), 400)
    assert "X-CSRFToken" in body["detail"]
    assert rows() == (0, 0, 0)


def test_anonymous_writes_are_401(client, world):
    w = world.workshop()
    sid = w.activity.sessions[0].id
    for url, body in [(BASE, workshop_body(world)), (f"{BASE}/{w.activity_id}/publish", None),
                      (f"{BASE}/{w.activity_id}/cancel", {"reason": "x"}),
                      (f"{BASE}/{w.activity_id}/sessions", session_body()),
                      (f"{BASE}/{w.activity_id}/sessions/{sid}/cancel", {"reason": "x"})]:
        assert_problem(client.post(url, json=body), 401)
    assert_problem(client.patch(f"{BASE}/{w.activity_id}", json={"title": "x"}), 401)
    assert_problem(client.patch(f"{BASE}/{w.activity_id}/sessions/{sid}", json={"capacity": 5}), 401)
    assert rows() == (1, 1, 1)


def test_other_networks_staff_cannot_create_for_this_office(client, world, as_bearer):
    body = assert_problem(as_bearer(world.other_staff).post(BASE, workshop_body(world)), 403)
    assert "permiso" in body["detail"]
    assert rows() == (0, 0, 0)


def test_sence_regional_reads_but_cannot_write(client, world, as_bearer):
    w = world.workshop()
    api = as_bearer(world.sence_rm)
    assert_problem(api.post(BASE, workshop_body(world)), 403)
    assert_problem(api.patch(f"{BASE}/{w.activity_id}", {"title": "Nuevo"}), 403)
    assert_problem(api.post(f"{BASE}/{w.activity_id}/publish"), 403)
    assert_problem(api.post(f"{BASE}/{w.activity_id}/sessions", session_body(8)), 403)
    assert_problem(api.post(f"{BASE}/{w.activity_id}/cancel", {"reason": "No"}), 403)
    db.session.expire_all()
    assert w.activity.title == "Cómo enfrentar una entrevista de trabajo"
    assert w.activity.status == ActivityStatus.DRAFT
    assert rows() == (1, 1, 1)


LONG = "x" * 10_000


@pytest.mark.parametrize("change, path", [
    ({"session": session_body(end_local=_local(local_in(7, 9)))}, ["session", "end_local"]),
    ({"session": session_body(capacity=0)}, ["session", "capacity"]),
    ({"session": session_body(capacity=-5)}, ["session", "capacity"]),
    ({"session": session_body(capacity=10**9)}, ["session", "capacity"]),
    ({"session": session_body(capacity=10**30)}, ["session", "capacity"]),
    ({"session": session_body(capacity="40")}, ["session", "capacity"]),
    ({"session": session_body(capacity=12.5)}, ["session", "capacity"]),
    ({"session": session_body(modality="in_person", comuna_code="99999")}, ["session", "comuna_code"]),
    ({"session": session_body(modality="presencial")}, ["session", "modality"]),
    ({"session": session_body(join_url="http://zoom.us/j/1")}, ["session", "join_url"]),
    ({"session": session_body(start_local="12-05-2026 10:00")}, ["session", "start_local"]),
    ({"session": session_body(start_local="2026-05-12T10:00-04:00")}, ["session", "start_local"]),
    ({"session": session_body(start_local="9999-12-31T23:00")}, ["session", "start_local"]),
    ({"session": session_body(repeat_weekly=53)}, ["session", "repeat_weekly"]),
    ({"session": session_body(repeat_weekly=0)}, ["session", "repeat_weekly"]),
    ({"session": {"start_local": "2026-05-12T10:00"}}, ["session", "end_local"]),
    ({"topic_id": 999999}, ["topic_id"]),
    ({"topic_id": 2**40}, ["topic_id"]),
    ({"host_office_id": 999999}, ["host_office_id"]),
    ({"network_ids": [999999]}, ["network_ids"]),
    ({"convening_office_ids": ["uno"]}, ["convening_office_ids"]),
    ({"title": None}, ["title"]),
    ({"title": ""}, ["title"]),
    ({"title": LONG}, ["title"]),
    ({"title": 123}, ["title"]),
    ({"offers_subtitles": "quizás"}, ["offers_subtitles"]),
    ({"language": "fr"}, ["language"]),
    ({"color": "rojo"}, ["color"]),
    ({"session": session_body(sala=3)}, ["session", "sala"]),
])
def test_bad_input_is_422_with_the_field_and_nothing_is_written(client, world, as_bearer, change, path):
    body = assert_problem(as_bearer(world.host_staff).post(BASE, workshop_body(world, **change)), 422)
    errors: Any = body["errors"]["json"]
    for key in path:
        errors = errors[key]
    assert errors and all(isinstance(m, str) and m for m in errors)
    assert rows() == (0, 0, 0)


def test_a_missing_title_says_so_in_spanish(client, world, as_bearer):
    b = workshop_body(world)
    del b["title"]
    body = assert_problem(as_bearer(world.host_staff).post(BASE, b), 422)
    assert body["errors"]["json"]["title"] == ["Este campo es obligatorio."]


def test_end_before_start_gets_the_services_spanish_message(client, world, as_bearer):
    b = workshop_body(world, session=session_body(end_local=_local(local_in(7, 9))))
    body = assert_problem(as_bearer(world.host_staff).post(BASE, b), 422)
    assert body["errors"]["json"]["session"]["end_local"] == ["El término debe ser después del inicio."]
    assert body["detail"] == "El término debe ser después del inicio."


def test_a_facilitator_from_outside_the_workshop_is_refused(client, world, as_bearer):
    b = workshop_body(world, facilitator_user_ids=[world.other_staff.id])
    body = assert_problem(as_bearer(world.host_staff).post(BASE, b), 422)
    assert "Otto Otra" in body["errors"]["json"]["facilitator_user_ids"][0]
    assert rows() == (0, 0, 0)


def test_a_body_that_is_not_an_object_is_422(client, world, as_bearer):
    assert_problem(as_bearer(world.host_staff).post(BASE, ["título"]), 422)
    assert rows() == (0, 0, 0)


def test_a_facilitator_conflict_is_409_until_both_confirmations(client, world, as_bearer):
    world.workshop()  # Hilda Host facilitates at local_in(7) 10:00
    api = as_bearer(world.host_staff)
    b = workshop_body(world, title="Otro taller", topic_id=topic("habilidades-blandas").id)
    body = assert_problem(api.post(BASE, b), 409)
    assert body["needs_confirmation"] is True
    [conflict] = body["conflicts"]
    assert conflict["kind"] == "facilitator" and conflict["needs_confirmation"] is True
    assert "Hilda Host" in conflict["message"] and "Cómo enfrentar" in conflict["message"]
    assert_problem(api.post(BASE, {**b, "confirm_warnings": True}), 409)
    assert rows() == (1, 1, 1)
    ok(api.post(BASE, {**b, "confirm_warnings": True, "confirm_facilitator": True}), 201)
    assert rows() == (2, 2, 2)


def test_a_venue_warning_needs_only_confirm_warnings(client, world, as_bearer):
    world.workshop(session={"modality": Modality.IN_PERSON, "venue_name": "Sala de capacitación"},
                   facilitator_user_ids=[])
    api = as_bearer(world.host_staff)
    b = workshop_body(world, title="Currículum", topic_id=topic("elaboracion-de-curriculum").id,
                      facilitator_user_ids=[], session=session_body(modality="in_person"))
    body = assert_problem(api.post(BASE, b), 409)
    assert [c["kind"] for c in body["conflicts"]] == ["venue"] and body["needs_confirmation"] is False
    ok(api.post(BASE, {**b, "confirm_warnings": True}), 201)


def test_a_retried_post_creates_a_second_workshop(client, world, as_bearer):
    """Idempotency keys arrive with the registration issue; until then a retry is a new workshop."""
    api = as_bearer(world.host_staff)
    b = workshop_body(world, facilitator_user_ids=[], session=None)
    first, second = ok(api.post(BASE, b), 201), ok(api.post(BASE, b), 201)
    assert first["id"] != second["id"]
    assert second["slug"] == f"{first['slug']}-2"
    assert rows() == (2, 2, 0)


# --- updating ------------------------------------------------------------------------------


def test_patch_changes_only_the_fields_sent(client, world, as_user):
    w = world.workshop(offers_subtitles=True, guest_facilitators=["Ana Invitada"])
    body = ok(as_user(world.host_staff).patch(f"{BASE}/{w.activity_id}", {"title": "Entrevistas: práctica"}))
    assert body["title"] == "Entrevistas: práctica"
    assert body["slug"] == "entrevistas-practica"  # a draft's slug follows its title
    assert body["description"] == "Practicamos preguntas frecuentes."
    assert body["facilitators"] == ["Hilda Host", "Ana Invitada"]
    assert body["accessibility"]["subtitles"] is True
    assert [o["name"] for o in body["convening_offices"]] == ["OMIL Peñalolén"]
    assert len(body["sessions"]) == 1


def test_patch_replaces_lists_and_flags(client, world, as_bearer):
    w = world.workshop()
    body = ok(as_bearer(world.host_staff).patch(f"{BASE}/{w.activity_id}", {
        "convening_office_ids": [], "facilitator_user_ids": [], "guest_facilitators": ["Luis Invitado"],
        "offers_materials_in_advance": True, "accessibility_notes": "Rampa de acceso"}))
    assert body["convening_offices"] == [] and body["facilitators"] == ["Luis Invitado"]
    assert body["accessibility"] == {"subtitles": False, "sign_language": False, "materials_in_advance": True,
                                     "notes": "Rampa de acceso"}


def test_convening_staff_cannot_edit_the_workshop(client, world, as_bearer):
    w = world.workshop()
    assert_problem(as_bearer(world.convening_staff).patch(f"{BASE}/{w.activity_id}", {"title": "Mío"}), 403)
    assert_problem(as_bearer(world.other_staff).patch(f"{BASE}/{w.activity_id}", {"title": "Mío"}), 403)
    db.session.expire_all()
    assert w.activity.title == "Cómo enfrentar una entrevista de trabajo"


@pytest.mark.parametrize("change, field", [
    ({"title": ""}, "title"), ({"title": LONG}, "title"), ({"topic_id": 999999}, "topic_id"),
    ({"description": None}, "description"), ({"network_ids": "1"}, "network_ids"), ({"slug": "x"}, "slug"),
])
def test_a_bad_patch_is_422_and_changes_nothing(client, world, as_bearer, change, field):
    w = world.workshop()
    body = assert_problem(as_bearer(world.host_staff).patch(f"{BASE}/{w.activity_id}", change), 422)
    assert field in body["errors"]["json"]
    db.session.expire_all()
    assert w.activity.title == "Cómo enfrentar una entrevista de trabajo"
    assert w.activity.description == "Practicamos preguntas frecuentes."


def test_patch_of_an_unknown_workshop_is_404(client, world, as_bearer):
    assert_problem(as_bearer(world.host_staff).patch(f"{BASE}/999999", {"title": "x"}), 404)


# --- sessions ------------------------------------------------------------------------------


def test_add_a_weekly_series_to_a_workshop(client, world, as_user):
    w = world.workshop()
    resp = as_user(world.host_staff).post(f"{BASE}/{w.activity_id}/sessions",
                                          {**session_body(14, 16, repeat_weekly=3), "confirm_warnings": True})
    body = ok(resp, 201)
    assert len(body["sessions"]) == 4
    assert len({s["series_id"] for s in body["sessions"][1:]}) == 1
    assert rows() == (1, 1, 4)


def test_adding_sessions_checks_conflicts_and_input(client, world, as_bearer):
    w = world.workshop()
    other = world.workshop(title="Otro", start=local_in(20), topic_id=topic("habilidades-blandas").id)
    api = as_bearer(world.host_staff)
    body = assert_problem(api.post(f"{BASE}/{other.activity_id}/sessions", session_body()), 409)
    assert body["conflicts"][0]["kind"] == "facilitator"
    body = assert_problem(api.post(f"{BASE}/{w.activity_id}/sessions", session_body(capacity=0)), 422)
    assert list(body["errors"]["json"]) == ["capacity"]
    assert rows() == (2, 2, 2)


def test_a_published_workshop_takes_no_session_in_the_past(client, world, as_bearer):
    w = world.workshop(publish=True)
    body = assert_problem(as_bearer(world.host_staff).post(f"{BASE}/{w.activity_id}/sessions",
                                                           session_body(-3)), 422)
    assert "pasado" in body["errors"]["json"]["start_local"][0]


def test_patch_a_session_moving_only_its_start_keeps_its_length(client, world, as_user):
    w = world.workshop(publish=True)
    sid = w.activity.sessions[0].id
    body = ok(as_user(world.host_staff).patch(f"{BASE}/{w.activity_id}/sessions/{sid}",
                                              {"start_local": _local(local_in(8, 15))}))
    [session] = body["sessions"]
    start, end = (datetime.fromisoformat(session[k]) for k in ("local_start", "local_end"))
    assert start.replace(tzinfo=None) == local_in(8, 15) and end - start == timedelta(hours=2)
    assert session["sequence"] == 1
    assert count(ActivityChange) == 1  # a published session's move is recorded


def test_patch_with_whole_series_changes_this_session_and_the_following_ones(client, world, as_bearer):
    w = world.workshop(count=3, start=local_in(3, 10))
    sid = w.activity.sessions[1].id
    body = ok(as_bearer(world.host_staff).patch(f"{BASE}/{w.activity_id}/sessions/{sid}",
                                                {"start_local": _local(local_in(10, 17)), "whole_series": True,
                                                 "capacity": 25}))
    sessions = body["sessions"]
    assert [datetime.fromisoformat(s["local_start"]).hour for s in sessions] == [10, 17, 17]
    assert [s["capacity"] for s in sessions] == [50, 25, 25]
    assert [datetime.fromisoformat(s["local_start"]).date() for s in sessions] == [
        (local_in(3) + timedelta(weeks=n)).date() for n in range(3)]  # each keeps its date


def test_patch_without_whole_series_changes_one_session(client, world, as_bearer):
    w = world.workshop(count=3, start=local_in(3, 10))
    sid = w.activity.sessions[1].id
    body = ok(as_bearer(world.host_staff).patch(f"{BASE}/{w.activity_id}/sessions/{sid}", {"capacity": 25}))
    assert [s["capacity"] for s in body["sessions"]] == [50, 25, 50]


@pytest.mark.parametrize("change, field", [
    ({"end_local": "2000-01-01T10:00"}, "end_local"), ({"capacity": 0}, "capacity"),
    ({"join_url": "ftp://x"}, "join_url"), ({"modality": "in_person", "venue_name": None}, "venue_name"),
    ({"whole_series": "sí"}, "whole_series"),
])
def test_a_bad_session_patch_is_422_and_changes_nothing(client, world, as_bearer, change, field):
    w = world.workshop()
    session = w.activity.sessions[0]
    before = (session.starts_at, session.ends_at, session.capacity, session.join_url)
    body = assert_problem(as_bearer(world.host_staff).patch(
        f"{BASE}/{w.activity_id}/sessions/{session.id}", change), 422)
    assert list(body["errors"]["json"]) == [field]
    db.session.expire_all()
    assert (session.starts_at, session.ends_at, session.capacity, session.join_url) == before


def test_a_session_of_another_workshop_is_404(client, world, as_bearer):
    w = world.workshop()
    other = world.workshop(title="Otro", start=local_in(20), facilitator_user_ids=[])
    sid = other.activity.sessions[0].id
    api = as_bearer(world.host_staff)
    assert_problem(api.patch(f"{BASE}/{w.activity_id}/sessions/{sid}", {"capacity": 5}), 404)
    assert_problem(api.post(f"{BASE}/{w.activity_id}/sessions/{sid}/cancel", {"reason": "x"}), 404)
    assert_problem(api.patch(f"{BASE}/{w.activity_id}/sessions/99999999999", {"capacity": 5}), 404)


def test_cancel_a_session_with_a_reason(client, world, as_user):
    w = world.workshop(count=2, publish=True)
    sid = w.activity.sessions[0].id
    api = as_user(world.host_staff)
    body = assert_problem(api.post(f"{BASE}/{w.activity_id}/sessions/{sid}/cancel", {"reason": "  "}), 422)
    assert body["errors"]["json"]["reason"][0].startswith("Escriba el motivo")
    body = ok(api.post(f"{BASE}/{w.activity_id}/sessions/{sid}/cancel", {"reason": "Feriado regional"}))
    cancelled = next(s for s in body["sessions"] if s["id"] == sid)
    assert cancelled["status"] == "cancelled" and cancelled["cancel_reason"] == "Feriado regional"
    assert body["session_count"] == 1
    assert count(ActivityChange) == 1


# --- publishing and cancelling -------------------------------------------------------------


def test_publish_makes_it_public(app, client, world, as_user):
    w = world.workshop()
    body = ok(as_user(world.host_staff).post(f"{BASE}/{w.activity_id}/publish"))
    assert body["status"] == "published" and body["published_at"]
    assert body["public_url"].endswith(f"/talleres/{body['slug']}")
    assert ok(app.test_client().get(f"{BASE}/{w.activity_id}"))["status"] == "published"


def test_publishing_with_a_past_session_is_409(client, world, as_bearer):
    w = world.workshop(start=local_in(-2))
    body = assert_problem(as_bearer(world.host_staff).post(f"{BASE}/{w.activity_id}/publish"), 409)
    assert "ya pasó" in body["detail"]
    db.session.expire_all()
    assert w.activity.status == ActivityStatus.DRAFT


def test_publishing_without_sessions_is_409(client, world, as_bearer):
    api = as_bearer(world.host_staff)
    created = ok(api.post(BASE, workshop_body(world, session=None)), 201)
    assert "sesión" in assert_problem(api.post(f"{BASE}/{created['id']}/publish"), 409)["detail"]


def test_cancel_a_workshop_with_a_reason(client, world, as_user):
    w = world.workshop(count=2, publish=True)
    body = ok(as_user(world.host_staff).post(f"{BASE}/{w.activity_id}/cancel", {"reason": "Paro de funcionarios"}))
    assert body["status"] == "cancelled" and body["cancel_reason"] == "Paro de funcionarios"
    assert {s["status"] for s in body["sessions"]} == {"cancelled"}
    assert count(ActivityChange) == 2


def test_cancelling_needs_a_reason(client, world, as_bearer):
    w = world.workshop(publish=True)
    api = as_bearer(world.host_staff)
    assert list(assert_problem(api.post(f"{BASE}/{w.activity_id}/cancel", {}), 422)["errors"]["json"]) == ["reason"]
    assert list(assert_problem(api.post(f"{BASE}/{w.activity_id}/cancel", {"reason": ""}),
                               422)["errors"]["json"]) == ["reason"]
    db.session.expire_all()
    assert w.activity.status == ActivityStatus.PUBLISHED


def test_a_convening_office_cannot_cancel(client, world, as_bearer):
    w = world.workshop(publish=True)
    assert_problem(as_bearer(world.convening_staff).post(f"{BASE}/{w.activity_id}/cancel", {"reason": "No"}), 403)


# --- the OpenAPI document ------------------------------------------------------------------


def test_the_openapi_document_lists_the_workshop_endpoints(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    validate(spec)
    paths = spec["paths"]
    expected = {
        f"{BASE}": {"get", "post"}, f"{BASE}/topics": {"get"}, f"{BASE}/{{workshop_id}}": {"get", "patch"},
        f"{BASE}/{{workshop_id}}/sessions": {"post"},
        f"{BASE}/{{workshop_id}}/sessions/{{session_id}}": {"patch"},
        f"{BASE}/{{workshop_id}}/sessions/{{session_id}}/cancel": {"post"},
        f"{BASE}/{{workshop_id}}/publish": {"post"}, f"{BASE}/{{workshop_id}}/cancel": {"post"},
    }
    for path, methods in expected.items():
        assert set(paths[path]) >= methods, path
        for method in methods:
            op = paths[path][method]
            assert op["summary"] and op["description"], (method, path)
            assert op["tags"] == ["Talleres"]
            for status, response in op["responses"].items():
                if status.startswith(("4", "5")):
                    assert list(response["content"]) == ["application/problem+json"], (method, path, status)
    assert {} in paths[BASE]["get"]["security"]  # public read, authentication optional
    assert {} not in paths[BASE]["post"]["security"]
    assert "409" in paths[BASE]["post"]["responses"]
    conflict = paths[BASE]["post"]["responses"]["409"]["content"]["application/problem+json"]["schema"]
    assert "conflicts" in conflict["allOf"][1]["properties"]

