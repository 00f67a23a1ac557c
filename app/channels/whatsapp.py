"""WhatsApp Business Cloud API as an outbox transport, and the wa.me share link.

POST {base}/{version}/{phone_number_id}/messages with a Bearer token. Outside the 24-hour
customer-service window (announcements) only approved *template* messages are accepted: an
outbox message whose payload carries ``{"template": {"name", "language", "body_params",
"button_url_params"}}`` goes out as that template; any other goes out as free text, which
WhatsApp refuses (code 131047) unless the person wrote to the office in the last 24 hours.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import requests
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.channels.errors import ChannelPermanentError, ChannelUncertainError
from app.channels.graph import DEFAULT_GRAPH_BASE, DEFAULT_GRAPH_VERSION, problem_reader
from app.channels.http import Timeouts, call, check_base_url, outcome
from app.channels.phone import DEFAULT_REGION, to_e164
from app.outbox.delivery import Sent
from app.outbox.models import OutboxMessage

SERVICE = "WhatsApp"
MAX_TEXT = 4096
WA_ME_SHARE = "https://wa.me/?text="

# Spanish reasons for the Cloud API codes staff can act on; others keep Meta's own text.
REASONS = {
    131047: _l("han pasado más de 24 horas desde el último mensaje de esta persona; fuera de "
               "esa ventana WhatsApp solo admite plantillas aprobadas"),
    470: _l("han pasado más de 24 horas desde el último mensaje de esta persona; fuera de "
            "esa ventana WhatsApp solo admite plantillas aprobadas"),
    131026: _l("el número no tiene WhatsApp o no puede recibir este mensaje"),
    131030: _l("el número no está en la lista de destinatarios permitidos de la cuenta de prueba"),
    132000: _l("la cantidad de parámetros no coincide con la plantilla aprobada"),
    132001: _l("la plantilla no existe o no está aprobada en ese idioma"),
    190: _l("el token de WhatsApp no es válido o expiró (revise WHATSAPP_TOKEN)"),
}


def share_text(text: str, url: str | None) -> tuple[str, str]:
    """A ready-to-forward message and its wa.me link (WhatsApp opens with it, to pick a chat).

    The URL is appended on its own line unless the text already contains it. The whole
    message is percent-encoded as UTF-8, so accents, line breaks, emoji, ``&`` and ``#``
    survive the trip.
    """
    message = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if url and url not in message:
        message = f"{message}\n\n{url}" if message else url
    return message, WA_ME_SHARE + quote(message, safe="")


def _param(value: object) -> str:
    # WhatsApp refuses parameters with line breaks, tabs or runs of spaces (code 132018).
    return " ".join(str(value).split())


def _payload(msg: OutboxMessage) -> dict[str, Any]:
    payload: Any = getattr(msg, "payload", None) or {}
    if isinstance(payload, str):
        try:
            payload = json.loads(payload)
        except ValueError as exc:
            raise ChannelPermanentError(_("Los datos del mensaje de WhatsApp no se pueden leer.")) from exc
    if not isinstance(payload, Mapping):
        raise ChannelPermanentError(_("Los datos del mensaje de WhatsApp no se pueden leer."))
    return dict(payload)


class WhatsAppTransport:
    """Sends outbox messages of channel ``whatsapp`` through the Cloud API."""

    name = "whatsapp-cloud"

    def __init__(self, *, token: str, phone_number_id: str, api_base: str = DEFAULT_GRAPH_BASE,
                 api_version: str = DEFAULT_GRAPH_VERSION, template_language: str = "es",
                 connect_timeout: float = 5.0, read_timeout: float = 20.0,
                 region: str = DEFAULT_REGION, session: requests.Session | None = None) -> None:
        if not token or not phone_number_id:
            raise ValueError("WhatsApp necesita WHATSAPP_TOKEN y WHATSAPP_PHONE_NUMBER_ID")
        base = check_base_url(api_base, "WHATSAPP_API_BASE")
        self.url = f"{base}/{api_version.strip('/')}/{quote(str(phone_number_id), safe='')}/messages"
        self.token = token
        self.template_language = template_language
        self.timeouts: Timeouts = (connect_timeout, read_timeout)
        self.region = region
        self.session = session

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> WhatsAppTransport:
        return cls(token=config["WHATSAPP_TOKEN"], phone_number_id=config["WHATSAPP_PHONE_NUMBER_ID"],
                   api_base=config.get("WHATSAPP_API_BASE") or DEFAULT_GRAPH_BASE,
                   api_version=config.get("WHATSAPP_API_VERSION") or DEFAULT_GRAPH_VERSION,
                   template_language=config.get("WHATSAPP_TEMPLATE_LANGUAGE") or "es",
                   connect_timeout=float(config.get("CHANNELS_CONNECT_TIMEOUT") or 5.0),
                   read_timeout=float(config.get("CHANNELS_READ_TIMEOUT") or 20.0))

    def build(self, msg: OutboxMessage) -> dict[str, Any]:
        """The JSON request body; PermanentError when the message cannot be sent as it is."""
        body: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual",
                                "to": to_e164(msg.recipient, self.region).removeprefix("+")}
        template = _payload(msg).get("template")
        if template is not None:
            body["type"] = "template"
            body["template"] = self._template(template)
            return body
        text = (msg.body_text or "").strip()
        if not text:
            raise ChannelPermanentError(_("El mensaje de WhatsApp está vacío."))
        if len(text) > MAX_TEXT:
            raise ChannelPermanentError(
                _("El mensaje de WhatsApp tiene %(length)d caracteres y el máximo es %(max)d.",
                  length=len(text), max=MAX_TEXT))
        body["type"] = "text"
        body["text"] = {"preview_url": True, "body": text}
        return body

    def _template(self, template: Any) -> dict[str, Any]:
        bad = ChannelPermanentError(_("La plantilla de WhatsApp del mensaje está mal formada."))
        if not isinstance(template, Mapping):
            raise bad
        name = template.get("name")
        if not isinstance(name, str) or not name.strip():
            raise bad
        language = template.get("language") or self.template_language
        if isinstance(language, Mapping):
            language = language.get("code")
        if not isinstance(language, str) or not language:
            raise bad
        body_params = template.get("body_params") or []
        button_params = template.get("button_url_params") or []
        if not isinstance(body_params, list | tuple) or not isinstance(button_params, list | tuple):
            raise bad
        components: list[dict[str, Any]] = []
        if body_params:
            params = [_param(v) for v in body_params]
            if any(not p for p in params):
                raise ChannelPermanentError(_("Un parámetro de la plantilla de WhatsApp está vacío."))
            components.append({"type": "body",
                               "parameters": [{"type": "text", "text": p} for p in params]})
        for index, value in enumerate(button_params):
            # A URL button whose address ends with {{1}}: the tracked link's code goes here.
            components.append({"type": "button", "sub_type": "url", "index": str(index),
                               "parameters": [{"type": "text", "text": _param(value)}]})
        result: dict[str, Any] = {"name": name.strip(), "language": {"code": language}}
        if components:
            result["components"] = components
        return result

    def send(self, msg: OutboxMessage) -> Sent:
        body = self.build(msg)
        response = call("POST", self.url, service=SERVICE, timeouts=self.timeouts,
                        session=self.session, json=body,
                        headers={"Authorization": f"Bearer {self.token}"})
        data = outcome(response, service=SERVICE, read_problem=problem_reader(REASONS))
        message_id = _message_id(data)
        if message_id is None:
            raise ChannelUncertainError(
                _("WhatsApp aceptó el envío pero no indicó el identificador del mensaje: revise "
                  "antes de reenviar."), status=response.status_code)
        return Sent(self.name, message_id)


def _message_id(data: Any) -> str | None:
    """``messages[0].id`` of an accepted answer."""
    messages = data.get("messages") if isinstance(data, dict) else None
    first = messages[0] if isinstance(messages, list) and messages else None
    message_id = first.get("id") if isinstance(first, dict) else None
    return message_id if isinstance(message_id, str) and message_id else None
