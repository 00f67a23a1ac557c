"""What the territory domain does: networks, their member offices and yearly coordination,
and offices with their public contact channels.

Every function that changes state checks the rules that depend on the data (which regions,
which comuna), runs in one transaction that it commits once, records an audit event inside
it, and raises ``TerritoryError`` with a message fit to show the user.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any
from urllib.parse import urlsplit

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError

from app.accounts.models import User
from app.accounts.policy import can, current_year
from app.audit.services import record
from app.dbtypes import MAX_ROW_ID
from app.extensions import db
from app.territory.models import (
    Comuna,
    Network,
    NetworkCoordination,
    Office,
    OfficeCategory,
    OfficeKind,
    Region,
)
from app.text import TextError, clean_line, multi_line
from app.text import slugify as shared_slugify
from app.timeutil import utcnow

NAME_MAX = 160
DESCRIPTION_MAX = 2000
EMAIL_MAX = 254
URL_MAX = 300
ADDRESS_MAX = 300
HOURS_MAX = 1000
PHONE_INPUT_MAX = 40
SLUG_MAX = 150
FACEBOOK_HOSTS = ("facebook.com", "fb.com", "fb.me")


class TerritoryError(ValueError):
    """A user-facing refusal. ``field`` names the form field it belongs to, if any."""

    def __init__(self, message: str, field: str | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status


# --- cleaning single values (forms use these too, so the messages are the same) ------------


def clean_name(value: str | None, field: str = "name") -> str:
    try:
        name = clean_line(value)
    except TextError as exc:
        raise TerritoryError(exc.message, field=field) from None
    if not name:
        raise TerritoryError(_("Escriba el nombre."), field=field)
    if len(name) > NAME_MAX:
        raise TerritoryError(_("El nombre no puede superar %(n)s caracteres.", n=NAME_MAX),
                             field=field)
    return name


def clean_optional_text(value: str | None, field: str, max_len: int) -> str | None:
    text = multi_line(value)
    if not text:
        return None
    if len(text) > max_len:
        raise TerritoryError(_("Este campo no puede superar %(n)s caracteres.", n=max_len),
                             field=field)
    return text


def clean_email(value: str | None, field: str = "email") -> str | None:
    text = (value or "").strip()
    if not text:
        return None
    if len(text) > EMAIL_MAX:
        raise TerritoryError(_("El correo es demasiado largo."), field=field)
    try:
        checked = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise TerritoryError(_("Escriba un correo válido, como omil@municipio.cl."),
                             field=field) from exc
    return str(checked.normalized).lower()


def clean_phone(value: str | None, field: str = "phone") -> str | None:
    """A Chilean (or international) phone number in E.164 form, or None if left empty."""
    text = (value or "").strip()
    if not text:
        return None
    message = _("Escriba un número de teléfono válido, por ejemplo +56 9 1234 5678 o "
                "+56 2 2345 6789.")
    if len(text) > PHONE_INPUT_MAX:
        raise TerritoryError(message, field=field)
    try:
        number = phonenumbers.parse(text, "CL")
    except phonenumbers.NumberParseException as exc:
        raise TerritoryError(message, field=field) from exc
    if not phonenumbers.is_valid_number(number):
        raise TerritoryError(message, field=field)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def clean_url(value: str | None, field: str = "website", *, facebook: bool = False) -> str | None:
    """An http(s) address with a host, or None if left empty."""
    text = (value or "").strip()
    if not text:
        return None
    if len(text) > URL_MAX:
        raise TerritoryError(_("La dirección no puede superar %(n)s caracteres.", n=URL_MAX),
                             field=field)
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").lower()
    except ValueError:
        parts, host = None, ""
    if (parts is None or parts.scheme.lower() not in ("http", "https") or not host
            or "." not in host or any(c.isspace() for c in text)):
        raise TerritoryError(_("Escriba una dirección web completa que empiece con https:// "
                               "(por ejemplo https://www.municipio.cl)."), field=field)
    if facebook and not any(host == h or host.endswith("." + h) for h in FACEBOOK_HOSTS):
        raise TerritoryError(_("Escriba la dirección de la página de Facebook, por ejemplo "
                               "https://www.facebook.com/omil.municipio."), field=field)
    return text


def slugify(text: str) -> str:
    """ASCII, lower-case, hyphen-separated: "Red Ñuble Sur" -> "red-nuble-sur" (or "")."""
    return shared_slugify(text, SLUG_MAX, fallback="")


def _unique_slug(model: Any, name: str, fallback: str) -> str:
    base = slugify(name) or fallback
    taken = set(db.session.scalars(
        select(model.slug).where((model.slug == base) | model.slug.like(f"{base}-%"))))
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def _commit(conflict: str, field: str | None = None) -> None:
    """Commit the transaction; a unique-constraint race becomes a 409 for the user."""
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise TerritoryError(conflict, field=field, status=409) from exc


def _parse_id(value: Any, message: str, field: str) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError) as exc:
        raise TerritoryError(message, field=field) from exc
    if number <= 0 or number > MAX_ROW_ID:
        raise TerritoryError(message, field=field)
    return number


# --- networks ------------------------------------------------------------------------------


def _regions(codes: Iterable[str]) -> list[Region]:
    wanted = {str(c).strip() for c in codes if str(c).strip()}
    if not wanted:
        raise TerritoryError(_("Elija al menos una región."), field="regions")
    found = list(db.session.scalars(select(Region).where(Region.code.in_(wanted))
                                    .order_by(Region.position)))
    if len(found) != len(wanted):
        raise TerritoryError(_("Elija regiones de la lista."), field="regions")
    return found


def _check_region_rights(actor: User, regions: Iterable[Region]) -> None:
    for region in regions:
        if not can(actor, "network.create", region):
            raise TerritoryError(
                _("No puede incluir la región de %(region)s: solo administra redes de su región.",
                  region=region.name), field="regions", status=403)


def _check_network_name(name: str, exclude_id: int | None = None) -> None:
    q = select(Network.id).where(func.lower(Network.name) == name.lower())
    if exclude_id is not None:
        q = q.where(Network.id != exclude_id)
    if db.session.scalar(q) is not None:
        raise TerritoryError(_("Ya existe una red con ese nombre. Elija otro."), field="name",
                             status=409)


def _network_region(network: Network) -> str | None:
    codes = sorted(network.region_codes)
    return codes[0] if len(codes) == 1 else None


def create_network(actor: User, *, name: str, description: str | None,
                   region_codes: Iterable[str]) -> Network:
    """A new network in regions the actor administers."""
    if not can(actor, "network.create"):
        raise TerritoryError(_("No tiene permiso para crear redes."), status=403)
    name = clean_name(name)
    description = clean_optional_text(description, "description", DESCRIPTION_MAX)
    regions = _regions(region_codes)
    _check_region_rights(actor, regions)
    _check_network_name(name)
    network = Network(name=name, slug=_unique_slug(Network, name, "red"),
                      description=description, active=True)
    network.regions = regions
    db.session.add(network)
    db.session.flush()
    record("network.create", network, f"{name} ({', '.join(r.code for r in regions)})",
           actor=actor, network_id=network.id, region_code=_network_region(network))
    _commit(_("Ya existe una red con ese nombre. Elija otro."), "name")
    return network


def update_network(actor: User, network: Network, *, name: str, description: str | None,
                   region_codes: Iterable[str]) -> Network:
    """Rename or redescribe a network; regions added or removed must be the actor's."""
    if not can(actor, "network.edit", network):
        raise TerritoryError(_("No tiene permiso para editar esta red."), status=403)
    name = clean_name(name)
    description = clean_optional_text(description, "description", DESCRIPTION_MAX)
    regions = _regions(region_codes)
    before = {r.code: r for r in network.regions}
    after = {r.code: r for r in regions}
    changed_regions = [r for code, r in {**before, **after}.items()
                       if (code in before) != (code in after)]
    _check_region_rights(actor, changed_regions)
    _check_network_name(name, exclude_id=network.id)
    if after.keys() != before.keys():
        outside = [o.name for o in network.offices if o.comuna.region_code not in after]
        if outside:
            raise TerritoryError(
                _("Antes de quitar la región, quite de la red a: %(names)s.",
                  names=", ".join(outside)), field="regions", status=409)
    # The audit summary is data, not interface text: it stays as written here.
    changes = []
    if name != network.name:
        changes.append("nombre")
    if description != network.description:
        changes.append("descripción")
    if after.keys() != before.keys():
        changes.append("regiones: " + ", ".join(sorted(after)))
    if not changes:
        return network
    network.name = name
    network.description = description
    network.regions = regions
    record("network.update", network, "; ".join(changes), actor=actor, network_id=network.id,
           region_code=_network_region(network))
    _commit(_("Ya existe una red con ese nombre. Elija otro."), "name")
    return network


def candidate_offices(network: Network) -> list[Office]:
    """Offices in the network's regions that are not members yet."""
    member_ids = {o.id for o in network.offices}
    rows = db.session.scalars(
        select(Office).join(Comuna, Comuna.code == Office.comuna_code)
        .where(Comuna.region_code.in_(network.region_codes or {"--"}), Office.active.is_(True))
        .order_by(Office.name))
    return [o for o in rows if o.id not in member_ids]


def add_office_to_network(actor: User, network: Network, office_id: Any) -> Office:
    if not can(actor, "network.edit", network):
        raise TerritoryError(_("No tiene permiso para editar esta red."), status=403)
    message = _("Elija una oficina de la lista.")
    office = db.session.get(Office, _parse_id(office_id, message, "office_id"))
    if office is None:
        raise TerritoryError(message, field="office_id")
    if office.comuna.region_code not in network.region_codes:
        raise TerritoryError(
            _("%(office)s está en una región que no es parte de la red.", office=office.name),
            field="office_id")
    if office in network.offices:
        raise TerritoryError(_("%(office)s ya es parte de la red.", office=office.name),
                             field="office_id", status=409)
    network.offices.append(office)
    record("network.office_add", network, office.name, actor=actor, network_id=network.id,
           office_id=office.id, region_code=office.comuna.region_code)
    _commit(_("%(office)s ya es parte de la red.", office=office.name), "office_id")
    return office


def remove_office_from_network(actor: User, network: Network, office_id: Any) -> Office:
    if not can(actor, "network.edit", network):
        raise TerritoryError(_("No tiene permiso para editar esta red."), status=403)
    message = _("Esa oficina no es parte de la red.")
    wanted = _parse_id(office_id, message, "office_id")
    office = next((o for o in network.offices if o.id == wanted), None)
    if office is None:
        raise TerritoryError(message, status=404)
    year = current_year()
    if any(c.office_id == office.id and c.year >= year for c in network.coordinations):
        raise TerritoryError(
            _("%(office)s tiene la coordinación de la red este año o el próximo. Asigne otra "
              "oficina antes de quitarla.", office=office.name), status=409)
    network.offices.remove(office)
    record("network.office_remove", network, office.name, actor=actor, network_id=network.id,
           office_id=office.id, region_code=office.comuna.region_code)
    _commit(_("La red cambió mientras la editaba; vuelva a intentarlo."))
    return office


def coordination_years() -> list[int]:
    """The years whose coordinating office may be assigned: this one and the next."""
    year = current_year()
    return [year, year + 1]


def assign_coordinator(actor: User, network: Network, *, year: Any,
                       office_id: Any) -> NetworkCoordination:
    """Set the office that coordinates ``network`` in ``year`` (replacing a previous choice
    for that year). Earlier years stay as history; every change leaves an audit event."""
    if not can(actor, "network.assign_coordinator", network):
        raise TerritoryError(_("No tiene permiso para asignar la coordinación."), status=403)
    years = coordination_years()
    year_message = _("Elija el año %(a)s o %(b)s.", a=years[0], b=years[1])
    chosen_year = _parse_id(year, year_message, "year")
    if chosen_year not in years:
        raise TerritoryError(year_message, field="year")
    office_message = _("Elija una de las oficinas de la red.")
    wanted = _parse_id(office_id, office_message, "office_id")
    # Lock the network row: two people assigning at once are served one after the other.
    db.session.execute(select(Network.id).where(Network.id == network.id).with_for_update())
    office = next((o for o in network.offices if o.id == wanted), None)
    if office is None:
        raise TerritoryError(office_message, field="office_id")
    existing = db.session.scalar(select(NetworkCoordination).where(
        NetworkCoordination.network_id == network.id, NetworkCoordination.year == chosen_year))
    if existing is not None and existing.office_id == office.id:
        return existing
    if existing is None:
        row = NetworkCoordination(network_id=network.id, office_id=office.id, year=chosen_year,
                                  assigned_at=utcnow())
        db.session.add(row)
        db.session.flush()
        record("network.coordinator_assign", network, f"{chosen_year}: {office.name}",
               actor=actor, network_id=network.id, office_id=office.id,
               region_code=_network_region(network))
    else:
        previous = existing.office.name
        existing.office_id = office.id
        existing.assigned_at = utcnow()
        row = existing
        record("network.coordinator_replace", network,
               f"{chosen_year}: {previous} → {office.name}", actor=actor,
               network_id=network.id, office_id=office.id,
               region_code=_network_region(network))
    _commit(_("Otra persona cambió la coordinación al mismo tiempo. Revise y vuelva a "
              "intentarlo."), "office_id")
    return row


# --- offices -------------------------------------------------------------------------------


def filter_offices(query: Select[tuple[Office]], *, region_code: str | None,
                   text: str | None) -> Select[tuple[Office]]:
    """Narrow an office query to a region and to a text found in the office's or comuna's
    name (``%`` and ``_`` typed by the user match themselves)."""
    if region_code:
        query = query.where(Office.comuna_code.in_(
            select(Comuna.code).where(Comuna.region_code == region_code)))
    words = (text or "").strip()
    if words:
        escaped = words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        query = query.where(or_(
            Office.name.ilike(pattern, escape="\\"),
            Office.comuna_code.in_(select(Comuna.code).where(
                Comuna.name.ilike(pattern, escape="\\")))))
    return query


@dataclass(frozen=True)
class OfficeInput:
    """What a form (or the API) says about an office, before it is checked."""

    name: str | None = None
    kind: str | None = None
    category: str | None = None
    comuna_code: str | None = None
    email: str | None = None
    whatsapp: str | None = None
    phone: str | None = None
    facebook_url: str | None = None
    website: str | None = None
    address: str | None = None
    opening_hours: str | None = None


@dataclass(frozen=True)
class _CleanOffice:
    name: str
    kind: OfficeKind
    category: OfficeCategory | None
    comuna: Comuna
    email: str | None
    whatsapp: str | None
    phone: str | None
    facebook_url: str | None
    website: str | None
    address: str | None
    opening_hours: str | None


def clean_comuna(code: str | None, field: str = "comuna_code") -> Comuna:
    text = (code or "").strip()
    comuna = db.session.get(Comuna, text) if re.fullmatch(r"\d{5}", text) else None
    if comuna is None:
        raise TerritoryError(_("Elija una comuna de la lista."), field=field)
    return comuna


def clean_kind_and_category(kind: str | None,
                            category: str | None) -> tuple[OfficeKind, OfficeCategory | None]:
    try:
        office_kind = OfficeKind((kind or "").strip())
    except ValueError as exc:
        raise TerritoryError(_("Elija si es una OMIL o una plataforma laboral."),
                             field="kind") from exc
    cat_text = (category or "").strip()
    if office_kind == OfficeKind.PLATAFORMA:
        if cat_text:
            raise TerritoryError(_("Las plataformas laborales no tienen categoría: deje este "
                                   "campo vacío."), field="category")
        return office_kind, None
    try:
        return office_kind, OfficeCategory(cat_text)
    except ValueError as exc:
        raise TerritoryError(_("Elija la categoría de la OMIL: básica, intermedia o avanzada."),
                             field="category") from exc


def _clean_office(data: OfficeInput) -> _CleanOffice:
    name = clean_name(data.name)
    kind, category = clean_kind_and_category(data.kind, data.category)
    return _CleanOffice(
        name=name, kind=kind, category=category,
        comuna=clean_comuna(data.comuna_code),
        email=clean_email(data.email),
        whatsapp=clean_phone(data.whatsapp, "whatsapp"),
        phone=clean_phone(data.phone, "phone"),
        facebook_url=clean_url(data.facebook_url, "facebook_url", facebook=True),
        website=clean_url(data.website, "website"),
        address=clean_optional_text(data.address, "address", ADDRESS_MAX),
        opening_hours=clean_optional_text(data.opening_hours, "opening_hours", HOURS_MAX),
    )


def _check_office_name(name: str, exclude_id: int | None = None) -> None:
    q = select(Office.id).where(func.lower(Office.name) == name.lower())
    if exclude_id is not None:
        q = q.where(Office.id != exclude_id)
    if db.session.scalar(q) is not None:
        raise TerritoryError(_("Ya existe una oficina con ese nombre. Si es otra, agregue la "
                               "comuna al nombre."), field="name", status=409)


def _check_office_region(actor: User, comuna: Comuna) -> None:
    if not can(actor, "office.create", comuna.region):
        raise TerritoryError(
            _("No puede registrar oficinas en la región de %(region)s: solo en la suya.",
              region=comuna.region.name), field="comuna_code", status=403)


_OFFICE_FIELDS = [f.name for f in fields(OfficeInput) if f.name != "comuna_code"]


def create_office(actor: User, data: OfficeInput) -> Office:
    """A new office in a comuna of a region the actor administers."""
    if not can(actor, "office.create"):
        raise TerritoryError(_("No tiene permiso para registrar oficinas."), status=403)
    clean = _clean_office(data)
    _check_office_region(actor, clean.comuna)
    _check_office_name(clean.name)
    office = Office(slug=_unique_slug(Office, clean.name, "oficina"), comuna_code=clean.comuna.code,
                    active=True, **{k: getattr(clean, k) for k in _OFFICE_FIELDS})
    db.session.add(office)
    db.session.flush()
    record("office.create", office, f"{clean.name} ({clean.comuna.name})", actor=actor,
           office_id=office.id, region_code=clean.comuna.region_code)
    _commit(_("Ya existe una oficina con ese nombre."), "name")
    return office


def update_office(actor: User, office: Office, data: OfficeInput) -> Office:
    """Change an office's data; moving it to another region needs rights there too."""
    if not can(actor, "office.edit", office):
        raise TerritoryError(_("No tiene permiso para editar esta oficina."), status=403)
    clean = _clean_office(data)
    if clean.comuna.region_code != office.comuna.region_code:
        _check_office_region(actor, clean.comuna)
    _check_office_name(clean.name, exclude_id=office.id)
    changed = [k for k in _OFFICE_FIELDS if getattr(office, k) != getattr(clean, k)]
    if office.comuna_code != clean.comuna.code:
        changed.append("comuna_code")
    if not changed:
        return office
    for k in _OFFICE_FIELDS:
        setattr(office, k, getattr(clean, k))
    office.comuna_code = clean.comuna.code
    office.comuna = clean.comuna
    # Field names only: the values (email, phones) are not copied into the audit log.
    record("office.update", office, "campos: " + ", ".join(changed),
           actor=actor, office_id=office.id, region_code=clean.comuna.region_code)
    _commit(_("Ya existe una oficina con ese nombre."), "name")
    return office
