"""Delivery receipts: the WhatsApp Cloud API and the SMS provider report what became of a message.

- ``GET /webhooks/whatsapp``: Meta's subscription check (``hub.mode=subscribe``,
  ``hub.verify_token`` equal to ``WHATSAPP_WEBHOOK_VERIFY_TOKEN``) answers ``hub.challenge``.
- ``POST /webhooks/whatsapp``: ``X-Hub-Signature-256`` = ``sha256=`` + HMAC-SHA256 of the raw
  body with ``WHATSAPP_APP_SECRET``, checked before anything is read; then each
  ``entry[].changes[].value.statuses[]`` (``id`` = the ``wamid`` we stored, ``status`` sent,
  delivered, read or failed, ``errors[].title``) is recorded.
- ``POST /webhooks/sms``: a Twilio-style status callback (``MessageSid``, ``MessageStatus``,
  ``ErrorCode``), signed in ``X-Twilio-Signature`` = base64 HMAC-SHA1 of the public URL plus
  every form field and value in name order, keyed with ``SMS_WEBHOOK_SECRET`` (by default the
  API key, as Twilio signs with its auth token).

Unsigned, forged or unconfigured calls change nothing (401, or 503 when not configured).
Each receipt goes through ``app.outbox.services.record_receipt``: idempotent. A signed
receipt whose fields do not fit (an id past 300 characters, a NUL, ``statuses`` that is not
a list) is ignored, logged and answered 200: the provider would only retry the same bytes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from flask_babel import gettext as _

from app.errors import problem
from app.extensions import csrf
from app.inbound import as_list, clean_text, printable
from app.inputguard import UnsafeInput
from app.inputguard import loads as guarded_json
from app.outbox.services import record_receipt
from app.urls import external_url

log = logging.getLogger("puente.channels")

bp = Blueprint("channel_webhooks", __name__)
csrf.exempt(bp)  # the providers sign their calls; there is no browser here

MAX_BODY_BYTES = 512 * 1024


def _body() -> bytes | None:
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        return None
    data = request.get_data(cache=True)
    return None if len(data) > MAX_BODY_BYTES else data


def _when(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


@bp.get("/webhooks/whatsapp")
def whatsapp_verify() -> Response:
    token = current_app.config.get("WHATSAPP_WEBHOOK_VERIFY_TOKEN")
    if not token:
        return problem(503, _("Los avisos de WhatsApp no están configurados (WHATSAPP_WEBHOOK_VERIFY_TOKEN)."))
    given = request.args.get("hub.verify_token", "")
    if request.args.get("hub.mode") != "subscribe" or not hmac.compare_digest(given.encode(), str(token).encode()):
        return problem(403, _("La verificación de la suscripción no coincide."))
    challenge = request.args.get("hub.challenge", "")[:200]
    return Response(challenge, mimetype="text/plain")


@bp.post("/webhooks/whatsapp")
def whatsapp_status() -> Response:
    secret = current_app.config.get("WHATSAPP_APP_SECRET")
    if not secret:
        return problem(503, _("Los avisos de WhatsApp no están configurados (WHATSAPP_APP_SECRET)."))
    body = _body()
    if body is None:
        return problem(413, _("El aviso supera el tamaño permitido."))
    expected = "sha256=" + hmac.new(str(secret).encode(), body, hashlib.sha256).hexdigest()
    given = request.headers.get("X-Hub-Signature-256", "")
    if not given.isascii() or not hmac.compare_digest(expected.encode(), given.encode()):
        return problem(401, _("Firma ausente o no válida."))
    try:
        data = guarded_json(body)
    except UnsafeInput as exc:  # nested too deep, NUL or lone surrogate
        return problem(400, exc.message)
    except (ValueError, UnicodeDecodeError):
        return problem(400, _("El cuerpo no es JSON válido."))
    counts = {"updated": 0, "unchanged": 0, "unknown": 0, "ignored": 0}
    for entry in as_list(data.get("entry") if isinstance(data, dict) else None):
        for change in as_list(entry.get("changes") if isinstance(entry, dict) else None):
            value = change.get("value") if isinstance(change, dict) else None
            statuses = value.get("statuses") if isinstance(value, dict) else None
            if statuses is not None and not isinstance(statuses, list):
                log.warning("whatsapp receipt ignored: statuses is not a list")
                counts["ignored"] += 1
            for status in as_list(statuses):
                outcome = _whatsapp_receipt(status)
                counts[outcome] += 1
    return jsonify(counts)


def _whatsapp_receipt(status: Any) -> str:
    """Record one ``statuses[]`` item; "ignored" (logged) when its fields do not fit."""
    if not isinstance(status, dict) or not clean_text(status.get("id"), 300) \
            or not clean_text(status.get("status") or "", 20):
        log.warning("whatsapp receipt ignored: id or status missing, too long or with control characters")
        return "ignored"
    errors = as_list(status.get("errors"))
    reason = ""
    if errors and isinstance(errors[0], dict):
        reason = printable(str(errors[0].get("title") or errors[0].get("message") or ""), 300)
    return record_receipt(status["id"], str(status.get("status") or ""), at=_when(status.get("timestamp")),
                          reason=reason)


def twilio_signature(secret: str, url: str, form: dict[str, str]) -> str:
    payload = url + "".join(f"{key}{form[key]}" for key in sorted(form))
    return base64.b64encode(hmac.new(secret.encode(), payload.encode(), hashlib.sha1).digest()).decode()


@bp.post("/webhooks/sms")
def sms_status() -> Response:
    secret = current_app.config.get("SMS_WEBHOOK_SECRET") or current_app.config.get("SMS_API_KEY")
    if not secret:
        return problem(503, _("Los avisos de SMS no están configurados (SMS_WEBHOOK_SECRET o SMS_API_KEY)."))
    if _body() is None:
        return problem(413, _("El aviso supera el tamaño permitido."))
    form = {key: request.form.get(key, "") for key in request.form}
    expected = twilio_signature(str(secret), external_url("channel_webhooks.sms_status"), form)
    given = request.headers.get("X-Twilio-Signature", "")
    if not given.isascii() or not hmac.compare_digest(expected.encode(), given.encode()):
        return problem(401, _("Firma ausente o no válida."))
    sid, state = form.get("MessageSid", ""), form.get("MessageStatus", "").lower()
    if not sid or not state:
        return problem(400, _("Faltan MessageSid o MessageStatus."))
    code = form.get("ErrorCode", "")
    if not clean_text(sid, 300) or not clean_text(state, 20) or not clean_text(code, 20):
        log.warning("sms receipt ignored: MessageSid, MessageStatus or ErrorCode too long or with control characters")
        return jsonify(status="ignored")
    reason = f"código {code}" if code else ""
    return jsonify(status=record_receipt(sid, state, reason=reason))
