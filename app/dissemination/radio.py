"""The radio script: what a local radio presenter reads aloud, as plain text and as a one-page PDF.

Everything a listener has to catch is written as it is said, in Chilean Spanish:

- the day: "el martes tres de diciembre" ("primero" for the 1st; the year only when it is not
  this year's);
- the time, on a twelve-hour clock with the part of the day: "a las diez y media de la
  mañana", "a la una de la tarde", "a las seis y cuarto de la tarde", "a mediodía", "a
  medianoche", "a las doce y media del día"; numbers by ``num2words`` (lang="es");
- the web address, letter by letter where a word would not do: the scheme and "www." are
  left out, a dot is "punto", a slash "barra", a domain label or path segment of four or more
  lower-case letters is read as a word, anything shorter or with capitals or digits (a
  tracked link's short code) is spelled with the Spanish names of the letters ("ka, siete,
  cu, efe, dos"). So ``https://puentelaboral.cl/c/K7QF2`` is read "puentelaboral punto ce
  ele, barra, ce, barra, ka, siete, cu, efe, dos". Campaigns should give the radio a short
  tracked link; its code is repeated at the end;
- the office's phone, without the country code, in groups: the area or mobile prefix digit by
  digit, then pairs: +56 2 2345 6789 is "dos, veintitrés, cuarenta y cinco, sesenta y siete,
  ochenta y nueve".

Between square brackets, after what is said, the script shows how it is written, for the
presenter only.
"""

from __future__ import annotations

import io
from datetime import date, datetime, time
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import phonenumbers
from babel.dates import format_date
from flask_babel import gettext as _
from num2words import num2words

from app.activities.models import ActivityKind
from app.dissemination.announcement import DEFAULT_LOCALE, Announcement, in_locale, join_words
from app.dissemination.poster import wrap
from app.registration.certificate import pdf_text
from app.timeutil import utcnow

#: How Spanish names the letters (as a Chilean presenter would spell them).
LETTERS = {
    "a": "a", "b": "be", "c": "ce", "d": "de", "e": "e", "f": "efe", "g": "ge", "h": "hache", "i": "i",
    "j": "jota", "k": "ka", "l": "ele", "m": "eme", "n": "ene", "ñ": "eñe", "o": "o", "p": "pe", "q": "cu",
    "r": "erre", "s": "ese", "t": "te", "u": "u", "v": "ve", "w": "doble ve", "x": "equis", "y": "i griega",
    "z": "zeta",
}
SYMBOLS = {"-": "guion", "_": "guion bajo", ".": "punto", "/": "barra", "?": "signo de interrogación",
           "=": "igual", "&": "y", "~": "virgulilla", "#": "numeral", "+": "más"}
WORDS_PER_MINUTE = 150  # a calm reading pace


def number(n: int) -> str:
    return str(num2words(n, lang="es"))


# --- dates and times ----------------------------------------------------------------------------


def _part_of_day(hour: int) -> str:
    if hour == 0 or hour >= 20:
        return _("de la noche")
    if hour < 6:
        return _("de la madrugada")
    if hour < 12:
        return _("de la mañana")
    if hour == 12:
        return _("del día")
    return _("de la tarde")


def spoken_time(value: time | datetime) -> str:
    """"a las diez y media de la mañana" (the value is already in the session's zone)."""
    hour, minute = value.hour, value.minute
    if minute == 0 and hour == 0:
        return _("a medianoche")
    if minute == 0 and hour == 12:
        return _("a mediodía")
    twelve = hour % 12 or 12
    if minute == 0:
        rest = ""
    elif minute == 15:
        rest = " " + _("y cuarto")
    elif minute == 30:
        rest = " " + _("y media")
    elif minute == 1:
        rest = " " + _("y un minuto")
    else:
        rest = " " + _("y %(minutes)s", minutes=number(minute))
    if twelve == 1:
        clock = _("a la una%(rest)s", rest=rest)
    else:
        clock = _("a las %(hour)s%(rest)s", hour=number(twelve), rest=rest)
    return f"{clock} {_part_of_day(hour)}"


def spoken_day_number(day: int) -> str:
    return _("primero") if day == 1 else number(day)


def spoken_date(day: date, *, today: date | None = None, locale: str = DEFAULT_LOCALE) -> str:
    """"el martes tres de diciembre" (with "de dos mil veintisiete" when not this year)."""
    this_year = (today or utcnow().date()).year
    weekday = format_date(day, "EEEE", locale=locale)
    month = format_date(day, "MMMM", locale=locale)
    text = _("el %(weekday)s %(day)s de %(month)s", weekday=weekday, day=spoken_day_number(day.day), month=month)
    if day.year != this_year:
        text = _("%(date)s de %(year)s", date=text, year=number(day.year))
    return text


def spoken_when(start: datetime, *, today: date | None = None, locale: str = DEFAULT_LOCALE) -> str:
    """"el martes tres de diciembre, a las diez y media de la mañana"."""
    return f"{spoken_date(start.date(), today=today, locale=locale)}, {spoken_time(start)}"


# --- codes, addresses, phones ----------------------------------------------------------------


def spell(text: str) -> list[str]:
    """Each character as it is said: letters by name, digits as numbers, symbols by name."""
    out: list[str] = []
    for ch in text.lower():
        if ch.isdecimal():  # not isdigit(): "²" is a digit int() cannot read
            out.append(number(int(ch)))
        elif ch in LETTERS:
            out.append(LETTERS[ch])
        elif ch in SYMBOLS:
            out.append(SYMBOLS[ch])
        elif ch.strip():
            out.append(ch)
    return out


def spoken_code(code: str) -> str:
    """"ka, siete, cu, efe, dos" for K7QF2 (dashes and spaces are not read)."""
    return ", ".join(spell(code.replace("-", "").replace(" ", "")))


def _word_or_spelled(part: str, sep: str = ", ") -> str:
    if len(part) >= 4 and all((ch.isalpha() and ch.islower()) or ch == "-" for ch in part):
        return part.replace("-", " " + _("guion") + " ")
    return sep.join(spell(part))


def spoken_url(url: str) -> str:
    """How to say a web address; see the module's docstring."""
    parts = urlsplit(url if "//" in url else f"//{url}")
    host = (parts.hostname or "").lower()
    if host.startswith("www."):
        host = host[4:]
    said = [f" {_('punto')} ".join(_word_or_spelled(label, " ") for label in host.split(".") if label)]
    for segment in parts.path.split("/"):
        if segment:
            said.append(_("barra"))
            said.append(_word_or_spelled(segment))
    if parts.query:
        said.append(_("signo de interrogación"))
        said.append(", ".join(spell(parts.query)))
    return ", ".join(s for s in said if s)


def display_url(url: str) -> str:
    """The address as the presenter sees it written: no scheme, no "www."."""
    parts = urlsplit(url if "//" in url else f"//{url}")
    host = (parts.hostname or "").lower().removeprefix("www.")
    return host + (parts.path if parts.path != "/" else "") + (f"?{parts.query}" if parts.query else "")


def _pairs(digits: str) -> list[str]:
    """"2345" → ["veintitrés", "cuarenta y cinco"]; an odd count starts with one digit."""
    groups: list[str] = []
    if len(digits) % 2:
        groups.append(number(int(digits[0])))
        digits = digits[1:]
    for i in range(0, len(digits), 2):
        pair = digits[i:i + 2]
        groups.append(f"{number(0)} {number(int(pair[1]))}" if pair[0] == "0" else number(int(pair)))
    return groups


def phone_parts(phone: str) -> tuple[str, str]:
    """(prefix, subscriber digits) of a Chilean number: ("2", "23456789"), ("45", "2123456"),
    ("9", "12345678"); the prefix is the area code of a fixed line or the 9 of a mobile."""
    try:
        parsed = phonenumbers.parse(phone, "CL")
    except phonenumbers.NumberParseException:
        return "", "".join(ch for ch in phone if ch.isdigit())
    national = phonenumbers.national_significant_number(parsed)
    formatted = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    if formatted.startswith("(") and ")" in formatted:
        area = "".join(ch for ch in formatted[1:formatted.index(")")] if ch.isdigit())
        if national.startswith(area):
            return area, national[len(area):]
    return national[:1], national[1:]


def spoken_phone(phone: str) -> str:
    """"dos, veintitrés, cuarenta y cinco, sesenta y siete, ochenta y nueve" for +56 2 2345 6789."""
    prefix, rest = phone_parts(phone)
    said = [number(int(d)) for d in prefix] + _pairs(rest)
    return ", ".join(said)


def written_phone(phone: str) -> str:
    """"(2) 2345 6789", "9 1234 5678": how the presenter sees it."""
    prefix, rest = phone_parts(phone)
    half = len(rest) // 2
    body = f"{rest[:half]} {rest[half:]}" if len(rest) >= 6 else rest
    if not prefix:
        return body
    return f"{prefix} {body}" if prefix == "9" else f"({prefix}) {body}"


# --- the script --------------------------------------------------------------------------------


def _kind_phrase(kind: str) -> str:
    if kind == ActivityKind.FAIR.value:
        return _("a la feria laboral gratuita")
    return _("al taller gratuito de apresto laboral")


def _place_phrase(a: Announcement) -> str:
    if a.place and a.online:
        return _("en %(place)s, o en línea desde su celular o computador", place=a.place)
    if a.place:
        return _("en %(place)s", place=a.place)
    return _("en línea, desde su celular o computador")


def _lower_first(label: str) -> str:
    """"Subtítulos" → "subtítulos", but "LSCh" stays as it is."""
    if len(label) > 1 and label[0].isupper() and label[1].islower():
        return label[0].lower() + label[1:]
    return label


def radio_paragraphs(a: Announcement, *, today: date | None = None, locale: str = DEFAULT_LOCALE) -> list[str]:
    """The script, paragraph by paragraph (what is read, with [how it is written])."""
    with in_locale(locale):
        today = today or datetime.now(ZoneInfo(a.timezone)).date()
        when = spoken_when(a.starts_at, today=today, locale=locale)
        paragraphs = [
            _("¿Está buscando trabajo? %(office)s lo invita %(kind)s «%(title)s», %(when)s, %(place)s.",
              office=a.office_name, kind=_kind_phrase(a.kind), title=a.title, when=when, place=_place_phrase(a)),
        ]
        if a.accessibility:
            paragraphs.append(_("La actividad ofrece %(offered)s.",
                                offered=join_words([_lower_first(x) for x in a.accessibility], locale=locale)))
        paragraphs.append(_("Para inscribirse, entre a %(spoken)s. [Se escribe: %(written)s]",
                            spoken=spoken_url(a.registration_url), written=display_url(a.registration_url)))
        if a.short_code:
            paragraphs.append(_("Repito el código: %(spoken)s. [%(code)s]", spoken=spoken_code(a.short_code),
                                code=a.short_code))
        if a.office_phone:
            paragraphs.append(_("Si prefiere, llame a %(office)s al %(spoken)s. [%(written)s]",
                                office=a.office_name, spoken=spoken_phone(a.office_phone),
                                written=written_phone(a.office_phone)))
        paragraphs.append(_("La inscripción es gratuita y los cupos son limitados. ¡Lo esperamos!"))
        return paragraphs


def reading_seconds(paragraphs: list[str]) -> int:
    """About how long reading the script takes, brackets left out."""
    import re

    words = sum(len(re.sub(r"\[[^\]]*\]", "", p).split()) for p in paragraphs)
    return max(10, round(words * 60 / WORDS_PER_MINUTE / 5) * 5)


def radio_text(a: Announcement, *, today: date | None = None, locale: str = DEFAULT_LOCALE) -> str:
    """The script as plain text, ready to paste in an email to the radio."""
    paragraphs = radio_paragraphs(a, today=today, locale=locale)
    with in_locale(locale):
        head = [
            _("GUION PARA RADIO: %(title)s", title=a.title),
            _("Lectura de unos %(seconds)s segundos. Entre corchetes, cómo se escribe (no se lee).",
              seconds=reading_seconds(paragraphs)),
        ]
    return "\n".join(head) + "\n\n" + "\n\n".join(paragraphs) + "\n"


def radio_pdf(a: Announcement, *, today: date | None = None, locale: str = DEFAULT_LOCALE) -> bytes:
    """The script on one A4 page, in a large type; it shrinks, then is cut, to stay on one page."""
    from reportlab.lib.colors import HexColor
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.pdfgen.canvas import Canvas

    paragraphs = [pdf_text(p) for p in radio_paragraphs(a, today=today, locale=locale)]
    with in_locale(locale):
        heading = pdf_text(_("Guion para radio"))
        subtitle = pdf_text(_("Lectura de unos %(seconds)s segundos. Entre corchetes, cómo se escribe (no se lee).",
                              seconds=reading_seconds(paragraphs)))
    width, height = A4
    margin = 56.0
    inner = width - 2 * margin
    buf = io.BytesIO()
    canvas = Canvas(buf, pagesize=A4, pageCompression=1)
    canvas.setTitle(pdf_text(_("Guion para radio: %(title)s", title=a.title[:200])))
    canvas.setAuthor(pdf_text(a.office_name))
    canvas.setCreator("Puente Laboral")

    canvas.setFillColor(HexColor("#0b5394"))
    canvas.setFont("Helvetica-Bold", 20)
    top = height - margin
    canvas.drawString(margin, top - 20, heading)
    y = top - 42
    canvas.setFillColor(HexColor("#1b1b1b"))
    canvas.setFont("Helvetica-Bold", 13)
    for line in wrap(pdf_text(a.title), lambda s: stringWidth(s, "Helvetica-Bold", 13), inner, 2):
        canvas.drawString(margin, y, line)
        y -= 16
    y -= 2
    canvas.setFillColor(HexColor("#555555"))
    canvas.setFont("Helvetica", 10)
    sub_lines = wrap(subtitle, lambda s: stringWidth(s, "Helvetica", 10), inner, 2)
    for line in sub_lines:
        canvas.drawString(margin, y, line)
        y -= 13
    y -= 14
    floor = margin

    def measure(size: float) -> list[list[str]]:
        return [wrap(p, lambda s, size=size: stringWidth(s, "Helvetica", size), inner, 40) for p in paragraphs]

    size = 16.0
    while size > 9:
        blocks = measure(size)
        needed = sum(len(b) * size * 1.45 + size for b in blocks)
        if needed <= y - floor:
            break
        size -= 1
    blocks = measure(size)
    canvas.setFillColor(HexColor("#1b1b1b"))
    canvas.setFont("Helvetica", size)
    leading = size * 1.45
    for block in blocks:
        for line in block:
            if y - leading < floor:
                break
            y -= leading
            canvas.drawString(margin, y, line)
        y -= size
    canvas.showPage()
    canvas.save()
    return buf.getvalue()
