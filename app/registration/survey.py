"""The satisfaction survey after a session: who may answer, the answer, the invitations, results.

- Attendees only: a confirmed registration whose person was marked present, or clicked to
  join and was not marked absent by staff (a deliberate "absent" outweighs a click).
- Open from the end of the session for ``SURVEY_OPEN_FOR`` (30 days, as long as the personal
  link lives). One answer per registration (a unique constraint); answering again while the
  survey is open replaces the answer, so a person can correct a slip.
- Invitations: ``send_due_invitations(now)`` (every 10 minutes in the worker) queues one
  message per attendee of sessions that ended between 1 hour and 7 days ago, on the person's
  channel, never to people who asked to be deleted. The outbox dedupe key
  ``registration:<id>:survey`` makes it idempotent, and being under ``registration:<id>:``
  it is listed in "Mis datos" and wiped by "Eliminar mis datos" like every other message.
- Results for staff: count, average, distribution 1–5 and comments, never names; comments
  of people who asked to be deleted are left out (their rating still counts).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import render_template
from flask_babel import format_decimal, format_number
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.exc import IntegrityError

from app.activities.models import Activity, ActivitySession, ActivityStatus, SessionStatus
from app.calendar import is_cancelled
from app.extensions import db
from app.i18n import format_day
from app.outbox.models import OutboxMessage
from app.outbox.services import enqueue_email
from app.people.models import Person
from app.registration.models import Attendance, Registration, RegistrationStatus, SurveyResponse
from app.registration.services import message_channel, personal_token, personal_url
from app.timeutil import utcnow
from app.urls import external_url

SURVEY_OPEN_FOR = timedelta(days=30)
INVITE_AFTER = timedelta(hours=1)  # time for staff to take attendance before inviting
INVITE_UNTIL = timedelta(days=7)  # a session ended longer ago gets no invitations
COMMENT_MAX = 2000
RATINGS = (1, 2, 3, 4, 5)
RATING_LABELS = {1: _l("Nada útil"), 2: _l("Poco útil"), 3: _l("Más o menos útil"), 4: _l("Útil"),
                 5: _l("Muy útil")}
_KEY_BATCH = 500

log = logging.getLogger("puente.registration")


class SurveyError(ValueError):
    """Something the person cannot do now (``status``), or answers to fix (``errors`` by field)."""

    def __init__(self, message: str, status: int = 400, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.errors = errors or {}


# --- who attended ---------------------------------------------------------------------------


def attended(reg: Registration) -> bool:
    """Confirmed, and present (marked by staff or imported) or joined and not marked absent."""
    if reg.status != RegistrationStatus.CONFIRMED:
        return False
    if reg.attendance == Attendance.PRESENT:
        return True
    return reg.joined_at is not None and reg.attendance is None


def attended_clause() -> ColumnElement[bool]:
    """``attended`` as SQL, over ``Registration``."""
    return and_(Registration.status == RegistrationStatus.CONFIRMED,
                or_(Registration.attendance == Attendance.PRESENT,
                    and_(Registration.joined_at.is_not(None), Registration.attendance.is_(None))))


def held_clause() -> ColumnElement[bool]:
    """The session took place: neither it nor its activity was cancelled (over both tables)."""
    return and_(ActivitySession.status == SessionStatus.SCHEDULED,
                Activity.status.in_([ActivityStatus.PUBLISHED, ActivityStatus.DONE]))


# --- answering ----------------------------------------------------------------------------


def closes_at(session: ActivitySession) -> datetime:
    return session.ends_at + SURVEY_OPEN_FOR


def check_can_answer(reg: Registration, now: datetime | None = None) -> None:
    """Raise ``SurveyError`` unless this person may answer now: 409 cancelled or not over yet,
    403 did not attend, 410 closed."""
    now = now or utcnow()
    session = reg.session
    if is_cancelled(session):
        raise SurveyError(_("Esta sesión fue cancelada: no tiene encuesta."), status=409)
    if now < session.ends_at:
        raise SurveyError(_("La encuesta se abre cuando termine la sesión, el %(day)s a las %(time)s.",
                            day=format_day(session.local_end), time=session.local_end.strftime("%H:%M")),
                          status=409)
    if not attended(reg):
        raise SurveyError(_("La encuesta es para las personas que participaron en la sesión. Si usted "
                            "participó, avise a %(office)s para que registre su asistencia.",
                            office=session.activity.host_office.name), status=403)
    if now > closes_at(session):
        raise SurveyError(_("La encuesta de esta sesión cerró el %(day)s. Gracias de todos modos.",
                            day=format_day(closes_at(session).astimezone(session.local_end.tzinfo))),
                          status=410)


def is_open(reg: Registration, now: datetime | None = None) -> bool:
    try:
        check_can_answer(reg, now)
    except SurveyError:
        return False
    return True


def response_of(reg: Registration) -> SurveyResponse | None:
    return db.session.scalar(select(SurveyResponse).where(SurveyResponse.registration_id == reg.id))


def clean_answer(rating: Any, comment: Any) -> tuple[int, str]:
    """The rating as 1–5 and the comment trimmed; ``SurveyError`` (400) names each field to fix."""
    errors: dict[str, str] = {}
    value = 0
    try:
        value = int(str(rating).strip())
    except (TypeError, ValueError):
        value = 0
    if value not in RATINGS:
        errors["rating"] = _("Elija una opción, de 1 (nada útil) a 5 (muy útil).")
    text = "\n".join(line.rstrip() for line in str(comment or "").replace("\r\n", "\n").split("\n")).strip()
    if len(text) > COMMENT_MAX:
        errors["comment"] = _("El comentario puede tener hasta %(max)s caracteres; el suyo tiene %(n)s. "
                              "Acórtelo un poco, por favor.", max=format_number(COMMENT_MAX),
                              n=format_number(len(text)))
    if errors:
        raise SurveyError(_("Revise su respuesta."), status=400, errors=errors)
    return value, text


def answer(reg: Registration, rating: Any, comment: Any, *, now: datetime | None = None) -> tuple[SurveyResponse, bool]:
    """Store the person's answer (one per registration; a new one replaces the last) in one
    transaction. Returns (the answer, whether it is the first). Raises ``SurveyError``."""
    check_can_answer(reg, now)
    value, text = clean_answer(rating, comment)
    for _attempt in range(3):
        try:
            existing = response_of(reg)
            if existing is not None:
                existing.rating, existing.comment, existing.updated_at = value, text, utcnow()
                db.session.commit()
                return existing, False
            response = SurveyResponse(registration_id=reg.id, rating=value, comment=text)
            db.session.add(response)
            db.session.commit()
            return response, True
        except IntegrityError:
            # The same person answered at the same moment (a double click): update that one.
            db.session.rollback()
    raise SurveyError(_("No pudimos guardar su respuesta. Intente de nuevo en unos segundos."), status=503)


# --- invitations ----------------------------------------------------------------------------


def invitation_key(reg_id: int) -> str:
    """One invitation per registration, ever."""
    return f"registration:{reg_id}:survey"


def survey_url(reg: Registration) -> str:
    return external_url("registration_after.survey_page", token=personal_token(reg))


def due_invitations(now: datetime) -> list[int]:
    """Registrations to invite at ``now``: attendees of sessions that took place and ended
    between ``INVITE_AFTER`` and ``INVITE_UNTIL`` ago, not deleted, not invited yet."""
    ids = list(db.session.scalars(
        select(Registration.id)
        .join(ActivitySession, Registration.session_id == ActivitySession.id)
        .join(Activity, ActivitySession.activity_id == Activity.id)
        .join(Person, Registration.person_id == Person.id)
        .where(attended_clause(), held_clause(), Person.anonymised_at.is_(None),
               ActivitySession.ends_at <= now - INVITE_AFTER, ActivitySession.ends_at > now - INVITE_UNTIL)
        .order_by(ActivitySession.ends_at, Registration.id)))
    queued: set[str] = set()
    for i in range(0, len(ids), _KEY_BATCH):
        keys = [invitation_key(reg_id) for reg_id in ids[i:i + _KEY_BATCH]]
        queued.update(db.session.scalars(select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(keys))))
    return [reg_id for reg_id in ids if invitation_key(reg_id) not in queued]


def queue_invitation(reg: Registration) -> OutboxMessage | None:
    """Add the invitation to the caller's transaction, on the person's channel: an email, or a
    short text for WhatsApp, SMS or a call. Nothing for deleted people or without a contact."""
    person = reg.person
    if person.anonymised_at is not None:
        return None
    channel, to = message_channel(person)
    if not to:
        return None
    session = reg.session
    activity = session.activity
    ctx = {"reg": reg, "person": person, "session": session, "activity": activity,
           "survey_link": survey_url(reg), "link": personal_url(reg),
           "closes_on": format_day(closes_at(session).astimezone(session.local_end.tzinfo))}
    html: str | None = None
    if channel == "email":
        body = render_template("registration/after/survey_invitation.txt", **ctx)
        html = render_template("registration/after/survey_invitation.html", **ctx)
    else:
        body = render_template("registration/after/survey_invitation.short.txt", **ctx)
    msg = enqueue_email(dedupe_key=invitation_key(reg.id), to=to, to_name=person.full_name,
                        subject=_("¿Qué tan útil le resultó «%(title)s»? Cuéntenos en un minuto", title=activity.title),
                        body_text=body, body_html=html, kind="registration_survey",
                        office_id=reg.office_id or activity.host_office_id)
    msg.channel = channel
    return msg


def send_due_invitations(now: datetime | None = None) -> int:
    """Queue every invitation due at ``now``, one transaction each; returns how many.

    The caller kicks delivery afterwards. Safe to run twice, by two workers or after a restart.
    """
    now = now or utcnow()
    sent = 0
    for reg_id in due_invitations(now):
        try:
            reg = db.session.get(Registration, reg_id)
            if reg is None or not attended(reg):
                db.session.rollback()
                continue
            msg = queue_invitation(reg)
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("survey invitation for registration %s could not be queued", reg_id)
            continue
        if msg is not None:
            sent += 1
    return sent


# --- results for staff -----------------------------------------------------------------------


@dataclass(frozen=True)
class Comment:
    rating: int
    text: str
    session_id: int
    answered_at: datetime


@dataclass(frozen=True)
class Bar:
    rating: int
    label: str
    count: int
    percent: int


@dataclass(frozen=True)
class SurveyResults:
    responses: int
    attendees: int
    average: float | None
    distribution: list[Bar]
    comments: list[Comment]

    @property
    def response_rate(self) -> int | None:
        return round(100 * self.responses / self.attendees) if self.attendees else None


@dataclass(frozen=True)
class SessionSummary:
    session: ActivitySession
    attendees: int
    responses: int
    average: float | None


def _scope(session_id: int | None, activity_id: int | None) -> ColumnElement[bool]:
    if session_id is not None:
        return Registration.session_id == session_id
    return Registration.session_id.in_(select(ActivitySession.id).where(ActivitySession.activity_id == activity_id))


def _results(session_id: int | None = None, activity_id: int | None = None) -> SurveyResults:
    scope = _scope(session_id, activity_id)
    counts = dict(db.session.execute(
        select(SurveyResponse.rating, func.count())
        .join(Registration, SurveyResponse.registration_id == Registration.id)
        .where(scope).group_by(SurveyResponse.rating)).all())
    total = sum(counts.values())
    average = round(sum(r * n for r, n in counts.items()) / total, 1) if total else None
    bars = [Bar(r, str(RATING_LABELS[r]), counts.get(r, 0), round(100 * counts.get(r, 0) / total) if total else 0)
            for r in reversed(RATINGS)]
    comments = [Comment(rating, text, sid, at) for rating, text, sid, at in db.session.execute(
        select(SurveyResponse.rating, SurveyResponse.comment, Registration.session_id, SurveyResponse.updated_at)
        .join(Registration, SurveyResponse.registration_id == Registration.id)
        .join(Person, Registration.person_id == Person.id)
        .where(scope, SurveyResponse.comment != "", Person.anonymised_at.is_(None))
        .order_by(SurveyResponse.updated_at.desc(), SurveyResponse.id.desc()))]
    attendees = int(db.session.scalar(select(func.count()).select_from(Registration)
                                      .where(scope, attended_clause())) or 0)
    return SurveyResults(responses=total, attendees=attendees, average=average, distribution=bars, comments=comments)


def session_results(session: ActivitySession) -> SurveyResults:
    return _results(session_id=session.id)


def activity_results(activity: Activity) -> tuple[SurveyResults, list[SessionSummary]]:
    """The activity's results, and per session that has ended: attendees, answers, average."""
    results = _results(activity_id=activity.id)
    answers = {sid: (n, avg) for sid, n, avg in db.session.execute(
        select(Registration.session_id, func.count(), func.avg(SurveyResponse.rating))
        .join(Registration, SurveyResponse.registration_id == Registration.id)
        .where(_scope(None, activity.id)).group_by(Registration.session_id))}
    present = dict(db.session.execute(
        select(Registration.session_id, func.count()).where(_scope(None, activity.id), attended_clause())
        .group_by(Registration.session_id)).all())
    now = utcnow()
    rows = []
    for s in activity.sessions:
        if s.ends_at > now or (s.status == SessionStatus.CANCELLED and s.id not in answers):
            continue
        n, avg = answers.get(s.id, (0, None))
        rows.append(SessionSummary(s, present.get(s.id, 0), n, round(float(avg), 1) if avg is not None else None))
    return results, rows


def format_average(value: float | None) -> str:
    """'4,3' in Spanish, '4.3' in English; '–' without answers."""
    if value is None:
        return "–"
    return str(format_decimal(value, "0.0"))
