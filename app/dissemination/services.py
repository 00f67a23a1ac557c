"""Campaigns: prepare, check, start, pause, resume, cancel; the audience; queueing a step.

Every state change is one transaction here, with its audit record. Queueing a step writes
one outbox message per person in batches of ``BATCH`` (flat memory, one commit per batch) and
moves the step's ``cursor``: a worker stopped in the middle resumes after the last person
queued, and the dedupe key ``campaign:<step>:p<person>`` makes a batch written twice count once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Select, and_, exists, func, or_, select, update

from app.accounts.models import User
from app.accounts.policy import can, coordinated_network_ids
from app.activities.models import Activity, ActivitySession, ActivityStatus, SessionStatus
from app.audit.services import record
from app.dbtypes import MAX_ROW_ID, insert_on_conflict
from app.dissemination.models import (
    PERSON_CHANNELS,
    Campaign,
    CampaignChannel,
    CampaignStatus,
    CampaignStep,
    ChannelKind,
    OfficeFacebookPage,
    StepKind,
    StepStatus,
)
from app.extensions import db
from app.outbox.models import OutboxMessage, OutboxStatus
from app.people.models import Channel, Person
from app.registration.models import Attendance, Registration, RegistrationStatus
from app.territory.data import comuna_codes
from app.territory.models import network_offices
from app.text import TextError, clean_line, multi_line, one_line
from app.timeutil import utcnow

BATCH = 1000
LEASE = timedelta(minutes=2)  # a half-queued step with no batch for this long is taken over
MAX_SHORT = 1000  # characters of the short message (an SMS is further limited by its segments)
MAX_LONG = 5000
MAX_NAME = 160
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: easy to read aloud and type
SHORT_CODE_CHANNELS = (ChannelKind.POSTER, ChannelKind.RADIO)

def channel_label(kind: str) -> str:
    labels = {
        "email": _("Correo"), "whatsapp": _("WhatsApp"), "sms": _("SMS"), "facebook": _("Facebook"),
        "whatsapp_share": _("WhatsApp (grupos)"), "web": _("Web (widget y feeds)"), "poster": _("Afiche (QR)"),
        "radio": _("Radio"), "phone": _("Teléfono"), "counter": _("Mesón de atención"),
    }
    return str(labels.get(kind, kind))


def step_label(kind: str) -> str:
    labels = {"announcement": _("Anuncio"), "seats_left": _("Quedan cupos"), "last_call": _("Última llamada")}
    return str(labels.get(kind, kind))


class CampaignError(ValueError):
    """What is wrong, field by field (Spanish sentences for the form); nothing was written."""

    def __init__(self, errors: dict[str, str], status: int = 400) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors
        self.status = status


@dataclass
class CampaignInput:
    name: str = ""
    activity_id: int | None = None
    session_id: int | None = None
    scope: str = "office"  # "office" (own contacts) or "network" (coordinator: the whole network)
    network_id: int | None = None
    message_short: str = ""
    message_long: str = ""
    channels: list[str] = field(default_factory=list)
    schedule: str = "now"  # "now", "at", "sequence"
    send_at: datetime | None = None  # naive, in the session's zone
    seats_left_at: datetime | None = None
    last_call_at: datetime | None = None
    audience_comunas: list[str] = field(default_factory=list)
    audience_attended: str = "any"
    audience_interests: str = ""
    exclude_registered: bool = True


# --- who and what ---------------------------------------------------------------------------------


def target_session(activity: Activity, session_id: int | None = None) -> ActivitySession | None:
    """The session a campaign announces: the chosen one, else the activity's next one."""
    if session_id is not None:
        return next((s for s in activity.sessions if s.id == session_id), None)
    now = utcnow()
    upcoming = [s for s in activity.sessions if s.status == SessionStatus.SCHEDULED and s.starts_at > now]
    return min(upcoming, key=lambda s: s.starts_at, default=None)


def registration_closes_at(session: ActivitySession) -> datetime:
    from app.registration.services import closes_at

    return closes_at(session)  # type: ignore[no-any-return]


def scope_office_ids(campaign: Campaign) -> list[int]:
    """The offices whose contacts the campaign reaches: its own, or every office of its network."""
    if campaign.network_id is not None:
        return list(db.session.scalars(select(network_offices.c.office_id).where(
            network_offices.c.network_id == campaign.network_id)))
    return [campaign.office_id]


def facebook_page(office_id: int) -> OfficeFacebookPage | None:
    return db.session.scalar(select(OfficeFacebookPage).where(OfficeFacebookPage.office_id == office_id))


def set_facebook_page(office: Any, page_id: str, token: str, *, actor: User) -> OfficeFacebookPage:
    """Check the page token with Facebook, then store it encrypted (one transaction with its
    audit record). ``CampaignError`` by field (``page_id``, ``token``) when it cannot be used."""
    from sqlalchemy.exc import IntegrityError

    from app.channels.errors import ChannelPermanentError, ChannelTransientError
    from app.channels.facebook import check_token
    from app.secrets import encrypt_text, mask

    page_id, token = page_id.strip(), token.strip()
    errors: dict[str, str] = {}
    if not page_id.isdecimal() or len(page_id) > 30:
        errors["page_id"] = _("El identificador de la página son solo números (lo ve en «Información» de la página).")
    if not token or len(token) > 1000 or any(c.isspace() for c in token):
        errors["token"] = _("Pegue el token de acceso de la página, sin espacios (hasta 1000 caracteres).")
    if errors:
        raise CampaignError(errors)
    try:
        info = check_token(page_id, token)
    except (ChannelPermanentError, ChannelTransientError) as exc:
        raise CampaignError({"token": str(exc)}) from exc
    page = facebook_page(office.id)
    if page is None:
        page = OfficeFacebookPage(office_id=office.id)
        db.session.add(page)
    page.page_id, page.page_name = page_id, info.name or None
    page.token_encrypted, page.token_hint = encrypt_text(token), mask(token)
    record("office.facebook_set", office, f"página {page_id}", actor=actor, office_id=office.id)
    try:
        db.session.commit()
    except IntegrityError as exc:  # a second save of the same office, at the same moment
        db.session.rollback()
        raise CampaignError({"token": _("La página se estaba guardando al mismo tiempo; revise y vuelva a "
                                        "intentarlo.")}, status=409) from exc
    return page


def remove_facebook_page(office: Any, *, actor: User) -> bool:
    """Forget the office's page and its token. False when there was none."""
    page = facebook_page(office.id)
    if page is None:
        return False
    db.session.delete(page)
    record("office.facebook_remove", office, "página de Facebook quitada", actor=actor, office_id=office.id)
    db.session.commit()
    return True


# --- checking what staff typed --------------------------------------------------------------------


def _local(value: datetime | None, tz: str) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(tz))
    return value.astimezone(ZoneInfo("UTC"))


def clean_campaign(inp: CampaignInput, user: User) -> dict[str, Any]:
    """Check everything and say everything wrong at once (``CampaignError``); nothing is written."""
    from app.channels.sms import check_length
    from app.dissemination.announcement import MessageTemplateError
    from app.dissemination.messages import sample_announcement, validate_template

    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    try:
        name = clean_line(inp.name)
    except TextError as exc:
        errors["name"], name = exc.message, one_line(inp.name)
    if "name" in errors:
        pass  # direction overrides or nothing visible, said above
    elif not name:
        errors["name"] = _("Dele un nombre a la campaña, para reconocerla en la lista.")
    elif len(name) > MAX_NAME:
        errors["name"] = _("El nombre puede tener hasta %(n)s caracteres.", n=MAX_NAME)
    out["name"] = name

    activity = db.session.get(Activity, inp.activity_id) if inp.activity_id else None
    if activity is None:
        errors["activity_id"] = _("Elija la actividad que quiere difundir.")
    elif not can(user, "campaign.create", activity):
        errors["activity_id"] = _("Su oficina no organiza ni convoca esta actividad: no puede difundirla.")
    elif activity.status in (ActivityStatus.CANCELLED, ActivityStatus.DONE):
        errors["activity_id"] = _("Esta actividad ya no recibe inscripciones: no se puede difundir.")
    out["activity"] = activity

    session: ActivitySession | None = None
    if activity is not None and "activity_id" not in errors:
        session = target_session(activity, inp.session_id)
        if inp.session_id is not None and session is None:
            errors["session_id"] = _("Esa sesión no es de esta actividad.")
        elif session is None:
            errors["session_id"] = _("La actividad no tiene sesiones por venir: no hay a qué invitar.")
        elif session.status == SessionStatus.CANCELLED or session.starts_at <= utcnow():
            errors["session_id"] = _("Esa sesión ya pasó o fue cancelada. Elija otra.")
    out["session_id"] = inp.session_id if session is not None and inp.session_id is not None else None
    out["session"] = session

    # Scope: an office's own contacts, or (coordinators) the whole network.
    out["network_id"] = None
    if inp.scope == "network":
        coordinated = coordinated_network_ids(user)
        if inp.network_id is None or inp.network_id not in coordinated:
            errors["network_id"] = _("Solo la oficina coordinadora de la red puede difundir a toda la red.")
        elif activity is not None and inp.network_id not in {n.id for n in activity.networks} | {
                row for row in db.session.scalars(select(network_offices.c.network_id).where(
                    network_offices.c.office_id == activity.host_office_id))}:
            errors["network_id"] = _("La actividad no es de esa red.")
        else:
            out["network_id"] = inp.network_id
    elif inp.scope != "office":
        errors["network_id"] = _("Elija a quién llega: los contactos de su oficina o los de toda la red.")
    if user.office_id is None:
        errors["activity_id"] = _("Su cuenta no pertenece a una oficina: pida a una oficina que prepare la campaña.")

    channels = [c for c in dict.fromkeys(inp.channels or [])]
    known = {c.value for c in ChannelKind}
    if not channels:
        errors["channels"] = _("Elija al menos un canal.")
    elif any(c not in known for c in channels):
        errors["channels"] = _("Elija canales de la lista.")
    out["channels"] = [ChannelKind(c) for c in channels if c in known]

    short = multi_line(inp.message_short)
    long = multi_line(inp.message_long)
    needs_long = any(c in (ChannelKind.EMAIL, ChannelKind.FACEBOOK) for c in out["channels"])
    if not short:
        errors["message_short"] = _("Escriba el mensaje corto (SMS, WhatsApp).")
    elif len(short) > MAX_SHORT:
        errors["message_short"] = _("El mensaje corto puede tener hasta %(n)s caracteres; tiene %(m)s.",
                                    n=MAX_SHORT, m=len(short))
    if needs_long and not long:
        errors["message_long"] = _("Escriba el mensaje largo: lo usan el correo y Facebook.")
    elif len(long) > MAX_LONG:
        errors["message_long"] = _("El mensaje largo puede tener hasta %(n)s caracteres; tiene %(m)s.",
                                   n=MAX_LONG, m=len(long))
    if session is not None:
        sample = sample_announcement(session)
        for key, text in (("message_short", short), ("message_long", long)):
            if text and key not in errors:
                try:
                    validate_template(text, sample)
                except MessageTemplateError as exc:
                    errors[key] = exc.message
        if short and "message_short" not in errors and ChannelKind.SMS in out["channels"]:
            from app.dissemination.messages import sample_unsubscribe_url, sms_text

            problem = check_length(sms_text(short, sample, unsubscribe_url=sample_unsubscribe_url()))
            if problem:
                errors["message_short"] = problem
    out["message_short"], out["message_long"] = short, long

    # The schedule, in the session's zone, in the future and before registration closes.
    steps: list[tuple[StepKind, datetime]] = []
    now = utcnow()
    if session is not None:
        tz = session.timezone
        closes = registration_closes_at(session)
        if inp.schedule == "now":
            steps = [(StepKind.ANNOUNCEMENT, now)]
        elif inp.schedule in ("at", "sequence"):
            wanted = [(StepKind.ANNOUNCEMENT, "send_at", inp.send_at)]
            if inp.schedule == "sequence":
                wanted += [(StepKind.SEATS_LEFT, "seats_left_at", inp.seats_left_at),
                           (StepKind.LAST_CALL, "last_call_at", inp.last_call_at)]
            previous: datetime | None = None
            for kind, key, value in wanted:
                when = _local(value, tz)
                if when is None:
                    if kind == StepKind.ANNOUNCEMENT or inp.schedule == "at":
                        errors[key] = _("Indique la fecha y hora del envío.")
                    continue
                if when < now - timedelta(minutes=1):
                    errors[key] = _("Esa fecha y hora ya pasó. Elija una futura.")
                elif when >= closes:
                    errors[key] = _("Debe ser antes del cierre de inscripciones (%(at)s).",
                                    at=closes.astimezone(ZoneInfo(tz)).strftime("%d-%m-%Y %H:%M"))
                elif previous is not None and when <= previous:
                    errors[key] = _("Cada envío de la secuencia debe ir después del anterior.")
                previous = when
                steps.append((kind, max(when, now)))
        else:
            errors["schedule"] = _("Elija cuándo enviar.")
    out["steps"] = steps

    comunas = [c.strip() for c in inp.audience_comunas if c and c.strip()]
    if any(c not in comuna_codes() for c in comunas):
        errors["audience_comunas"] = _("Elija comunas de la lista.")
    out["audience_comunas"] = ",".join(sorted(set(comunas)))
    if inp.audience_attended not in ("any", "yes", "no"):
        errors["audience_attended"] = _("Elija una opción de asistencia de la lista.")
    out["audience_attended"] = inp.audience_attended
    interests = ", ".join(w.strip() for w in (inp.audience_interests or "").split(",") if w.strip())
    if len(interests) > 300:
        errors["audience_interests"] = _("Los intereses pueden ocupar hasta 300 caracteres.")
    out["audience_interests"] = interests
    out["exclude_registered"] = bool(inp.exclude_registered)
    if errors:
        raise CampaignError(errors)
    return out


# --- the campaign's life ----------------------------------------------------------------------


def new_code(channel: ChannelKind) -> str:
    """A tracking code no other channel has: 5 characters for QR and radio (said aloud), 8 otherwise."""
    size = 5 if channel in SHORT_CODE_CHANNELS else 8
    for _attempt in range(20):
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(size))
        if db.session.scalar(select(CampaignChannel.id).where(CampaignChannel.code == code)) is None:
            return code
    raise RuntimeError("no tracking code available")  # pragma: no cover - 31^5 = 28 million


def _apply(campaign: Campaign, cleaned: dict[str, Any]) -> None:
    activity: Activity = cleaned["activity"]
    campaign.activity_id = activity.id
    campaign.session_id = cleaned["session_id"]
    campaign.network_id = cleaned["network_id"]
    for key in ("name", "message_short", "message_long", "audience_comunas", "audience_attended",
                "audience_interests", "exclude_registered"):
        setattr(campaign, key, cleaned[key])
    wanted = cleaned["channels"]
    for ch in list(campaign.channels):
        if ch.channel not in wanted:
            campaign.channels.remove(ch)
    have = {c.channel for c in campaign.channels}
    for kind in wanted:
        if kind not in have:
            campaign.channels.append(CampaignChannel(channel=kind, code=new_code(kind), clicks=0))
    steps = {s.kind: s for s in campaign.steps}
    for kind, when in cleaned["steps"]:
        if kind in steps:
            steps[kind].send_at = when
        else:
            campaign.steps.append(CampaignStep(kind=kind, send_at=when, status=StepStatus.SCHEDULED))
    for kind, step in steps.items():
        if kind not in {k for k, _w in cleaned["steps"]}:
            campaign.steps.remove(step)


def create_campaign(inp: CampaignInput, user: User) -> Campaign:
    """A draft campaign: nothing goes out until it is started."""
    cleaned = clean_campaign(inp, user)
    campaign = Campaign(office_id=user.office_id, created_by_id=user.id, status=CampaignStatus.DRAFT)
    db.session.add(campaign)
    _apply(campaign, cleaned)
    db.session.flush()
    record("campaign.create", campaign, f"actividad {campaign.activity_id}: {', '.join(campaign.channel_kinds)}",
           actor=user, office_id=campaign.office_id, network_id=campaign.network_id)
    db.session.commit()
    return campaign


def update_campaign(campaign: Campaign, inp: CampaignInput, user: User) -> Campaign:
    if campaign.status != CampaignStatus.DRAFT:
        raise CampaignError({"name": _("Solo se puede editar una campaña en borrador.")}, status=409)
    cleaned = clean_campaign(inp, user)
    _apply(campaign, cleaned)
    campaign.updated_at = utcnow()  # also when only its steps changed: "now" is judged by it
    record("campaign.update", campaign, "borrador editado", actor=user, office_id=campaign.office_id)
    db.session.commit()
    return campaign


def _is_now_step(campaign: Campaign, step: CampaignStep) -> bool:
    """A step due when the draft was last saved was "send now" (it goes out at the start):
    a chosen date and time had to be in the future when it was saved."""
    saved = campaign.updated_at or campaign.created_at
    return step.send_at <= saved + timedelta(seconds=90)


def schedule_of(campaign: Campaign) -> str:
    """How the draft was scheduled: "now", "at" or "sequence" (for the edit form)."""
    if len(campaign.steps) > 1:
        return "sequence"
    if campaign.steps and _is_now_step(campaign, campaign.steps[0]):
        return "now"
    return "at"


def start_campaign(campaign: Campaign, user: User) -> None:
    """Draft -> active: its steps go out at their time (an overdue "now" step at once)."""
    if campaign.status != CampaignStatus.DRAFT:
        raise CampaignError({"status": _("Esta campaña ya se inició.")}, status=409)
    activity = campaign.activity
    if activity.status != ActivityStatus.PUBLISHED:
        raise CampaignError({"status": _("Publique la actividad antes de difundirla: su página de inscripción "
                                         "aún no está abierta.")}, status=409)
    now = utcnow()
    for step in campaign.steps:
        if step.status == StepStatus.SCHEDULED and _is_now_step(campaign, step):
            step.send_at = max(step.send_at, now)
    late = [s for s in campaign.steps if s.send_at < now - timedelta(minutes=10)]
    if late:
        raise CampaignError({"status": _("Un envío programado ya pasó (%(step)s). Edite la campaña y elija "
                                         "otra hora.", step=step_label(late[0].kind))}, status=409)
    campaign.status = CampaignStatus.ACTIVE
    record("campaign.start", campaign, "iniciada", actor=user, office_id=campaign.office_id,
           network_id=campaign.network_id)
    db.session.commit()


def available_actions(campaign: Campaign) -> list[str]:
    """What may be done with the campaign in its state (the buttons of its page; each service
    below checks the same state again)."""
    return {
        CampaignStatus.DRAFT: ["edit", "start", "test", "cancel"],
        CampaignStatus.ACTIVE: ["pause", "test", "cancel"],
        CampaignStatus.PAUSED: ["resume", "test", "cancel"],
    }.get(campaign.status, [])


def is_unsubscribed(person: Person) -> bool:
    return person.opted_out_at is not None and not person.opt_in_future


def pause_campaign(campaign: Campaign, user: User) -> int:
    """Active -> paused: steps wait, and messages not sent yet are held. Returns how many."""
    if campaign.status != CampaignStatus.ACTIVE:
        raise CampaignError({"status": _("Solo se pausa una campaña en curso.")}, status=409)
    campaign.status = CampaignStatus.PAUSED
    held = db.session.execute(
        update(OutboxMessage).where(OutboxMessage.campaign_id == campaign.id,
                                    OutboxMessage.status == OutboxStatus.PENDING)
        .values(status=OutboxStatus.HELD).execution_options(synchronize_session=False)).rowcount
    record("campaign.pause", campaign, f"{held} mensajes retenidos", actor=user, office_id=campaign.office_id)
    db.session.commit()
    return int(held or 0)


def resume_campaign(campaign: Campaign, user: User) -> int:
    if campaign.status != CampaignStatus.PAUSED:
        raise CampaignError({"status": _("Solo se reanuda una campaña en pausa.")}, status=409)
    campaign.status = CampaignStatus.ACTIVE
    for step in campaign.steps:
        if step.status == StepStatus.QUEUING:
            step.started_at = None  # its run stopped at the pause: the next run takes it over
    released = db.session.execute(
        update(OutboxMessage).where(OutboxMessage.campaign_id == campaign.id,
                                    OutboxMessage.status == OutboxStatus.HELD)
        .values(status=OutboxStatus.PENDING, next_attempt_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount
    record("campaign.resume", campaign, f"{released} mensajes liberados", actor=user, office_id=campaign.office_id)
    db.session.commit()
    return int(released or 0)


def cancel_campaign(campaign: Campaign, user: User) -> None:
    if campaign.status in (CampaignStatus.CANCELLED, CampaignStatus.DONE):
        raise CampaignError({"status": _("Esta campaña ya terminó.")}, status=409)
    campaign.status = CampaignStatus.CANCELLED
    db.session.execute(
        update(OutboxMessage).where(OutboxMessage.campaign_id == campaign.id,
                                    OutboxMessage.status.in_((OutboxStatus.PENDING, OutboxStatus.HELD)))
        .values(status=OutboxStatus.CANCELLED).execution_options(synchronize_session=False))
    for step in campaign.steps:
        if step.status in (StepStatus.SCHEDULED, StepStatus.QUEUING):
            step.status = StepStatus.CANCELLED
    record("campaign.cancel", campaign, "cancelada", actor=user, office_id=campaign.office_id)
    db.session.commit()


# --- the audience -----------------------------------------------------------------------------


def audience_query(campaign: Campaign) -> Select[Any]:
    """(id, email, phone, preferred channel) of everyone the campaign may contact, by id.

    Only people who opted in to hear about future activities, with a consent record, not
    opted out, not erased, held by the campaign's offices; then the staff's filters."""
    q = (select(Person.id, Person.email, Person.phone, Person.preferred_channel)
         .where(Person.opt_in_future.is_(True), Person.opted_out_at.is_(None), Person.anonymised_at.is_(None),
                Person.consent_data_at.is_not(None), Person.office_id.in_(scope_office_ids(campaign) or [-1]))
         .order_by(Person.id))
    comunas = [c for c in campaign.audience_comunas.split(",") if c]
    if comunas:
        q = q.where(Person.comuna_code.in_(comunas))
    if campaign.audience_attended in ("yes", "no"):
        attended = exists().where(Registration.person_id == Person.id, Registration.attendance == Attendance.PRESENT)
        q = q.where(attended if campaign.audience_attended == "yes" else ~attended)
    words = [w.strip() for w in campaign.audience_interests.split(",") if w.strip()]
    if words:
        q = q.where(or_(*[Person.interests.ilike(f"%{w}%", escape="\\") for w in
                          (w.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") for w in words)]))
    if campaign.exclude_registered:
        q = q.where(~exists().where(
            Registration.person_id == Person.id, Registration.status != RegistrationStatus.CANCELLED,
            Registration.session_id.in_(select(ActivitySession.id).where(
                ActivitySession.activity_id == campaign.activity_id))))
    return q


def audience_size(campaign: Campaign) -> int:
    return int(db.session.scalar(select(func.count()).select_from(audience_query(campaign).order_by(None)
                                                                   .subquery())) or 0)


def choose_channel(preferred: Any, email: str | None, phone: str | None,
                   selected: Iterable[str]) -> tuple[str, str] | None:
    """The one channel a person hears on: their preferred one when the campaign uses it and
    there is an address; otherwise the first the campaign uses that can reach them (a
    "phone call" preference is reached by SMS or WhatsApp). None when none can."""
    chosen = [c for c in (ChannelKind.EMAIL, ChannelKind.WHATSAPP, ChannelKind.SMS) if c in set(selected)]
    address = {ChannelKind.EMAIL: email, ChannelKind.WHATSAPP: phone, ChannelKind.SMS: phone}
    pref = str(getattr(preferred, "value", preferred) or "")
    order: list[ChannelKind] = []
    if pref in (ChannelKind.EMAIL, ChannelKind.WHATSAPP, ChannelKind.SMS):
        order.append(ChannelKind(pref))
    elif pref == Channel.PHONE_CALL:
        order += [ChannelKind.SMS, ChannelKind.WHATSAPP]
    order += [ChannelKind.EMAIL, ChannelKind.WHATSAPP, ChannelKind.SMS]
    for kind in order:
        if kind in chosen and address[kind]:
            return kind.value, str(address[kind])
    return None


# --- queueing a step --------------------------------------------------------------------------


def _lease_expired(now: datetime) -> Any:
    """A half-queued step nobody is working on: its worker stopped (no batch for ``LEASE``) or
    its campaign was resumed after a pause."""
    return or_(CampaignStep.started_at.is_(None), CampaignStep.started_at < now - LEASE)


def due_steps(now: datetime | None = None) -> list[int]:
    """Steps to queue now: scheduled and due, or left half-queued by a stopped worker."""
    now = now or utcnow()
    return list(db.session.scalars(
        select(CampaignStep.id).join(Campaign)
        .where(Campaign.status == CampaignStatus.ACTIVE,
               or_(and_(CampaignStep.status == StepStatus.SCHEDULED, CampaignStep.send_at <= now),
                   and_(CampaignStep.status == StepStatus.QUEUING, _lease_expired(now))))
        .order_by(CampaignStep.send_at, CampaignStep.id)))


def _skip_reason(step: CampaignStep) -> str | None:
    campaign = step.campaign
    activity = campaign.activity
    if activity.status != ActivityStatus.PUBLISHED:
        return "la actividad ya no está publicada"
    session = target_session(activity, campaign.session_id)
    if session is None or session.status == SessionStatus.CANCELLED:
        return "no quedan sesiones por venir"
    if utcnow() >= registration_closes_at(session):
        return "las inscripciones ya cerraron"
    if step.kind == StepKind.SEATS_LEFT and session.confirmed_count >= session.capacity:
        return "no quedan cupos"
    return None


def queue_step(step_id: int, *, batch: int = BATCH) -> int:
    """Write the step's messages to the outbox, batch by batch. Returns how many were queued
    in this call. Safe to call twice, concurrently, or after a crash: see the module doc."""
    now = utcnow()
    # The claim is a lease: a scheduled step, or a half-queued one whose worker stopped. One
    # conditional UPDATE, so of two runs only one works on a step at a time.
    claimed = db.session.execute(
        update(CampaignStep).where(
            CampaignStep.id == step_id,
            or_(and_(CampaignStep.status == StepStatus.SCHEDULED, CampaignStep.send_at <= now),
                and_(CampaignStep.status == StepStatus.QUEUING, _lease_expired(now))))
        .values(status=StepStatus.QUEUING, started_at=now).execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    step = db.session.get(CampaignStep, step_id)
    if not claimed or step is None:
        return 0
    campaign = step.campaign
    if campaign.status != CampaignStatus.ACTIVE:
        return 0  # paused or cancelled meanwhile: resumed (or not) later
    if step.cursor == 0:  # nothing queued yet (also after a crash or pause before the first batch)
        reason = _skip_reason(step)
        if reason is not None:
            step.status, step.note, step.finished_at = StepStatus.SKIPPED, reason, utcnow()
            _finish_campaign_if_done(campaign)
            db.session.commit()
            return 0
        _queue_page_posts(step)
        db.session.commit()
    selected = [c for c in campaign.channel_kinds if c in PERSON_CHANNELS]
    total = 0
    if selected:
        base = audience_query(campaign)
        while True:
            db.session.refresh(campaign)
            if campaign.status != CampaignStatus.ACTIVE:
                return total  # paused or cancelled meanwhile: the cursor says where to resume
            rows = db.session.execute(base.where(Person.id > step.cursor).limit(batch)).all()
            if not rows:
                break
            inserted, skipped = _queue_batch(step, campaign, rows, selected)
            db.session.execute(
                update(CampaignStep).where(CampaignStep.id == step.id)
                .values(cursor=rows[-1].id, queued=CampaignStep.queued + inserted,
                        skipped=CampaignStep.skipped + skipped, started_at=utcnow())  # the lease, renewed
                .execution_options(synchronize_session=False))
            db.session.commit()
            db.session.refresh(step)
            total += inserted
            if len(rows) < batch:
                break
    step.status, step.finished_at = StepStatus.QUEUED, utcnow()
    _finish_campaign_if_done(campaign)
    db.session.commit()
    return total


def _queue_batch(step: CampaignStep, campaign: Campaign, rows: Sequence[Any],
                 selected: list[str]) -> tuple[int, int]:
    from app.outbox.services import insert_many

    now = utcnow()
    values: list[dict[str, Any]] = []
    skipped = 0
    subject = step_label(step.kind) + ": " + campaign.activity.title
    for row in rows:
        choice = choose_channel(row.preferred_channel, row.email, row.phone, selected)
        if choice is None:
            skipped += 1
            continue
        channel, address = choice
        values.append({
            "dedupe_key": f"campaign:{step.id}:p{row.id}", "channel": channel, "recipient": address,
            "recipient_name": None, "subject": subject[:300], "body_text": "", "body_html": None,
            "kind": f"campaign_{step.kind.value}", "status": OutboxStatus.PENDING.value, "attempts": 0,
            "next_attempt_at": now, "created_at": now, "office_id": campaign.office_id,
            "renderer": "campaign_message", "campaign_id": campaign.id,
            "render_context": f'{{"channel":"{channel}","person":{row.id},"step":{step.id}}}',
        })
    return insert_many(values), skipped


def _queue_page_posts(step: CampaignStep) -> None:
    """The announcement also posts once on the office's Facebook page."""
    from app.outbox.services import enqueue

    campaign = step.campaign
    if step.kind != StepKind.ANNOUNCEMENT or ChannelKind.FACEBOOK not in campaign.channel_kinds:
        return
    page = facebook_page(campaign.office_id)
    enqueue(dedupe_key=f"campaign:{campaign.id}:facebook", channel="facebook",
            to=page.page_id if page is not None else "(página no configurada)",
            to_name=(page.page_name if page is not None else None), kind="campaign_facebook",
            subject=campaign.activity.title, office_id=campaign.office_id, renderer="campaign_facebook",
            context={"campaign": campaign.id}, campaign_id=campaign.id)


def _finish_campaign_if_done(campaign: Campaign) -> None:
    """Done when every step went out (or was skipped) and no message of it waits any more:
    until then it can still be paused."""
    if campaign.status != CampaignStatus.ACTIVE:
        return
    if not all(s.status in (StepStatus.QUEUED, StepStatus.SKIPPED, StepStatus.CANCELLED) for s in campaign.steps):
        return
    waiting = db.session.scalar(select(OutboxMessage.id).where(
        OutboxMessage.campaign_id == campaign.id,
        OutboxMessage.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.HELD))).limit(1))
    if waiting is None:
        campaign.status = CampaignStatus.DONE


def finish_done_campaigns() -> int:
    """Mark active campaigns whose every step and message has gone out as done."""
    campaigns = list(db.session.scalars(select(Campaign).where(Campaign.status == CampaignStatus.ACTIVE)))
    done = 0
    for campaign in campaigns:
        _finish_campaign_if_done(campaign)
        done += campaign.status == CampaignStatus.DONE
    db.session.commit()
    return done


# --- tracked links and unsubscribing ------------------------------------------------------------


def channel_by_code(code: str) -> CampaignChannel | None:
    code = (code or "").strip().upper()
    if not code or len(code) > 16 or any(ch not in CODE_ALPHABET for ch in code):
        return None
    return db.session.scalar(select(CampaignChannel).where(CampaignChannel.code == code))


def web_codes(activity_ids: Sequence[int]) -> dict[int, str]:
    """For each activity, the web channel's code of its latest running campaign (one query)."""
    rows = db.session.execute(
        select(Campaign.activity_id, CampaignChannel.code).join(Campaign)
        .where(Campaign.activity_id.in_(list(activity_ids) or [-1]), CampaignChannel.channel == ChannelKind.WEB,
               Campaign.status.in_((CampaignStatus.ACTIVE, CampaignStatus.DONE)))
        .order_by(Campaign.id))
    return {activity_id: code for activity_id, code in rows}  # the latest campaign wins


def web_links_version() -> str:
    """Changes whenever a campaign with a web channel starts, stops or ends."""
    row = db.session.execute(
        select(func.count(), func.max(Campaign.updated_at)).select_from(Campaign).join(CampaignChannel)
        .where(CampaignChannel.channel == ChannelKind.WEB)).one()
    return f"{row[0]}:{row[1]}"


def count_click(channel: CampaignChannel) -> None:
    """One visit of the channel's link: its total and today's count, in one transaction (an
    upsert, so concurrent visits add up)."""
    from app.dissemination.models import CampaignClickDay

    db.session.execute(update(CampaignChannel).where(CampaignChannel.id == channel.id)
                       .values(clicks=CampaignChannel.clicks + 1).execution_options(synchronize_session=False))
    table = CampaignClickDay.__table__
    stmt = insert_on_conflict(table).values(channel_id=channel.id, day=utcnow().date(), clicks=1)
    db.session.execute(stmt.on_conflict_do_update(index_elements=[table.c.channel_id, table.c.day],
                                                  set_={"clicks": table.c.clicks + 1}))
    db.session.commit()


def clicks_by_channel(office_ids: Sequence[int], since: datetime) -> list[tuple[str, str, int]]:
    """(month "YYYY-MM", channel, visits of tracked links) for the given offices' campaigns."""
    from app.dissemination.models import CampaignClickDay

    month = func.substr(func.cast(CampaignClickDay.day, db.String), 1, 7)
    q = (select(month, CampaignChannel.channel, func.sum(CampaignClickDay.clicks))
         .join(CampaignChannel, CampaignChannel.id == CampaignClickDay.channel_id)
         .join(Campaign, Campaign.id == CampaignChannel.campaign_id)
         .where(CampaignClickDay.day >= since.date(), Campaign.office_id.in_(list(office_ids) or [-1]))
         .group_by(month, CampaignChannel.channel).order_by(month, CampaignChannel.channel))
    return [(str(m), str(getattr(c, "value", c)), int(n or 0)) for m, c, n in db.session.execute(q)]


def _unsubscribe_mac(person_id: int) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    digest = hmac.new(key, f"unsubscribe:{person_id}".encode(), hashlib.sha256).digest()
    return "".join(CODE_ALPHABET[b % len(CODE_ALPHABET)] for b in digest[:12])


def unsubscribe_token(person_id: int) -> str:
    """``<id>-<12 characters>``: short enough for an SMS, not guessable, never expires."""
    return f"{person_id}-{_unsubscribe_mac(person_id)}"


def person_from_unsubscribe_token(token: str) -> Person | None:
    head, _sep, mac = (token or "").partition("-")
    if not head.isdecimal() or len(head) > 10 or int(head) > MAX_ROW_ID:
        return None
    if not hmac.compare_digest(mac.encode(), _unsubscribe_mac(int(head)).encode()):
        return None
    person = db.session.get(Person, int(head))
    return person if person is not None and person.anonymised_at is None else None


def unsubscribe(person: Person) -> bool:
    """Opt out of announcements on every channel: messages not sent yet are voided. Returns
    False when the person had already opted out (nothing changes)."""
    if is_unsubscribed(person):
        return False
    person.opt_in_future = False
    person.opted_out_at = utcnow()
    db.session.execute(
        update(OutboxMessage).where(OutboxMessage.campaign_id.is_not(None),
                                    OutboxMessage.status.in_((OutboxStatus.PENDING, OutboxStatus.HELD)),
                                    OutboxMessage.dedupe_key.like(f"campaign:%:p{person.id}"))
        .values(status=OutboxStatus.CANCELLED, last_error="la persona se dio de baja")
        .execution_options(synchronize_session=False))
    record("person.unsubscribe", person, "baja de avisos por su enlace", office_id=person.office_id)
    db.session.commit()
    return True


# --- the report -------------------------------------------------------------------------------


@dataclass
class ChannelReport:
    channel: str
    label: str
    code: str
    queued: int = 0
    sent: int = 0
    delivered: int = 0
    failed: int = 0
    pending: int = 0
    clicks: int = 0
    registrations: int = 0


def campaign_report(campaign: Campaign) -> list[ChannelReport]:
    """Per channel: messages queued, sent (accepted by the provider), delivered (the provider's
    receipt, where it sends one), failed, still to go;
    clicks on its tracked link; registrations that arrived through it."""
    rows = {c.channel.value: ChannelReport(c.channel.value, channel_label(c.channel.value), c.code, clicks=c.clicks)
            for c in campaign.channels}
    delivered = func.count(OutboxMessage.delivered_at)
    for channel, status, n, n_delivered in db.session.execute(
            select(OutboxMessage.channel, OutboxMessage.status, func.count(), delivered)
            .where(OutboxMessage.campaign_id == campaign.id).group_by(OutboxMessage.channel, OutboxMessage.status)):
        row = rows.get(channel)
        if row is None:
            continue
        row.queued += n
        row.delivered += n_delivered
        if status == OutboxStatus.SENT:
            row.sent += n
        elif status in (OutboxStatus.FAILED, OutboxStatus.UNKNOWN):
            row.failed += n
        elif status in (OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.HELD):
            row.pending += n
    by_id = {c.id: c.channel.value for c in campaign.channels}
    for channel_id, n in db.session.execute(
            select(Registration.campaign_channel_id, func.count())
            .where(Registration.campaign_channel_id.in_(list(by_id) or [-1]),
                   Registration.status != RegistrationStatus.CANCELLED)
            .group_by(Registration.campaign_channel_id)):
        rows[by_id[channel_id]].registrations += n
    return list(rows.values())


def registrations_by_channel(office_ids: Sequence[int], since: datetime) -> list[tuple[str, str, int]]:
    """(month "YYYY-MM", how they came, registrations) for registrations made through the
    given offices' campaigns or registered by their staff (phone, counter), since ``since``."""
    from app.registration.models import Source

    month = func.substr(func.cast(Registration.created_at, db.String), 1, 7)
    via = func.coalesce(Registration.via, Registration.source)
    campaign_office = select(Campaign.office_id).join(CampaignChannel).where(
        CampaignChannel.id == Registration.campaign_channel_id).scalar_subquery()
    q = (select(month.label("month"), via.label("how"), func.count())
         .where(Registration.created_at >= since, Registration.status != RegistrationStatus.CANCELLED,
                or_(campaign_office.in_(list(office_ids) or [-1]),
                    and_(Registration.source == Source.STAFF, Registration.office_id.in_(list(office_ids) or [-1]))))
         .group_by(month, via).order_by(month, via))
    return [(str(m), str(v), int(n)) for m, v, n in db.session.execute(q)]


def attribute(reg: Registration, code: str | None) -> None:
    """Record the campaign channel a registration came through (in the caller's transaction)."""
    if not code:
        return
    channel = channel_by_code(code)
    if channel is None:
        return
    reg.campaign_channel_id = channel.id
    reg.via = channel.channel.value


def send_test(campaign: Campaign, user: User) -> bool:
    """Email the campaign to the staff member themself: the email version, and the short text
    the SMS and WhatsApp contacts will read. Not counted in the report. False without an email."""
    from app.dissemination.messages import announcement, email_parts, sms_text
    from app.outbox.services import enqueue_email

    if not user.email or not campaign.channels:
        return False
    channel = campaign.channel(ChannelKind.EMAIL) or campaign.channels[0]
    a = announcement(campaign, channel)
    sample = _("(su enlace personal para darse de baja)")
    subject, text, html = email_parts(campaign, a, kind=StepKind.ANNOUNCEMENT, unsubscribe=sample)
    short = sms_text(campaign.message_short, a, unsubscribe_url=sample)
    text += "\n\n" + _("Versión corta (SMS, WhatsApp):") + "\n" + short
    enqueue_email(dedupe_key=f"campaign-test:{campaign.id}:{user.id}:{utcnow():%Y%m%dT%H%M%S%f}", to=user.email,
                  to_name=user.name, subject=_("[Prueba] %(subject)s", subject=subject), body_text=text,
                  body_html=html, kind="campaign_test", office_id=campaign.office_id)
    record("campaign.test", campaign, "prueba enviada a quien la preparó", actor=user, office_id=campaign.office_id)
    db.session.commit()
    return True
