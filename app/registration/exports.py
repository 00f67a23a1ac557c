"""Registrant lists in and out: what each viewer may see of a row, the CSV export, and the
participants CSV that Zoom or Google Meet export, matched against a session's registrants.

Export (documented in docs/registration-csv.md): UTF-8 with a byte-order mark, so Excel shows
accents; ``;`` between cells, because Excel set to Spanish (Chile) uses the comma as the decimal
mark and expects ``;`` as the list separator; CRLF line ends; every cell that starts with
``= + - @`` (or a tab or carriage return) is prefixed with an apostrophe so a spreadsheet never
runs it as a formula. RUT and contact are masked on the rows the viewer may not identify
(``RegistrantAccess.sees_personal``).

Import: the file is read in memory (never stored), its encoding (UTF-8 with or without BOM,
UTF-16 with BOM, else Windows-1252) and separator (``,`` ``;`` or tab) are detected, and the
format is recognised by its header row. Participants are matched by email first, then by
name (case, accents and punctuation ignored; "Camila Rojas" matches "Camila Andrea Rojas
Pérez" when no other registrant fits). Nothing here writes to the database.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import gettext as _

from app.accounts.policy import RegistrantAccess
from app.people.models import DocumentType, Person
from app.registration.models import Attendance, Registration, RegistrationStatus, Source

MAX_IMPORT_BYTES = 2 * 1024 * 1024
MAX_IMPORT_ROWS = 5000
_HEADER_SCAN_ROWS = 30


# --- what a viewer sees of a row -----------------------------------------------------------------


def mask_document(person: Person) -> str:
    """'12345678-5' -> '12.***.***-5'; a passport 'AB1234567' -> 'AB*****67'."""
    number = person.document_number or ""
    if person.document_type == DocumentType.RUT and "-" in number:
        body, dv = number.rsplit("-", 1)
        head = body[: max(len(body) - 6, 1)]
        return f"{head}.***.***-{dv}"
    if len(number) <= 4:
        return "*" * len(number)
    return f"{number[:2]}{'*' * (len(number) - 4)}{number[-2:]}"


def format_rut(number: str) -> str:
    """'12345678-5' -> '12.345.678-5', as a RUT is read aloud and written in Chile."""
    if "-" not in number:
        return number
    body, dv = number.rsplit("-", 1)
    groups = []
    while body:
        groups.insert(0, body[-3:])
        body = body[:-3]
    return ".".join(groups) + "-" + dv


def mask_email(email: str | None) -> str:
    if not email:
        return ""
    local, _sep, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def mask_phone(phone: str | None) -> str:
    if not phone:
        return ""
    return f"{phone[:4]}*****{phone[-2:]}"


def status_labels() -> dict[RegistrationStatus, str]:
    return {RegistrationStatus.CONFIRMED: _("Confirmada"), RegistrationStatus.WAITLISTED: _("Lista de espera"),
            RegistrationStatus.CANCELLED: _("Cancelada")}


def source_labels() -> dict[Source, str]:
    return {Source.PUBLIC: _("Formulario público"), Source.STAFF: _("Equipo de la oficina"), Source.API: _("API")}


def attendance_labels() -> dict[Attendance, str]:
    return {Attendance.PRESENT: _("Presente"), Attendance.ABSENT: _("Ausente")}


def document_labels() -> dict[DocumentType, str]:
    return {DocumentType.RUT: _("RUT"), DocumentType.PASSPORT: _("Pasaporte"),
            DocumentType.FOREIGN_ID: _("Documento extranjero")}


def channel_labels() -> dict[str, str]:
    return {"email": _("Correo"), "whatsapp": _("WhatsApp"), "sms": _("SMS"), "phone_call": _("Llamada")}


def connectivity_labels() -> dict[str, str]:
    return {"good": _("Buena"), "mobile_only": _("Solo datos móviles"), "none": _("Sin conexión")}


@dataclass
class RegistrantRow:
    """One registration as a given viewer may see it (masked where they may not identify)."""

    reg: Registration
    full: bool  # the viewer sees identity and contact unmasked
    position: int | None

    @property
    def person(self) -> Person:
        return self.reg.person

    @property
    def anonymised(self) -> bool:
        return self.person.anonymised_at is not None

    @property
    def document(self) -> str:
        if self.full and not self.anonymised:
            p = self.person
            return format_rut(p.document_number) if p.document_type == DocumentType.RUT else p.document_number
        return mask_document(self.person)

    @property
    def email(self) -> str:
        return (self.person.email or "") if self.full else mask_email(self.person.email)

    @property
    def phone(self) -> str:
        return (self.person.phone or "") if self.full else mask_phone(self.person.phone)

    @property
    def office_name(self) -> str:
        return self.reg.office.name if self.reg.office is not None else ""


def registrant_rows(regs: Iterable[Registration], access: RegistrantAccess,
                    positions: dict[int, int]) -> list[RegistrantRow]:
    return [RegistrantRow(reg, access.sees_personal(reg), positions.get(reg.id)) for reg in regs
            if access.sees_row(reg)]


# --- CSV export ----------------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """Text for a CSV cell that no spreadsheet runs as a formula (OWASP: CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def export_columns() -> list[str]:
    """The exported columns, in order (see docs/registration-csv.md)."""
    return [_("ID inscripción"), _("Nombres"), _("Apellidos"), _("Tipo de documento"), _("Documento"),
            _("Correo"), _("Celular"), _("Canal preferido"), _("Comuna"), _("Estado"),
            _("Lugar en lista de espera"), _("Origen"), _("Oficina que inscribió"), _("Fecha de inscripción"),
            _("Ingresó a la sesión"), _("Asistencia"), _("Subtítulos"), _("Lengua de señas"),
            _("Lector de pantalla"), _("Otra necesidad de accesibilidad"), _("Conexión"), _("Rural"),
            _("Datos completos")]


def _local(value: datetime | None, tz: str) -> str:
    return value.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M") if value is not None else ""


def _yes(value: bool) -> str:
    return _("Sí") if value else _("No")


def export_csv(rows: Sequence[RegistrantRow], tz: str) -> bytes:
    """The registrants as a CSV for Excel in es-CL: UTF-8 with BOM, ``;``, CRLF."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow([safe_cell(c) for c in export_columns()])
    statuses, sources, attendance = status_labels(), source_labels(), attendance_labels()
    documents, channels, connectivity = document_labels(), channel_labels(), connectivity_labels()
    for row in rows:
        reg, p = row.reg, row.person
        # Accessibility and connectivity describe the person: only on rows the viewer may identify.
        profile = row.full and not row.anonymised
        writer.writerow([safe_cell(v) for v in (
            reg.id, p.first_names, p.last_names, documents.get(p.document_type, ""), row.document, row.email,
            row.phone, channels.get(p.preferred_channel.value, ""), p.comuna.name if p.comuna else "",
            statuses[reg.status], row.position or "", sources[reg.source], row.office_name,
            _local(reg.created_at, tz), _local(reg.joined_at, tz),
            attendance[reg.attendance] if reg.attendance else "",
            _yes(p.needs_subtitles) if profile else "", _yes(p.needs_sign_language) if profile else "",
            _yes(p.uses_screen_reader) if profile else "", p.accessibility_other if profile else "",
            connectivity.get(p.connectivity.value, "") if profile else "", _yes(p.rural) if profile else "",
            _yes(row.full))])
    return out.getvalue().encode("utf-8-sig")


# --- participants import -------------------------------------------------------------------------


class ImportFileError(ValueError):
    """A participants file we cannot use; ``message`` is in Spanish for the user."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def normalise_text(value: str) -> str:
    """Lower case, no accents, punctuation as spaces: 'José  Pérez-Soto' -> 'jose perez soto'."""
    decomposed = unicodedata.normalize("NFKD", value or "")
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w@.]+|_", " ", plain.casefold()).split())


def _header_key(value: str) -> str:
    text = (value or "").replace("\ufeff", "").strip().strip('"').strip()
    decomposed = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).casefold().split())


# Canonical column -> header texts (normalised with _header_key) in English and Spanish exports.
_ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("name (original name)", "nombre (nombre original)", "name", "full name", "nombre completo",
             "participant", "participante", "participant name", "nombre del participante", "display name"),
    "first": ("first name", "nombre", "nombres", "given name"),
    "last": ("last name", "apellido", "apellidos", "family name", "surname"),
    "email": ("user email", "email", "e-mail", "email address", "correo", "correo electronico",
              "correo electronico del usuario", "direccion de correo electronico", "correo del usuario"),
    "join": ("join time", "time joined", "hora de ingreso", "hora de union", "hora de entrada",
             "hora en que se unio", "first seen", "joined"),
    "leave": ("leave time", "time exited", "time left", "hora de salida", "hora en que salio", "last seen"),
    "duration": ("duration (minutes)", "duracion (minutos)", "total duration (minutes)", "duration",
                 "duracion", "attended duration", "duracion de la asistencia"),
    "guest": ("guest", "invitado"),
}
_ZOOM_MARKERS = {"name (original name)", "nombre (nombre original)", "user email", "correo electronico del usuario",
                 "duration (minutes)", "duracion (minutos)", "guest", "invitado", "join time", "leave time",
                 "hora de ingreso"}
_MEET_MARKERS = {"first name", "last name", "full name", "time joined", "time exited", "nombre completo",
                 "apellido", "apellidos", "hora de union", "hora en que se unio", "attended duration",
                 "duracion de la asistencia"}
_FORMAT_NAMES = {"zoom": "Zoom", "meet": "Google Meet"}


@dataclass
class Participant:
    """One person in the file (rows of the same email or name are added together)."""

    name: str
    original_name: str = ""
    email: str = ""
    minutes: float | None = None
    rows: int = 1

    @property
    def names(self) -> list[str]:
        return [n for n in (self.name, self.original_name) if n]


@dataclass
class ParticipantsFile:
    format: str  # "zoom" or "meet"
    encoding: str
    delimiter: str
    participants: list[Participant]

    @property
    def format_name(self) -> str:
        return _FORMAT_NAMES[self.format]


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith(b"PK\x03\x04"):
        raise ImportFileError(_("El archivo parece una planilla de Excel (.xlsx). Ábrala y guárdela como "
                                "«CSV (delimitado por comas)» o descargue de nuevo el informe en formato CSV."))
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError as exc:
            raise _encoding_error() from exc
    if b"\x00" in data:
        raise _encoding_error()
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8):].decode("utf-8"), "UTF-8"
        except UnicodeDecodeError as exc:
            raise _encoding_error() from exc
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise _encoding_error() from exc
    if any(unicodedata.category(c) == "Cc" and c not in "\r\n\t" for c in text):
        raise _encoding_error()
    return text, "Windows-1252"


def decode_csv(data: bytes) -> tuple[str, str]:
    """(text, encoding name) of an uploaded CSV: UTF-8 (BOM or not), UTF-16 with BOM, or
    Windows-1252 as Excel writes it; ``ImportFileError`` with a Spanish reason otherwise."""
    return _decode(data)


def _encoding_error() -> ImportFileError:
    return ImportFileError(_("No pudimos leer el texto del archivo: no está en UTF-8 ni en Windows-1252 "
                             "(Latin-1), o no es un archivo de texto. Descargue de nuevo la lista de participantes "
                             "en formato CSV."))


def _columns(header: list[str]) -> dict[str, int]:
    keys = [_header_key(h) for h in header]
    found: dict[str, int] = {}
    for canonical, aliases in _ALIASES.items():
        for alias in aliases:  # the first alias listed wins, so "name (original name)" beats "name"
            if alias in keys:
                found[canonical] = keys.index(alias)
                break
    if "first" in found and "last" not in found and "name" not in found:
        found["name"] = found.pop("first")  # a lone "Nombre" is the whole name
    return found


def _format_of(header: list[str]) -> str | None:
    keys = {_header_key(h) for h in header}
    if keys & _ZOOM_MARKERS and not {"first name", "last name"} <= keys:
        return "zoom"
    if keys & _MEET_MARKERS:
        return "meet"
    return None


def _find_header(rows: list[list[str]]) -> tuple[int, str, dict[str, int]] | None:
    """The first row that names a person column and a Zoom or Meet column; skips Zoom's
    meeting summary that comes before the participants in its detailed export."""
    for i, row in enumerate(rows[:_HEADER_SCAN_ROWS]):
        fmt = _format_of(row)
        if fmt is None:
            continue
        cols = _columns(row)
        if "name" in cols or "first" in cols or "last" in cols:
            return i, fmt, cols
    return None


def _first_header_like(rows: list[list[str]]) -> tuple[str, dict[str, int]] | None:
    for row in rows[:_HEADER_SCAN_ROWS]:
        fmt = _format_of(row)
        if fmt is not None and not ({_header_key(h) for h in row} & {"meeting id", "id de reunion", "topic", "tema"}):
            return fmt, _columns(row)
    return None


def _minutes(value: str) -> float | None:
    text = _header_key(value)
    if not text:
        return None
    if re.fullmatch(r"\d+([.,]\d+)?", text):
        return float(text.replace(",", "."))
    clock = re.fullmatch(r"(\d+):(\d{1,2})(?::(\d{1,2}))?", text)
    if clock:
        h, m, s = int(clock[1]), int(clock[2]), int(clock[3] or 0)
        return h * 60 + m + s / 60 if clock[3] is not None else h * 60 + m
    total = 0.0
    matched = False
    for amount, unit in re.findall(r"(\d+(?:[.,]\d+)?)\s*(h|hr|hrs|hora|horas|hour|hours|min|mins|minuto|minutos|"
                                   r"minute|minutes|s|seg|sec|segundos|seconds)\b", text):
        matched = True
        n = float(amount.replace(",", "."))
        total += n * 60 if unit.startswith("h") else n / 60 if unit.startswith("s") else n
    return total if matched else None


_ZOOM_NAME = re.compile(r"^(.*?)\s*\(([^()]*)\)\s*$")


def parse_participants(data: bytes) -> ParticipantsFile:
    """Read a Zoom or Google Meet participants CSV; raises ``ImportFileError`` in Spanish."""
    if len(data) > MAX_IMPORT_BYTES:
        raise ImportFileError(_("El archivo pesa más de %(mb)s MB. Suba solo la lista de participantes de una sesión.",
                                mb=MAX_IMPORT_BYTES // (1024 * 1024)), status=413)
    if not data.strip():
        raise ImportFileError(_("El archivo está vacío."))
    text, encoding = _decode(data)
    best: tuple[int, str, dict[str, int], list[list[str]], str] | None = None
    for delimiter in (",", ";", "\t"):
        try:
            rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False))
        except csv.Error:
            continue
        found = _find_header(rows)
        if found is not None and (best is None or len(rows[found[0]]) > len(best[3][best[0]])):
            best = (*found, rows, delimiter)
    if best is None:
        for delimiter in (",", ";", "\t"):
            rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False))
            partial = _first_header_like(rows)
            if partial is not None:
                raise ImportFileError(_missing_message(partial[0], partial[1]))
        raise ImportFileError(_(
            "No reconocemos este archivo como una lista de participantes de Zoom o Google Meet. Su primera fila "
            "debe traer los títulos de las columnas, como «Name (Original Name)» y «User Email» (Zoom) o "
            "«First Name», «Last Name» y «Email» (Google Meet)."))
    index, fmt, cols, rows, delimiter = best
    if "email" not in cols or not ("name" in cols or "first" in cols):
        raise ImportFileError(_missing_message(fmt, cols))
    body = [r for r in rows[index + 1:] if any(cell.strip() for cell in r)]
    if len(body) > MAX_IMPORT_ROWS:
        raise ImportFileError(_("El archivo tiene más de %(n)s filas. Suba solo la lista de participantes de "
                                "una sesión.", n=MAX_IMPORT_ROWS))
    return ParticipantsFile(fmt, encoding, delimiter, _participants(body, cols))


def _missing_message(fmt: str, cols: dict[str, int]) -> str:
    missing = []
    if not ("name" in cols or "first" in cols):
        missing.append("«Name (Original Name)»" if fmt == "zoom" else "«First Name» y «Last Name» (o «Full Name»)")
    if "email" not in cols:
        missing.append("«User Email»" if fmt == "zoom" else "«Email»")
    return _("Al archivo de %(format)s le faltan columnas: %(columns)s. Descargue el informe completo de participantes "
             "e inténtelo de nuevo.", format=_FORMAT_NAMES[fmt], columns=", ".join(missing or ["?"]))


def _participants(rows: list[list[str]], cols: dict[str, int]) -> list[Participant]:
    def cell(row: list[str], key: str) -> str:
        i = cols.get(key)
        return row[i].strip() if i is not None and i < len(row) else ""

    merged: dict[str, Participant] = {}
    for row in rows:
        name = cell(row, "name")
        if not name:
            name = " ".join(x for x in (cell(row, "first"), cell(row, "last")) if x)
        original = ""
        shown = _ZOOM_NAME.match(name)
        if shown and shown[1].strip():
            name, original = shown[1].strip(), shown[2].strip()
        email = cell(row, "email").lower()
        if not name and not email:
            continue
        minutes = _minutes(cell(row, "duration"))
        key = f"e:{email}" if email else f"n:{normalise_text(original or name)}"
        if key in merged:
            p = merged[key]
            p.rows += 1
            if minutes is not None:
                p.minutes = (p.minutes or 0) + minutes
            if original and not p.original_name:
                p.original_name = original
        else:
            merged[key] = Participant(name=name[:200], original_name=original[:200], email=email[:254],
                                      minutes=minutes)
    return list(merged.values())


# --- matching ------------------------------------------------------------------------------------


@dataclass
class Match:
    """A registration found in the file: by email if any of its participants matched by email."""

    reg: Registration
    by: str  # "email" or "name"
    participants: list[Participant] = field(default_factory=list)


@dataclass
class Unmatched:
    participant: Participant
    candidates: int  # 0: nobody fits; 2+: several registrants fit the name


@dataclass
class MatchReport:
    matches: list[Match] = field(default_factory=list)
    unmatched: list[Unmatched] = field(default_factory=list)
    missing: list[Registration] = field(default_factory=list)  # registrants not found in the file

    @property
    def by_email(self) -> list[Match]:
        return [m for m in self.matches if m.by == "email"]

    @property
    def by_name(self) -> list[Match]:
        return [m for m in self.matches if m.by == "name"]

    @property
    def registration_ids(self) -> list[int]:
        return sorted(m.reg.id for m in self.matches)


def match_participants(participants: Sequence[Participant], regs: Sequence[Registration]) -> MatchReport:
    """Match a session's (non-cancelled) registrations to the file's participants."""
    live = [r for r in regs if r.status != RegistrationStatus.CANCELLED and r.person.anonymised_at is None]
    by_email: dict[str, list[Registration]] = {}
    for reg in live:
        if reg.person.email:
            by_email.setdefault(reg.person.email.lower(), []).append(reg)
    names = {reg.id: normalise_text(reg.person.full_name) for reg in live}
    tokens = {reg_id: set(n.split()) for reg_id, n in names.items()}
    report = MatchReport()
    matched: dict[int, Match] = {}

    def add(p: Participant, reg: Registration, by: str) -> None:
        m = matched.setdefault(reg.id, Match(reg, by))
        m.participants.append(p)
        if by == "email":
            m.by = "email"

    for p in participants:
        found = by_email.get(p.email, []) if p.email else []
        if len(found) == 1:
            add(p, found[0], "email")
            continue
        pool = found or live
        candidates: set[int] = set()
        for raw in p.names:
            wanted = normalise_text(raw)
            exact = {r.id for r in pool if wanted and names[r.id] == wanted}
            if exact:
                candidates |= exact
                continue
            words = set(wanted.split())
            if len(words) >= 2:
                candidates |= {r.id for r in pool if words <= tokens[r.id]}
        if len(candidates) == 1:
            reg_id = next(iter(candidates))
            add(p, next(r for r in pool if r.id == reg_id), "name")
        else:
            report.unmatched.append(Unmatched(p, len(candidates)))
    report.matches = sorted(matched.values(), key=lambda m: (m.reg.person.last_names, m.reg.person.first_names))
    report.missing = [r for r in live if r.id not in matched]
    return report
