"""The poster: an A4 PDF and a PNG whose QR code leads to the exact registration link."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pypdfium2 as pdfium
import pytest
import zxingcpp
from PIL import Image

from app.dissemination.announcement import Announcement, announcement_for_session
from app.dissemination.poster import poster_pdf, poster_png, poster_text, qr_code, wrap
from tests.registration import conftest as registration_fixtures

# The registration tests' fixtures: a published workshop session and its world.
published_session = registration_fixtures.published_session
world = registration_fixtures.world

SANTIAGO = ZoneInfo("America/Santiago")
URL = "https://puentelaboral.cl/c/K7QF2?canal=afiche&x=1"
A4 = (595.2756, 841.8898)


def make(**kw: Any) -> Announcement:
    values: dict[str, Any] = {
        "title": "Cómo enfrentar una entrevista de trabajo",
        "starts_at": datetime(2030, 12, 3, 10, 30, tzinfo=SANTIAGO),
        "ends_at": datetime(2030, 12, 3, 12, 30, tzinfo=SANTIAGO),
        "timezone": "America/Santiago",
        "place": "Sala de capacitación OMIL, Av. Irarrázaval 3550, Ñuñoa",
        "online": False,
        "accessibility": ("Subtítulos", "Intérprete de lengua de señas chilena (LSCh)"),
        "registration_url": URL,
        "office_name": "OMIL Ñuñoa",
        "office_phone": "+56223456789",
        "office_comuna": "Ñuñoa",
        "short_code": "K7QF2",
    }
    values.update(kw)
    return Announcement(**values)


HUGE = dict(
    title="Taller" * 400 + " " + "palabra " * 800,
    place="Centro comunitario " * 200,
    accessibility=tuple(f"Medida de accesibilidad número {i}" for i in range(100)),
    office_name="Oficina Municipal de Información Laboral " * 20,
)


def qr_texts(image: Image.Image) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.QRCode]


def png_image(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGB")


class Pdf:
    def __init__(self, data: bytes) -> None:
        self.doc = pdfium.PdfDocument(data)

    def close(self) -> None:
        self.doc.close()

    @property
    def pages(self) -> int:
        return len(self.doc)

    def image(self, scale: float = 2.0) -> Image.Image:
        return self.doc[0].render(scale=scale).to_pil().convert("RGB")

    def text(self) -> str:
        return str(self.doc[0].get_textpage().get_text_range())

    def char_boxes(self) -> list[tuple[float, float, float, float]]:
        textpage = self.doc[0].get_textpage()
        return [textpage.get_charbox(i) for i in range(textpage.count_chars())]

    def size(self) -> tuple[float, float]:
        return self.doc[0].get_size()


@pytest.fixture
def pdf() -> Any:
    opened: list[Pdf] = []

    def _open(data: bytes) -> Pdf:
        opened.append(Pdf(data))
        return opened[-1]

    yield _open
    for p in opened:
        p.close()


# --- PNG -------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(1080, 1350), (1080, 1080)])
def test_png_qr_decodes_to_the_exact_registration_url(size: tuple[int, int]) -> None:
    image = png_image(poster_png(make(), size=size))
    assert image.size == size
    assert qr_texts(image) == [URL]


def test_png_with_huge_texts_keeps_its_size_and_a_readable_qr() -> None:
    image = png_image(poster_png(make(**HUGE)))
    assert image.size == (1080, 1350)
    assert qr_texts(image) == [URL]


def test_png_refuses_another_size() -> None:
    with pytest.raises(ValueError):
        poster_png(make(), size=(800, 600))


# --- PDF -------------------------------------------------------------------------------------


def test_pdf_is_one_a4_page_whose_qr_decodes_to_the_exact_url(pdf: Any) -> None:
    doc = pdf(poster_pdf(make()))
    assert doc.pages == 1
    assert doc.size() == pytest.approx(A4, abs=0.5)
    assert qr_texts(doc.image()) == [URL]


def test_pdf_text_has_title_date_time_place_and_accessibility(pdf: Any) -> None:
    text = " ".join(pdf(poster_pdf(make())).text().split())
    assert "Cómo enfrentar una entrevista de trabajo" in text
    assert "Martes 3 de diciembre de 2030" in text
    assert "10:30 a 12:30 h" in text
    assert "Sala de capacitación OMIL, Av. Irarrázaval 3550, Ñuñoa" in text
    assert "Subtítulos; Intérprete de lengua de señas chilena (LSCh)" in text
    assert "puentelaboral.cl/c/K7QF2" in text and "K7QF2" in text
    assert "+56 2 2345 6789" in text


def test_online_poster_says_en_linea(pdf: Any) -> None:
    text = pdf(poster_pdf(make(place=None, online=True))).text()
    assert "En línea" in text


def test_a_zone_other_than_continental_chile_is_named(pdf: Any) -> None:
    easter = ZoneInfo("Pacific/Easter")
    a = make(timezone="Pacific/Easter", starts_at=datetime(2030, 12, 3, 9, 0, tzinfo=easter),
             ends_at=datetime(2030, 12, 3, 11, 0, tzinfo=easter))
    assert "09:00 a 11:00 h (hora de Isla de Pascua)" in " ".join(pdf(poster_pdf(a)).text().split())


def test_pdf_with_huge_texts_stays_on_one_page_and_inside_it(pdf: Any) -> None:
    doc = pdf(poster_pdf(make(**HUGE)))
    assert doc.pages == 1
    width, height = doc.size()
    boxes = doc.char_boxes()
    assert boxes
    for left, bottom, right, top in boxes:
        assert left >= 0 and right <= width and bottom >= 0 and top <= height
    assert qr_texts(doc.image()) == [URL]
    assert "…" in doc.text()


def test_characters_helvetica_lacks_do_not_break_the_pdf(pdf: Any) -> None:
    doc = pdf(poster_pdf(make(title="Taller 🎉 para Chillán 𝔘 y Ñuñoa")))
    text = doc.text()
    assert "Chillán" in text and "Ñuñoa" in text


def test_poster_of_a_real_session(published_session: Any, pdf: Any) -> None:
    session = published_session()
    a = announcement_for_session(session, f"http://localhost/inscripcion/sesion/{session.id}")
    assert qr_texts(pdf(poster_pdf(a)).image()) == [a.registration_url]
    assert qr_texts(png_image(poster_png(a))) == [a.registration_url]


def test_fair_poster_says_feria() -> None:
    assert poster_text(make(kind="fair")).kind == "FERIA LABORAL GRATUITA"


# --- pieces ----------------------------------------------------------------------------------


def test_a_link_too_long_for_a_qr_code_is_a_clear_error() -> None:
    with pytest.raises(ValueError):
        qr_code("https://puentelaboral.cl/" + "x" * 5000)


def test_wrap_never_exceeds_the_width_and_cuts_with_an_ellipsis() -> None:
    def measure(s: str) -> float:
        return float(len(s))

    lines = wrap("uno dos tres " + "x" * 50 + " cuatro cinco seis siete", measure, 10, 4)
    assert len(lines) == 4
    assert all(len(line) <= 10 for line in lines)
    assert lines[-1].endswith("…")
    assert wrap("corto", measure, 10, 3) == ["corto"]
    assert wrap("", measure, 10, 3) == []

