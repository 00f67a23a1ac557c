"""SMS through a Twilio-compatible Messages API, and SMS length (segments) counting.

The request: POST {SMS_API_URL} form-encoded ``To``, ``From``, ``Body``, HTTP Basic
``SMS_ACCOUNT_SID:SMS_API_KEY``; the answer: JSON with ``sid`` (201), or ``{"code",
"message"}`` on error. Twilio itself, and the many providers that copy its shape, take it.

Length: a message in the GSM 03.38 alphabet costs 7 bits a character (160 in one SMS, 153 a
part once split, the extension characters ``^{}\\[~]|€`` and form feed count twice); a
single character outside it (á, í, ó, ú, emoji…) turns the whole message into UCS-2 (70 in
one SMS, 67 a part, an emoji counts twice). A part boundary never splits an escape pair or
an emoji.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests
from flask import current_app, has_app_context
from flask_babel import gettext as _

from app.channels.errors import ChannelPermanentError, ChannelUncertainError
from app.channels.http import Problem, Timeouts, call, check_base_url, json_object, outcome
from app.channels.phone import DEFAULT_REGION, to_e164
from app.outbox.delivery import Sent
from app.outbox.models import OutboxMessage

SERVICE = "SMS"
MAX_SEGMENTS = 3  # default for SMS_MAX_SEGMENTS

# GSM 03.38 default alphabet (0x1B, the escape to the extension table, left out) ...
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# ... and its extension table: each costs an escape plus itself, two septets.
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67

# Twilio codes that mean "not now" rather than "no": 20429 too many requests, 30001 queue
# overflow.
TRANSIENT_CODES = frozenset({"20429", "30001"})


@dataclass(frozen=True)
class SmsLength:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int
    non_gsm: tuple[str, ...]  # the characters that forced UCS-2, in order of appearance

    @property
    def per_segment(self) -> int:
        if self.encoding == "GSM-7":
            return GSM7_SINGLE if self.segments <= 1 else GSM7_PART
        return UCS2_SINGLE if self.segments <= 1 else UCS2_PART


def _pack(costs: list[int], single: int, part: int) -> int:
    total = sum(costs)
    if total == 0:
        return 0
    if total <= single:
        return 1
    count, used = 1, 0
    for cost in costs:
        if used + cost > part:
            count, used = count + 1, 0
        used += cost
    return count


def measure(text: str) -> SmsLength:
    """Encoding, size and number of SMS parts of ``text``."""
    non_gsm = tuple(dict.fromkeys(c for c in text if c not in GSM7_BASIC and c not in GSM7_EXTENSION))
    if not non_gsm:
        costs = [2 if c in GSM7_EXTENSION else 1 for c in text]
        return SmsLength("GSM-7", sum(costs), _pack(costs, GSM7_SINGLE, GSM7_PART), ())
    costs = [2 if ord(c) > 0xFFFF else 1 for c in text]
    return SmsLength("UCS-2", sum(costs), _pack(costs, UCS2_SINGLE, UCS2_PART), non_gsm)


def segments(text: str) -> int:
    """How many SMS ``text`` takes (0 for an empty text)."""
    return measure(text).segments


def configured_max_segments() -> int:
    if has_app_context():
        return int(current_app.config.get("SMS_MAX_SEGMENTS") or MAX_SEGMENTS)
    return MAX_SEGMENTS


def check_length(text: str, max_segments: int | None = None) -> str | None:
    """None when ``text`` fits in ``max_segments`` SMS (SMS_MAX_SEGMENTS); else why not, in Spanish.

    For the campaign editor to show next to the field, and for the transport to refuse a
    message before calling the provider.
    """
    limit = max_segments if max_segments is not None else configured_max_segments()
    if not text.strip():
        return str(_("El SMS está vacío."))
    length = measure(text)
    if length.segments <= limit:
        return None
    if length.encoding == "GSM-7":
        room = GSM7_SINGLE if limit == 1 else GSM7_PART * limit
    else:
        room = UCS2_SINGLE if limit == 1 else UCS2_PART * limit
    message: str = _("El SMS ocupa %(segments)d partes y el máximo permitido es %(max)d: acórtelo en "
                "unos %(excess)d caracteres.", segments=length.segments, max=limit,
                excess=max(length.units - room, 1))
    if length.non_gsm:
        shown = " ".join(length.non_gsm[:8])
        message += " " + _("Tiene caracteres fuera del alfabeto básico de SMS (%(chars)s), por lo que "
                           "cada parte admite solo %(part)d caracteres en vez de %(gsm)d; sin "
                           "ellos (por ejemplo «a» en vez de «á») cabe más del doble.",
                           chars=shown, part=UCS2_PART, gsm=GSM7_PART)
    return message


def _problem(response: requests.Response) -> Problem | None:
    data = json_object(response)
    if data is None:
        return None
    code = data.get("code")
    code_text = str(code) if isinstance(code, int | str) and not isinstance(code, bool) else None
    message = data.get("message")
    text = message if isinstance(message, str) and message.strip() else ""
    ref = _("código %(code)s", code=code_text) if code_text else ""
    text = f"{text} ({ref})" if text and ref else (text or ref)
    return Problem(text, code_text, code_text in TRANSIENT_CODES)


def _status_callback(config: Mapping[str, Any]) -> str | None:
    """``/webhooks/sms`` on the public address, when ``SMS_STATUS_CALLBACK`` asks for receipts."""
    if not config.get("SMS_STATUS_CALLBACK"):
        return None
    from app.urls import external_url

    return external_url("channel_webhooks.sms_status")


class SmsTransport:
    """Sends outbox messages of channel ``sms`` through a Twilio-compatible Messages API."""

    name = "sms-http"

    def __init__(self, *, api_url: str, sender: str = "", account_sid: str = "", api_key: str = "",
                 max_segments: int = MAX_SEGMENTS, connect_timeout: float = 5.0,
                 read_timeout: float = 20.0, region: str = DEFAULT_REGION,
                 session: requests.Session | None = None, status_callback: str | None = None) -> None:
        self.url = check_base_url(api_url, "SMS_API_URL")
        self.status_callback = status_callback  # where the provider reports delivery (optional)
        self.sender = sender
        self.auth = (account_sid, api_key) if (account_sid or api_key) else None
        self.max_segments = max_segments
        self.timeouts: Timeouts = (connect_timeout, read_timeout)
        self.region = region
        self.session = session

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SmsTransport:
        return cls(api_url=config["SMS_API_URL"], sender=config.get("SMS_FROM") or "",
                   account_sid=config.get("SMS_ACCOUNT_SID") or "",
                   api_key=config.get("SMS_API_KEY") or "",
                   max_segments=int(config.get("SMS_MAX_SEGMENTS") or MAX_SEGMENTS),
                   connect_timeout=float(config.get("CHANNELS_CONNECT_TIMEOUT") or 5.0),
                   read_timeout=float(config.get("CHANNELS_READ_TIMEOUT") or 20.0),
                   status_callback=_status_callback(config))

    def build(self, msg: OutboxMessage) -> dict[str, str]:
        """The form fields; PermanentError when the message cannot be sent as it is."""
        body = msg.body_text or ""
        problem = check_length(body, self.max_segments)
        if problem:
            raise ChannelPermanentError(problem)
        fields = {"To": to_e164(msg.recipient, self.region)}
        if self.sender:
            fields["From"] = self.sender
        fields["Body"] = body
        if self.status_callback:
            fields["StatusCallback"] = self.status_callback
        return fields

    def send(self, msg: OutboxMessage) -> Sent:
        fields = self.build(msg)
        response = call("POST", self.url, service=SERVICE, timeouts=self.timeouts,
                        session=self.session, data=fields, auth=self.auth,
                        headers={"Accept": "application/json"})
        data = outcome(response, service=SERVICE, read_problem=_problem)
        sid = data.get("sid") if isinstance(data, dict) else None
        if not isinstance(sid, str) or not sid:
            raise ChannelUncertainError(
                _("El proveedor de SMS aceptó el envío pero no indicó el identificador del mensaje: "
                  "revise antes de reenviar."), status=response.status_code)
        if data.get("status") == "failed":
            detail = data.get("error_message") or data.get("error_code") or ""
            raise ChannelPermanentError(_("El proveedor de SMS rechazó el envío: %(detail)s",
                                          detail=str(detail)))
        return Sent(self.name, sid)
