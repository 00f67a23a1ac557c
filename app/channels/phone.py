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


def as_written(stored: str | None, region: str = DEFAULT_REGION) -> str:
    """A stored number as people write it: ``+56 2 2248 6200``, ``+56 9 1234 5678`` (phonenumbers'
    INTERNATIONAL format); what cannot be read is shown as it was stored."""
    text = (stored or "").strip()
    if not text:
        return ""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return text
    if not phonenumbers.is_possible_number(number):
        return text
    national = phonenumbers.national_significant_number(number)
    if number.country_code == 56 and len(national) == 9 and national.startswith("9"):
        # phonenumbers' metadata prints Chilean mobiles in one block (+56 912345678);
        # people and SUBTEL write them 9 XXXX XXXX.
        return f"+56 9 {national[1:5]} {national[5:]}"
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
