"""Outward channel clients: WhatsApp Cloud API, SMS (Twilio-compatible), Facebook page posts.

WhatsApp and SMS are outbox transports (``name`` and ``send(msg) -> Sent``, failing with the
outbox's transient / permanent / uncertain errors); ``transport_for_channel`` picks one when
its settings are present. Facebook posts to a page rather than to a person: see
``app.channels.facebook``. The transports are imported lazily, so ``app.outbox.delivery``
may import this package at module level without an import cycle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app

from app.channels.ratelimit import RateLimiter, rate_limiter

if TYPE_CHECKING:
    from app.outbox.delivery import Transport

__all__ = ["RateLimiter", "rate_limiter", "transport_for_channel"]


def transport_for_channel(channel: str) -> Transport | None:
    """The real transport for ``channel`` when configured; None (use the default) otherwise."""
    config = current_app.config
    if channel == "whatsapp" and config.get("WHATSAPP_TOKEN") and config.get("WHATSAPP_PHONE_NUMBER_ID"):
        from app.channels.whatsapp import WhatsAppTransport

        return WhatsAppTransport.from_config(config)
    if channel == "sms" and config.get("SMS_API_URL"):
        from app.channels.sms import SmsTransport

        return SmsTransport.from_config(config)
    return None
