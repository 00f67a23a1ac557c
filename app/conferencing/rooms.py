"""Rooms on providers with an API (Zoom, Google Meet), kept in step with their sessions.

What a session needs is decided from the session itself (``wanted_provider``): a scheduled
remote or hybrid session of a published activity whose provider has an API needs a meeting
there; anything else needs none. When something that matters happens (the activity is
published, a session moves, changes modality or provider, or is cancelled) the signal
receivers below call ``request_sync`` inside the same transaction: the session's one
``ConferenceRoom`` row gets ``version + 1`` and becomes ``pending``. After the commit the
worker is asked to run ``sync_room`` (and a periodic task catches anything missed).

``sync_room`` claims the row (a conditional UPDATE to ``working``, committed before any call,
so two workers never both act), makes the provider match the session (delete the old
provider's meeting, create, or update: a room already created is updated, never created
again), records each step as soon as the provider answered, then settles the row: ``ready``
when nothing changed meanwhile, ``pending`` again when the session moved during the call,
``pending`` with back-off when the provider was down, ``failed`` when it refused for good,
``unknown`` when a create may or may not have happened (never retried automatically). The
session stays usable throughout; staff see the state and reason and may retry or switch the
session to a pasted link.
"""

from __future__ import annotations

import contextlib
import json
import logging
from datetime import timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import case, event, select, update
from sqlalchemy.orm import Session as OrmSession

from app.activities.models import Activity, ActivitySession, ActivityStatus, SessionStatus
from app.activities.signals import activity_cancelled, activity_published, session_changed
from app.audit.services import record
from app.conferencing.base import (
    PermanentRoomError,
    RetryableRoomError,
    RoomDetails,
    RoomGone,
    UncertainRoomError,
)
from app.conferencing.credentials import available_providers, settings_for
from app.conferencing.models import ConferenceRoom, RoomStatus
from app.conferencing.providers import PROVIDERS, provider_for
from app.conferencing.signals import session_held
from app.extensions import db
from app.secrets import encrypt_text
from app.timeutil import utcnow

log = logging.getLogger("puente.conferencing.rooms")

KICK_KEY = "puente.conferencing.rooms_to_sync"
STALE_AFTER = timedelta(minutes=10)
PREPARING_RETRY = timedelta(minutes=1)
BATCH = 50


class RoomServiceError(ValueError):
    def __init__(self, message: str, field: str | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status


# --- what the session needs ------------------------------------------------------------------


def wanted_provider(session: ActivitySession) -> str | None:
    """The provider whose meeting the session needs now, or None: no meeting should exist."""
    if session.status != SessionStatus.SCHEDULED or not session.is_remote:
        return None
    if session.activity.status not in (ActivityStatus.PUBLISHED, ActivityStatus.DONE):
        return None
    provider = provider_for(session)
    return provider.name if provider.has_api else None


def room_for(session: ActivitySession | int) -> ConferenceRoom | None:
    session_id = session if isinstance(session, int) else session.id
    return db.session.scalar(select(ConferenceRoom).where(ConferenceRoom.session_id == session_id))


def _kick_after_commit(room_id: int) -> None:
    db.session.info.setdefault(KICK_KEY, set()).add(room_id)


def request_sync(session: ActivitySession) -> ConferenceRoom | None:
    """Record, in the caller's transaction, that the provider must be brought in step with
    ``session``. Makes the room row when the session first needs one; None when it needs
    none and never had one."""
    room = room_for(session)
    if room is None:
        wanted = wanted_provider(session)
        if wanted is None:
            return None
        room = ConferenceRoom(session_id=session.id, provider=wanted, external_id=None, status=RoomStatus.PENDING,
                              version=1, synced_version=0, attempts=0, next_attempt_at=utcnow())
        db.session.add(room)
        db.session.flush()
    else:
        # One atomic UPDATE: a worker holding the row (working) sees the new version when it
        # settles and leaves it pending; an unknown room waits for staff, whatever changes.
        keep = ConferenceRoom.status.in_([RoomStatus.WORKING, RoomStatus.UNKNOWN])
        db.session.execute(
            update(ConferenceRoom).where(ConferenceRoom.id == room.id).values(
                version=ConferenceRoom.version + 1,
                status=case((keep, ConferenceRoom.status), else_=RoomStatus.PENDING.value),
                attempts=case((keep, ConferenceRoom.attempts), else_=0),
                next_attempt_at=utcnow())
            .execution_options(synchronize_session=False))
        db.session.expire(room)
    _kick_after_commit(room.id)
    return room


# --- signal receivers (sent inside the caller's transaction) ---------------------------------


def _apply_office_default(session: ActivitySession) -> None:
    """A remote session still on "link" with nothing pasted takes the office's default provider."""
    if session.join_provider != "link" or (session.join_url or "").strip() or not session.is_remote:
        return
    office_id = session.activity.host_office_id
    settings = settings_for(office_id)
    default = settings.default_provider if settings else None
    if default and default != "link" and default in available_providers(office_id):
        session.join_provider = default


@activity_published.connect
def _on_published(activity: Activity, **_kw: Any) -> None:
    for session in activity.sessions:
        if session.status == SessionStatus.SCHEDULED:
            _apply_office_default(session)
            request_sync(session)


@session_changed.connect
def _on_session_changed(session: ActivitySession, **_kw: Any) -> None:
    request_sync(session)


@activity_cancelled.connect
def _on_cancelled(activity: Activity, **_kw: Any) -> None:
    for session in activity.sessions:
        if room_for(session) is not None:
            request_sync(session)


@session_held.connect
def _on_held(session: ActivitySession, **_kw: Any) -> None:
    """The provider says the meeting took place (Zoom ``meeting.ended``): remember it once."""
    room = room_for(session)
    if room is not None and room.held_at is None:
        room.held_at = utcnow()


# --- asking the worker after the commit ------------------------------------------------------


def enqueue_sync(room_id: int) -> None:
    """Ask the worker to sync a room shortly. If the queue is unreachable nothing is lost:
    the periodic task picks the room up within a minute."""
    try:
        from app.conferencing.tasks import sync_room_task

        # A short delay rather than "now": the row is committed by then on every replica,
        # and a test run (immediate mode) never calls a provider behind the test's back.
        sync_room_task.schedule((room_id,), delay=1)
    except Exception as exc:  # the room row is safe in the database
        log.warning("could not enqueue room sync %s (%s); the periodic task will pick it up", room_id,
                    type(exc).__name__)


@event.listens_for(OrmSession, "after_commit")
def _after_commit(session: OrmSession) -> None:
    ids = session.info.pop(KICK_KEY, None)
    for room_id in sorted(ids or ()):
        enqueue_sync(room_id)


@event.listens_for(OrmSession, "after_rollback")
def _after_rollback(session: OrmSession) -> None:
    session.info.pop(KICK_KEY, None)


# --- the worker ------------------------------------------------------------------------------


def claim(room_id: int) -> ConferenceRoom | None:
    """Take a due room for syncing, committed before any provider call. None if not ours."""
    now = utcnow()
    result = db.session.execute(
        update(ConferenceRoom)
        .where(ConferenceRoom.id == room_id, ConferenceRoom.status == RoomStatus.PENDING,
               (ConferenceRoom.next_attempt_at.is_(None)) | (ConferenceRoom.next_attempt_at <= now))
        .values(status=RoomStatus.WORKING.value, claimed_at=now, attempts=ConferenceRoom.attempts + 1,
                claimed_version=ConferenceRoom.version)
        .execution_options(synchronize_session=False))
    db.session.commit()
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return db.session.get(ConferenceRoom, room_id, populate_existing=True)


def _store(room: ConferenceRoom, details: RoomDetails) -> None:
    room.external_id = details.external_id[:64] or room.external_id
    if details.join_url:
        room.join_url = details.join_url[:1000]
    if details.passcode or details.phone_passcode:
        room.passcode_encrypted = encrypt_text(json.dumps(
            {"passcode": details.passcode or "", "phone_passcode": details.phone_passcode or ""}))
    if details.dial_in:
        room.dial_in_json = json.dumps([d.to_json() for d in details.dial_in], ensure_ascii=False)


def _forget_meeting(room: ConferenceRoom) -> None:
    room.external_id = None
    room.join_url = None
    room.passcode_encrypted = None
    room.dial_in_json = None
    room.generation = (room.generation or 0) + 1


def _reconcile(room: ConferenceRoom, session: ActivitySession) -> None:
    """Make the provider match the session; each provider answer is committed at once."""
    for _step in range(4):  # at most: delete the old provider's meeting, then create or update
        wanted = wanted_provider(session)
        if room.external_id and (wanted is None or room.provider != wanted):
            with contextlib.suppress(RoomGone):  # already gone is what we want
                PROVIDERS[room.provider].cancel_room(session, room)
            log.info("room %s: %s meeting %s deleted", room.id, room.provider, room.external_id)
            _forget_meeting(room)
            db.session.commit()
            continue
        if wanted is None:
            return
        provider = PROVIDERS[wanted]
        if room.external_id is None:
            if session.ends_at <= utcnow():
                return  # no meeting for a session that is over
            room.provider = wanted
            db.session.commit()
            details = provider.create_room(session, room)
            if details is None or not details.external_id:
                raise PermanentRoomError(_("El proveedor no devolvió la reunión creada."))
            _store(room, details)
            db.session.commit()
            log.info("room %s: %s meeting %s created", room.id, wanted, room.external_id)
        else:
            try:
                details = provider.update_room(session, room)
            except RoomGone:
                log.info("room %s: %s meeting %s gone on the provider: making a new one", room.id, wanted,
                         room.external_id)
                _forget_meeting(room)
                db.session.commit()
                continue
            if details is not None:
                _store(room, details)
                db.session.commit()
        if room.join_url is None:
            raise RetryableRoomError(_("El proveedor está preparando la sala; se consultará de nuevo en un minuto."))
        return
    raise RetryableRoomError(_("La sala cambió varias veces seguidas; se reintentará."))


def _settle(room_id: int, outcome: RoomStatus, error: str | None, *, retry_in: timedelta | None = None) -> RoomStatus:
    """Record how the attempt ended, unless someone else already changed the row."""
    from flask import current_app

    now = utcnow()
    changed = ConferenceRoom.version != ConferenceRoom.claimed_version
    values: dict[str, Any] = {"claimed_at": None, "last_error": error[:1000] if error else None}
    if outcome == RoomStatus.READY:
        values.update(status=case((changed, RoomStatus.PENDING.value), else_=RoomStatus.READY.value),
                      synced_version=ConferenceRoom.claimed_version, attempts=0, next_attempt_at=now)
    elif outcome == RoomStatus.PENDING:
        max_attempts = int(current_app.config.get("CONFERENCE_MAX_ATTEMPTS", 8))
        exhausted = ConferenceRoom.attempts >= max_attempts
        values.update(status=case((exhausted, RoomStatus.FAILED.value), else_=RoomStatus.PENDING.value),
                      next_attempt_at=now + (retry_in or timedelta(0)))
    elif outcome == RoomStatus.FAILED:
        values.update(status=case((changed, RoomStatus.PENDING.value), else_=RoomStatus.FAILED.value),
                      next_attempt_at=now)
    else:
        values.update(status=outcome.value)
    db.session.execute(update(ConferenceRoom)
                       .where(ConferenceRoom.id == room_id, ConferenceRoom.status == RoomStatus.WORKING)
                       .values(**values).execution_options(synchronize_session=False))
    db.session.commit()
    room = db.session.get(ConferenceRoom, room_id, populate_existing=True)
    if room is not None and room.status == RoomStatus.PENDING and outcome == RoomStatus.READY:
        enqueue_sync(room_id)  # the session moved during the call: once more, now
    return room.status if room is not None else outcome


def sync_room(room_id: int) -> RoomStatus | None:
    """Claim one room and bring its provider in step. Returns the new status, or None when
    the room was not due or another worker has it."""
    from app.outbox.delivery import backoff

    room = claim(room_id)
    if room is None:
        return None
    session = room.session
    try:
        _reconcile(room, session)
    except RetryableRoomError as err:
        db.session.rollback()
        preparing = room.external_id is not None and room.join_url is None
        wait = PREPARING_RETRY if preparing else backoff(room.attempts)
        outcome = _settle(room_id, RoomStatus.PENDING, err.message, retry_in=wait)
    except PermanentRoomError as err:
        db.session.rollback()
        outcome = _settle(room_id, RoomStatus.FAILED, err.message)
    except UncertainRoomError as err:
        db.session.rollback()
        outcome = _settle(room_id, RoomStatus.UNKNOWN, err.message)
    except Exception as exc:
        # A bug or an unforeseen answer: we cannot tell what the provider did; staff decide.
        db.session.rollback()
        log.exception("room %s (%s) sync raised unexpectedly", room_id, room.provider)
        outcome = _settle(room_id, RoomStatus.UNKNOWN,
                          _("Error inesperado (%(err)s): revise en el proveedor si la reunión existe antes de "
                            "reintentar, o pegue el enlace a mano.", err=type(exc).__name__))
    else:
        outcome = _settle(room_id, RoomStatus.READY, None)
    log.info("room %s session %s provider %s -> %s", room_id, session.id, room.provider, outcome.value)
    return outcome


def due_room_ids(limit: int = BATCH) -> list[int]:
    return list(db.session.scalars(
        select(ConferenceRoom.id)
        .where(ConferenceRoom.status == RoomStatus.PENDING,
               (ConferenceRoom.next_attempt_at.is_(None)) | (ConferenceRoom.next_attempt_at <= utcnow()))
        .order_by(ConferenceRoom.next_attempt_at, ConferenceRoom.id).limit(limit)))


def recover_stale() -> int:
    """Rooms left ``working`` by a worker that died. A create may have happened (no meeting
    id recorded): ``unknown``, staff decide. Updates and deletes are safe to repeat: pending."""
    stale = list(db.session.scalars(select(ConferenceRoom).where(
        ConferenceRoom.status == RoomStatus.WORKING, ConferenceRoom.claimed_at < utcnow() - STALE_AFTER)))
    for room in stale:
        creating = room.external_id is None and wanted_provider(room.session) is not None
        if creating:
            room.status = RoomStatus.UNKNOWN
            room.last_error = _("El trabajo se interrumpió mientras se creaba la reunión: puede que exista en el "
                                "proveedor. Revíselo antes de reintentar, o pegue el enlace a mano.")
        else:
            room.status = RoomStatus.PENDING
            room.next_attempt_at = utcnow()
        room.claimed_at = None
    db.session.commit()
    return len(stale)


def sync_due(limit: int = BATCH) -> int:
    recover_stale()
    ids = due_room_ids(limit)
    for room_id in ids:
        sync_room(room_id)
    return len(ids)


# --- what staff do -----------------------------------------------------------------------------


def retry(room: ConferenceRoom, *, actor: Any) -> None:
    """Staff ask for another try of a failed or unknown room. Commits."""
    result = db.session.execute(
        update(ConferenceRoom)
        .where(ConferenceRoom.id == room.id,
               ConferenceRoom.status.in_([RoomStatus.FAILED, RoomStatus.UNKNOWN, RoomStatus.PENDING]))
        .values(status=RoomStatus.PENDING.value, attempts=0, next_attempt_at=utcnow(), claimed_at=None)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        db.session.rollback()
        raise RoomServiceError(_("La sala no está en un estado que se pueda reintentar."), status=409)
    record("conferencing.room_retry", room, f"reintento de sala {room.provider}", actor=actor,
           office_id=room.session.activity.host_office_id)
    _kick_after_commit(room.id)
    db.session.commit()


def set_provider(session: ActivitySession, provider: str, *, actor: Any, join_url: str | None = None) -> None:
    """Choose the session's video provider. ``link`` takes ``join_url`` (https). A meeting
    made on another provider is deleted by the worker. Commits."""
    from app.activities.services import ActivityError, check_https_url

    if session.status != SessionStatus.SCHEDULED:
        raise RoomServiceError(_("La sesión está cancelada: ya no se puede cambiar su conexión."), status=409)
    if not session.is_remote:
        raise RoomServiceError(_("La sesión es solo presencial: no tiene conexión en línea."), status=409)
    office_id = session.activity.host_office_id
    if provider not in available_providers(office_id):
        raise RoomServiceError(_("Ese proveedor no está disponible para esta oficina."), field="provider")
    if provider == "link":
        try:
            url = check_https_url(join_url, "join_url")
        except ActivityError as err:
            raise RoomServiceError(err.message, field="join_url") from err
        if url is None:
            raise RoomServiceError(_("Pegue el enlace de la sesión (https://…)."), field="join_url")
        session.join_url = url
    session.join_provider = provider
    room = room_for(session)
    if room is not None and room.status in (RoomStatus.FAILED, RoomStatus.UNKNOWN):
        # Staff decided: the worker may now act again (delete what it knows of, or create).
        room.status = RoomStatus.PENDING
        room.attempts = 0
        db.session.flush()
    request_sync(session)
    record("conferencing.provider_set", session, f"proveedor: {provider}", actor=actor, office_id=office_id)
    db.session.commit()


# --- what the pages show -----------------------------------------------------------------------


def status_labels() -> dict[str, str]:
    return {
        RoomStatus.PENDING.value: _("En cola: se creará o actualizará en unos instantes."),
        RoomStatus.WORKING.value: _("Comunicándose con el proveedor…"),
        RoomStatus.READY.value: _("Lista en el proveedor."),
        RoomStatus.FAILED.value: _("No se pudo preparar la sala."),
        RoomStatus.UNKNOWN.value: _("Estado incierto: revise en el proveedor."),
    }


def provider_labels() -> dict[str, str]:
    return {"link": _("Enlace pegado a mano (Teams u otro)"),
            "jitsi": _("Jitsi Meet (sin cuenta, dentro de la página)"),
            "zoom": _("Zoom (sala creada automáticamente)"),
            "google_meet": _("Google Meet (sala creada automáticamente)")}
