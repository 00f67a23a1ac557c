"""The radio script: dates, times, addresses and phones written as they are said."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pypdfium2 as pdfium
import pytest

from app.dissemination.announcement import Announcement, announcement_for_session
from app.dissemination.radio import (
    display_url,
    radio_pdf,
    radio_text,
    spoken_code,
    spoken_date,
    spoken_phone,
    spoken_time,
    spoken_url,
    spoken_when,
    written_phone,
)
from tests.registration import conftest as registration_fixtures

# The registration tests' fixtures: a published workshop session and its world.
published_session = registration_fixtures.published_session
world = registration_fixtures.world

SANTIAGO = ZoneInfo("America/Santiago")
URL = "https://puentelaboral.cl/c/K7QF2"
TODAY = date(2030, 11, 20)


def make(**kw: Any) -> Announcement:
    values: dict[str, Any] = {
        "title": "Cómo enfrentar una entrevista de trabajo",
        "starts_at": datetime(2030, 12, 3, 10, 30, tzinfo=SANTIAGO),  # a Tuesday
        "ends_at": datetime(2030, 12, 3, 12, 30, tzinfo=SANTIAGO),
        "timezone": "America/Santiago",
        "place": None,
        "online": True,
        "accessibility": ("Subtítulos", "Intérprete de lengua de señas chilena (LSCh)"),
        "registration_url": URL,
        "office_name": "OMIL Ñuñoa",
        "office_phone": "+56223456789",
        "office_comuna": "Ñuñoa",
        "short_code": "K7QF2",
    }
    values.update(kw)
    return Announcement(**values)


# --- times and dates -----------------------------------------------------------------------


@pytest.mark.parametrize(("hour", "minute", "said"), [
    (10, 30, "a las diez y media de la mañana"),
    (10, 0, "a las diez de la mañana"),
    (9, 15, "a las nueve y cuarto de la mañana"),
    (9, 5, "a las nueve y cinco de la mañana"),
    (11, 40, "a las once y cuarenta de la mañana"),
    (12, 0, "a mediodía"),
    (12, 30, "a las doce y media del día"),
    (0, 0, "a medianoche"),
    (0, 30, "a las doce y media de la noche"),
    (13, 0, "a la una de la tarde"),
    (13, 30, "a la una y media de la tarde"),
    (1, 0, "a la una de la madrugada"),
    (18, 15, "a las seis y cuarto de la tarde"),
    (20, 45, "a las ocho y cuarenta y cinco de la noche"),
    (23, 59, "a las once y cincuenta y nueve de la noche"),
])
def test_spoken_time(hour: int, minute: int, said: str) -> None:
    assert spoken_time(time(hour, minute)) == said


def test_spoken_date_this_year() -> None:
    assert spoken_date(date(2030, 12, 3), today=TODAY) == "el martes tres de diciembre"


def test_spoken_date_says_primero_and_the_year_when_it_is_not_this_year() -> None:
    assert spoken_date(date(2031, 1, 1), today=TODAY) == "el miércoles primero de enero de dos mil treinta y uno"


def test_spoken_when_joins_day_and_time() -> None:
    start = datetime(2030, 12, 3, 10, 30, tzinfo=SANTIAGO)
    assert spoken_when(start, today=TODAY) == "el martes tres de diciembre, a las diez y media de la mañana"


# --- addresses, codes, phones --------------------------------------------------------------


def test_spoken_url_reads_words_and_spells_codes() -> None:
    assert spoken_url(URL) == "puentelaboral punto ce ele, barra, ce, barra, ka, siete, cu, efe, dos"


def test_spoken_url_leaves_out_scheme_and_www_and_reads_path_words() -> None:
    assert spoken_url("http://www.puente-laboral.cl/talleres/") == \
        "puente guion laboral punto ce ele, barra, talleres"
    assert display_url("https://www.puentelaboral.cl/c/K7QF2") == "puentelaboral.cl/c/K7QF2"


def test_spoken_code_ignores_dashes_and_case() -> None:
    assert spoken_code("k7qf-2w") == "ka, siete, cu, efe, dos, doble ve"


@pytest.mark.parametrize(("phone", "said", "written"), [
    ("+56223456789", "dos, veintitrés, cuarenta y cinco, sesenta y siete, ochenta y nueve", "(2) 2345 6789"),
    ("+56912345678", "nueve, doce, treinta y cuatro, cincuenta y seis, setenta y ocho", "9 1234 5678"),
    ("+56452123456", "cuatro, cinco, dos, doce, treinta y cuatro, cincuenta y seis", "(45) 212 3456"),
    ("+56222050607", "dos, veintidós, cero cinco, cero seis, cero siete", "(2) 2205 0607"),
])
def test_phone_is_read_in_groups(phone: str, said: str, written: str) -> None:
    assert spoken_phone(phone) == said
    assert written_phone(phone) == written


# --- the script ----------------------------------------------------------------------------


def test_radio_text_says_everything_as_it_is_spoken() -> None:
    text = radio_text(make(), today=TODAY)
    assert text.startswith("GUION PARA RADIO: Cómo enfrentar una entrevista de trabajo\n")
    assert "OMIL Ñuñoa lo invita al taller gratuito de apresto laboral «Cómo enfrentar una entrevista de trabajo»" \
        in text
    assert "el martes tres de diciembre, a las diez y media de la mañana, en línea" in text
    assert "subtítulos e intérprete de lengua de señas chilena (LSCh)" in text
    assert "entre a puentelaboral punto ce ele, barra, ce, barra, ka, siete, cu, efe, dos." in text
    assert "[Se escribe: puentelaboral.cl/c/K7QF2]" in text
    assert "al dos, veintitrés, cuarenta y cinco, sesenta y siete, ochenta y nueve. [(2) 2345 6789]" in text


def test_what_is_read_aloud_has_no_digits() -> None:
    """Digits are for the presenter's eyes only, between brackets; the title may have its own."""
    text = radio_text(make(title="Currículum"), today=TODAY)
    body = text.split("\n\n", 1)[1]
    assert not re.search(r"\d", re.sub(r"\[[^\]]*\]", "", body))


def test_in_person_fair_names_the_place() -> None:
    text = radio_text(make(kind="fair", place="Gimnasio Municipal, Ñuñoa", online=False, office_phone=None,
                           short_code=None, accessibility=()), today=TODAY)
    assert "a la feria laboral gratuita" in text and "en Gimnasio Municipal, Ñuñoa." in text
    assert "llame" not in text and "Repito" not in text and "ofrece" not in text


def test_radio_script_of_a_real_session(published_session: Any) -> None:
    session = published_session()
    text = radio_text(announcement_for_session(session, URL))
    assert "a las diez de la mañana" in text  # the fixture's sessions start at 10:00 local


def test_radio_pdf_is_one_page_with_the_script() -> None:
    doc = pdfium.PdfDocument(radio_pdf(make(), today=TODAY))
    try:
        assert len(doc) == 1
        text = " ".join(doc[0].get_textpage().get_text_range().split())
        assert "Guion para radio" in text
        assert "a las diez y media de la mañana" in text
    finally:
        doc.close()


def test_radio_pdf_with_a_huge_title_stays_on_one_page_and_inside_it() -> None:
    doc = pdfium.PdfDocument(radio_pdf(make(title="Palabra " * 2000, place="Lugar " * 500, online=False),
                                       today=TODAY))
    try:
        assert len(doc) == 1
        width, height = doc[0].get_size()
        textpage = doc[0].get_textpage()
        for i in range(textpage.count_chars()):
            left, bottom, right, top = textpage.get_charbox(i)
            assert left >= 0 and right <= width and bottom >= 0 and top <= height
    finally:
        doc.close()
