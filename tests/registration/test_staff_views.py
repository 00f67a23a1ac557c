"""Staff registration pages: who sees which registrants, walk-ins, cancel, move, attendance,
updating a person's details and the CSV export."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.extensions import db
from app.outbox.models import OutboxMessage
from app.people.models import Channel, Person
from app.registration import services
from app.registration.exports import export_columns, format_rut
from app.registration.models import Attendance, Registration, RegistrationStatus, Source
from app.timeutil import utcnow
from tests.conftest import count, get_csrf, login, table_counts
from tests.registration.conftest import make_rut, person_input
from tests.workshops.conftest import WorkshopWorld, local_in

BASE = "/gestion/inscripciones"


@pytest.fixture(autouse=True)
def _quick_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at its lowest cost: these tests create and log in many staff accounts and are
    about registrations, not passwords."""
    from argon2 import PasswordHasher

    from app.accounts import services as account_services

    monkeypatch.setattr(account_services, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def masked(n: int) -> str:
    rut = make_rut(n)
    return f"{rut[:2]}.***.***-{rut[-1]}"


def full(n: int) -> str:
    return format_rut(make_rut(n))


@dataclass
class Scene:
    world: WorkshopWorld
    session: Any
    users: dict[str, Any]
    regs: dict[int, Registration]
    coord_office: Any


@pytest.fixture
def scene(world: WorkshopWorld, factory: Any, published_session: Any) -> Scene:
    """A session with four registrants: 1 registered on the public form, 2 by the convening
    office, 3 by the host office, 4 by an office that coordinates another of the host's networks."""
    s = published_session(capacity=10)
    coord_office = factory.office("13119", name="OMIL Maipú", category="avanzada")
    factory.network(("13",), name="Red Poniente", offices=[world.host], coordinator=coord_office)
    users = {
        "host": world.host_staff,
        "convening": world.convening_staff,
        "coordinator": factory.user(office=coord_office, name="Cora Coordina"),
        "other": world.other_staff,
        "sence_rm": world.sence_rm,
        "sence_other_region": factory.user("sence_regional", sence_unit=factory.sence_unit("12")),
        "national": factory.user("sence_national"),
    }
    regs = {
        1: services.register(s.id, person_input(1, first_names="José", last_names="Pérez Ñúñez")).registration,
        2: services.register(s.id, person_input(2), source=Source.STAFF, office=world.convening,
                             staff_user=world.convening_staff).registration,
        3: services.register(s.id, person_input(3), source=Source.STAFF, office=world.host,
                             staff_user=world.host_staff).registration,
        4: services.register(s.id, person_input(4), source=Source.STAFF, office=coord_office,
                             staff_user=users["coordinator"]).registration,
    }
    return Scene(world, s, users, regs, coord_office)


def client_for(app: Flask, user: Any) -> FlaskClient:
    c = app.test_client()
    assert login(c, user.email).status_code == 302
    return c


def token(c: FlaskClient) -> str:
    """A CSRF token for this logged-in client (any staff page carries one)."""
    return get_csrf(c, "/gestion/")


def mark(c: FlaskClient, reg_id: int, value: str) -> Any:
    return c.post(f"{BASE}/{reg_id}/asistencia", data={"value": value, "csrf_token": token(c)})


def names_in(html: str) -> set[int]:
    return {n for n, name in ((1, "Pérez Ñúñez"), (2, "Rojas 2"), (3, "Rojas 3"), (4, "Rojas 4")) if name in html}


# --- who sees what ---------------------------------------------------------------------------------

# role: (status, rows seen, rows with RUT unmasked)
MATRIX = {
    "host": (200, {1, 2, 3, 4}, {1, 2, 3, 4}),
    "convening": (200, {2}, {2}),
    "coordinator": (200, {1, 2, 3, 4}, {4}),
    "other": (403, set(), set()),
    "sence_rm": (200, set(), set()),
    "sence_other_region": (403, set(), set()),
    "national": (200, {1, 2, 3, 4}, {1, 2, 3, 4}),
}


@pytest.mark.parametrize("role", list(MATRIX))
def test_the_registrants_page_shows_each_role_only_its_rows_and_identities(app, scene, role):
    status, seen, identified = MATRIX[role]
    resp = client_for(app, scene.users[role]).get(f"{BASE}/sesion/{scene.session.id}")
    assert resp.status_code == status
    if status != 200:
        return
    html = resp.get_data(as_text=True)
    assert names_in(html) == seen
    for n in seen:
        assert (full(n) in html) == (n in identified), n
        assert (masked(n) in html) == (n not in identified), n
    assert "Capacidad" in html and ">10<" in html  # counts for everyone who may open the page


def test_sence_regional_reads_counts_per_office_without_personal_data(app, scene):
    html = client_for(app, scene.users["sence_rm"]).get(f"{BASE}/sesion/{scene.session.id}").get_data(as_text=True)
    assert "OMIL Peñalolén" in html and "OMIL Maipú" in html  # credit for convening, as counts
    assert "example.cl" not in html and "***" not in html
    assert "Exportar" not in html and "exportar.csv" not in html


def test_contact_is_masked_where_the_rut_is(app, scene):
    html = client_for(app, scene.users["coordinator"]).get(f"{BASE}/sesion/{scene.session.id}").get_data(as_text=True)
    assert "camila4@example.cl" in html
    assert "camila2@example.cl" not in html and "c***@example.cl" in html


def test_a_phone_shared_by_two_people_is_shown_as_shared_only_to_who_sees_it(app, scene):
    one = db.session.scalar(select(Person).where(Person.document_number == make_rut(1)))
    two = db.session.scalar(select(Person).where(Person.document_number == make_rut(2)))
    two.phone = one.phone = "+56987654321"  # a household phone: two documents, two people
    db.session.commit()
    host = client_for(app, scene.users["host"]).get(f"{BASE}/sesion/{scene.session.id}").get_data(as_text=True)
    assert host.count("Contacto compartido con otra persona") == 2
    coordinator = client_for(app, scene.users["coordinator"]).get(
        f"{BASE}/sesion/{scene.session.id}").get_data(as_text=True)
    assert "Contacto compartido" not in coordinator  # masked rows say nothing about the contact


@pytest.mark.parametrize("role, expected", [
    ("host", 200), ("convening", 200), ("coordinator", 200), ("other", 403), ("sence_rm", 403), ("national", 200)])
def test_who_may_open_the_walk_in_form(app, scene, role, expected):
    resp = client_for(app, scene.users[role]).get(f"{BASE}/sesion/{scene.session.id}/nueva")
    assert resp.status_code == expected


@pytest.mark.parametrize("role, reg, expected", [
    ("convening", 3, 403), ("convening", 2, 302), ("coordinator", 2, 302), ("sence_rm", 2, 403),
    ("other", 2, 403)])
def test_who_may_cancel_which_registration(app, scene, role, reg, expected):
    c = client_for(app, scene.users[role])
    resp = c.post(f"{BASE}/{scene.regs[reg].id}/cancelar", data={"csrf_token": token(c)})
    assert resp.status_code == expected
    db.session.expire_all()
    cancelled = db.session.get(Registration, scene.regs[reg].id).status == RegistrationStatus.CANCELLED
    assert cancelled == (expected == 302)


@pytest.mark.parametrize("role, expected", [
    ("host", 200), ("coordinator", 200), ("national", 200), ("convening", 403), ("sence_rm", 403)])
def test_who_may_import_attendance(app, scene, role, expected):
    resp = client_for(app, scene.users[role]).get(f"{BASE}/sesion/{scene.session.id}/asistencia")
    assert resp.status_code == expected


def test_the_list_filters_by_status_and_office(app, scene):
    c = client_for(app, scene.users["host"])
    html = c.get(f"{BASE}/sesion/{scene.session.id}?office={scene.world.convening.id}").get_data(as_text=True)
    assert names_in(html) == {2}
    html = c.get(f"{BASE}/sesion/{scene.session.id}?office=directa").get_data(as_text=True)
    assert names_in(html) == {1}
    assert c.get(f"{BASE}/sesion/{scene.session.id}?status=nada").status_code == 400


# --- walk-in / phone ---------------------------------------------------------------------------------


def form_data(n: int = 10, **kw: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "first_names": "María José", "last_names": f"Muñoz {n}", "document_type": "rut",
        "document_number": make_rut(n), "email": f"mj{n}@example.cl", "phone": "", "comuna_code": "13122",
        "preferred_channel": "email", "connectivity": "none", "consent_data": "y"}
    data.update(kw)
    return {k: v for k, v in data.items() if v is not None}


def test_a_walk_in_records_the_office_and_staff_member_who_registered(app, scene):
    c = client_for(app, scene.users["convening"])
    url = f"{BASE}/sesion/{scene.session.id}/nueva"
    page = c.get(url).get_data(as_text=True)
    assert "La persona aceptó por teléfono o en persona el uso de sus datos" in page
    resp = c.post(url, data={**form_data(), "csrf_token": get_csrf(c, url)})
    assert resp.status_code == 302
    reg = db.session.scalar(select(Registration).join(Person).where(Person.last_names == "Muñoz 10"))
    assert reg is not None
    assert reg.source == Source.STAFF and reg.status == RegistrationStatus.CONFIRMED
    assert reg.office_id == scene.world.convening.id
    assert reg.staff_user_id == scene.users["convening"].id
    assert reg.person.office_id == scene.world.convening.id
    assert db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == "mj10@example.cl")) is not None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "registration.staff_create",
                                                        AuditEvent.object_id == str(reg.id)))
    assert event is not None and event.user_id == scene.users["convening"].id and "Muñoz" not in event.summary
    page = c.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Inscripción confirmada para María José Muñoz 10" in page


def test_a_recognised_person_keeps_their_stored_details_and_staff_are_told(app, scene, published_session):
    other = published_session()
    c = client_for(app, scene.users["host"])
    url = f"{BASE}/sesion/{other.id}/nueva"
    data = form_data(3, first_names="Otro Nombre", email="camila3@example.cl")
    resp = c.post(url, data={**data, "csrf_token": get_csrf(c, url)})
    assert resp.status_code == 302
    page = c.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Reconocimos a Camila Rojas 3" in page and "Se mantuvieron sus datos guardados" in page
    assert "Actualizar datos de la persona" in page
    assert count(Person) == 4
    assert db.session.scalar(select(Person).where(Person.last_names == "Rojas 3")).first_names == "Camila"


def test_registering_someone_already_in_the_session_makes_no_second_registration(app, scene):
    c = client_for(app, scene.users["host"])
    url = f"{BASE}/sesion/{scene.session.id}/nueva"
    before = count(Registration)
    resp = c.post(url, data={**form_data(3, last_names="Rojas 3", email="camila3@example.cl"),
                             "csrf_token": get_csrf(c, url)})
    assert resp.status_code == 302
    assert count(Registration) == before
    assert "ya estaba inscrita o inscrito" in c.get(resp.headers["Location"]).get_data(as_text=True)


@pytest.mark.parametrize("overrides, field, message", [
    ({"document_number": "12.345.678-9"}, "document_number", "El dígito verificador no corresponde"),
    ({"email": "camila@"}, "email", "Escriba un correo válido"),
    ({"consent_data": None}, "consent_data", "debe aceptar el uso de sus datos"),
    ({"comuna_code": "99999"}, "comuna_code", "Elija una comuna de la lista"),
    ({"first_names": "M" * 121}, "first_names", "Máximo 120 caracteres"),
    ({"accessibility_other": "x" * 2001}, "accessibility_other", "Máximo 2000 caracteres"),
])
def test_bad_walk_in_input_is_refused_next_to_the_field_and_nothing_is_written(app, scene, overrides, field, message):
    c = client_for(app, scene.users["convening"])
    url = f"{BASE}/sesion/{scene.session.id}/nueva"
    token = get_csrf(c, url)
    before = table_counts()
    resp = c.post(url, data={**form_data(**overrides), "csrf_token": token})
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert 'class="error-summary"' in html and f'href="#{field}"' in html
    assert f'id="{field}-error"' in html and message in html
    assert 'value="mj10@example.cl"' in html or "email" in overrides  # what was typed is kept
    assert table_counts() == before


def test_a_walk_in_without_csrf_token_is_refused(app, scene):
    c = client_for(app, scene.users["convening"])
    before = table_counts()
    resp = c.post(f"{BASE}/sesion/{scene.session.id}/nueva", data=form_data())
    assert resp.status_code == 400
    assert table_counts() == before


def test_a_closed_session_refuses_walk_ins_with_a_clear_message(app, scene):
    scene.session.starts_at = utcnow() + timedelta(minutes=20)
    scene.session.ends_at = scene.session.starts_at + timedelta(hours=1)
    db.session.commit()
    c = client_for(app, scene.users["host"])
    resp = c.get(f"{BASE}/sesion/{scene.session.id}/nueva")
    assert resp.status_code == 409
    assert "cerraron" in resp.get_data(as_text=True)


# --- cancel, move, attendance ----------------------------------------------------------------------


def test_cancelling_promotes_the_first_waitlisted_person_and_queues_their_message(app, world, published_session):
    s = published_session(capacity=1)
    first = services.register(s.id, person_input(1), source=Source.STAFF, office=world.host,
                              staff_user=world.host_staff).registration
    waiting = services.register(s.id, person_input(2)).registration
    assert waiting.status == RegistrationStatus.WAITLISTED
    c = client_for(app, world.host_staff)
    html = c.get(f"{BASE}/sesion/{s.id}").get_data(as_text=True)
    assert "Lista de espera (lugar 1)" in html
    resp = c.post(f"{BASE}/{first.id}/cancelar", data={"csrf_token": token(c)})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(Registration, first.id).status == RegistrationStatus.CANCELLED
    assert db.session.get(Registration, waiting.id).status == RegistrationStatus.CONFIRMED
    promoted = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "registration_promoted"))
    assert promoted is not None and promoted.recipient == "camila2@example.cl"
    assert "pasó a confirmada" in c.get(resp.headers["Location"]).get_data(as_text=True)


def test_cancelling_twice_is_a_clear_conflict(app, scene):
    c = client_for(app, scene.users["host"])
    c.post(f"{BASE}/{scene.regs[2].id}/cancelar", data={"csrf_token": token(c)})
    resp = c.post(f"{BASE}/{scene.regs[2].id}/cancelar", data={"csrf_token": token(c)})
    assert resp.status_code == 409
    assert "ya estaba cancelada" in resp.get_data(as_text=True)


def test_staff_move_a_person_to_another_session_of_the_workshop(app, world):
    w = world.workshop(count=2, publish=True, start=local_in(10))
    first, second = w.activity.sessions
    reg = services.register(first.id, person_input(1), source=Source.STAFF, office=world.convening,
                            staff_user=world.convening_staff).registration
    c = client_for(app, world.convening_staff)
    url = f"{BASE}/{reg.id}/mover"
    page = c.get(url).get_data(as_text=True)
    assert f'value="{second.id}"' in page and f'value="{first.id}"' not in page
    resp = c.post(url, data={"session_id": str(second.id), "csrf_token": get_csrf(c, url)})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(Registration, reg.id).status == RegistrationStatus.CANCELLED
    moved = db.session.scalar(select(Registration).where(Registration.session_id == second.id))
    assert moved is not None and moved.status == RegistrationStatus.CONFIRMED
    assert moved.office_id == world.convening.id  # the convening office keeps the credit
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "registration.move")) is not None


def test_moving_to_a_session_outside_the_list_is_refused(app, world):
    w = world.workshop(count=1, publish=True, start=local_in(10))
    draft = world.workshop(count=1, start=local_in(12)).activity.sessions[0]
    reg = services.register(w.activity.sessions[0].id, person_input(1)).registration
    c = client_for(app, world.host_staff)
    url = f"{BASE}/{reg.id}/mover"
    resp = c.post(url, data={"session_id": str(draft.id), "csrf_token": get_csrf(c, url)})
    assert resp.status_code == 400
    assert "Elija una de las sesiones de la lista" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Registration, reg.id).status == RegistrationStatus.CONFIRMED


def started(session: Any) -> None:
    session.starts_at = utcnow() - timedelta(minutes=30)
    session.ends_at = utcnow() + timedelta(minutes=90)
    db.session.commit()


def test_staff_mark_a_person_present_and_absent(app, scene):
    started(scene.session)
    c = client_for(app, scene.users["host"])
    reg_id = scene.regs[3].id
    assert mark(c, reg_id, "present").status_code == 302
    db.session.expire_all()
    reg = db.session.get(Registration, reg_id)
    assert reg.attendance == Attendance.PRESENT and reg.attendance_marked_by_id == scene.users["host"].id
    assert mark(c, reg_id, "absent").status_code == 302
    db.session.expire_all()
    assert db.session.get(Registration, reg_id).attendance == Attendance.ABSENT


def test_attendance_is_not_taken_before_the_day_of_the_session(app, scene):
    c = client_for(app, scene.users["host"])
    resp = mark(c, scene.regs[3].id, "present")
    assert resp.status_code == 409
    assert "desde el día de la sesión" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Registration, scene.regs[3].id).attendance is None


def test_attendance_of_a_cancelled_registration_is_refused(app, scene):
    started(scene.session)
    services.cancel(scene.regs[3])
    c = client_for(app, scene.users["host"])
    resp = mark(c, scene.regs[3].id, "present")
    assert resp.status_code == 409


def test_convening_staff_cannot_mark_another_offices_registrant(app, scene):
    started(scene.session)
    c = client_for(app, scene.users["convening"])
    resp = mark(c, scene.regs[3].id, "present")
    assert resp.status_code == 403


# --- the person's details --------------------------------------------------------------------------


def edit_data(person: Person, **kw: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "first_names": person.first_names, "last_names": person.last_names, "email": person.email or "",
        "phone": person.phone or "", "comuna_code": person.comuna_code, "preferred_channel": "email",
        "connectivity": "good"}
    data.update(kw)
    return data


def test_the_office_that_registered_a_person_updates_their_details_with_an_audit_record(app, scene):
    person = scene.regs[2].person
    c = client_for(app, scene.users["convening"])
    url = f"{BASE}/persona/{person.id}/editar?inscripcion={scene.regs[2].id}"
    assert full(2) in c.get(url).get_data(as_text=True)
    resp = c.post(url, data={**edit_data(person, phone="9 8765 4321"), "csrf_token": get_csrf(c, url)})
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith(f"{BASE}/{scene.regs[2].id}")
    db.session.expire_all()
    person = db.session.get(Person, person.id)
    assert person.phone == "+56987654321" and person.document_number == make_rut(2)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "person.update"))
    assert event is not None and "phone" in event.summary and "8765" not in event.summary


def test_a_bad_update_keeps_what_was_typed_and_changes_nothing(app, scene):
    person = scene.regs[2].person
    c = client_for(app, scene.users["convening"])
    url = f"{BASE}/persona/{person.id}/editar"
    resp = c.post(url, data={**edit_data(person, email="no-es-correo", first_names="Camila Andrea"),
                             "csrf_token": get_csrf(c, url)})
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert "Escriba un correo válido" in html and 'value="Camila Andrea"' in html
    db.session.expire_all()
    assert db.session.get(Person, person.id).first_names == "Camila"
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "person.update")) is None


@pytest.mark.parametrize("role", ["other", "coordinator", "sence_rm"])
def test_offices_that_neither_hold_nor_registered_a_person_cannot_edit_them(app, scene, role):
    person = scene.regs[2].person
    resp = client_for(app, scene.users[role]).get(f"{BASE}/persona/{person.id}/editar")
    assert resp.status_code == 403


# --- CSV export ------------------------------------------------------------------------------------


def read_csv(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline=""), delimiter=";"))


def export(app: Flask, scene: Scene, role: str) -> Any:
    return client_for(app, scene.users[role]).get(f"{BASE}/sesion/{scene.session.id}/exportar.csv")


def test_the_export_is_utf8_with_bom_semicolons_and_accents_for_excel(app, scene):
    resp = export(app, scene, "host")
    assert resp.status_code == 200
    assert resp.mimetype == "text/csv" and "attachment" in resp.headers["Content-Disposition"]
    assert resp.headers["Cache-Control"] == "no-store"
    assert b"\r\n" in resp.data
    rows = read_csv(resp.data)
    assert rows[0] == export_columns()
    people = {r[2]: r for r in rows[1:]}
    assert people["Pérez Ñúñez"][1] == "José"
    assert people["Pérez Ñúñez"][4] == full(1)
    assert people["Rojas 2"][12] == "OMIL Peñalolén"


def test_convening_staff_export_only_the_people_their_office_registered(app, scene):
    rows = read_csv(export(app, scene, "convening").data)
    assert [r[2] for r in rows[1:]] == ["Rojas 2"]
    assert rows[1][4] == full(2) and rows[1][5] == "camila2@example.cl"


def test_coordinators_export_everyone_with_identity_masked_outside_their_office(app, scene):
    rows = {r[2]: r for r in read_csv(export(app, scene, "coordinator").data)[1:]}
    assert set(rows) == {"Pérez Ñúñez", "Rojas 2", "Rojas 3", "Rojas 4"}
    assert rows["Rojas 4"][4] == full(4) and rows["Rojas 4"][-1] == "Sí"
    assert rows["Rojas 2"][4] == masked(2) and rows["Rojas 2"][5] == "c***@example.cl"
    assert rows["Rojas 2"][-1] == "No" and rows["Rojas 2"][16:22] == [""] * 6  # no profile on masked rows


@pytest.mark.parametrize("role", ["sence_rm", "other"])
def test_who_may_not_export(app, scene, role):
    assert export(app, scene, role).status_code == 403


def test_the_export_guards_against_formula_injection(app, scene):
    s = scene.session
    services.register(s.id, person_input(7, first_names="=HYPERLINK(\"http://x\")", last_names="@SUM(A1)",
                                         phone="+56 9 8765 4321", preferred_channel="whatsapp"),
                      source=Source.STAFF, office=scene.world.host, staff_user=scene.world.host_staff)
    rows = read_csv(export(app, scene, "host").data)
    row = next(r for r in rows if r[2].endswith("SUM(A1)"))
    assert row[1] == "'=HYPERLINK(\"http://x\")"
    assert row[2] == "'@SUM(A1)"
    assert row[6] == "'+56987654321"


def test_each_export_is_audited_without_personal_data(app, scene):
    export(app, scene, "coordinator")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "registration.export"))
    assert event is not None
    assert event.user_id == scene.users["coordinator"].id and event.office_id == scene.coord_office.id
    assert "4 filas" in event.summary and "3 con identidad enmascarada" in event.summary
    assert "Rojas" not in event.summary and "example.cl" not in event.summary


def test_a_walk_in_who_leaves_only_a_phone_is_registered_and_told_by_whatsapp(app, scene):
    """No channel is preselected on the staff form: the channel follows from the contact given."""
    c = client_for(app, scene.users["convening"])
    url = f"{BASE}/sesion/{scene.session.id}/nueva"
    page = c.get(url).get_data(as_text=True)
    assert not re.search(r'<input checked[^>]*name="preferred_channel"', page)
    data = form_data(11, email="", phone="9 8765 4311", preferred_channel=None)
    resp = c.post(url, data={**data, "csrf_token": get_csrf(c, url)})
    assert resp.status_code == 302
    person = db.session.scalar(select(Person).where(Person.last_names == "Muñoz 11"))
    assert person.preferred_channel == Channel.WHATSAPP
