"""Demo data for a local installation: ``flask --app wsgi seed-demo`` (run by ``make run``).

Three networks in two regions (Metropolitana and Magallanes) on the real territory, ten
offices of every category, their coordinations for this year and last year, and one account
for each kind of staff, all sharing one local-only password. Outside any network, the OMIL
of Isla de Pascua (Easter Island time, Pacific/Easter) with one staff account.

Then a month of upcoming job-readiness workshops, made through ``workshops.services`` (the
code path staff use) by the staff of each host office: remote, in-person and hybrid; single
sessions and weekly series; one shared by two networks; one in Punta Arenas time and one in
Easter Island time; most published, two drafts and one cancelled with its reason. Their dates
count from today (in Santiago), so the demo is always upcoming.

The command loads nothing on a database that already has an office, so it can run on every
start. The territory and accounts are one transaction; each workshop is then its own (the
services commit), so a failure there leaves the accounts and the workshops made before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import click
from flask import Flask, current_app
from sqlalchemy import select

from app.accounts.models import Role, User
from app.accounts.policy import current_year
from app.accounts.services import create_user
from app.activities.models import Modality
from app.activities.services import SessionInput
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


# --- workshops ------------------------------------------------------------------------------

MON, TUE, WED, THU, FRI = range(5)
DEMO_TZ = "America/Santiago"  # "today" for the demo's dates


@dataclass(frozen=True)
class _SessionSpec:
    """The first session (the first ``weekday`` at least ``after_days`` from today, at local
    ``start`` in the host comuna's zone), repeated ``weeks`` times a week apart."""

    weekday: int
    after_days: int
    start: time
    hours: int
    modality: Modality
    capacity: int
    weeks: int = 1
    venue_name: str | None = None
    address: str | None = None
    comuna_code: str | None = None
    join_url: str | None = None


@dataclass(frozen=True)
class _WorkshopSpec:
    title: str
    topic: str  # topic slug
    host: str  # comuna code of the host office
    author: str  # local part of the email of the staff member who plans it
    description: str
    audience: str
    session: _SessionSpec
    networks: tuple[str, ...] = ()  # network ``short`` names; empty: the host's networks
    convening: tuple[str, ...] = ()  # comuna codes of the convening offices
    facilitators: tuple[str, ...] = ()  # local parts of staff emails
    guests: tuple[str, ...] = ()
    subtitles: bool = False
    sign_language: bool = False
    materials_in_advance: bool = False
    publish: bool = True
    cancel_reason: str | None = None


_ZOOM = "https://us02web.zoom.us/j/8{:09d}"

WORKSHOPS: tuple[_WorkshopSpec, ...] = (
    _WorkshopSpec(
        title="Cómo enfrentar una entrevista de trabajo",
        topic="entrevista-de-trabajo", host="13120", author="coordinacion.oriente",
        description="Preguntas frecuentes, cómo presentar su experiencia y práctica de entrevistas "
                    "en parejas. Cuatro martes seguidos; puede asistir a todos o a los que necesite.",
        audience="Personas que buscan empleo y tienen entrevistas próximas.",
        session=_SessionSpec(TUE, 2, time(10, 0), 2, Modality.REMOTE, 100, weeks=4,
                             join_url=_ZOOM.format(12001)),
        convening=("13122", "13113", "13118"), facilitators=("coordinacion.oriente",),
        subtitles=True, materials_in_advance=True,
    ),
    _WorkshopSpec(
        title="Elabora tu currículum",
        topic="elaboracion-de-curriculum", host="13122", author="omil.penalolen",
        description="Armamos juntos un currículum claro y una carta de presentación. Traiga sus "
                    "certificados si los tiene; hay computadores disponibles.",
        audience="Personas que buscan su primer empleo o vuelven al trabajo.",
        session=_SessionSpec(THU, 3, time(15, 0), 2, Modality.IN_PERSON, 25,
                             venue_name="Sala de capacitación OMIL Peñalolén",
                             address="Av. Grecia 8735, Peñalolén", comuna_code="13122"),
        convening=("13113", "13118"), facilitators=("omil.penalolen",),
    ),
    _WorkshopSpec(
        title="Habilidades blandas para el trabajo",
        topic="habilidades-blandas", host="13110", author="coordinacion.sur",
        description="Comunicación, trabajo en equipo y manejo del tiempo, con ejercicios prácticos. "
                    "Se puede asistir en la sala o conectarse en línea.",
        audience="Personas que buscan empleo.",
        session=_SessionSpec(WED, 2, time(9, 30), 2, Modality.HYBRID, 60, weeks=3,
                             venue_name="Salón OMIL La Florida",
                             address="Av. Vicuña Mackenna 7210, La Florida", comuna_code="13110",
                             join_url="https://teams.microsoft.com/l/meetup-join/demo-habilidades"),
        convening=("13201", "13401"), facilitators=("coordinacion.sur",), sign_language=True,
    ),
    _WorkshopSpec(
        title="Búsqueda de empleo en línea",
        topic="busqueda-de-empleo-en-linea", host="13110", author="coordinacion.sur",
        description="Cómo usar la Bolsa Nacional de Empleo y otros portales, crear alertas y "
                    "postular desde el teléfono. Taller compartido por las redes Sur y Oriente.",
        audience="Personas que buscan empleo en la Región Metropolitana.",
        session=_SessionSpec(MON, 8, time(11, 0), 2, Modality.REMOTE, 300,
                             join_url="https://meet.google.com/abc-demo-xyz"),
        networks=("sur", "oriente"), convening=("13201", "13401", "13120", "13122"),
        facilitators=("coordinacion.sur", "coordinacion.oriente"), subtitles=True,
    ),
    _WorkshopSpec(
        title="Derechos laborales en Magallanes",
        topic="derechos-laborales", host="12101", author="coordinacion.magallanes",
        description="Contrato de trabajo, jornada, remuneraciones y finiquito, con una abogada "
                    "invitada de la Inspección del Trabajo.",
        audience="Personas que trabajan o buscan trabajo en la Región de Magallanes.",
        session=_SessionSpec(FRI, 4, time(10, 0), 2, Modality.REMOTE, 120, weeks=2,
                             join_url=_ZOOM.format(12002)),
        convening=("12401", "12301"), facilitators=("coordinacion.magallanes",),
        guests=("Abogada de la Inspección del Trabajo",), materials_in_advance=True,
    ),
    _WorkshopSpec(
        title="Emprender en Última Esperanza",
        topic="emprendimiento", host="12401", author="omil.natales",
        description="Ideas de negocio, formalización y fondos disponibles para emprender en la "
                    "provincia.",
        audience="Personas que quieren iniciar un emprendimiento.",
        session=_SessionSpec(THU, 10, time(16, 0), 2, Modality.IN_PERSON, 30,
                             venue_name="Salón municipal de Puerto Natales",
                             address="Av. Bulnes 285, Puerto Natales", comuna_code="12401"),
        facilitators=("omil.natales",), publish=False,
    ),
    _WorkshopSpec(
        title="Orientación laboral en Rapa Nui",
        topic="orientacion-laboral", host="05201", author="omil.isladepascua",
        description="Cómo buscar empleo en la isla y en el continente, y qué ofrece la OMIL. En la "
                    "sala de la oficina o en línea.",
        audience="Personas de Isla de Pascua que buscan empleo.",
        session=_SessionSpec(WED, 9, time(10, 0), 2, Modality.HYBRID, 40,
                             venue_name="Sala de la OMIL Isla de Pascua",
                             address="Atamu Tekena s/n, Hanga Roa", comuna_code="05201",
                             join_url=_ZOOM.format(12003)),
        facilitators=("omil.isladepascua",),
    ),
    _WorkshopSpec(
        title="Inclusión laboral: ajustes razonables",
        topic="inclusion-laboral", host="13113", author="omil.lareina",
        description="La Ley de Inclusión Laboral, ajustes razonables y cómo prepararse para una "
                    "postulación.",
        audience="Personas con discapacidad que buscan empleo, y sus familias.",
        session=_SessionSpec(FRI, 15, time(10, 0), 2, Modality.REMOTE, 80,
                             join_url=_ZOOM.format(12004)),
        convening=("13118",), facilitators=("omil.lareina",), subtitles=True, sign_language=True,
        publish=False,
    ),
    _WorkshopSpec(
        title="Orientación laboral en Puente Alto",
        topic="orientacion-laboral", host="13201", author="omil.puentealto",
        description="Qué ofrece la OMIL, cómo inscribirse en la Bolsa Nacional de Empleo y cómo "
                    "preparar la búsqueda.",
        audience="Personas que buscan empleo en Puente Alto.",
        session=_SessionSpec(TUE, 6, time(15, 0), 2, Modality.IN_PERSON, 20,
                             venue_name="Sala de capacitación OMIL Puente Alto",
                             address="Av. Concha y Toro 1820, Puente Alto", comuna_code="13201"),
        convening=("13110",), facilitators=("omil.puentealto",),
        cancel_reason="La sala de capacitación está en reparación; lo reprogramaremos pronto.",
    ),
)


def _first_date(today: date, weekday: int, after_days: int) -> date:
    day = today + timedelta(days=after_days)
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def _seed_workshops(offices: dict[str, Office], networks: dict[str, Network],
                    users: dict[str, User]) -> int:
    """Plan the demo workshops through the workshop services, as their staff would."""
    # The one place where ``app`` reaches into a domain package: a development tool, imported
    # only when the demo is loaded, so the demo runs the very code staff use.
    from workshops import services
    from workshops.models import Topic

    topics = {t.slug: t for t in db.session.scalars(select(Topic))}
    today = datetime.now(ZoneInfo(DEMO_TZ)).date()
    for spec in WORKSHOPS:
        host = offices[spec.host]
        actor = users[spec.author]
        data = services.WorkshopData(
            title=spec.title, description=spec.description, topic_id=topics[spec.topic].id,
            host_office_id=host.id, audience=spec.audience,
            network_ids=[networks[n].id for n in spec.networks],
            convening_office_ids=[offices[c].id for c in spec.convening],
            facilitator_user_ids=[users[f].id for f in spec.facilitators],
            guest_facilitators=list(spec.guests), offers_subtitles=spec.subtitles,
            offers_sign_language=spec.sign_language,
            offers_materials_in_advance=spec.materials_in_advance,
        )
        sess = spec.session
        start = datetime.combine(_first_date(today, sess.weekday, sess.after_days), sess.start)
        first = SessionInput(
            start_local=start, end_local=start + timedelta(hours=sess.hours), timezone=host.timezone,
            modality=sess.modality, capacity=sess.capacity, venue_name=sess.venue_name,
            address=sess.address, comuna_code=sess.comuna_code, join_url=sess.join_url)
        # The demo's plan is deliberate: any conflict warning is taken as confirmed.
        workshop = services.create_workshop(data, services.Schedule(first=first, count=sess.weeks),
                                            actor=actor, confirm_warnings=True, confirm_facilitator=True)
        if spec.publish or spec.cancel_reason:
            services.publish(workshop, actor=actor)
        if spec.cancel_reason:
            services.cancel(workshop, spec.cancel_reason, actor=actor)
    return len(WORKSHOPS)


DEMO_FIRST = ("Camila", "Matías", "Valentina", "Benjamín", "Catalina", "Joaquín", "Fernanda", "Tomás",
              "Daniela", "Vicente", "Constanza", "Agustín", "Javiera", "Ignacio", "Francisca", "Diego")
DEMO_LAST = ("González Muñoz", "Rojas Díaz", "Pérez Soto", "Contreras Silva", "Martínez Sepúlveda",
             "Morales Fuentes", "Araya Espinoza", "Valenzuela Castillo", "Núñez Tapia", "Carrasco Reyes")


def _demo_people():  # type: ignore[no-untyped-def]
    """Believable jobseekers with valid RUTs and reserved example addresses."""
    from stdnum.cl import rut

    from app.people.services import PersonInput

    n = 0
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
    _seed_workshops(offices, networks, users)
    _seed_registrations()
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
                   f"oficinas, {len(rows)} cuentas y {len(WORKSHOPS)} talleres.\n")
        _print_credentials(rows)
        click.echo(
            "\nATENCIÓN: estas cuentas y su contraseña compartida son solo para pruebas "
            "locales. No las use en un servidor accesible desde internet ni con datos reales."
        )
