"""What an activity does: sessions, series, publishing, changes and cancellations.

Functions here add to the current transaction and raise ``ActivityError``; the domain service
that calls them (workshops, fairs) commits once. Times come in as the wall-clock time of the
session's zone and are stored in UTC; a wall-clock time that does not exist (the hour skipped
when clocks go forward) is refused and an ambiguous one (the hour repeated when they go back)
takes its first occurrence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from dateutil.rrule import WEEKLY, rrule
from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select

from app.activities.models import (
    Activity,
    ActivityChange,
    ActivityKind,
    ActivitySeries,
    ActivitySession,
    ActivityStatus,
    Modality,
    SessionStatus,
)
from app.activities.signals import activity_cancelled, activity_published, session_changed
from app.extensions import db
from app.territory.models import Comuna
from app.text import TextError, clean_line, multi_line, slugify
from app.timeutil import utcnow

MAX_CAPACITY = 100_000
MAX_SESSION_HOURS = 12
MAX_SERIES = 52


class ActivityError(ValueError):
    """A refusal the user can fix. ``field`` names the form field it belongs to."""

    def __init__(self, message: str, field: str | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status


@dataclass
class SessionInput:
    """A session as staff describe it: local wall-clock times in ``timezone``."""

    start_local: datetime  # naive
    end_local: datetime  # naive
    timezone: str
    modality: Modality
    capacity: int
    venue_name: str | None = None
    address: str | None = None
    comuna_code: str | None = None
    join_url: str | None = None
    errors: dict[str, str] = field(default_factory=dict)


def to_utc(local: datetime, tz: str) -> datetime:
    """A naive wall-clock time in ``tz`` as aware UTC; refuses times skipped by DST."""
    if local.tzinfo is not None:
        return local.astimezone(UTC)
    zone = ZoneInfo(tz)
    aware = local.replace(tzinfo=zone, fold=0)
    utc = aware.astimezone(UTC)
    if utc.astimezone(zone).replace(tzinfo=None) != local:
        raise ActivityError(
            _("Esa hora no existe ese día en %(tz)s por el cambio de horario. Elija otra hora.", tz=tz),
            field="start")
    return utc


def check_https_url(url: str | None, field_name: str = "join_url") -> str | None:
    if url is None or not url.strip():
        return None
    url = url.strip()
    parts = urlsplit(url)
    if len(url) > 1000:
        raise ActivityError(_("El enlace es demasiado largo."), field=field_name)
    if parts.scheme != "https" or not parts.netloc or " " in url:
        raise ActivityError(
            _("El enlace para conectarse debe ser una dirección https:// completa "
              "(por ejemplo, https://us02web.zoom.us/j/…)."), field=field_name)
    return url


def line_field(value: str | None, field: str) -> str:
    """A one-line text (title, venue, address) cleaned by ``app.text.clean_line``; what it
    refuses (direction overrides, nothing visible) is an ActivityError on ``field``."""
    try:
        return clean_line(value)
    except TextError as exc:
        raise ActivityError(exc.message, field=field) from None


def validate_session_input(inp: SessionInput, *, allow_past: bool = True) -> tuple[datetime, datetime]:
    """Check a session's fields; returns (starts_at, ends_at) in UTC or raises ActivityError."""
    inp.venue_name = line_field(inp.venue_name, "venue_name") or None
    inp.address = line_field(inp.address, "address") or None
    try:
        ZoneInfo(inp.timezone)
    except (KeyError, ValueError) as exc:
        raise ActivityError(_("Zona horaria desconocida."), field="timezone") from exc
    starts_at = to_utc(inp.start_local, inp.timezone)
    try:
        ends_at = to_utc(inp.end_local, inp.timezone)
    except ActivityError as err:
        raise ActivityError(err.message, field="end") from err
    if ends_at <= starts_at:
        raise ActivityError(_("El término debe ser después del inicio."), field="end")
    if ends_at - starts_at > timedelta(hours=MAX_SESSION_HOURS):
        raise ActivityError(_("Una sesión no puede durar más de %(h)s horas.", h=MAX_SESSION_HOURS), field="end")
    if not allow_past and starts_at <= utcnow():
        raise ActivityError(_("La sesión no puede comenzar en el pasado."), field="start")
    if inp.capacity is None or inp.capacity <= 0:
        raise ActivityError(_("El cupo debe ser un número mayor que cero."), field="capacity")
    if inp.capacity > MAX_CAPACITY:
        raise ActivityError(_("El cupo no puede superar %(n)s personas.", n=MAX_CAPACITY), field="capacity")
    if inp.modality in (Modality.IN_PERSON, Modality.HYBRID):
        if not (inp.venue_name or "").strip():
            raise ActivityError(_("Indique el lugar de la sesión presencial."), field="venue_name")
        if not (inp.address or "").strip():
            raise ActivityError(_("Indique la dirección de la sesión presencial."), field="address")
        if not inp.comuna_code or db.session.get(Comuna, inp.comuna_code) is None:
            raise ActivityError(_("Elija una comuna de la lista."), field="comuna_code")
    elif inp.comuna_code and db.session.get(Comuna, inp.comuna_code) is None:
        raise ActivityError(_("Elija una comuna de la lista."), field="comuna_code")
    inp.join_url = check_https_url(inp.join_url)
    for name, limit in (("venue_name", 200), ("address", 300)):
        if len(getattr(inp, name) or "") > limit:
            raise ActivityError(_("El texto es demasiado largo (máximo %(n)s caracteres).", n=limit), field=name)
    return starts_at, ends_at


def unique_slug(title: str, kind: ActivityKind, exclude_id: int | None = None) -> str:
    base = slugify(title)
    candidate, n = base, 1
    while True:
        q = select(Activity.id).where(Activity.slug == candidate)
        if exclude_id is not None:
            q = q.where(Activity.id != exclude_id)
        if db.session.scalar(q) is None:
            return candidate
        n += 1
        candidate = f"{base}-{n}"


def new_activity(*, kind: ActivityKind, title: str, description: str, host_office: Any,
                 networks: list[Any], convening_offices: list[Any], created_by: Any) -> Activity:
    title = line_field(title, "title")
    description = multi_line(description)
    if not title:
        raise ActivityError(_("Escriba un título."), field="title")
    if len(title) > 200:
        raise ActivityError(_("El título no puede superar 200 caracteres."), field="title")
    if len(description or "") > 20_000:
        raise ActivityError(_("La descripción es demasiado larga."), field="description")
    activity = Activity(kind=kind, title=title, slug=unique_slug(title, kind), description=description or "",
                        host_office=host_office, status=ActivityStatus.DRAFT,
                        created_by_id=getattr(created_by, "id", None))
    activity.networks = list(networks)
    activity.convening_offices = [o for o in convening_offices if o.id != host_office.id]
    db.session.add(activity)
    return activity


def _new_uid(activity: Activity) -> str:
    import secrets

    return f"{activity.kind.value}-{secrets.token_hex(10)}@puentelaboral"


def add_session(activity: Activity, inp: SessionInput, *, series: ActivitySeries | None = None,
                allow_past: bool = True) -> ActivitySession:
    starts_at, ends_at = validate_session_input(inp, allow_past=allow_past)
    session = ActivitySession(
        activity=activity, series_id=series.id if series else None, uid=_new_uid(activity),
        starts_at=starts_at, ends_at=ends_at, timezone=inp.timezone, modality=inp.modality,
        capacity=inp.capacity, venue_name=(inp.venue_name or "").strip() or None,
        address=(inp.address or "").strip() or None, comuna_code=inp.comuna_code or None,
        join_provider="link", join_url=inp.join_url, status=SessionStatus.SCHEDULED, sequence=0,
    )
    db.session.add(session)
    return session


def weekly_dates(first: date, count: int, interval: int = 1) -> list[date]:
    if count < 1 or count > MAX_SERIES:
        raise ActivityError(_("Una serie tiene entre 1 y %(n)s sesiones.", n=MAX_SERIES), field="count")
    if interval < 1 or interval > 4:
        raise ActivityError(_("La frecuencia debe ser cada 1 a 4 semanas."), field="interval")
    start = datetime(first.year, first.month, first.day)
    return [d.date() for d in rrule(WEEKLY, dtstart=start, count=count, interval=interval)]


def add_weekly_series(activity: Activity, first: SessionInput, *, count: int, interval: int = 1,
                      allow_past: bool = True) -> tuple[ActivitySeries, list[ActivitySession]]:
    """"Every <weekday> for N weeks": one session per date, same wall-clock time in its zone
    (so a series crossing a DST change keeps its local hour)."""
    dates = weekly_dates(first.start_local.date(), count, interval)
    duration = first.end_local - first.start_local
    db.session.flush()  # the activity needs its id
    series = ActivitySeries(activity_id=activity.id, rrule=f"FREQ=WEEKLY;INTERVAL={interval};COUNT={count}")
    db.session.add(series)
    db.session.flush()
    sessions = []
    for d in dates:
        start = datetime.combine(d, first.start_local.time())
        inp = SessionInput(start_local=start, end_local=start + duration, timezone=first.timezone,
                           modality=first.modality, capacity=first.capacity, venue_name=first.venue_name,
                           address=first.address, comuna_code=first.comuna_code, join_url=first.join_url)
        sessions.append(add_session(activity, inp, series=series, allow_past=allow_past))
    return series, sessions


def _describe_place(s: ActivitySession) -> str:
    parts = [s.modality.value]
    if s.venue_name:
        parts.append(s.venue_name)
    if s.address:
        parts.append(s.address)
    if s.comuna_code:
        parts.append(s.comuna_code)
    return " · ".join(parts)


def _describe_time(s: ActivitySession) -> str:
    return f"{s.local_start:%Y-%m-%d %H:%M}–{s.local_end:%H:%M} {s.timezone}"


def update_session(session: ActivitySession, inp: SessionInput, *, actor: Any,
                   detach: bool = True) -> list[ActivityChange]:
    """Change a session. On a published activity, changes of time, place or link are recorded,
    raise the iCalendar SEQUENCE and are announced (``session_changed``)."""
    if session.status == SessionStatus.CANCELLED:
        raise ActivityError(_("La sesión está cancelada y no se puede modificar."), status=409)
    before_time, before_place, before_link = _describe_time(session), _describe_place(session), session.join_url
    starts_at, ends_at = validate_session_input(inp, allow_past=True)
    session.starts_at, session.ends_at, session.timezone = starts_at, ends_at, inp.timezone
    session.modality, session.capacity = inp.modality, inp.capacity
    session.venue_name = (inp.venue_name or "").strip() or None
    session.address = (inp.address or "").strip() or None
    session.comuna_code = inp.comuna_code or None
    if session.join_provider == "link":
        session.join_url = inp.join_url
    if detach and session.series_id is not None:
        session.detached = True
    changes = []
    for kind, before, after in (("time", before_time, _describe_time(session)),
                                ("place", before_place, _describe_place(session)),
                                ("link", before_link or "", session.join_url or "")):
        if before != after:
            changes.append((kind, before, after))
    if not changes:
        return []
    session.sequence += 1
    recorded = []
    if session.activity.status == ActivityStatus.PUBLISHED:
        for kind, before, after in changes:
            change = ActivityChange(activity_id=session.activity_id, session_id=session.id, kind=kind,
                                    before=before if kind != "link" else "", after=after if kind != "link" else "",
                                    user_id=getattr(actor, "id", None))
            db.session.add(change)
            recorded.append(change)
        db.session.flush()
        session_changed.send(session, changes=recorded, actor=actor)
    return recorded


def series_sessions(series_id: int, *, upcoming_only: bool = True,
                    from_session: ActivitySession | None = None) -> list[ActivitySession]:
    """The scheduled sessions of a series, in order. ``from_session``: that session and the
    ones after it (the session itself even if it is already past)."""
    q = select(ActivitySession).where(ActivitySession.series_id == series_id,
                                      ActivitySession.status == SessionStatus.SCHEDULED)
    later = []
    if upcoming_only:
        later.append(ActivitySession.starts_at > utcnow())
    if from_session is not None:
        later.append(ActivitySession.starts_at >= from_session.starts_at)
        q = q.where(or_(and_(*later), ActivitySession.id == from_session.id))
    elif later:
        q = q.where(*later)
    return list(db.session.scalars(q.order_by(ActivitySession.starts_at)))


def series_template(s: ActivitySession, template: SessionInput) -> SessionInput:
    """What ``template`` makes of one session of a series: its own date, the template's rest."""
    duration = template.end_local - template.start_local
    start = datetime.combine(s.local_start.date(), template.start_local.time())
    return SessionInput(start_local=start, end_local=start + duration, timezone=template.timezone,
                        modality=template.modality, capacity=template.capacity,
                        venue_name=template.venue_name, address=template.address,
                        comuna_code=template.comuna_code, join_url=template.join_url)


def update_series(series_id: int, template: SessionInput, *, actor: Any,
                  include_detached: bool = False,
                  from_session: ActivitySession | None = None) -> list[ActivityChange]:
    """Apply a template to every upcoming session of a series (or to ``from_session`` and the
    ones after it): each keeps its date and takes the template's local times, modality,
    capacity, place and link. Sessions edited apart are skipped unless ``include_detached``;
    ``from_session`` itself is always changed and rejoins the series."""
    changes: list[ActivityChange] = []
    for s in series_sessions(series_id, from_session=from_session):
        is_origin = from_session is not None and s.id == from_session.id
        if s.detached and not include_detached and not is_origin:
            continue
        changes += update_session(s, series_template(s, template), actor=actor, detach=False)
        if is_origin:
            s.detached = False
    return changes


def publish(activity: Activity, *, actor: Any) -> None:
    if activity.status == ActivityStatus.PUBLISHED:
        return
    if activity.status != ActivityStatus.DRAFT:
        raise ActivityError(_("Solo se publica una actividad en borrador."), status=409)
    scheduled = [s for s in activity.sessions if s.status == SessionStatus.SCHEDULED]
    if not scheduled:
        raise ActivityError(_("Agregue al menos una sesión antes de publicar."), status=409)
    past = [s for s in scheduled if s.starts_at <= utcnow()]
    if past:
        raise ActivityError(
            _("No se puede publicar: la sesión del %(when)s ya pasó. Cámbiela o elimínela.",
              when=f"{past[0].local_start:%d-%m-%Y %H:%M}"), status=409)
    activity.status = ActivityStatus.PUBLISHED
    activity.published_at = utcnow()
    activity_published.send(activity, actor=actor)


def cancel_session(session: ActivitySession, reason: str, *, actor: Any) -> ActivityChange | None:
    reason = multi_line(reason)
    if not reason:
        raise ActivityError(_("Escriba el motivo de la cancelación; se comunicará a las personas inscritas."),
                            field="reason")
    if session.status == SessionStatus.CANCELLED:
        return None
    session.status = SessionStatus.CANCELLED
    session.cancel_reason = reason[:2000]
    session.sequence += 1
    if session.activity.status != ActivityStatus.PUBLISHED:
        return None
    change = ActivityChange(activity_id=session.activity_id, session_id=session.id, kind="cancelled",
                            before=_describe_time(session), after=reason[:2000], user_id=getattr(actor, "id", None))
    db.session.add(change)
    db.session.flush()
    session_changed.send(session, changes=[change], actor=actor)
    return change


def cancel_activity(activity: Activity, reason: str, *, actor: Any) -> None:
    reason = multi_line(reason)
    if not reason:
        raise ActivityError(_("Escriba el motivo de la cancelación; se comunicará a las personas inscritas."),
                            field="reason")
    if activity.status == ActivityStatus.CANCELLED:
        return
    if activity.status == ActivityStatus.DONE:
        raise ActivityError(_("Una actividad ya realizada no se puede cancelar."), status=409)
    was_published = activity.status == ActivityStatus.PUBLISHED
    for s in activity.sessions:
        if s.status == SessionStatus.SCHEDULED:
            if was_published:
                cancel_session(s, reason, actor=actor)
            else:
                s.status = SessionStatus.CANCELLED
                s.cancel_reason = reason[:2000]
                s.sequence += 1
    activity.status = ActivityStatus.CANCELLED
    activity.cancel_reason = reason[:2000]
    activity_cancelled.send(activity, reason=reason, actor=actor)


def mark_done(activity: Activity) -> None:
    if activity.status != ActivityStatus.PUBLISHED:
        raise ActivityError(_("Solo una actividad publicada puede marcarse como realizada."), status=409)
    last_end = max((s.ends_at for s in activity.sessions if s.status == SessionStatus.SCHEDULED), default=None)
    if last_end is not None and last_end > utcnow():
        raise ActivityError(_("La actividad aún tiene sesiones por realizar."), status=409)
    activity.status = ActivityStatus.DONE


def overlapping_sessions(starts_at: datetime, ends_at: datetime, *, exclude_activity_id: int | None = None):
    """A query of scheduled sessions of live activities overlapping [starts_at, ends_at)."""
    q = (select(ActivitySession).join(Activity, Activity.id == ActivitySession.activity_id)
         .where(ActivitySession.status == SessionStatus.SCHEDULED,
                Activity.status.in_([ActivityStatus.DRAFT, ActivityStatus.PUBLISHED]),
                ActivitySession.starts_at < ends_at, ActivitySession.ends_at > starts_at))
    if exclude_activity_id is not None:
        q = q.where(ActivitySession.activity_id != exclude_activity_id)
    return q


def same_venue(q, venue_name: str, comuna_code: str | None):  # type: ignore[no-untyped-def]
    return q.where(func.lower(ActivitySession.venue_name) == venue_name.strip().lower(),
                   ActivitySession.comuna_code == comuna_code,
                   ActivitySession.modality.in_([Modality.IN_PERSON, Modality.HYBRID]))
