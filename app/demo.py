"""Demo data for a local installation: ``flask --app wsgi seed-demo`` (run by ``make run``).

Three networks in two regions (Metropolitana and Magallanes) on the real territory, ten
offices of every category, their coordinations for this year and last year, and one account
for each kind of staff, all sharing one local-only password. Outside any network, the OMIL
of Isla de Pascua (Easter Island time, Pacific/Easter) with one staff account.

Then each domain package plans its own demo through its services (``app.DOMAIN_DEMOS``;
``workshops/demo.py``: a month of upcoming workshops), and a few registrations are made:
a half-full session, a full one with a waiting list, walk-ins and attendance.

The command loads nothing on a database that already has an office, so it can run on every
start. The territory and accounts are one transaction; each workshop and registration is then
its own (the services commit), so a failure there leaves what was made before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import click
from flask import Flask, current_app
from sqlalchemy import select

from app.accounts.models import Role, User
from app.accounts.policy import can, coordinated_network_ids, current_year
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
from app.text import slugify

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

# Offices in no network (coordinated by nobody). Isla de Pascua is in the Valparaíso region:
# a network there would make the demo's networks span three regions instead of two.
UNNETWORKED_OFFICES: tuple[_OfficeSpec, ...] = (
    _OfficeSpec("05201", _B, "+56322100200", "+56987654331", "Atamu Tekena s/n, Hanga Roa"),
)

# (comuna code of the office, local part of the email, full name) for staff who do not
# coordinate a network.
OFFICE_STAFF: tuple[tuple[str, str, str], ...] = (
    ("13122", "omil.penalolen", "Daniela Fuentes Araya"),
    ("13113", "omil.lareina", "Jorge Contreras Vidal"),
    ("13201", "omil.puentealto", "Marcela Sepúlveda Tapia"),
    ("13401", "plataforma.sanbernardo", "Felipe Muñoz Cárcamo"),
    ("12401", "omil.natales", "Valentina Oyarzún Barría"),
    ("05201", "omil.isladepascua", "Mahina Pakarati Tuki"),
)

COORDINATOR_NAMES = {
    "oriente": "Carolina Rojas Espinoza",
    "sur": "Rodrigo Pérez Soto",
    "magallanes": "Francisca Vera Alvarado",
}


DEMO_FIRST = ("Camila", "Matías", "Valentina", "Benjamín", "Catalina", "Joaquín", "Fernanda", "Tomás",
              "Daniela", "Vicente", "Constanza", "Agustín", "Javiera", "Ignacio", "Francisca", "Diego")
DEMO_LAST = ("González Muñoz", "Rojas Díaz", "Pérez Soto", "Contreras Silva", "Martínez Sepúlveda",
             "Morales Fuentes", "Araya Espinoza", "Valenzuela Castillo", "Núñez Tapia", "Carrasco Reyes")


def _demo_people(start: int = 0):  # type: ignore[no-untyped-def]
    """Believable jobseekers with valid RUTs and reserved example addresses (``start`` keeps
    two lists apart)."""
    from stdnum.cl import rut

    from app.people.services import PersonInput

    n = start
    while True:
        n += 1
        body = str(15_000_000 + n * 7919)
        first, last = DEMO_FIRST[n % len(DEMO_FIRST)], DEMO_LAST[n % len(DEMO_LAST)]
        yield PersonInput(
            first_names=first, last_names=last, document_type="rut",
            document_number=f"{body}-{rut.calc_check_digit(body)}",
            email=f"persona{n}@example.cl", phone=f"+5699{n:07d}"[:12] if n % 3 == 0 else "",
            comuna_code="13120", preferred_channel="whatsapp" if n % 3 == 0 else "email",
            connectivity=("good", "mobile_only", "none")[n % 3], rural=n % 7 == 0,
            consent_data=True, opt_in_future=n % 2 == 0)


def _seed_registrations() -> int:
    """Registrations: a half-full session, a full one with a waiting list, walk-ins registered
    by a convening office, and attendance taken on a session moved into the past."""
    from app.activities.models import Activity, ActivitySession, ActivityStatus, SessionStatus
    from app.registration import services as registration
    from app.registration.models import Attendance, Source
    from app.timeutil import utcnow

    sessions = list(db.session.scalars(
        select(ActivitySession).join(Activity, Activity.id == ActivitySession.activity_id)
        .where(Activity.status == ActivityStatus.PUBLISHED, ActivitySession.status == SessionStatus.SCHEDULED,
               ActivitySession.starts_at > utcnow())
        .order_by(ActivitySession.starts_at)))
    by_activity: dict[int, ActivitySession] = {}
    for s in sessions:
        by_activity.setdefault(s.activity_id, s)
    picks = list(by_activity.values())
    if len(picks) < 4:
        return 0
    people = _demo_people()
    made = 0
    half, full, walk_in, past = picks[0], picks[1], picks[2], picks[3]
    for _n in range(min(half.capacity // 2, 15)):
        registration.register(half.id, next(people))
        made += 1
    full.capacity = 8
    db.session.commit()
    for _n in range(11):  # 8 seats, 3 waiting
        registration.register(full.id, next(people))
        made += 1
    convening = walk_in.activity.convening_offices or [walk_in.activity.host_office]
    office = convening[0]
    staff = db.session.scalar(select(User).where(User.office_id == office.id))
    for _n in range(3):
        registration.register(walk_in.id, next(people), source=Source.STAFF, office=office, staff_user=staff)
        made += 1
    regs = [registration.register(past.id, next(people)).registration for _n in range(6)]
    made += 6
    # Move this session a week into the past (demo only) so it has attendance to show.
    shift = (past.starts_at - utcnow()) + timedelta(days=7)
    past.starts_at -= shift
    past.ends_at -= shift
    db.session.commit()
    host_staff = db.session.scalar(select(User).where(User.office_id == past.activity.host_office_id))
    for n, reg in enumerate(regs):
        registration.mark_attendance(reg, Attendance.PRESENT if n < 4 else Attendance.ABSENT, actor=host_staff)
    return made


def _seed_campaigns(coordinator: User | None) -> int:
    """Outreach: contacts imported with consent, a network-wide campaign that went out on every
    channel (with registrations that came through its SMS and poster links and one by phone),
    and a draft being prepared."""
    from app.activities.models import Activity, ActivityStatus
    from app.dissemination import services as dissemination
    from app.dissemination.models import ChannelKind
    from app.people.models import Person
    from app.registration import services as registration
    from app.registration.models import Source
    from app.timeutil import utcnow

    if coordinator is None or coordinator.office is None:
        return 0
    office = coordinator.office
    activities = [a for a in db.session.scalars(select(Activity).where(Activity.status == ActivityStatus.PUBLISHED)
                                                .order_by(Activity.id))
                  if can(coordinator, "campaign.create", a) and dissemination.target_session(a) is not None]
    if len(activities) < 2:
        return 0
    people = _demo_people(start=1000)
    now = utcnow()
    for n in range(12):
        inp = next(people)
        db.session.add(Person(
            first_names=inp.first_names, last_names=inp.last_names, document_type=inp.document_type,
            document_number=inp.document_number, email=inp.email if n % 3 != 2 else None,
            phone=f"+5698{n:07d}" if n % 3 else None, comuna_code=("13120", "13122", "13119")[n % 3],
            preferred_channel=("email", "whatsapp", "sms")[n % 3], consent_data_at=now, consent_version="demo",
            consent_source="import", opt_in_future=True, opt_in_at=now, office_id=office.id,
            interests=("comercio, ventas", "construcción", "cuidado de personas")[n % 3]))
    db.session.commit()
    network_id = next(iter(coordinated_network_ids(coordinator)), None)
    first, second = activities[0], activities[1]
    campaign = dissemination.create_campaign(dissemination.CampaignInput(
        name=f"{first.title}: toda la red", activity_id=first.id,
        scope="network" if network_id else "office", network_id=network_id,
        message_short="{titulo}, {fecha} a las {hora} ({lugar}). Inscríbase gratis: {enlace}",
        message_long=("Le invitamos a «{titulo}», el {fecha} a las {hora} ({lugar}).\n\n"
                      "Es gratuito y con cupos limitados. Inscríbase aquí: {enlace}"),
        channels=[c.value for c in (ChannelKind.EMAIL, ChannelKind.WHATSAPP, ChannelKind.SMS, ChannelKind.FACEBOOK,
                                    ChannelKind.WHATSAPP_SHARE, ChannelKind.WEB, ChannelKind.POSTER,
                                    ChannelKind.RADIO)]), coordinator)
    dissemination.start_campaign(campaign, coordinator)
    for step_id in dissemination.due_steps():
        dissemination.queue_step(step_id)
    session = dissemination.target_session(first)
    assert session is not None
    for channel in (ChannelKind.SMS, ChannelKind.SMS, ChannelKind.POSTER):
        code = campaign.channel(channel)
        dissemination.count_click(code)
        registration.register(session.id, next(people), campaign_code=code.code)
    registration.register(session.id, next(people), source=Source.STAFF, office=office, staff_user=coordinator,
                          via="phone")
    dissemination.create_campaign(dissemination.CampaignInput(
        name=f"{second.title}: borrador", activity_id=second.id,
        message_short="{titulo}: {fecha}, {hora}. {enlace}", message_long="{titulo}: {fecha}, {hora}. {enlace}",
        channels=["email", "poster", "radio"]), coordinator)
    return 2


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


def _seed_domains(offices: dict[str, Office], networks: dict[str, Network], users: dict[str, User]) -> int:
    """Each domain package plans its own demo (``app.DOMAIN_DEMOS``), through its services."""
    import importlib

    from app import DOMAIN_DEMOS

    return sum(importlib.import_module(name).seed(offices, networks, users) for name in DOMAIN_DEMOS)


def seed_demo() -> list[tuple[str, str, str]]:
    """Load the demo in one transaction; returns (role, email, password) for each account.

    Raises DemoNotLoadedError, and changes nothing, if the database already has an office.
    """
    if not database_is_empty():
        raise DemoNotLoadedError("la base de datos no está vacía")
    year = current_year()
    credentials: list[tuple[str, str, str]] = []

    users: dict[str, User] = {}

    def account(description: str, local: str, name: str, role: Role, *,
                office: Office | None = None, sence_unit: SenceUnit | None = None) -> None:
        email = f"{local}@{DEMO_EMAIL_DOMAIN}"
        users[local] = create_user(email=email, name=name, password=DEMO_PASSWORD, role=role,
                                   office=office, sence_unit=sence_unit, commit=False)
        credentials.append((description, email, DEMO_PASSWORD))

    offices: dict[str, Office] = {}
    networks: dict[str, Network] = {}
    try:
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
            networks[net_spec.short] = network
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

        for office_spec in UNNETWORKED_OFFICES:
            offices[office_spec.comuna_code] = _make_office(office_spec)
            db.session.add(offices[office_spec.comuna_code])

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
    _seed_domains(offices, networks, users)
    _seed_registrations()
    _seed_campaigns(users.get("coordinacion.oriente"))
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


def _count_activities() -> int:
    from sqlalchemy import func

    from app.activities.models import Activity

    return int(db.session.scalar(select(func.count()).select_from(Activity)) or 0)


def register_demo_cli(app: Flask) -> None:
    @app.cli.command("seed-demo")
    def seed_demo_command() -> None:
        """Load demo networks, offices, accounts and workshops into an empty database."""
        if current_app.config.get("PRODUCTION"):
            raise click.ClickException(
                "No se cargan datos de demostración con PUENTE_ENV=production.")
        try:
            rows = seed_demo()
        except DemoNotLoadedError:
            click.echo("Datos de demostración no cargados: la base de datos no está vacía "
                       "(ya tiene oficinas).")
            return
        n_offices = sum(len(n.offices) for n in NETWORKS) + len(UNNETWORKED_OFFICES)
        click.echo(f"Datos de demostración cargados: {len(NETWORKS)} redes, {n_offices} "
                   f"oficinas, {len(rows)} cuentas y {_count_activities()} talleres.\n")
        _print_credentials(rows)
        click.echo(
            "\nATENCIÓN: estas cuentas y su contraseña compartida son solo para pruebas "
            "locales. No las use en un servidor accesible desde internet ni con datos reales."
        )
