"""Links to share a workshop and to find the way to a session: plain links, no third-party script.

WhatsApp's ``wa.me/?text=`` and Facebook's sharer open the person's own app or page; "Cómo
llegar" opens Google Maps' documented search URL (``maps/search/?api=1&query=``), which phones
hand to the maps app they have. Nothing is loaded from those services until the person taps.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlencode

from flask_babel import gettext as _

from app.activities.models import ActivitySession

MAPS_SEARCH = "https://www.google.com/maps/search/"


@dataclass(frozen=True)
class ShareLinks:
    url: str
    whatsapp: str
    facebook: str


def share_links(title: str, when: str, url: str) -> ShareLinks:
    text = _("%(title)s (%(when)s). Inscripción gratuita: %(url)s", title=title, when=when, url=url) if when \
        else f"{title}: {url}"
    return ShareLinks(
        url=url,
        whatsapp="https://wa.me/?" + urlencode({"text": text}, quote_via=quote),
        facebook="https://www.facebook.com/sharer/sharer.php?" + urlencode({"u": url}, quote_via=quote),
    )


def map_url(session: ActivitySession) -> str | None:
    """"Cómo llegar" to an in-person session: its address (or venue), comuna and Chile."""
    if not session.is_in_person:
        return None
    parts = [p for p in (session.address or session.venue_name,
                         session.comuna.name if session.comuna is not None else None) if p]
    if not parts:
        return None
    return MAPS_SEARCH + "?" + urlencode({"api": "1", "query": ", ".join([*parts, "Chile"])}, quote_via=quote)
