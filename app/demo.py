"""Demo data for a local installation: ``flask --app wsgi seed-demo`` (run by ``make run``).

Three networks in two regions (Metropolitana and Magallanes) on the real territory, ten
offices of every category, their coordinations for this year and last year, and one account
for each kind of staff, all sharing one local-only password. The command loads nothing on a
database that already has an office, so it can run on every start.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import click
from flask import Flask, current_app
from sqlalchemy import select

from app.accounts.models import Role
from app.accounts.policy import current_year
from app.accounts.services import create_user
from app.extensions import db
from app.territory.models import (
    Comuna,
    Network,
    NetworkCoordination,
    Office,
    OfficeCategory,
    OfficeKind,
    Region,
    SenceUnit,
)

DEMO_PASSWORD = "demo-puente-2026"  # noqa: S105 - printed on purpose, local demo only
DEMO_EMAIL_DOMAIN = "demo.puentelaboral.cl"
OPENING_HOURS = "Lunes a viernes, 8:30 a 14:00"


class DemoNotLoadedError(RuntimeError):
    """The database already has data; the demo is loaded only on an empty one."""


@dataclass(frozen=True)
class _OfficeSpec:
    comuna_code: str
    category: OfficeCategory | None  # None for a plataforma laboral
    phone: str  # E.164
    whatsapp: str  # E.164
    address: str
    kind: OfficeKind = OfficeKind.OMIL


@dataclass(frozen=True)
class _NetworkSpec:
    name: str
    short: str  # for the coordination account's email
    region_code: str
    description: str
    offices: tuple[_OfficeSpec, ...]
    coordinator: str  # comuna code of this year's coordinating office (an avanzada OMIL)
    previous_coordinator: str  # comuna code of last year's


_B, _I, _A = OfficeCategory.BASICA, OfficeCategory.INTERMEDIA, OfficeCategory.AVANZADA

NETWORKS: tuple[_NetworkSpec, ...] = (
    _NetworkSpec(
        name="Red OMIL Santiago Oriente",
        short="oriente",
        region_code="13",
        description="OMIL de las comunas del sector oriente de Santiago.",
        offices=(
            _OfficeSpec("13120", _A, "+56222401500", "+56987654301",
                        "Av. Irarrázaval 3550, Ñuñoa"),
            _OfficeSpec("13122", _I, "+56222486200", "+56987654302",
                        "Av. Grecia 8735, Peñalolén"),
            _OfficeSpec("13113", _B, "+56222592100", "+56987654303",
                        "Av. Larraín 9750, La Reina"),
            _OfficeSpec("13118", _B, "+56223546800", "+56987654304",
                        "Av. Los Plátanos 3130, Macul"),
        ),
        coordinator="13120",
        previous_coordinator="13122",
    ),
    _NetworkSpec(
        name="Red OMIL Santiago Sur",
        short="sur",
        region_code="13",
        description="OMIL y plataforma laboral de las comunas del sector sur de Santiago.",
        offices=(
            _OfficeSpec("13110", _A, "+56225056700", "+56987654311",
                        "Av. Vicuña Mackenna 7210, La Florida"),
            _OfficeSpec("13201", _I, "+56227315400", "+56987654312",
                        "Av. Concha y Toro 1820, Puente Alto"),
            _OfficeSpec("13401", None, "+56229270300", "+56987654313",
                        "Eyzaguirre 450, San Bernardo", kind=OfficeKind.PLATAFORMA),
        ),
        coordinator="13110",
        previous_coordinator="13201",
    ),
    _NetworkSpec(
        name="Red OMIL Magallanes",
        short="magallanes",
        region_code="12",
        description="OMIL de la Región de Magallanes y de la Antártica Chilena.",
        offices=(
            _OfficeSpec("12101", _A, "+56612200800", "+56987654321",
                        "Plaza Muñoz Gamero 745, Punta Arenas"),
            _OfficeSpec("12401", _I, "+56612411500", "+56987654322",
                        "Av. Bulnes 285, Puerto Natales"),
            _OfficeSpec("12301", _B, "+56612580100", "+56987654323",
                        "Padre Mario Zavattaro 434, Porvenir"),
        ),
        coordinator="12101",
        previous_coordinator="12401",
    ),
)

# (comuna code of the office, local part of the email, full name) for staff who do not
# coordinate a network.
OFFICE_STAFF: tuple[tuple[str, str, str], ...] = (
    ("13122", "omil.penalolen", "Daniela Fuentes Araya"),
    ("13113", "omil.lareina", "Jorge Contreras Vidal"),
    ("13201", "omil.puentealto", "Marcela Sepúlveda Tapia"),
    ("13401", "plataforma.sanbernardo", "Felipe Muñoz Cárcamo"),
    ("12401", "omil.natales", "Valentina Oyarzún Barría"),
)

COORDINATOR_NAMES = {
    "oriente": "Carolina Rojas Espinoza",
    "sur": "Rodrigo Pérez Soto",
    "magallanes": "Francisca Vera Alvarado",
}


def slugify(text: str) -> str:
    """ASCII, lower case, words joined by hyphens: "OMIL Ñuñoa" → "omil-nunoa"."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")


def database_is_empty() -> bool:
    return db.session.scalar(select(Office.id).limit(1)) is None


def _office_name(spec: _OfficeSpec, comuna: Comuna) -> str:
    prefix = "Plataforma Laboral" if spec.kind == OfficeKind.PLATAFORMA else "OMIL"
    return f"{prefix} {comuna.name}"


def _make_office(spec: _OfficeSpec) -> Office:
    comuna = db.session.get(Comuna, spec.comuna_code)
    if comuna is None:
        raise RuntimeError(f"comuna {spec.comuna_code} missing: run `flask db upgrade` first")
    name = _office_name(spec, comuna)
    town = slugify(comuna.name).replace("-", "")
    return Office(
        name=name,
        slug=slugify(name),
        kind=spec.kind,
        category=spec.category,
        comuna_code=comuna.code,
        email=f"{'plataforma' if spec.kind == OfficeKind.PLATAFORMA else 'omil'}@{town}.example.cl",
        phone=spec.phone,
        whatsapp=spec.whatsapp,
        website=f"https://www.{town}.example.cl/empleo",
        address=spec.address,
        opening_hours=OPENING_HOURS,
        active=True,
    )


def _sence_unit(region_code: str | None) -> SenceUnit:
    query = select(SenceUnit)
    query = (query.where(SenceUnit.region_code.is_(None)) if region_code is None
             else query.where(SenceUnit.region_code == region_code))
    unit = db.session.scalar(query)
    if unit is None:
        raise RuntimeError("SENCE units missing: run `flask db upgrade` first")
    return unit


def seed_demo() -> list[tuple[str, str, str]]:
    """Load the demo in one transaction; returns (role, email, password) for each account.

    Raises DemoNotLoadedError, and changes nothing, if the database already has an office.
    """
    if not database_is_empty():
        raise DemoNotLoadedError("la base de datos no está vacía")
    year = current_year()
    credentials: list[tuple[str, str, str]] = []

    def account(description: str, local: str, name: str, role: Role, *,
                office: Office | None = None, sence_unit: SenceUnit | None = None) -> None:
        email = f"{local}@{DEMO_EMAIL_DOMAIN}"
        create_user(email=email, name=name, password=DEMO_PASSWORD, role=role, office=office,
                    sence_unit=sence_unit, commit=False)
        credentials.append((description, email, DEMO_PASSWORD))

    try:
        offices: dict[str, Office] = {}
        for net_spec in NETWORKS:
            network = Network(name=net_spec.name, slug=slugify(net_spec.name),
                              description=net_spec.description, active=True)
            region = db.session.get(Region, net_spec.region_code)
            if region is None:
                raise RuntimeError(f"region {net_spec.region_code} missing: run `flask db upgrade`")
            network.regions = [region]
            for office_spec in net_spec.offices:
                offices[office_spec.comuna_code] = _make_office(office_spec)
            network.offices = [offices[s.comuna_code] for s in net_spec.offices]
            db.session.add(network)
            db.session.flush()
            network.coordinations = [
                NetworkCoordination(office_id=offices[net_spec.coordinator].id, year=year),
                NetworkCoordination(office_id=offices[net_spec.previous_coordinator].id,
                                    year=year - 1),
            ]
            coordinator = offices[net_spec.coordinator]
            account(f"Coordinación {net_spec.name} {year} ({coordinator.name})",
                    f"coordinacion.{net_spec.short}", COORDINATOR_NAMES[net_spec.short],
                    Role.OFFICE_STAFF, office=coordinator)

        for comuna_code, local, name in OFFICE_STAFF:
            office = offices[comuna_code]
            account(f"Personal de {office.name}", local, name, Role.OFFICE_STAFF, office=office)

        account("SENCE Dirección Regional Metropolitana de Santiago", "sence.metropolitana",
                "Paula Castillo Navarro", Role.SENCE_REGIONAL, sence_unit=_sence_unit("13"))
        account("SENCE Dirección Regional de Magallanes", "sence.magallanes",
                "Cristián Bahamonde Ruiz", Role.SENCE_REGIONAL, sence_unit=_sence_unit("12"))
        account("SENCE Nacional (administración)", "sence.nacional", "Andrea Morales Figueroa",
                Role.SENCE_NATIONAL, sence_unit=_sence_unit(None))
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return credentials


def _print_credentials(rows: list[tuple[str, str, str]]) -> None:
    headers = ("Rol", "Correo", "Contraseña")
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: tuple[str, str, str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    click.echo(line(headers))
    click.echo("  ".join("-" * w for w in widths))
    for row in rows:
        click.echo(line(row))


def register_demo_cli(app: Flask) -> None:
    @app.cli.command("seed-demo")
    def seed_demo_command() -> None:
        """Load demo networks, offices and accounts into an empty database."""
        if current_app.config.get("PRODUCTION"):
            raise click.ClickException(
                "No se cargan datos de demostración con PUENTE_ENV=production.")
        try:
            rows = seed_demo()
        except DemoNotLoadedError:
            click.echo("Datos de demostración no cargados: la base de datos no está vacía "
                       "(ya tiene oficinas).")
            return
        n_offices = sum(len(n.offices) for n in NETWORKS)
        click.echo(f"Datos de demostración cargados: {len(NETWORKS)} redes, {n_offices} "
                   f"oficinas y {len(rows)} cuentas.\n")
        _print_credentials(rows)
        click.echo(
            "\nATENCIÓN: estas cuentas y su contraseña compartida son solo para pruebas "
            "locales. No las use en un servidor accesible desde internet ni con datos reales."
        )
