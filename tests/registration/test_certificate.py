"""The certificate of attendance (PDF) and its public verification page."""

from __future__ import annotations

import base64
import re
import zlib
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from stdnum.cl import rut

from app.activities.models import Activity, ActivityKind, SessionStatus
from app.extensions import db
from app.registration import certificate, services
from app.registration.models import Attendance, AttendanceCertificate, Registration
from app.timeutil import utcnow
from tests.conftest import count
from tests.registration import test_survey as survey_tests
from tests.registration.conftest import make_rut
from tests.registration.test_survey import attend, end, register

H = timedelta(hours=1)

attendee = survey_tests.attendee  # the survey tests' fixture: someone who attended an ended session


@pytest.fixture(autouse=True)
def _topic_lines() -> Iterator[None]:
    """What the workshops package is to register (see the report): the topic line."""
    from workshops.models import Workshop

    def lines(activity: Activity) -> list[str]:
        w = db.session.get(Workshop, activity.id)
        return [f"Tema: {w.topic.name}"] if w is not None else []

    before = dict(certificate._SUBJECTS)
    certificate.register_subject_lines(ActivityKind.WORKSHOP, lines)
    yield
    certificate._SUBJECTS.clear()
    certificate._SUBJECTS.update(before)


def url(reg: Registration) -> str:
    return f"/inscripcion/{services.personal_token(reg)}/certificado.pdf"


_STREAM = re.compile(rb"stream\r?\n(.*?)endstream", re.S)
_STRING = re.compile(rb"\((?:\\.|[^\\)])*\)", re.S)
_ESCAPE = re.compile(rb"\\([0-7]{1,3}|.)", re.S)


def _unescape(literal: bytes) -> str:
    def one(m: re.Match[bytes]) -> bytes:
        c = m.group(1)
        if c[:1].isdigit():
            return bytes([int(c, 8)])
        return {b"n": b"\n", b"r": b"\r", b"t": b"\t"}.get(c, c)

    return _ESCAPE.sub(one, literal[1:-1]).decode("cp1252")


def pdf_text(data: bytes) -> str:
    """The strings drawn on the page(s), one per line: the content streams decoded (ASCII85 +
    Flate, as reportlab writes them) and their literal strings unescaped from Windows-1252."""
    out: list[str] = []
    for m in _STREAM.finditer(data):
        raw = m.group(1).strip()
        if raw.endswith(b"~>"):
            raw = zlib.decompress(base64.a85decode(raw[:-2]))
        if b"Tj" not in raw:
            continue
        out += [_unescape(s.group(0)) for s in _STRING.finditer(raw)]
    return "\n".join(out)


# --- the PDF -------------------------------------------------------------------------------


def test_an_attendee_downloads_an_a4_pdf_as_a_private_attachment(client, attendee):
    reg = attendee()
    resp = client.get(url(reg))
    assert resp.status_code == 200
    assert resp.content_type == "application/pdf"
    assert resp.headers["Content-Disposition"] == (
        f'attachment; filename="certificado-asistencia-{reg.session.local_start:%Y-%m-%d}.pdf"')
    assert resp.headers["Cache-Control"] == "private, no-store"
    assert "noindex" in resp.headers["X-Robots-Tag"]
    assert resp.data.startswith(b"%PDF")
    assert b"/MediaBox [ 0 0 595.2756 841.8898 ]" in resp.data  # A4


def test_the_certificate_names_the_person_the_workshop_the_date_and_the_office(client, attendee):
    reg = attendee(first_names="María José", last_names="Muñoz Peña")
    text = pdf_text(client.get(url(reg)).data)
    s = reg.session
    assert "CERTIFICADO DE ASISTENCIA" in text
    assert "María José Muñoz Peña" in text
    assert f"RUT {rut.format(make_rut(1))}" in text and re.search(r"RUT \d{2}\.\d{3}\.\d{3}-[\dK]", text)
    assert "«Cómo enfrentar una entrevista de trabajo»" in text and "Tema: Entrevista de trabajo" in text
    assert f"de {s.local_start:%H:%M} a {s.local_end:%H:%M}" in text and "hora de Chile continental" in text
    assert "Duración total: 2 horas" in text
    assert "OMIL Ñuñoa certifica que" in text and "comuna de Ñuñoa" in text
    cert = db.session.scalar(select(AttendanceCertificate))
    assert f"Código de verificación: {certificate.display_code(cert.code)}" in text
    assert f"http://localhost/certificados/{cert.code}" in text


def test_the_times_are_those_of_the_sessions_zone(client, world):
    from tests.workshops.conftest import local_in

    w = world.workshop(publish=True, start=local_in(10, 15), session={"tz": "Pacific/Easter"})
    s = w.activity.sessions[0]
    reg = attend(register(s))
    end(s)
    text = pdf_text(client.get(url(reg)).data)
    assert f"de {s.local_start:%H:%M} a {s.local_end:%H:%M}" in text and "hora de Isla de Pascua" in text


def test_every_session_of_the_workshop_the_person_attended_is_listed_with_the_total(client, world):
    w = world.workshop(publish=True, count=3)
    s1, s2, s3 = w.activity.sessions
    regs = [register(s) for s in (s1, s2, s3)]
    end(s1, ago=15 * 24 * H)
    end(s2, ago=8 * 24 * H, hours=1.5)
    end(s3, ago=24 * H)
    attend(regs[0])
    attend(regs[1], "joined")  # s3 not attended
    text = pdf_text(client.get(url(regs[1])).data)
    assert "Sesiones a las que asistió:" in text
    assert f"de {s1.local_start:%H:%M} a {s1.local_end:%H:%M}" in text
    assert f"de {s2.local_start:%H:%M} a {s2.local_end:%H:%M}" in text
    assert text.count(", de ") == 2 and "Duración total: 3 horas y 30 minutos" in text


def test_a_passport_is_shown_as_such(client, attendee):
    reg = attendee(document_type="passport", document_number="AB123456")
    assert "Pasaporte N.º AB123456" in pdf_text(client.get(url(reg)).data)


def test_letters_helvetica_lacks_lose_their_accent_instead_of_breaking(client, attendee):
    assert certificate.pdf_text("Ñuñoa Peñalolén «ü»") == "Ñuñoa Peñalolén «ü»"
    assert certificate.pdf_text("Ātene Nguyễn 李") == "Atene Nguyen ?"
    reg = attendee(first_names="Ātene")
    assert "Atene Rojas 1" in pdf_text(client.get(url(reg)).data)


# --- who may have one ------------------------------------------------------------------------


def test_someone_who_did_not_attend_gets_a_clear_refusal(client, attendee):
    reg = attendee(how="none")
    resp = client.get(url(reg))
    assert resp.status_code == 403 and resp.content_type.startswith("text/html")
    html = resp.get_data(as_text=True)
    assert "no tenemos registrada su asistencia" in html and "OMIL Ñuñoa" in html
    assert count(AttendanceCertificate) == 0


def test_someone_marked_absent_after_clicking_join_gets_none(client, attendee):
    reg = attendee(how="joined")
    reg.attendance = Attendance.ABSENT
    db.session.commit()
    assert client.get(url(reg)).status_code == 403


def test_before_the_session_ends_it_is_not_available_yet(client, published_session):
    s = published_session()
    reg = register(s)
    s.starts_at = utcnow() - H
    s.ends_at = utcnow() + H
    reg.joined_at = utcnow() - H
    db.session.commit()
    resp = client.get(url(reg))
    assert resp.status_code == 409
    assert "estará disponible cuando termine la sesión" in resp.get_data(as_text=True)


def test_a_cancelled_registration_or_session_has_no_certificate(client, attendee):
    reg = attendee()
    reg.status = services.RegistrationStatus.CANCELLED
    db.session.commit()
    assert client.get(url(reg)).status_code == 403
    other = attendee(2)
    other.session.status = SessionStatus.CANCELLED
    db.session.commit()
    assert client.get(url(other)).status_code == 409


def test_a_tampered_link_gets_no_certificate(client, attendee):
    reg = attendee()
    assert client.get(url(reg).replace("/inscripcion/", "/inscripcion/x")).status_code == 404


# --- the code and its verification ----------------------------------------------------------


def test_the_code_is_short_stable_and_recorded_once(client, attendee):
    reg = attendee()
    client.get(url(reg))
    client.get(url(reg))
    [cert] = db.session.scalars(select(AttendanceCertificate)).all()
    assert cert.registration_id == reg.id and cert.code == certificate.certificate_code(reg.id)
    assert len(cert.code) == 10 and set(cert.code) <= set(certificate.CODE_ALPHABET)
    assert certificate.certificate_code(reg.id + 1) != cert.code


def test_the_verification_page_confirms_workshop_date_and_initials_only(client, attendee):
    reg = attendee(first_names="María José", last_names="Muñoz Peña")
    client.get(url(reg))
    code = db.session.scalar(select(AttendanceCertificate.code))
    resp = client.get(f"/certificados/{code}")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "Certificado válido" in html and "M. J. M. P." in html
    assert "Cómo enfrentar una entrevista de trabajo" in html and "OMIL Ñuñoa" in html
    s = reg.session
    assert f"{s.local_start:%H:%M}–{s.local_end:%H:%M}" in html
    rut_body = make_rut(1).split("-")[0]
    assert "María" not in html and "Muñoz" not in html and rut_body not in html
    assert rut.format(make_rut(1)) not in html and "camila" not in html.lower()


def test_a_code_is_found_however_it_is_typed(client, attendee):
    reg = attendee()
    client.get(url(reg))
    code = db.session.scalar(select(AttendanceCertificate.code))
    typed = certificate.display_code(code).lower().replace("0", "o").replace("1", "l")
    assert client.get(f"/certificados/{typed}").status_code == 200
    resp = client.get("/certificados/", query_string={"codigo": f" {certificate.display_code(code)} "})
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"/certificados/{code}")


def test_an_unknown_or_malformed_code_is_not_found(client, attendee):
    reg = attendee()
    client.get(url(reg))
    for bad in ("0000000000", "ABC", "K7QF2-MZPXU", "%27%20OR%201=1"):
        resp = client.get(f"/certificados/{bad}")
        assert resp.status_code == 404, bad
        assert "No hay un certificado válido con ese código" in resp.get_data(as_text=True)
    resp = client.get("/certificados/", query_string={"codigo": "nada"})
    assert resp.status_code == 400 and "no tiene el formato de un certificado" in resp.get_data(as_text=True)
    assert client.get("/certificados/").status_code == 200


def test_a_code_never_downloaded_does_not_verify(client, attendee):
    reg = attendee()
    assert client.get(f"/certificados/{certificate.certificate_code(reg.id)}").status_code == 404


def test_a_certificate_stops_verifying_when_attendance_is_corrected_or_data_erased(client, attendee):
    reg, other = attendee(1), attendee(2)
    for r in (reg, other):
        client.get(url(r))
    codes = {c.registration_id: c.code for c in db.session.scalars(select(AttendanceCertificate))}
    reg.attendance = Attendance.ABSENT
    db.session.commit()
    assert client.get(f"/certificados/{codes[reg.id]}").status_code == 404
    services.erase_personal_data(other)
    assert client.get(f"/certificados/{codes[other.id]}").status_code == 404
