"""The certificate of attendance: who may have one, what it says, the PDF, and its verification.

- For attendees (``survey.attended``) of a session that took place and has ended; before the
  end it is not available yet (409), to anyone else it is refused (403).
- It names the person (full name and identity document, a RUT as 12.345.678-5), the
  activity's title and what its domain adds (a workshop's topic, through
  ``register_subject_lines``), every session of that activity the person attended so far with
  its date and time in the session's zone, the total duration, and the host office and comuna.
- A verification code: an HMAC of the registration id under SECRET_KEY, 10 characters of
  Crockford's base 32 (no I, L, O or U, so it reads aloud and types well). The first
  download records it (``AttendanceCertificate``); from then on that stored code is the
  certificate's, and ``/certificados/<code>`` finds it with one indexed query and confirms
  it (activity, dates, host office, the person's initials: never the RUT). A certificate
  stops verifying if staff later correct the attendance, or the person asks to be deleted.
- The PDF is drawn with reportlab's built-in Helvetica (WinAnsi covers Spanish: Ñuñoa,
  Peñalolén); a character outside it is written without its accent, or as "?".
"""

from __future__ import annotations

import hashlib
import hmac
import io
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app
from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from stdnum.cl import rut

from app.activities.models import Activity, ActivityKind, ActivitySession
from app.calendar import is_cancelled
from app.extensions import db
from app.i18n import format_day, zone_name
from app.people.models import DocumentType, Person
from app.registration.models import AttendanceCertificate, Registration
from app.registration.survey import attended, attended_clause, held_clause
from app.timeutil import utcnow
from app.urls import external_url

CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base 32
CODE_LENGTH = 10  # 50 bits


class CertificateError(ValueError):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


# --- what a domain adds ------------------------------------------------------------------------

SubjectLines = Callable[[Activity], Sequence[str]]
_SUBJECTS: dict[ActivityKind, SubjectLines] = {}


def register_subject_lines(kind: ActivityKind, lines: SubjectLines) -> None:
    """Called by a domain package when it is imported (a workshop: "Tema: …"); again replaces."""
    _SUBJECTS[kind] = lines


def subject_lines(activity: Activity) -> list[str]:
    hook = _SUBJECTS.get(activity.kind)
    return [line for line in (hook(activity) if hook else ()) if line.strip()]


# --- the code --------------------------------------------------------------------------------


def certificate_code(reg_id: int) -> str:
    digest = hmac.new(current_app.config["SECRET_KEY"].encode(), f"attendance-certificate:{reg_id}".encode(),
                      hashlib.sha256).digest()
    number = int.from_bytes(digest[:8], "big") >> (64 - 5 * CODE_LENGTH)
    return "".join(CODE_ALPHABET[(number >> (5 * i)) & 31] for i in reversed(range(CODE_LENGTH)))


def display_code(code: str) -> str:
    """'K7QF2-MZPXA': easier to read aloud and to copy."""
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


def normalise_code(text: str) -> str | None:
    """What a person typed, as a code: case, spaces and dashes ignored, O read as 0 and I, L
    as 1. None when it cannot be a code."""
    cleaned = "".join(text.split()).replace("-", "").upper().translate(str.maketrans("OIL", "011"))
    if len(cleaned) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in cleaned):
        return None
    return cleaned


# --- who may have one --------------------------------------------------------------------------


def check_can_download(reg: Registration, now: datetime | None = None) -> None:
    """Raise ``CertificateError``: 409 if the session was cancelled or has not ended, 403 if
    the person did not attend."""
    now = now or utcnow()
    session = reg.session
    if is_cancelled(session):
        raise CertificateError(_("Esta sesión fue cancelada: no hay certificado de asistencia."), 409)
    if now < session.ends_at:
        raise CertificateError(_("El certificado estará disponible cuando termine la sesión, el %(day)s a las "
                                 "%(time)s.", day=format_day(session.local_end),
                                 time=session.local_end.strftime("%H:%M")), 409)
    if not attended(reg):
        raise CertificateError(_("El certificado de asistencia es para las personas que participaron en la "
                                 "sesión, y no tenemos registrada su asistencia. Si usted participó, pida a "
                                 "%(office)s que la registre.", office=session.activity.host_office.name), 403)


def is_available(reg: Registration, now: datetime | None = None) -> bool:
    try:
        check_can_download(reg, now)
    except CertificateError:
        return False
    return True


def issue(reg: Registration) -> AttendanceCertificate:
    """The registration's certificate record, made on the first download (one transaction)."""
    check_can_download(reg)
    for _attempt in range(3):
        cert = db.session.scalar(select(AttendanceCertificate)
                                 .where(AttendanceCertificate.registration_id == reg.id))
        if cert is not None:
            return cert
        cert = AttendanceCertificate(registration_id=reg.id, code=certificate_code(reg.id))
        db.session.add(cert)
        try:
            db.session.commit()
        except IntegrityError:  # two downloads at once: the other one made it
            db.session.rollback()
            continue
        return cert
    raise CertificateError(_("No pudimos preparar su certificado. Intente de nuevo en unos segundos."), 503)


# --- what it says ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Meeting:
    start: datetime  # local, in the session's zone
    end: datetime
    timezone: str


@dataclass(frozen=True)
class CertificateContent:
    full_name: str
    document: str
    kind: ActivityKind
    title: str
    subject_lines: list[str]
    meetings: list[Meeting]
    minutes: int
    office_name: str
    comuna_name: str
    region_name: str
    code: str
    verify_url: str
    issued_on: date


def attended_sessions(reg: Registration, now: datetime | None = None) -> list[ActivitySession]:
    """The sessions of this registration's activity the person attended, ended, in order."""
    now = now or utcnow()
    return list(db.session.scalars(
        select(ActivitySession).join(Registration, Registration.session_id == ActivitySession.id)
        .join(Activity, ActivitySession.activity_id == Activity.id)
        .where(Registration.person_id == reg.person_id, ActivitySession.activity_id == reg.session.activity_id,
               attended_clause(), held_clause(), ActivitySession.ends_at <= now)
        .order_by(ActivitySession.starts_at, ActivitySession.id)))


def document_label(person: Person) -> str:
    if person.document_type == DocumentType.RUT:
        return _("RUT %(rut)s", rut=rut.format(person.document_number))
    if person.document_type == DocumentType.PASSPORT:
        return _("Pasaporte N.º %(n)s", n=person.document_number)
    return _("Documento de identidad extranjero N.º %(n)s", n=person.document_number)


def duration_text(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    h = ngettext("%(num)s hora", "%(num)s horas", hours) if hours else ""
    m = ngettext("%(num)s minuto", "%(num)s minutos", rest) if rest else ""
    if h and m:
        return _("%(hours)s y %(minutes)s", hours=h, minutes=m)
    return h or m or ngettext("%(num)s minuto", "%(num)s minutos", 0)


def content(reg: Registration, cert: AttendanceCertificate) -> CertificateContent:
    sessions = attended_sessions(reg) or [reg.session]
    activity = reg.session.activity
    office = activity.host_office
    meetings = [Meeting(s.local_start, s.local_end, s.timezone) for s in sessions]
    minutes = sum(int((s.ends_at - s.starts_at).total_seconds() // 60) for s in sessions)
    return CertificateContent(
        full_name=reg.person.full_name, document=document_label(reg.person), kind=activity.kind,
        title=activity.title, subject_lines=subject_lines(activity), meetings=meetings, minutes=minutes,
        office_name=office.name, comuna_name=office.comuna.name, region_name=office.comuna.region.name,
        code=cert.code, verify_url=external_url("registration_after.verify", code=cert.code),
        issued_on=utcnow().astimezone(sessions[-1].local_end.tzinfo).date())


def filename(reg: Registration) -> str:
    return f"certificado-asistencia-{reg.session.local_start:%Y-%m-%d}.pdf"


# --- the PDF -------------------------------------------------------------------------------


def pdf_text(text: str) -> str:
    """Text Helvetica can show (Windows-1252): other letters lose their accent, or become "?"."""
    out = []
    for ch in text:
        try:
            ch.encode("cp1252")
        except UnicodeEncodeError:
            base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
            try:
                base.encode("cp1252")
            except UnicodeEncodeError:
                base = "?"
            out.append(base or "?")
        else:
            out.append(ch)
    return "".join(out)


def meeting_line(m: Meeting) -> str:
    return _("%(day)s, de %(start)s a %(end)s", day=format_day(m.start), start=m.start.strftime("%H:%M"),
             end=m.end.strftime("%H:%M"))


def render_pdf(c: CertificateContent) -> bytes:
    """One A4 page, a few kilobytes."""
    from reportlab.lib.colors import HexColor
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import simpleSplit
    from reportlab.pdfgen.canvas import Canvas

    brand, muted = HexColor("#0b5394"), HexColor("#555555")
    width, height = A4
    margin = 56.0
    text_width = width - 2 * margin
    buf = io.BytesIO()
    canvas = Canvas(buf, pagesize=A4, pageCompression=1)
    canvas.setTitle(pdf_text(_("Certificado de asistencia: %(title)s", title=c.title)))
    canvas.setAuthor(pdf_text(c.office_name))
    canvas.setSubject(pdf_text(_("Certificado de asistencia")))
    canvas.setCreator("Puente Laboral")

    y = height - margin

    def centred(text: str, font: str, size: float, *, gap: float = 6, color: object = None) -> None:
        nonlocal y
        canvas.setFont(font, size)
        canvas.setFillColor(color or HexColor("#1b1b1b"))
        for line in simpleSplit(pdf_text(text), font, size, text_width):
            y -= size * 1.25
            canvas.drawCentredString(width / 2, y, line)
        y -= gap

    canvas.setFont("Helvetica", 10)
    canvas.setFillColor(muted)
    canvas.drawString(margin, y - 10, "Puente Laboral")
    canvas.drawRightString(width - margin, y - 10, pdf_text(c.office_name))
    y -= 22
    canvas.setStrokeColor(brand)
    canvas.setLineWidth(2)
    canvas.line(margin, y, width - margin, y)
    y -= 50

    centred(_("CERTIFICADO DE ASISTENCIA"), "Helvetica-Bold", 22, gap=28, color=brand)
    centred(_("%(office)s certifica que", office=c.office_name), "Helvetica", 12, gap=10)
    centred(c.full_name, "Helvetica-Bold", 20, gap=2)
    centred(c.document, "Helvetica", 12, gap=16)
    if c.kind == ActivityKind.WORKSHOP:
        lead = _("participó en el taller de apresto laboral")
    elif c.kind == ActivityKind.FAIR:
        lead = _("participó en la feria laboral")
    else:
        lead = _("participó en la actividad")
    centred(lead, "Helvetica", 12, gap=6)
    centred(f"«{c.title}»", "Helvetica-Bold", 15, gap=6)
    for line in c.subject_lines:
        centred(line, "Helvetica", 11, gap=2)
    y -= 14

    label = ngettext("Sesión a la que asistió:", "Sesiones a las que asistió:", len(c.meetings))
    centred(label, "Helvetica-Bold", 11, gap=2)
    for m in c.meetings[:12]:
        centred(meeting_line(m), "Helvetica", 11, gap=1)
    if len(c.meetings) > 12:
        centred(_("y %(n)s sesiones más", n=len(c.meetings) - 12), "Helvetica", 11, gap=1)
    zones = sorted({zone_name(m.timezone) for m in c.meetings})
    centred(_("Horas indicadas en %(zone)s. Duración total: %(duration)s.", zone=", ".join(zones),
              duration=duration_text(c.minutes)), "Helvetica", 11, gap=14)
    centred(_("Organizó: %(office)s, comuna de %(comuna)s, %(region)s.", office=c.office_name,
              comuna=c.comuna_name, region=c.region_name), "Helvetica", 11, gap=6)

    # The verification block sits at the foot of the page.
    y = margin + 96
    canvas.setStrokeColor(HexColor("#cccccc"))
    canvas.setLineWidth(0.75)
    canvas.line(margin, y + 12, width - margin, y + 12)
    centred(_("Emitido el %(day)s por Puente Laboral.", day=format_date(c.issued_on, "long")), "Helvetica", 10,
            gap=4, color=muted)
    centred(_("Código de verificación: %(code)s", code=display_code(c.code)), "Helvetica-Bold", 12, gap=2)
    centred(_("Compruebe que este certificado es válido en %(url)s", url=c.verify_url), "Helvetica", 9, gap=6,
            color=muted)
    centred(_("Este documento certifica la asistencia a una actividad; no acredita competencias laborales."),
            "Helvetica", 8, gap=0, color=muted)
    canvas.showPage()
    canvas.save()
    return buf.getvalue()


# --- verification --------------------------------------------------------------------------


@dataclass(frozen=True)
class Verified:
    code: str
    initials: str
    kind: ActivityKind
    title: str
    meetings: list[Meeting]
    office_name: str
    issued_at: datetime


def initials(person: Person) -> str:
    """'C. A. R. P.' for Camila Andrea Rojas Pérez."""
    words = f"{person.first_names} {person.last_names}".split()
    return " ".join(f"{w[0].upper()}." for w in words if w[:1].isalpha())


def verify(text: str) -> Verified | None:
    """The certificate a code belongs to, if it is still valid; None otherwise."""
    code = normalise_code(text)
    if code is None:
        return None
    cert = db.session.scalar(select(AttendanceCertificate).where(AttendanceCertificate.code == code))
    if cert is None:
        return None
    reg = db.session.get(Registration, cert.registration_id)
    if reg is None or reg.person.anonymised_at is not None or not is_available(reg):
        return None
    activity = reg.session.activity
    meetings = [Meeting(s.local_start, s.local_end, s.timezone) for s in attended_sessions(reg)]
    return Verified(code=code, initials=initials(reg.person), kind=activity.kind, title=activity.title,
                    meetings=meetings, office_name=activity.host_office.name, issued_at=cert.issued_at)
