"""Phone numbers as the providers want them (E.164), from what people typed or we stored."""

from __future__ import annotations

import phonenumbers
from flask_babel import gettext as _

from app.channels.errors import ChannelPermanentError

DEFAULT_REGION = "CL"


def to_e164(raw: str, region: str = DEFAULT_REGION) -> str:
    """``+56912345678`` from ``+56 9 1234 5678``, ``912345678`` or ``56912345678``.

    An unusable number is a permanent error (no provider will take it); the number itself is
    left out of the message, which ends up in the outbox where other staff read it.
    """
    text = (raw or "").strip()
    try:
        number = phonenumbers.parse(text, region)
        if not phonenumbers.is_valid_number(number) and not text.startswith("+"):
            # "56912345678" typed without the plus sign.
            number = phonenumbers.parse("+" + text, region)
    except phonenumbers.NumberParseException as exc:
        raise ChannelPermanentError(_("El número de teléfono del destinatario no se puede leer.")) from exc
    if not phonenumbers.is_valid_number(number):
        raise ChannelPermanentError(_("El número de teléfono del destinatario no es válido."))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
