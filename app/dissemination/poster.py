"""The poster: a printable A4 PDF for the office's panel and a PNG for social networks.

Both show the kind of activity, its title, the day and time in the session's zone, the place
(or "En línea"), the accessibility offered, a QR code to the registration link, and the host
office with its phone. Every text is wrapped to its box and cut with "…" after a number of
lines, and a block that would run into the QR code is dropped: nothing leaves the page,
whatever the title's length.

- QR: ``segno`` (error correction M, raised when the link leaves room), drawn module by module
  as vector rectangles in the PDF and as pixels in the PNG, with the standard quiet zone.
- PDF: reportlab with its built-in Helvetica, as the attendance certificate does (Windows-1252
  covers Spanish; another character loses its accent or becomes "?": ``pdf_text``).
- PNG: Pillow, 1080×1350 (portrait, what Instagram and Facebook show whole) or 1080×1080,
  with DejaVu Sans when the system has it, else Pillow's own scalable font.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import segno
from flask_babel import gettext as _

from app.activities.models import ActivityKind
from app.dissemination.announcement import DEFAULT_LOCALE, Announcement, day_text, in_locale, place_label, time_text
from app.i18n import zone_name
from app.registration.certificate import pdf_text

BRAND = "#0b5394"
INK = "#1b1b1b"
MUTED = "#555555"
ELLIPSIS = "…"
PNG_SIZES = ((1080, 1350), (1080, 1080))
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
#: Zones whose name a poster says; a poster in continental Chile needs none.
HOME_ZONE = "America/Santiago"


# --- text that fits --------------------------------------------------------------------------


def _longest_prefix(word: str, measure: Callable[[str], float], width: float) -> int:
    """How many leading characters of ``word`` fit in ``width`` (at least one)."""
    lo, hi = 1, len(word)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if measure(word[:mid]) <= width:
            lo = mid
        else:
            hi = mid - 1
    return lo


def wrap(text: str, measure: Callable[[str], float], width: float, max_lines: int) -> list[str]:
    """Lines of ``text`` no wider than ``width``; a word wider than a line is cut; past
    ``max_lines`` the last line ends with "…"."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if measure(candidate) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
            current = ""
        while measure(word) > width:
            cut = _longest_prefix(word, measure, width)
            lines.append(word[:cut])
            word = word[cut:]
        current = word
        if len(lines) > max_lines:
            break
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and measure(last + ELLIPSIS) > width:
            last = last[:-1]
        lines[-1] = last.rstrip() + ELLIPSIS
    return lines


# --- what the poster says --------------------------------------------------------------------


@dataclass(frozen=True)
class PosterText:
    kind: str
    title: str
    day: str
    time: str
    place: str
    accessibility: str
    call: str
    scan: str
    url: str
    code: str
    office: str


def kind_label(kind: str) -> str:
    if kind == ActivityKind.FAIR.value:
        return _("Feria laboral gratuita")
    return _("Taller de apresto laboral gratuito")


def poster_text(a: Announcement, *, locale: str = DEFAULT_LOCALE) -> PosterText:
    with in_locale(locale):
        day = day_text(a.starts_at.date(), locale=locale)
        time = _("%(start)s a %(end)s h", start=time_text(a.starts_at), end=time_text(a.ends_at))
        if a.timezone != HOME_ZONE:
            time = f"{time} ({zone_name(a.timezone)})"
        offered = "; ".join(a.accessibility)
        office = a.office_name
        if a.office_comuna and a.office_comuna.lower() not in office.lower():
            office = f"{office}, {a.office_comuna}"
        if a.office_phone:
            office = _("%(office)s · Teléfono %(phone)s", office=office, phone=_phone_display(a.office_phone))
        return PosterText(
            kind=kind_label(a.kind).upper(),
            title=a.title,
            day=day[:1].upper() + day[1:],
            time=time,
            place=place_label(a, capitalised=True),
            accessibility=_("Accesibilidad: %(offered)s", offered=offered) if offered else "",
            call=_("Inscríbase gratis"),
            scan=_("Escanee el código o entre a:"),
            url=_display_url(a.registration_url),
            code=_("Código: %(code)s", code=a.short_code) if a.short_code else "",
            office=office,
        )


def _display_url(url: str) -> str:
    for prefix in ("https://", "http://"):
        if url.startswith(prefix):
            return url[len(prefix):]
    return url


def _phone_display(phone: str) -> str:
    import phonenumbers

    try:
        number = phonenumbers.parse(phone, "CL")
    except phonenumbers.NumberParseException:
        return phone
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


# --- QR ----------------------------------------------------------------------------------------


def qr_code(url: str) -> segno.QRCode:
    """A QR code (not Micro QR) for the link; ``ValueError`` if the link is too long for one."""
    try:
        return segno.make(url, error="m", boost_error=True, micro=False)
    except segno.DataOverflowError as exc:
        raise ValueError(_("El enlace es demasiado largo para un código QR.")) from exc


def qr_rows(qr: segno.QRCode, border: int = 4) -> list[list[bool]]:
    """The modules, dark = True, with a quiet zone of ``border`` modules around."""
    return [[bool(m) for m in row] for row in qr.matrix_iter(scale=1, border=border)]


def _runs(row: list[bool]) -> list[tuple[int, int]]:
    """(start, length) of each run of dark modules in a row."""
    runs: list[tuple[int, int]] = []
    start = None
    for x, dark in enumerate([*row, False]):
        if dark and start is None:
            start = x
        elif not dark and start is not None:
            runs.append((start, x - start))
            start = None
    return runs


# --- PDF ---------------------------------------------------------------------------------------


def poster_pdf(a: Announcement, *, locale: str = DEFAULT_LOCALE) -> bytes:
    """One A4 page."""
    from reportlab.lib.colors import HexColor, white
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.pdfgen.canvas import Canvas

    t = poster_text(a, locale=locale)
    width, height = A4
    margin = 48.0
    inner = width - 2 * margin
    buf = io.BytesIO()
    canvas = Canvas(buf, pagesize=A4, pageCompression=1)
    canvas.setTitle(pdf_text(t.title[:200]))
    canvas.setAuthor(pdf_text(a.office_name))
    canvas.setSubject(pdf_text(t.kind.capitalize()))
    canvas.setCreator("Puente Laboral")
    brand, ink, muted = HexColor(BRAND), HexColor(INK), HexColor(MUTED)

    def fit(text: str, font: str, size: float, box: float, max_lines: int) -> list[str]:
        return wrap(pdf_text(text), lambda s: stringWidth(s, font, size), box, max_lines)

    # Header band.
    band = 60.0
    canvas.setFillColor(brand)
    canvas.rect(0, height - band, width, band, fill=1, stroke=0)
    canvas.setFillColor(white)
    canvas.setFont("Helvetica-Bold", 16)
    canvas.drawString(margin, height - band / 2 - 6, "Puente Laboral")
    office_head = fit(a.office_name, "Helvetica", 12, inner - 160, 1)
    canvas.setFont("Helvetica", 12)
    canvas.drawRightString(width - margin, height - band / 2 - 5, office_head[0] if office_head else "")

    # The foot: the office line, above it the QR code and how to register.
    foot_y = margin
    canvas.setFillColor(muted)
    foot = fit(t.office, "Helvetica", 11, inner, 2)
    for i, line in enumerate(reversed(foot)):
        canvas.drawString(margin, foot_y + i * 14, line)
    qr_size = 190.0
    qr_bottom = foot_y + 14 * len(foot) + 18
    rows = qr_rows(qr_code(a.registration_url))
    module = qr_size / len(rows)
    canvas.setFillColor(HexColor("#ffffff"))
    canvas.rect(margin, qr_bottom, qr_size, qr_size, fill=1, stroke=0)
    canvas.setFillColor(HexColor("#000000"))
    for r, row in enumerate(rows):
        y = qr_bottom + qr_size - (r + 1) * module
        for start, length in _runs(row):
            canvas.rect(margin + start * module, y, length * module, module, fill=1, stroke=0)
    text_x = margin + qr_size + 18
    text_w = width - margin - text_x
    y = qr_bottom + qr_size - 30
    canvas.setFillColor(brand)
    for line in fit(t.call, "Helvetica-Bold", 22, text_w, 2):
        canvas.setFont("Helvetica-Bold", 22)
        canvas.drawString(text_x, y, line)
        y -= 28
    canvas.setFillColor(ink)
    for text, font, size, lines in ((t.scan, "Helvetica", 12, 2), (t.url, "Helvetica-Bold", 12, 4),
                                    (t.code, "Helvetica-Bold", 14, 1)):
        if not text:
            continue
        y -= 4
        canvas.setFont(font, size)
        for line in fit(text, font, size, text_w, lines):
            canvas.drawString(text_x, y, line)
            y -= size * 1.3
    floor = qr_bottom + qr_size + 24  # the body never comes lower than this

    # The body, from the top down; a block that does not fit above the floor is cut.
    y = height - band - 40

    def block(text: str, font: str, size: float, max_lines: int, *, color: Any = ink, gap: float = 10,
              leading: float = 1.22) -> None:
        nonlocal y
        if not text:
            return
        canvas.setFont(font, size)
        canvas.setFillColor(color)
        room = int((y - floor) // (size * leading))
        lines = fit(text, font, size, inner, min(max_lines, room))
        if room <= 0 or not lines:
            return
        for line in lines:
            y -= size * leading
            canvas.drawString(margin, y + size * (leading - 1), line)
        y -= gap

    block(t.kind, "Helvetica-Bold", 14, 1, color=brand, gap=14)
    title_size = 38.0
    while title_size > 24 and len(fit(t.title, "Helvetica-Bold", title_size, inner, 99)) > 3:
        title_size -= 2
    block(t.title, "Helvetica-Bold", title_size, 4, gap=20, leading=1.15)
    block(t.day, "Helvetica-Bold", 22, 2, gap=4)
    block(t.time, "Helvetica", 20, 2, gap=16)
    block(t.place, "Helvetica", 16, 3, gap=12)
    block(t.accessibility, "Helvetica", 13, 3, color=muted)
    canvas.showPage()
    canvas.save()
    return buf.getvalue()


# --- PNG ---------------------------------------------------------------------------------------


@lru_cache(maxsize=32)
def _font(size: int, bold: bool = False) -> Any:
    from PIL import ImageFont

    path = FONT_DIR / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")
    if path.is_file():
        return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size)


def poster_png(a: Announcement, *, size: tuple[int, int] = (1080, 1350), locale: str = DEFAULT_LOCALE) -> bytes:
    """An image for social networks: 1080×1350 (default) or 1080×1080."""
    from PIL import Image, ImageDraw

    if size not in PNG_SIZES:
        raise ValueError(f"size must be one of {PNG_SIZES}")
    t = poster_text(a, locale=locale)
    width, height = size
    scale = height / 1350 if height < 1350 else 1.0
    margin = 64
    inner = width - 2 * margin
    image = Image.new("RGB", size, "#ffffff")
    draw = ImageDraw.Draw(image)

    def px(n: float) -> int:
        return max(1, round(n * scale))

    def fit(text: str, font: Any, box: float, max_lines: int) -> list[str]:
        return wrap(text, lambda s: float(font.getlength(s)), box, max_lines)

    band = px(110)
    draw.rectangle((0, 0, width, band), fill=BRAND)
    head = _font(px(40), True)
    draw.text((margin, band // 2), "Puente Laboral", font=head, fill="#ffffff", anchor="lm")
    small = _font(px(28))
    office_head = fit(a.office_name, small, inner - head.getlength("Puente Laboral") - 40, 1)
    if office_head:
        draw.text((width - margin, band // 2), office_head[0], font=small, fill="#ffffff", anchor="rm")

    # The foot, then the QR code with how to register beside it.
    foot_font = _font(px(26))
    foot = fit(t.office, foot_font, inner, 2)
    foot_line = px(34)
    y_foot = height - margin
    for line in reversed(foot):
        draw.text((margin, y_foot), line, font=foot_font, fill=MUTED, anchor="ls")
        y_foot -= foot_line
    rows = qr_rows(qr_code(a.registration_url))
    module = max(2, px(340) // len(rows))
    qr_size = module * len(rows)
    qr_top = y_foot - px(20) - qr_size
    for r, row in enumerate(rows):
        for start, length in _runs(row):
            x0 = margin + start * module
            y0 = qr_top + r * module
            draw.rectangle((x0, y0, x0 + length * module - 1, y0 + module - 1), fill="#000000")
    text_x = margin + qr_size + px(32)
    text_w = width - margin - text_x
    y = qr_top + px(30)
    for text, font, color, lines, gap in ((t.call, _font(px(48), True), BRAND, 2, px(16)),
                                          (t.scan, _font(px(28)), INK, 2, px(8)),
                                          (t.url, _font(px(28), True), INK, 4, px(16)),
                                          (t.code, _font(px(34), True), INK, 1, 0)):
        if not text:
            continue
        line_h = round(font.size * 1.25)
        for line in fit(text, font, text_w, lines):
            draw.text((text_x, y), line, font=font, fill=color, anchor="la")
            y += line_h
        y += gap
    floor = qr_top - px(30)

    y = band + px(56)

    def block(text: str, font: Any, color: str, max_lines: int, gap: int, leading: float = 1.2) -> None:
        nonlocal y
        if not text:
            return
        line_h = round(font.size * leading)
        room = (floor - y) // line_h
        if room <= 0:
            return
        for line in fit(text, font, inner, min(max_lines, room)):
            draw.text((margin, y), line, font=font, fill=color, anchor="la")
            y += line_h
        y += gap

    block(t.kind, _font(px(34), True), BRAND, 1, px(28))
    title_size = px(76)
    while title_size > px(48) and len(fit(t.title, _font(title_size, True), inner, 99)) > 3:
        title_size -= px(4)
    block(t.title, _font(title_size, True), INK, 4, px(28), leading=1.15)
    block(t.day, _font(px(46), True), INK, 2, px(4))
    block(t.time, _font(px(40)), INK, 2, px(24))
    block(t.place, _font(px(34)), INK, 2, px(16))
    block(t.accessibility, _font(px(28)), MUTED, 2, 0)

    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()
