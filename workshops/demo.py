"""Demo workshops, planned through the workshop services as their staff would plan them.

Called by ``app.demo.seed_demo`` through ``app.DOMAIN_DEMOS`` (the core never imports this
package directly): a month of upcoming workshops, remote, in person and hybrid; single sessions
and weekly series; one shared by two networks; one in Punta Arenas time and one in Easter
Island time; most published, two drafts and one cancelled with its reason. Dates count from
today in Santiago, so the demo is always upcoming.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.accounts.models import User
from app.activities.models import Modality
from app.activities.services import SessionInput
from app.extensions import db
from app.territory.models import Network, Office
from workshops import services
from workshops.models import Topic

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


def seed(offices: dict[str, Office], networks: dict[str, Network], users: dict[str, User]) -> int:
    """Plan the demo workshops through the workshop services, as their staff would."""
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
