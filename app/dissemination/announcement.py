"""What every channel says about one session: the ``Announcement``, and the messages built from it.

An announcement is a plain frozen value, made once from the core models
(``announcement_for_session``) and handed to each channel: a message template, the poster,
the radio script, the widget and the feeds all say the same thing in the same words.

- Times are in the session's own zone (``starts_at``/``ends_at`` are aware and already
  converted), never in the server's or the reader's.
- What only a domain knows (the accessibility a workshop offers: subtitles, a sign-language
  interpreter...) arrives through the core's ``join_page_accessibility`` signal, the same one
  the join page asks: receivers return short Spanish labels. The core never imports a domain.
- Message templates written by staff use ``{titulo}``, ``{fecha}``, ``{hora}``, ``{lugar}`` and
  ``{enlace}``. ``render_message`` reads the template with ``string.Formatter().parse`` and
  substitutes each field itself: anything else (``{0}``, ``{}``, ``{titulo.__class__}``,
  ``{titulo[0]}``, a format spec or a conversion) is refused with ``UnknownPlaceholder``,
  never evaluated. ``{{`` and ``}}`` write a literal brace.

Outward texts are Spanish (es-CL) whatever the staff member's own language: the message, the
poster and the radio script are for the public. Pass ``locale="en"`` for an English version.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date
from flask_babel import force_locale
from flask_babel import gettext as _

from app.activities.models import ActivityKind, ActivitySession, Modality
from app.conferencing import accessibility_offered
from app.timeutil import utcnow

DEFAULT_LOCALE = "es_CL"

#: The placeholders a message template may use, in the order the help text lists them.
PLACEHOLDERS = ("titulo", "fecha", "hora", "lugar", "enlace")
#: What people also type for them (an accent is easy to add by habit).
ALIASES = {"título": "titulo"}


class MessageTemplateError(ValueError):
    """A message template that cannot be used; ``str(err)`` is a Spanish sentence for staff."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnknownPlaceholder(MessageTemplateError):
    """A ``{...}`` field that is not one of ``PLACEHOLDERS`` (``placeholder`` is what was typed)."""

    def __init__(self, placeholder: str) -> None:
        self.placeholder = placeholder
        known = ", ".join("{" + name + "}" for name in PLACEHOLDERS)
        super().__init__(_("El marcador %(name)s no existe. Puede usar %(known)s.", name=placeholder, known=known))


@dataclass(frozen=True)
class Announcement:
    """One session as every channel announces it."""

    title: str
    starts_at: datetime  # aware, in ``timezone``
    ends_at: datetime  # aware, in ``timezone``
    timezone: str  # IANA name, e.g. America/Santiago
    place: str | None  # venue, address and comuna; None when the session is only online
    online: bool  # remote or hybrid
    accessibility: tuple[str, ...]  # short labels of what is offered ("Subtítulos", ...)
    registration_url: str
    office_name: str
    office_phone: str | None  # E.164
    office_comuna: str
    short_code: str | None = None  # the short code a poster or a radio spot gives (tracked link)
    kind: str = ActivityKind.WORKSHOP.value  # "workshop" or "fair"

    def __post_init__(self) -> None:
        if self.starts_at.tzinfo is None or self.ends_at.tzinfo is None:
            raise ValueError("naive datetime refused: Announcement times are aware")
        zone = ZoneInfo(self.timezone)
        object.__setattr__(self, "starts_at", self.starts_at.astimezone(zone))
        object.__setattr__(self, "ends_at", self.ends_at.astimezone(zone))
        object.__setattr__(self, "accessibility", tuple(self.accessibility))


# --- from the models ------------------------------------------------------------------------


def place_text(session: ActivitySession) -> str | None:
    """"Sala de capacitación OMIL, Av. Irarrázaval 3550, Ñuñoa", or None for an online session."""
    if session.modality == Modality.REMOTE:
        return None
    parts: list[str] = []
    for part in (session.venue_name, session.address, session.comuna.name if session.comuna else None):
        cleaned = " ".join((part or "").split())
        if cleaned and cleaned not in parts:
            parts.append(cleaned)
    return ", ".join(parts) or None


def announcement_for_session(session: ActivitySession, registration_url: str, *, short_code: str | None = None,
                             locale: str = DEFAULT_LOCALE) -> Announcement:
    """The announcement of ``session``; ``registration_url`` is the (tracked) link to register."""
    activity = session.activity
    office = activity.host_office
    with in_locale(locale):
        offered = accessibility_offered(session)
    return Announcement(
        title=" ".join(activity.title.split()),
        starts_at=session.local_start,
        ends_at=session.local_end,
        timezone=session.timezone,
        place=place_text(session),
        online=session.is_remote,
        accessibility=offered,
        registration_url=registration_url,
        office_name=office.name,
        office_phone=office.phone or None,
        office_comuna=office.comuna.name,
        short_code=short_code,
        kind=activity.kind.value,
    )


# --- words -----------------------------------------------------------------------------------


@contextmanager
def in_locale(locale: str) -> Iterator[None]:
    with force_locale(locale):
        yield


def _english(locale: str) -> bool:
    return locale.lower().startswith("en")


def day_text(day: date, *, locale: str = DEFAULT_LOCALE, today: date | None = None) -> str:
    """"martes 3 de diciembre" (with the year when it is not this year's)."""
    this_year = (today or utcnow().date()).year
    if _english(locale):
        pattern = "EEEE, MMMM d" if day.year == this_year else "EEEE, MMMM d, y"
    else:
        pattern = "EEEE d 'de' MMMM" if day.year == this_year else "EEEE d 'de' MMMM 'de' y"
    return str(format_date(day, pattern, locale=locale))


def time_text(value: datetime) -> str:
    """"10:00" (24-hour clock, as Chile writes it)."""
    return value.strftime("%H:%M")


def place_label(a: Announcement, *, capitalised: bool = False) -> str:
    """The place, "en línea", or "<place> o en línea" for a hybrid session."""
    if a.place and a.online:
        return _("%(place)s o en línea", place=a.place)
    if a.place:
        return a.place
    return _("En línea") if capitalised else _("en línea")


def placeholders(a: Announcement, *, locale: str = DEFAULT_LOCALE, today: date | None = None) -> dict[str, str]:
    """The values of ``PLACEHOLDERS`` for this announcement."""
    with in_locale(locale):
        today = today or datetime.now(ZoneInfo(a.timezone)).date()
        return {
            "titulo": a.title,
            "fecha": day_text(a.starts_at.date(), locale=locale, today=today),
            "hora": time_text(a.starts_at),
            "lugar": place_label(a),
            "enlace": a.registration_url,
        }


# --- message templates ------------------------------------------------------------------------


def _field_text(name: str, conversion: str | None, spec: str | None) -> str:
    return "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"


def _parts(template: str) -> list[tuple[str, str | None]]:
    """(literal text, placeholder name or None) pairs; raises for anything but a known name."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError:
        raise MessageTemplateError(_("El mensaje tiene una llave «{» o «}» sin pareja. Para escribir una llave "
                                     "en el texto, escríbala dos veces: {{ o }}.")) from None
    out: list[tuple[str, str | None]] = []
    for literal, name, spec, conversion in parsed:
        if name is None:
            out.append((literal, None))
            continue
        key = ALIASES.get(name.strip().lower(), name.strip().lower())
        if key not in PLACEHOLDERS or name.strip() != name or spec or conversion:
            raise UnknownPlaceholder(_field_text(name, conversion, spec))
        out.append((literal, key))
    return out


def placeholders_in(template: str) -> list[str]:
    """The placeholders a template uses (each once, in order); raises ``MessageTemplateError``.

    For a form to check a template before any announcement exists.
    """
    seen: list[str] = []
    for _literal, key in _parts(template):
        if key is not None and key not in seen:
            seen.append(key)
    return seen


def fill(template: str, values: Mapping[str, str]) -> str:
    """The template with each placeholder replaced by ``values[name]``; nothing is evaluated."""
    return "".join(literal + (values[key] if key is not None else "") for literal, key in _parts(template))


def render_message(template: str, announcement: Announcement, *, locale: str = DEFAULT_LOCALE) -> str:
    """The message staff wrote, with this announcement's title, date, time, place and link."""
    return fill(template, placeholders(announcement, locale=locale))


def join_words(items: Iterable[str], *, locale: str = DEFAULT_LOCALE) -> str:
    """"a, b y c" (Spanish: "e" before an i- sound)."""
    words = [w for w in items if w]
    if len(words) <= 1:
        return "".join(words)
    last = words[-1]
    if _english(locale):
        conj = "and"
    else:
        low = last.lower()
        i_sound = low[:1] in ("i", "í") or (low[:2] in ("hi", "hí") and low[2:3] not in tuple("aeiouáéó"))
        conj = "e" if i_sound else "y"
    return f"{', '.join(words[:-1])} {conj} {last}"
