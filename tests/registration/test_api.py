"""Registrations through /api/v1/registrations: public and staff-assisted registration, the
person's own token, staff lists and attendance, and every refusal as problem details."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.extensions import db
from app.people.models import Person
from app.registration.models import Attendance, Registration, RegistrationStatus, Source
from tests.api.conftest import assert_problem, bearer
from tests.conftest import count, get_csrf, login
from tests.registration.conftest import person_input

URL = "/api/v1/registrations"
TOKEN_HEADER = "X-Registration-Token"


def person_json(n: int = 1, **kw: Any) -> dict[str, Any]:
    """The JSON ``person`` of a valid registration (the same data as ``person_input``)."""
    data = dataclasses.asdict(person_input(n, **kw))
    data.pop("cleaned")
    return data


def registration_body(session_id: int, n: int = 1, **kw: Any) -> dict[str, Any]:
    return {"session_id": session_id, "person": person_json(n, **kw)}


@pytest.fixture
def token_for() -> Any:
    from app.accounts.services import create_api_token

    def _make(user: Any) -> str:
        return create_api_token(user, "pruebas")[1]

    return _make


@pytest.fixture
def registered(client, published_session) -> Any:
    """``body = registered(session, n)``: register newcomer ``n`` through the API (202, the
    same answer for everyone), then read what the person's message carries: the registration
    and its personal token."""
    from app.registration import services

    def _register(session: Any, n: int = 1, **kw: Any) -> dict[str, Any]:
        resp = client.post(URL, json=registration_body(session.id, n, **kw))
        assert resp.status_code == 202, resp.get_data(as_text=True)[:500]
        db.session.expire_all()
        number = person_input(n, **kw).document_number
        reg = db.session.scalars(select(Registration).join(Person).where(
            Person.document_number == number, Registration.session_id == session.id)).one()
        return {"id": reg.id, "status": reg.status.value, "waitlist_position": services.waitlist_position(reg),
                "personal_token": services.personal_token(reg), "session": resp.get_json()["session"]}

    return _register


def me(token: str) -> dict[str, str]:
    return {TOKEN_HEADER: token}


# --- registering -----------------------------------------------------------------------------


def test_anyone_registers_and_gets_202_with_an_answer_that_carries_no_token(client, published_session):
    session = published_session()
    resp = client.post(URL, json=registration_body(session.id))
    assert resp.status_code == 202
    assert resp.headers["Cache-Control"] == "no-store"
    body = resp.get_json()
    assert body["id"] is None and body["status"] is None and body["personal_token"] is None
    assert body["contact"] == "c***@example.cl"
    assert "Si los datos son correctos" in body["detail"]
    assert body["session"]["id"] == session.id
    assert body["session"]["activity_title"] == session.activity.title
    assert body["session"]["timezone"] == "America/Santiago"
    reg = db.session.scalars(select(Registration)).one()
    assert reg.status == RegistrationStatus.CONFIRMED  # a newcomer is registered at once
    assert reg.source == Source.API and reg.office_id is None and reg.staff_user_id is None


def test_the_rut_is_stored_normalised(client, published_session):
    session = published_session()
    rut = person_input(1).document_number  # 10000001-d
    client.post(URL, json=registration_body(session.id, document_number=f"10.000.001-{rut[-1]}"))
    assert db.session.scalars(select(Person.document_number)).one() == rut


def test_a_known_rut_gets_the_same_answer_as_a_newcomer_and_books_nothing(client, registered, published_session):
    first, second = published_session(), published_session()
    registered(first)
    newcomer = client.post(URL, json=registration_body(second.id, 2, email="camila1@example.cl"))
    known = client.post(URL, json=registration_body(second.id, 1, first_names="Otra"))
    again = client.post(URL, json=registration_body(first.id, 1))
    assert newcomer.status_code == known.status_code == again.status_code == 202
    assert newcomer.get_json()["detail"] == known.get_json()["detail"] == again.get_json()["detail"]
    assert newcomer.get_json()["id"] is None and known.get_json()["personal_token"] is None
    people = {p.document_number: p for p in db.session.scalars(select(Person))}
    assert people[person_input(1).document_number].first_names == "Camila"  # nothing changed by the form
    assert count(Registration) == 2  # the first registration and the newcomer's; the known RUT is only held


def test_a_full_session_puts_the_person_on_the_waitlist_with_a_position(registered, published_session):
    session = published_session(capacity=1)
    registered(session, 1)
    assert registered(session, 2)["waitlist_position"] == 1
    third = registered(session, 3)
    assert third["status"] == "waitlisted" and third["waitlist_position"] == 2


def test_invalid_person_data_is_422_with_spanish_messages_per_field_and_nothing_written(
        client, published_session):
    session = published_session()
    body = registration_body(session.id, document_number="12.345.678-9", email="no-es-correo",
                             comuna_code="99999", consent_data=False)
    problem = assert_problem(client.post(URL, json=body), 422)
    errors = problem["errors"]["json"]["person"]
    assert "dígito verificador" in errors["document_number"][0]
    assert errors["email"] and errors["comuna_code"]
    assert "aceptar" in errors["consent_data"][0]
    assert count(Person) == 0 and count(Registration) == 0


def test_no_contact_at_all_is_422(client, published_session):
    session = published_session()
    problem = assert_problem(client.post(URL, json=registration_body(session.id, email="", phone="")), 422)
    assert "correo o un celular" in problem["errors"]["json"]["person"]["email"][0]


def test_malformed_body_is_422_in_spanish(client, published_session):
    session = published_session()
    body = registration_body(session.id, preferred_channel="paloma")
    body["person"]["apodo"] = "Cami"
    del body["session_id"]
    problem = assert_problem(client.post(URL, json=body), 422)
    errors = problem["errors"]["json"]
    assert errors["session_id"] == ["Este campo es obligatorio."]
    assert errors["person"]["apodo"] == ["Campo desconocido."]
    assert errors["person"]["preferred_channel"][0].startswith("Elija uno de:")


def test_optional_text_may_be_null(client, published_session):
    session = published_session()
    resp = client.post(URL, json=registration_body(session.id, phone=None, accessibility_other=None))
    assert resp.status_code == 202


def test_unknown_session_is_404(client, published_session):
    published_session()
    problem = assert_problem(client.post(URL, json=registration_body(999_999)), 404)
    assert problem["detail"] == "Esa sesión no existe."


def test_a_draft_session_is_404(client, world):
    draft = world.workshop(publish=False).activity.sessions[0]
    assert_problem(client.post(URL, json=registration_body(draft.id)), 404)


def test_closed_registration_is_409_with_a_clear_message(app, client, published_session, monkeypatch):
    session = published_session()
    monkeypatch.setitem(app.config, "REGISTRATION_CLOSES_MINUTES", 60 * 24 * 30)
    problem = assert_problem(client.post(URL, json=registration_body(session.id)), 409)
    assert "cerraron" in problem["detail"]
    assert count(Registration) == 0


def test_a_flood_from_one_address_is_429_with_retry_after(app, client, published_session, monkeypatch):
    session = published_session()
    monkeypatch.setitem(app.config, "REGISTRATION_RATE_LIMIT", "2 per minute")
    for n in (1, 2):
        assert client.post(URL, json=registration_body(session.id, n)).status_code == 202
    resp = client.post(URL, json=registration_body(session.id, 3))
    assert_problem(resp, 429)
    assert int(resp.headers["Retry-After"]) > 0
    other = client.post(URL, json=registration_body(session.id, 4), environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert other.status_code == 202  # per address
    assert count(Registration) == 3


# --- staff registering someone ---------------------------------------------------------------


def test_staff_with_a_bearer_token_register_for_their_office(client, world, published_session, token_for):
    session = published_session()
    staff = world.convening_staff
    resp = client.post(URL, json=registration_body(session.id), headers=bearer(token_for(staff)))
    assert resp.status_code == 201
    reg = db.session.get(Registration, resp.get_json()["id"])
    assert reg.source == Source.STAFF
    assert reg.office_id == world.convening.id
    assert reg.staff_user_id == staff.id
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "registration.staff_create")).one()
    assert event.user_id == staff.id


def test_staff_of_an_unrelated_office_may_not_register_people_in_the_session(client, world, published_session,
                                                                            token_for):
    session = published_session()
    resp = client.post(URL, json=registration_body(session.id), headers=bearer(token_for(world.other_staff)))
    assert_problem(resp, 403)
    assert count(Registration) == 0


def test_staff_in_the_browser_session_need_the_csrf_header(client, world, published_session):
    session = published_session()
    login(client, world.host_staff.email)
    assert_problem(client.post(URL, json=registration_body(session.id)), 400)
    token = get_csrf(client, "/cuenta/")
    resp = client.post(URL, json=registration_body(session.id), headers={"X-CSRFToken": token})
    assert resp.status_code == 201
    assert db.session.get(Registration, resp.get_json()["id"]).office_id == world.host.id


def test_a_refused_bearer_token_never_falls_back_to_an_anonymous_registration(client, published_session):
    session = published_session()
    resp = client.post(URL, json=registration_body(session.id), headers=bearer("pl_" + "x" * 43))
    assert_problem(resp, 401)
    assert count(Registration) == 0


# --- the person's own token ------------------------------------------------------------------


def test_the_person_reads_their_registration_with_the_token_header(client, registered, published_session):
    session = published_session()
    token = registered(session)["personal_token"]
    resp = client.get(f"{URL}/me", headers=me(token))
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "no-store"
    body = resp.get_json()
    assert body["status"] == "confirmed"
    assert body["first_names"] == "Camila"
    assert body["contact"] == "c***@example.cl"
    assert "document_number" not in body and "email" not in body
    assert body["session"]["id"] == session.id


def test_me_without_a_token_is_401(client):
    resp = client.get(f"{URL}/me")
    problem = assert_problem(resp, 401)
    assert TOKEN_HEADER in problem["detail"]
    assert TOKEN_HEADER in resp.headers["WWW-Authenticate"]


def test_a_tampered_token_is_401(client, registered, published_session):
    token = registered(published_session())["personal_token"]
    problem = assert_problem(client.get(f"{URL}/me", headers=me(token[:-2] + "xx")), 401)
    assert "no es válido" in problem["detail"]
    assert_problem(client.get(f"{URL}/me", headers=me("x" * 500)), 401)


def test_the_token_is_never_read_from_the_url(client, registered, published_session):
    token = registered(published_session())["personal_token"]
    assert_problem(client.get(f"{URL}/me", query_string={"token": token}), 401)


def test_cancelling_with_the_token_promotes_the_first_waiting_person(client, registered, published_session):
    session = published_session(capacity=1)
    first = registered(session, 1)
    waiting = registered(session, 2)
    resp = client.post(f"{URL}/me/cancel", headers=me(first["personal_token"]))
    assert resp.status_code == 200
    assert resp.get_json()["status"] == "cancelled"
    promoted = client.get(f"{URL}/me", headers=me(waiting["personal_token"])).get_json()
    assert promoted["status"] == "confirmed" and promoted["waitlist_position"] is None
    db.session.refresh(session)
    assert session.confirmed_count == 1


def test_cancelling_twice_changes_nothing_more(client, registered, published_session):
    session = published_session(capacity=1)
    token = registered(session, 1)["personal_token"]
    registered(session, 2)
    client.post(f"{URL}/me/cancel", headers=me(token))
    again = client.post(f"{URL}/me/cancel", headers=me(token))
    assert again.status_code == 200 and again.get_json()["status"] == "cancelled"
    statuses = sorted(r.status for r in db.session.scalars(select(Registration)))
    assert statuses == [RegistrationStatus.CANCELLED, RegistrationStatus.CONFIRMED]


def test_a_token_replaced_by_registering_again_is_410(client, registered, published_session):
    """Registering again (confirmed from the message on file) replaces the link."""
    from app.registration import holds
    from app.registration import services as registration_services
    from app.registration.models import RegistrationHold

    session = published_session()
    old = registered(session)["personal_token"]
    client.post(f"{URL}/me/cancel", headers=me(old))
    resp = client.post(URL, json=registration_body(session.id))  # a known RUT: held, not booked
    assert resp.status_code == 202 and resp.get_json()["personal_token"] is None
    reg = holds.confirm(db.session.scalars(select(RegistrationHold)).one())  # from the message on file
    new = registration_services.personal_token(reg)
    assert new != old
    problem = assert_problem(client.get(f"{URL}/me", headers=me(old)), 410)
    assert "ya no es válido" in problem["detail"]
    assert client.get(f"{URL}/me", headers=me(new)).status_code == 200


# --- staff: the list and attendance ----------------------------------------------------------


def list_as(client: Any, user: Any, session: Any, token_for: Any, **query: Any) -> Any:
    return client.get(URL, query_string={"session_id": session.id, **query}, headers=bearer(token_for(user)))


def test_host_staff_list_a_sessions_registrants_with_contact_and_waitlist_positions(
        client, world, registered, published_session, token_for):
    session = published_session(capacity=1)
    registered(session, 1)
    registered(session, 2)
    resp = list_as(client, world.host_staff, session, token_for)
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "no-store"
    page = resp.get_json()
    assert page["total"] == 2 and page["page"] == 1
    first, second = page["items"]
    assert first["status"] == "confirmed" and first["waitlist_position"] is None
    assert second["status"] == "waitlisted" and second["waitlist_position"] == 1
    assert first["identified"] is True
    assert first["person"]["document_number"] == person_input(1).document_number
    assert first["person"]["email"] == "camila1@example.cl"
    assert first["source"] == "api" and first["office"] is None


def test_the_list_filters_by_status_and_pages(client, world, registered, published_session, token_for):
    session = published_session(capacity=1)
    for n in (1, 2, 3):
        registered(session, n)
    waiting = list_as(client, world.host_staff, session, token_for, status="waitlisted", per_page=1).get_json()
    assert waiting["total"] == 2 and len(waiting["items"]) == 1
    assert waiting["items"][0]["waitlist_position"] == 1


def test_a_convening_office_lists_only_the_people_it_registered(client, world, registered, published_session,
                                                                token_for):
    session = published_session()
    registered(session, 1)  # registered by themselves
    client.post(URL, json=registration_body(session.id, 2), headers=bearer(token_for(world.convening_staff)))
    page = list_as(client, world.convening_staff, session, token_for).get_json()
    assert page["total"] == 1
    row = page["items"][0]
    assert row["office"] == {"id": world.convening.id, "name": "OMIL Peñalolén"}
    assert row["identified"] is True and row["person"]["email"] == "camila2@example.cl"


def test_a_network_coordinator_sees_every_row_but_identifies_only_their_offices(
        client, world, factory, registered, token_for):
    from tests.workshops.conftest import local_in

    coordinator_office = factory.office("13114", name="OMIL Las Condes")
    network = factory.network(("13",), offices=[world.host], coordinator=coordinator_office)
    coordinator = factory.user(office=coordinator_office)
    workshop = world.workshop(publish=True, start=local_in(10), network_ids=[network.id])
    session = workshop.activity.sessions[0]
    registered(session, 1)
    client.post(URL, json=registration_body(session.id, 2), headers=bearer(token_for(coordinator)))
    rows = {r["person"]["last_names"]: r for r in list_as(client, coordinator, session, token_for).get_json()["items"]}
    other, own = rows["Rojas 1"], rows["Rojas 2"]
    assert other["identified"] is False
    assert other["person"]["document_number"] == "10.***.***-" + person_input(1).document_number[-1]
    assert other["person"]["email"] == "c***@example.cl"
    assert own["identified"] is True and own["person"]["email"] == "camila2@example.cl"


def test_national_admins_list_every_row_identified(client, factory, registered, published_session, token_for):
    session = published_session()
    registered(session)
    page = list_as(client, factory.user("sence_national"), session, token_for).get_json()
    assert page["total"] == 1 and page["items"][0]["identified"] is True


@pytest.mark.parametrize("who", ["other_staff", "sence_rm"])
def test_others_may_not_list_the_people(client, world, registered, published_session, token_for, who):
    session = published_session()
    registered(session)
    problem = assert_problem(list_as(client, getattr(world, who), session, token_for), 403)
    assert "inscritas" in problem["detail"]


def test_listing_needs_an_account_and_a_session_that_exists(client, world, published_session, token_for):
    session = published_session()
    assert_problem(client.get(URL, query_string={"session_id": session.id}), 401)
    headers = bearer(token_for(world.host_staff))
    assert_problem(client.get(URL, query_string={"session_id": 999_999}, headers=headers), 404)
    problem = assert_problem(client.get(URL, headers=headers), 422)
    assert problem["errors"]["query"]["session_id"] == ["Este campo es obligatorio."]


@pytest.fixture
def happening_now(registered, published_session) -> Any:
    """``(session, registration id)``: a registration made while open, in a session under way."""
    from datetime import timedelta

    from app.timeutil import utcnow

    session = published_session()
    reg_id = registered(session)["id"]
    session.starts_at, session.ends_at = utcnow() - timedelta(minutes=30), utcnow() + timedelta(minutes=90)
    db.session.commit()
    return session, reg_id


def test_host_staff_mark_attendance_and_it_is_recorded(client, world, happening_now, token_for):
    _session, reg_id = happening_now
    headers = bearer(token_for(world.host_staff))
    resp = client.post(f"{URL}/{reg_id}/attendance", json={"attendance": "present"}, headers=headers)
    assert resp.status_code == 200
    assert resp.get_json()["attendance"] == "present"
    reg = db.session.get(Registration, reg_id)
    assert reg.attendance == Attendance.PRESENT and reg.attendance_marked_by_id == world.host_staff.id
    cleared = client.post(f"{URL}/{reg_id}/attendance", json={"attendance": None}, headers=headers)
    assert cleared.get_json()["attendance"] is None


def test_attendance_before_the_day_of_the_session_is_409(client, world, registered, published_session, token_for):
    reg_id = registered(published_session())["id"]
    resp = client.post(f"{URL}/{reg_id}/attendance", json={"attendance": "present"},
                       headers=bearer(token_for(world.host_staff)))
    assert_problem(resp, 409)
    assert db.session.get(Registration, reg_id).attendance is None


def test_attendance_refusals(client, world, happening_now, token_for):
    _session, reg_id = happening_now
    url = f"{URL}/{reg_id}/attendance"
    assert_problem(client.post(url, json={"attendance": "present"}), 401)
    assert_problem(client.post(url, json={"attendance": "present"},
                               headers=bearer(token_for(world.other_staff))), 403)
    host = bearer(token_for(world.host_staff))
    problem = assert_problem(client.post(url, json={"attendance": "tal vez"}, headers=host), 422)
    assert problem["errors"]["json"]["attendance"] == ["Elija present, absent o null."]
    assert_problem(client.post(f"{URL}/999999/attendance", json={"attendance": "absent"}, headers=host), 404)
    assert db.session.get(Registration, reg_id).attendance is None


# --- the document ----------------------------------------------------------------------------


def test_the_openapi_document_describes_the_registration_endpoints(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    create = paths[URL]["post"]
    assert {"201", "200", "409", "422", "429"} <= set(create["responses"])
    assert {} in create["security"]
    assert "Idempotency-Key" in [p["name"] for p in create["parameters"]]
    assert paths[f"{URL}/me"]["get"]["security"] == [{"registrationToken": []}]
    assert spec["components"]["securitySchemes"]["registrationToken"]["name"] == TOKEN_HEADER
    assert f"{URL}/me/cancel" in paths and f"{URL}/{{registration_id}}/attendance" in paths
    assert paths[URL]["get"]["summary"] == "Inscripciones de una sesión"
    assert "identified" in spec["components"]["schemas"]["StaffRegistration"]["properties"]


def test_someone_typing_a_persons_email_with_their_own_rut_is_a_new_person(client, registered, published_session):
    first, other = published_session(), published_session()
    registered(first, 1)  # Camila, with camila1@example.cl
    stranger = client.post(URL, json=registration_body(other.id, 2, email="camila1@example.cl",
                                                       first_names="Pedro"))
    assert stranger.status_code == 202 and stranger.get_json()["personal_token"] is None
    assert sorted(db.session.scalars(select(Person.first_names))) == ["Camila", "Pedro"]


