"""Attendance from a Zoom or Google Meet participants CSV: reading the file, matching people,
the preview and the confirmation."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.extensions import db
from app.registration import services
from app.registration.exports import (
    MAX_IMPORT_BYTES,
    MAX_IMPORT_ROWS,
    ImportFileError,
    match_participants,
    parse_participants,
)
from app.registration.models import Attendance, Registration, Source
from app.timeutil import utcnow
from tests.conftest import get_csrf, login, table_counts
from tests.registration.conftest import person_input

BASE = "/gestion/inscripciones"


@pytest.fixture(autouse=True)
def _quick_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at its lowest cost: these tests create and log in many staff accounts and are
    about registrations, not passwords."""
    from argon2 import PasswordHasher

    from app.accounts import services as account_services

    monkeypatch.setattr(account_services, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))

ZOOM = """Meeting ID,Topic,Start Time,End Time,User Email,Duration (Minutes),Participants
812 3456 7890,Taller de entrevista,12/07/2026 10:00:00 AM,12/07/2026 12:00:00 PM,omil@nunoa.cl,120,4

Name (Original Name),User Email,Join Time,Leave Time,Duration (Minutes),Guest
Hilda Host,hilda@nunoa.cl,12/07/2026 09:55:00 AM,12/07/2026 12:00:00 PM,125,No
Cami (Camila Rojas 1),CAMILA1@example.cl,12/07/2026 10:01:00 AM,12/07/2026 11:00:00 AM,59,Yes
Cami (Camila Rojas 1),camila1@example.cl,12/07/2026 11:05:00 AM,12/07/2026 12:00:00 PM,55,Yes
josé PEREZ,,12/07/2026 10:03:00 AM,12/07/2026 12:00:00 PM,117,Yes
Alguien Sin Inscripción,alguien@gmail.com,12/07/2026 10:10:00 AM,12/07/2026 10:20:00 AM,10,Yes
"""

MEET = """First Name,Last Name,Email,Duration,Time Joined,Time Exited
Camila,Rojas 1,camila1@example.cl,1 hr 50 min,10:02,11:52
José,Pérez Soto,,45 min,10:05,10:50
Persona,Desconocida,desconocida@example.cl,5 min,10:30,10:35
"""


@pytest.fixture
def session_with_people(world: Any, published_session: Any) -> Any:
    s = published_session(capacity=10)
    regs = {
        "camila": services.register(s.id, person_input(1)).registration,
        "jose": services.register(s.id, person_input(2, first_names="José Luis", last_names="Pérez Soto",
                                                     email="jl@example.cl")).registration,
        "ana": services.register(s.id, person_input(3, first_names="Ana", last_names="Tapia"),
                                 source=Source.STAFF, office=world.convening,
                                 staff_user=world.convening_staff).registration,
    }
    return s, regs


# --- reading the file ------------------------------------------------------------------------------


def test_a_zoom_export_is_recognised_past_its_meeting_summary_and_rejoins_are_added():
    parsed = parse_participants(ZOOM.encode())
    assert parsed.format == "zoom" and parsed.delimiter == ","
    camila = next(p for p in parsed.participants if p.email == "camila1@example.cl")
    assert camila.name == "Cami" and camila.original_name == "Camila Rojas 1"
    assert camila.rows == 2 and camila.minutes == 114
    assert len(parsed.participants) == 4


def test_a_meet_export_is_recognised_and_its_durations_read():
    parsed = parse_participants(MEET.encode())
    assert parsed.format == "meet"
    assert parsed.participants[0].name == "Camila Rojas 1" and parsed.participants[0].minutes == 110
    assert parsed.participants[1].minutes == 45


def test_a_latin1_file_with_semicolons_and_a_bom_less_header_is_read():
    text = "Nombre;Apellido;Correo electrónico;Duración\r\nJosé;Pérez Soto;;50 min\r\nÑandú;Muñoz;n@x.cl;3 min\r\n"
    parsed = parse_participants(text.encode("latin-1"))
    assert parsed.encoding == "Windows-1252" and parsed.delimiter == ";"
    assert [p.name for p in parsed.participants] == ["José Pérez Soto", "Ñandú Muñoz"]


def test_a_utf8_file_with_bom_and_spanish_zoom_headers_is_read():
    text = "Nombre (nombre original);Correo electrónico del usuario;Duración (minutos)\nAna Tapia;;60\n"
    parsed = parse_participants(("\ufeff" + text).encode("utf-8"))
    assert parsed.format == "zoom" and parsed.participants[0].name == "Ana Tapia"


def test_missing_columns_are_named_in_spanish():
    with pytest.raises(ImportFileError) as err:
        parse_participants(b"Name (Original Name),Join Time,Leave Time,Duration (Minutes)\nAna,10:00,11:00,60\n")
    assert "le faltan columnas" in err.value.message and "User Email" in err.value.message


def test_a_file_that_is_not_a_participants_list_is_refused_clearly():
    with pytest.raises(ImportFileError) as err:
        parse_participants(b"Producto;Precio\nPan;1000\n")
    assert "No reconocemos este archivo" in err.value.message


def test_a_binary_or_wrongly_encoded_file_is_refused_clearly():
    with pytest.raises(ImportFileError) as err:
        parse_participants(b"\x00\x01\x02Name,Email\x00\n")
    assert "No pudimos leer el texto" in err.value.message
    with pytest.raises(ImportFileError) as err:
        parse_participants(b"PK\x03\x04" + b"\x00" * 20)
    assert "Excel" in err.value.message


def test_an_oversized_file_and_too_many_rows_are_refused():
    with pytest.raises(ImportFileError) as err:
        parse_participants(b"x" * (MAX_IMPORT_BYTES + 1))
    assert err.value.status == 413
    rows = "".join(f"P{i},p{i}@x.cl\n" for i in range(MAX_IMPORT_ROWS + 1))
    with pytest.raises(ImportFileError) as err:
        parse_participants(("Name (Original Name),User Email\n" + rows).encode())
    assert "filas" in err.value.message


# --- matching ------------------------------------------------------------------------------------


def test_participants_match_by_email_then_by_name_ignoring_case_and_accents(session_with_people):
    _s, regs = session_with_people
    report = match_participants(parse_participants(ZOOM.encode()).participants, list(regs.values()))
    assert {m.reg.id for m in report.by_email} == {regs["camila"].id}
    # "josé PEREZ" fits "José Luis Pérez Soto" and nobody else
    assert {m.reg.id for m in report.by_name} == {regs["jose"].id}
    assert sorted(u.participant.name for u in report.unmatched) == ["Alguien Sin Inscripción", "Hilda Host"]
    assert [r.id for r in report.missing] == [regs["ana"].id]


def test_a_registrant_found_by_email_and_by_name_is_listed_once(session_with_people):
    _s, regs = session_with_people
    content = b"Name (Original Name),User Email\nCami,camila1@example.cl\nCamila Rojas 1,\n"
    report = match_participants(parse_participants(content).participants, list(regs.values()))
    assert [(m.reg.id, m.by, len(m.participants)) for m in report.matches] == [(regs["camila"].id, "email", 2)]
    assert report.registration_ids == [regs["camila"].id]


def test_a_name_that_fits_several_registrants_is_not_guessed(session_with_people, world):
    s, regs = session_with_people
    twin = services.register(s.id, person_input(9, first_names="José Luis", last_names="Pérez Soto",
                                                 email="otro@example.cl")).registration
    parsed = parse_participants(b"Name (Original Name),User Email\nJose Perez,\n")
    report = match_participants(parsed.participants, [*regs.values(), twin])
    assert not report.matches
    assert report.unmatched[0].candidates == 2


# --- the page ------------------------------------------------------------------------------------


def upload(client: Any, session_id: int, content: bytes, name: str = "participantes.csv") -> Any:
    url = f"{BASE}/sesion/{session_id}/asistencia"
    return client.post(url, data={"csrf_token": get_csrf(client, url), "file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data")


def plan_of(html: str) -> str:
    found = re.search(r'name="plan"[^>]*value="([^"]+)"', html)
    assert found is not None, "no confirmation form in the preview"
    return found.group(1)


def started(session: Any) -> None:
    session.starts_at = utcnow() - timedelta(minutes=90)
    session.ends_at = utcnow() - timedelta(minutes=10)
    db.session.commit()


def test_the_preview_reports_matches_and_writes_nothing(client, world, session_with_people):
    s, regs = session_with_people
    login(client, world.host_staff.email)
    before = table_counts()
    resp = upload(client, s.id, ZOOM.encode())
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "1 coincide por correo" in html and "1 coincide por nombre" in html
    assert "2 participantes sin coincidencia" in html and "Alguien Sin Inscripción" in html
    assert "1 persona inscrita no aparece en el archivo" in html and "Ana Tapia" in html
    assert table_counts() == before
    assert all(r.attendance is None for r in db.session.scalars(select(Registration)))


def test_confirming_marks_the_chosen_matches_present_in_one_go(client, world, session_with_people):
    s, regs = session_with_people
    started(s)
    login(client, world.host_staff.email)
    html = upload(client, s.id, MEET.encode()).get_data(as_text=True)
    token = plan_of(html)
    url = f"{BASE}/sesion/{s.id}/asistencia"
    # The staff member unticks José (matched by name) and tries to add Ana, who was not in the file.
    resp = client.post(url, data={"csrf_token": get_csrf(client, url), "plan": token,
                                  "reg": [str(regs["camila"].id), str(regs["ana"].id)]})
    assert resp.status_code == 302
    db.session.expire_all()
    got = {r.id: r.attendance for r in db.session.scalars(select(Registration))}
    assert got == {regs["camila"].id: Attendance.PRESENT, regs["jose"].id: None, regs["ana"].id: None}
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "registration.attendance_import"))
    assert event is not None and "1 presentes" in event.summary and "Rojas" not in event.summary


def test_a_tampered_plan_is_refused(client, world, session_with_people):
    s, _regs = session_with_people
    started(s)
    login(client, world.host_staff.email)
    url = f"{BASE}/sesion/{s.id}/asistencia"
    resp = client.post(url, data={"csrf_token": get_csrf(client, url), "plan": "falso.abc", "reg": ["1"]})
    assert resp.status_code == 400
    assert "Suba el archivo otra vez" in resp.get_data(as_text=True)
    assert all(r.attendance is None for r in db.session.scalars(select(Registration)))


def test_a_latin1_upload_matches_by_accentless_name(client, world, session_with_people):
    s, regs = session_with_people
    login(client, world.host_staff.email)
    content = "Nombre;Apellido;Correo electrónico\r\nANA;TAPIA;\r\n".encode("cp1252")
    html = upload(client, s.id, content).get_data(as_text=True)
    assert "1 coincide por nombre" in html and f'value="{regs["ana"].id}"' in html


@pytest.mark.parametrize("content, status, message", [
    (b"Name (Original Name),Join Time\nAna,10:00\n", 400, "le faltan columnas"),
    (b"a" * (MAX_IMPORT_BYTES + 1), 413, "pesa más de 2 MB"),
    (b"\x00\x00garbage", 400, "No pudimos leer el texto"),
])
def test_a_bad_upload_is_explained_next_to_the_field_and_nothing_is_written(client, world, session_with_people,
                                                                           content, status, message):
    s, _regs = session_with_people
    login(client, world.host_staff.email)
    before = table_counts()
    resp = upload(client, s.id, content)
    assert resp.status_code == status
    html = resp.get_data(as_text=True)
    assert message in html and 'id="file-error"' in html and 'class="error-summary"' in html
    assert table_counts() == before


def test_confirming_before_the_day_of_the_session_is_refused(client, world, session_with_people):
    s, regs = session_with_people
    login(client, world.host_staff.email)
    html = upload(client, s.id, MEET.encode()).get_data(as_text=True)
    assert "Marcar presentes a las personas seleccionadas" not in html
    url = f"{BASE}/sesion/{s.id}/asistencia"
    resp = client.post(url, data={"csrf_token": get_csrf(client, url), "plan": plan_of(html),
                                  "reg": [str(regs["camila"].id)]})
    assert resp.status_code == 409
    assert db.session.get(Registration, regs["camila"].id).attendance is None
