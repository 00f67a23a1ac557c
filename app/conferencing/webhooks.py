"""POST /webhooks/zoom: Zoom's events (attendance, meeting ended, recordings) come back here.

Order of checks, before anything in the body is trusted: configured (else 503), body at most
``MAX_BODY_BYTES`` (else 413), ``x-zm-signature`` = ``v0=`` + HMAC-SHA256(secret,
``v0:{x-zm-request-timestamp}:{raw body}``) and a timestamp within
``ZOOM_WEBHOOK_MAX_SKEW_SECONDS`` (else 401; a timestamp that is not plain digits is 401 too),
then JSON (else 400). Fields of the wrong type, length or characters (``zoom_events.malformed``)
answer 200 "ignored", logged, nothing stored. Each verified event is stored once under the
SHA-256 of its signed body: a repeated delivery, or a captured event replayed within the
window under a new (unsigned) ``x-zm-request-id``, answers 200 "duplicate" and changes nothing.
Unknown meetings are stored and otherwise ignored.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.activities.models import ActivitySession
from app.conferencing.models import ConferenceRecording, ConferenceRoom, ZoomWebhookEvent
from app.conferencing.signals import recording_available, session_held
from app.conferencing.zoom_events import malformed, plausible_timestamp
from app.errors import problem
from app.extensions import csrf, db
from app.inputguard import UnsafeInput
from app.inputguard import loads as guarded_json
from app.people.models import Person
from app.registration.models import Registration, RegistrationStatus
from app.registration.services import mark_joined
from app.timeutil import utcnow

log = logging.getLogger("puente.conferencing.zoom")

bp = Blueprint("zoom_webhooks", __name__)
csrf.exempt(bp)  # Zoom signs its calls; there is no browser session here

MAX_BODY_BYTES = 1024 * 1024
SECRET_KEYS = frozenset({"download_token", "password", "recording_play_passcode", "encrypted_password",
                         "passcode", "h323_password", "pstn_password"})


# --- verification ----------------------------------------------------------------------------


def _secrets() -> list[tuple[str, int | None]]:
    """The platform's Secret Token and each office's own (``credentials.zoom_webhook_secrets``)."""
    from app.conferencing.credentials import zoom_webhook_secrets

    return zoom_webhook_secrets()


def _hmac_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_for(secret: str, timestamp: str, body: bytes) -> str:
    return "v0=" + _hmac_hex(secret, b"v0:" + timestamp.encode() + b":" + body)


def _fresh(timestamp: str) -> bool:
    if not plausible_timestamp(timestamp):  # int() takes 400 digits, "+1_7e..." forms; float() overflows
        return False
    value = int(timestamp)
    skew = int(current_app.config.get("ZOOM_WEBHOOK_MAX_SKEW_SECONDS", 300))
    return abs(time.time() - value) <= skew


def _signed_and_fresh() -> tuple[str, str] | None:
    """(timestamp, signature) when both headers are there, readable and fresh; checked before
    any stored secret is decrypted."""
    timestamp = request.headers.get("x-zm-request-timestamp", "")
    signature = request.headers.get("x-zm-signature", "")
    if not timestamp or not signature or not timestamp.isascii() or not signature.isascii():
        return None
    return (timestamp, signature) if _fresh(timestamp) else None


def _verified(candidates: list[tuple[str, int | None]], timestamp: str, signature: str,
              body: bytes) -> tuple[str, int | None] | None:
    """The (secret, office) whose signature matches, or None. Every candidate is compared in
    constant time; which one matched is never told to the caller."""
    found = None
    for secret, office_id in candidates:
        if hmac.compare_digest(signature_for(secret, timestamp, body).encode(), signature.encode()):
            found = found or (secret, office_id)
    return found


def _read_body() -> bytes | None:
    """The raw body, or None when it is larger than ``MAX_BODY_BYTES``."""
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        return None
    body = request.stream.read(MAX_BODY_BYTES + 1)
    return None if len(body) > MAX_BODY_BYTES else body


# --- the endpoint ----------------------------------------------------------------------------


@bp.post("/webhooks/zoom")
def zoom() -> Response:
    body = _read_body()
    if body is None:
        return problem(413, _("El evento supera el tamaño permitido."))
    headers = _signed_and_fresh()
    candidates = _secrets() if headers is not None else []
    if headers is not None and not candidates:
        return problem(503, _("La integración con Zoom no está configurada (ZOOM_WEBHOOK_SECRET_TOKEN)."),
                       title=_("No configurado"))
    match = _verified(candidates, *headers, body) if headers is not None else None
    if match is None:
        log.warning("zoom webhook refused: bad or stale signature")
        return problem(401, _("Firma de Zoom ausente, no válida o vencida."), title=_("Firma no válida"))
    secret, signer_office_id = match
    try:
        data = guarded_json(body)
    except UnsafeInput as exc:  # nested too deep, NUL or lone surrogate
        return problem(400, exc.message)
    except (ValueError, UnicodeDecodeError):
        return problem(400, _("El cuerpo no es JSON válido."))
    if not isinstance(data, dict) or not isinstance(data.get("event"), str):
        return problem(400, _("El evento no tiene el formato esperado."))
    field = malformed(data)
    if field is not None:
        # Signed by Zoom, so a retry would bring the same thing: answer 2xx, keep nothing.
        log.warning("zoom webhook ignored: field %s has the wrong type, length or characters", field)
        return jsonify(status="ignored")
    event: str = data["event"]
    payload = data.get("payload") if isinstance(data.get("payload"), dict) else {}

    if event == "endpoint.url_validation":
        plain = payload.get("plainToken")
        if not isinstance(plain, str) or not plain:
            return problem(400, _("Falta plainToken."))
        return jsonify(plainToken=plain, encryptedToken=_hmac_hex(secret, plain.encode()))

    obj = payload.get("object") if isinstance(payload.get("object"), dict) else {}
    meeting_id = str(obj["id"]) if obj.get("id") not in (None, "") else None
    # The key is what Zoom signed (the body, whose event_ts tells events apart), never the
    # unsigned x-zm-request-id: a replay under a new id, or Zoom's own retry, is the same key.
    key = event_key(body, signer_office_id)
    record = ZoomWebhookEvent(event_key=key, event=event[:80], meeting_id=meeting_id,
                              received_at=utcnow(), payload=_stored_json(_redacted(data)))
    db.session.add(record)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        log.info("zoom webhook %s already handled (key=%s)", event, key)
        return jsonify(status="duplicate")

    session = _session_for(meeting_id, obj) if meeting_id else None
    if session is None:
        log.info("zoom webhook %s for unknown meeting %s: stored, ignored", event, meeting_id)
        db.session.commit()
        return jsonify(status="ignored")
    if signer_office_id is not None and signer_office_id != session.activity.host_office_id:
        # An office's own Zoom app speaks only for its own meetings.
        log.warning("zoom webhook %s for meeting %s signed by another office's secret: ignored", event, meeting_id)
        db.session.commit()
        return jsonify(status="ignored")

    handler = HANDLERS.get(event)
    status = "handled" if handler else "ignored"
    if handler:
        handler(session, obj)
    try:
        db.session.commit()
    except IntegrityError:
        # A concurrent delivery of the same files committed first: theirs is the one kept.
        db.session.rollback()
        log.info("zoom webhook %s raced a duplicate delivery (key=%s)", event, key)
        return jsonify(status="duplicate")
    return jsonify(status=status)


# --- retention -------------------------------------------------------------------------------

PURGED = '{"purged": true}'


def purge_old_payloads(now: datetime | None = None) -> int:
    """Empty the stored bodies of events older than ``ZOOM_EVENT_RETENTION_DAYS`` (they hold
    participants' names and emails); the row stays, so a late repeat is still recognised.
    One transaction; returns how many were emptied."""
    from datetime import timedelta

    from sqlalchemy import update

    days = int(current_app.config.get("ZOOM_EVENT_RETENTION_DAYS", 90))
    cutoff = (now or utcnow()) - timedelta(days=days)
    result = db.session.execute(
        update(ZoomWebhookEvent).where(ZoomWebhookEvent.received_at < cutoff, ZoomWebhookEvent.payload != PURGED)
        .values(payload=PURGED).execution_options(synchronize_session=False))
    db.session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# --- helpers ---------------------------------------------------------------------------------


def event_key(body: bytes, signer_office_id: int | None = None) -> str:
    """The row key of a verified event: ``sha256:`` and the hex digest of its raw (signed) body,
    prefixed with the signing office when an office's own secret signed it (so one office's
    event can never take the place of the same bytes signed by another)."""
    prefix = b"" if signer_office_id is None else f"office:{signer_office_id}:".encode()
    return "sha256:" + hashlib.sha256(prefix + body).hexdigest()


def _stored_json(value: Any) -> str:
    """JSON text for the database; readable UTF-8 unless the body held lone surrogates
    (valid JSON escapes that UTF-8 cannot encode), which are then kept escaped."""
    text = json.dumps(value, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(value, ensure_ascii=True)
    return text


def _redacted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: ("[omitido]" if k in SECRET_KEYS else _redacted(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted(v) for v in value]
    return value


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
        parsed = (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    return parsed if 2000 <= parsed.year <= 2200 else None  # no real meeting is outside these


def _session_for(meeting_id: str, obj: dict[str, Any]) -> ActivitySession | None:
    """The session of this Zoom meeting; a recurring meeting id: the occurrence nearest in time."""
    sessions = list(db.session.scalars(
        select(ActivitySession).join(ConferenceRoom, ConferenceRoom.session_id == ActivitySession.id)
        .where(ConferenceRoom.provider == "zoom", ConferenceRoom.external_id == meeting_id)))
    if len(sessions) <= 1:
        return sessions[0] if sessions else None
    participant = obj.get("participant") if isinstance(obj.get("participant"), dict) else {}
    ref = _when(participant.get("join_time")) or _when(obj.get("start_time")) or utcnow()
    return min(sessions, key=lambda s: abs((s.starts_at - ref).total_seconds()))


def _participant_joined(session: ActivitySession, obj: dict[str, Any]) -> None:
    participant = obj.get("participant") if isinstance(obj.get("participant"), dict) else {}
    email = participant.get("email")
    if not isinstance(email, str) or "@" not in email:
        return
    regs = list(db.session.scalars(
        select(Registration).join(Person, Person.id == Registration.person_id)
        .where(Registration.session_id == session.id,
               Registration.status == RegistrationStatus.CONFIRMED,
               func.lower(Person.email) == email.strip().lower())))
    if len(regs) != 1:
        if regs:  # two people registered with one address: we cannot tell who joined
            log.info("zoom join for session %s matches %d registrations: not marked", session.id, len(regs))
        return
    mark_joined(regs[0], _when(participant.get("join_time")))


def _meeting_ended(session: ActivitySession, obj: dict[str, Any]) -> None:
    session_held.send(session)


def _recording_completed(session: ActivitySession, obj: dict[str, Any]) -> None:
    files = obj.get("recording_files") if isinstance(obj.get("recording_files"), list) else []
    new: list[ConferenceRecording] = []
    for item in files:
        if not isinstance(item, dict) or not item.get("id"):
            continue
        file_id = str(item["id"])[:128]
        if db.session.scalar(select(ConferenceRecording.id).where(ConferenceRecording.external_file_id == file_id)):
            continue
        size = item.get("file_size")
        rec = ConferenceRecording(
            session_id=session.id, external_file_id=file_id,
            file_type=str(item.get("file_type") or "")[:20] or None,
            download_url=str(item.get("download_url") or "")[:1000] or None,
            play_url=str(item.get("play_url") or "")[:1000] or None,
            recording_start=_when(item.get("recording_start")), recording_end=_when(item.get("recording_end")),
            file_size=size if isinstance(size, int) else None,
        )
        db.session.add(rec)
        new.append(rec)
    db.session.flush()
    if new:
        recording_available.send(session, recordings=new)


HANDLERS = {
    "meeting.participant_joined": _participant_joined,
    "meeting.ended": _meeting_ended,
    "recording.completed": _recording_completed,
}
