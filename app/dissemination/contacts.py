"""Importing an office's own contact list from a CSV: map columns, preview, then import.

- The file is read as UTF-8 (with or without BOM) or Windows-1252 (what Excel in Chile
  writes); anything else is refused with a clear message. Comma, semicolon or tab.
- Columns are guessed from the header (nombres, apellidos, rut, correo, celular, comuna,
  consentimiento, intereses, canal) and can be changed before importing.
- A row is imported only with a name, a valid document (a RUT with its check digit, or
  another document number), an email or a mobile phone, and a **consent record**: a consent
  column saying yes ("sí", "si", "x", "1", "true") or giving a date. Without the consent
  column the whole import is refused; rows without consent are excluded and listed.
- People the office already holds (same document, email or phone) are updated only where a
  field was empty, and their opt-in is recorded; nobody is duplicated, nobody who opted out
  is opted back in.
- One transaction for the whole file, with its ``ContactImport`` record and audit event.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from app.audit.services import record
from app.dissemination.models import ContactImport
from app.extensions import db
from app.people.models import Channel, DocumentType, Person
from app.people.services import PersonError, PersonInput, clean_person, find_person
from app.territory.data import comuna_codes, load_comunas_csv
from app.timeutil import utcnow

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 10_000
FIELDS = ("first_names", "last_names", "document", "email", "phone", "comuna", "consent", "interests", "channel")
REQUIRED = ("first_names", "document", "consent")
HEADER_WORDS = {
    "first_names": ("nombres", "nombre", "first name", "first names"),
    "last_names": ("apellidos", "apellido", "last name", "last names"),
    "document": ("rut", "run", "documento", "cedula", "cédula", "pasaporte", "document"),
    "email": ("correo", "email", "e-mail", "mail", "correo electronico", "correo electrónico"),
    "phone": ("celular", "telefono", "teléfono", "movil", "móvil", "fono", "whatsapp", "phone"),
    "comuna": ("comuna", "comuna de residencia"),
    "consent": ("consentimiento", "acepta", "autoriza", "consent", "acepta avisos", "autoriza contacto"),
    "interests": ("intereses", "interes", "interés", "area", "área", "rubro"),
    "channel": ("canal", "canal preferido", "medio"),
}
YES = {"si", "sí", "s", "x", "1", "true", "yes", "acepta", "autoriza"}


class ContactFileError(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class AlreadyImported(ContactFileError):
    """This upload was imported already (or the same people changed meanwhile): nothing written."""


def _key(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return " ".join(folded.replace("_", " ").split())


@dataclass
class ParsedFile:
    header: list[str]
    rows: list[list[str]]
    delimiter: str
    encoding: str
    guessed: dict[str, int | None] = field(default_factory=dict)


def parse(data: bytes) -> ParsedFile:
    from app.registration.exports import ImportFileError, decode_csv

    if not data.strip():
        raise ContactFileError(_("El archivo está vacío."))
    if len(data) > MAX_BYTES:
        raise ContactFileError(_("El archivo pesa más de %(mb)s MB. Divídalo en partes.", mb=MAX_BYTES // 2 ** 20))
    try:
        text, encoding = decode_csv(data)
    except ImportFileError as exc:
        raise ContactFileError(exc.message) from exc
    sample = text[:4096]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        delimiter = ";" if sample.count(";") > sample.count(",") else ","
    try:
        rows = [r for r in csv.reader(io.StringIO(text), delimiter=delimiter) if any(c.strip() for c in r)]
    except csv.Error as exc:
        raise ContactFileError(_("El archivo no es un CSV válido: %(why)s", why=str(exc))) from exc
    if len(rows) < 2:
        raise ContactFileError(_("El archivo necesita una fila de títulos y al menos una fila de contactos."))
    if len(rows) - 1 > MAX_ROWS:
        raise ContactFileError(_("El archivo tiene más de %(n)s contactos. Divídalo en partes.", n=MAX_ROWS))
    header = [h.strip() for h in rows[0]]
    parsed = ParsedFile(header=header, rows=rows[1:], delimiter=delimiter, encoding=encoding)
    keys = [_key(h) for h in header]
    for name, words in HEADER_WORDS.items():
        folded = {_key(w) for w in words}
        parsed.guessed[name] = next((i for i, k in enumerate(keys) if k in folded), None)
    return parsed


@dataclass
class RowResult:
    row: int  # 2 = the first contact (row 1 is the header)
    name: str
    outcome: str  # "create", "update", "excluded"
    reason: str = ""
    cleaned: dict[str, Any] = field(default_factory=dict, repr=False)  # what is imported, as checked
    interests: str = ""
    person_id: int | None = None  # the person already held, when the row updates one


@dataclass
class ImportPlan:
    results: list[RowResult]

    @property
    def created(self) -> int:
        return sum(r.outcome == "create" for r in self.results)

    @property
    def updated(self) -> int:
        return sum(r.outcome == "update" for r in self.results)

    @property
    def excluded(self) -> list[RowResult]:
        return [r for r in self.results if r.outcome == "excluded"]


@cache
def _comunas_by_name() -> dict[str, str]:
    return {_key(c["name"]): c["code"] for c in load_comunas_csv()}


def _comuna_code(value: str) -> str:
    value = value.strip()
    if value in comuna_codes():
        return value
    return _comunas_by_name().get(_key(value), "")


def _consented(value: str) -> bool:
    v = _key(value)
    if v in YES:
        return True
    return any(ch.isdecimal() for ch in v) and ("-" in v or "/" in v)  # a date: when consent was recorded


def _channel(value: str, email: str, phone: str) -> str:
    v = _key(value)
    for channel, words in ((Channel.WHATSAPP, ("whatsapp", "wsp", "wasap")), (Channel.SMS, ("sms", "mensaje")),
                           (Channel.EMAIL, ("correo", "email", "mail")),
                           (Channel.PHONE_CALL, ("llamada", "telefono", "llamar"))):
        if any(w in v for w in words):
            return channel.value
    return Channel.EMAIL.value if email else Channel.WHATSAPP.value if phone else Channel.EMAIL.value


def _input(row: list[str], mapping: dict[str, int | None]) -> tuple[dict[str, str], PersonInput]:
    def cell(name: str) -> str:
        i = mapping.get(name)
        return row[i].strip() if i is not None and i < len(row) else ""

    values = {name: cell(name) for name in FIELDS}
    document = values["document"]
    folded = document.replace(".", "").replace(" ", "")
    is_rut = len(folded) >= 3 and folded[:-1].replace("-", "").isdecimal()
    inp = PersonInput(
        first_names=values["first_names"], last_names=values["last_names"] or "-",
        document_type=(DocumentType.RUT if is_rut else DocumentType.FOREIGN_ID).value, document_number=document,
        email=values["email"], phone=values["phone"], comuna_code=_comuna_code(values["comuna"]),
        preferred_channel=_channel(values["channel"], values["email"], values["phone"]),
        consent_data=True, opt_in_future=True)
    return values, inp


def plan_import(parsed: ParsedFile, mapping: dict[str, int | None], office_id: int) -> ImportPlan:
    """What importing would do, row by row (nothing is written)."""
    missing = [name for name in REQUIRED if mapping.get(name) is None]
    if "consent" in missing:
        raise ContactFileError(_("Falta la columna de consentimiento: solo se importan personas que aceptaron "
                                 "recibir avisos. Agregue una columna que lo diga (sí/no o la fecha en que aceptó)."))
    if missing:
        raise ContactFileError(_("Indique qué columna tiene los nombres y cuál el RUT o documento."))
    results: list[RowResult] = []
    seen: set[str] = set()
    for n, row in enumerate(parsed.rows, start=2):
        values, inp = _input(row, mapping)
        name = " ".join(f"{values['first_names']} {values['last_names']}".split())
        if not _consented(values["consent"]):
            results.append(RowResult(n, name, "excluded", _("sin consentimiento registrado")))
            continue
        try:
            cleaned = clean_person(inp)
        except PersonError as exc:
            results.append(RowResult(n, name, "excluded", "; ".join(exc.errors.values())))
            continue
        key = f"{cleaned['document_type']}:{cleaned['document_number']}"
        if key in seen:
            results.append(RowResult(n, name, "excluded", _("repetido en el archivo")))
            continue
        seen.add(key)
        found = find_person(cleaned)
        interests = values["interests"][:300]
        if found is not None and found.office_id not in (None, office_id):
            results.append(RowResult(n, name, "update", _("ya registrada por otra oficina: se agrega su "
                                                          "consentimiento, no cambia de oficina"),
                                     cleaned=cleaned, interests=interests, person_id=found.id))
        else:
            results.append(RowResult(n, name, "update" if found is not None else "create", cleaned=cleaned,
                                     interests=interests, person_id=found.id if found is not None else None))
    return ImportPlan(results)


def run_import(parsed: ParsedFile, mapping: dict[str, int | None], *, office_id: int, actor: Any,
               filename: str, source_key: str | None = None) -> ContactImport:
    """Import the file in one transaction, as planned; returns the import record (with its
    report). ``ContactFileError`` (nothing written) when this upload was already imported
    (``source_key``: a second press of "Importar") or another import changed the same people
    at the same moment."""
    plan = plan_import(parsed, mapping, office_id)
    now = utcnow()
    record_ = ContactImport(office_id=office_id, created_by_id=getattr(actor, "id", None), filename=filename[:200],
                            source_key=source_key, rows=len(plan.results), created=plan.created,
                            updated=plan.updated, excluded=len(plan.excluded),
                            report=json.dumps([{"row": r.row, "reason": r.reason} for r in plan.excluded]))
    db.session.add(record_)
    try:
        db.session.flush()  # the claim on this upload, before any person is touched
        _apply_plan(plan, office_id=office_id, now=now)
    except IntegrityError as exc:
        db.session.rollback()
        raise AlreadyImported(_("Este archivo ya se importó, o otra importación cambió los mismos contactos en "
                                 "este momento. Revise la lista antes de importar de nuevo.")) from exc
    record("contacts.import", record_, f"{plan.created} nuevas, {plan.updated} actualizadas, "
           f"{len(plan.excluded)} excluidas", actor=actor, office_id=office_id)
    db.session.commit()
    return record_


def _apply_plan(plan: ImportPlan, *, office_id: int, now: Any) -> None:
    for result in plan.results:
        if result.outcome == "excluded":
            continue
        cleaned = result.cleaned
        person = db.session.get(Person, result.person_id) if result.person_id is not None else None
        if person is None:
            person = Person(first_names=cleaned["first_names"], last_names=cleaned["last_names"],
                            document_type=cleaned["document_type"], document_number=cleaned["document_number"],
                            email=cleaned["email"], phone=cleaned["phone"], comuna_code=cleaned["comuna_code"],
                            preferred_channel=cleaned["preferred_channel"], consent_data_at=now,
                            consent_version="importacion", consent_source="import", opt_in_future=True,
                            opt_in_at=now, office_id=office_id, interests=result.interests)
            db.session.add(person)
            db.session.flush()
            continue
        for name in ("email", "phone", "comuna_code"):
            if not getattr(person, name) and cleaned.get(name):
                setattr(person, name, cleaned[name])
        if result.interests and not person.interests:
            person.interests = result.interests
        if person.opted_out_at is None and not person.opt_in_future:
            person.opt_in_future, person.opt_in_at = True, now
        if person.office_id is None:
            person.office_id = office_id
