"""The English catalogue: complete, consistent with the source strings, and used by the pages.

Source strings (msgids) are Spanish; English lives in app/translations/en/LC_MESSAGES/messages.po.
The .mo files are not committed (``make translations`` builds them); if the English one is
missing or older than its .po, the tests compile it with Babel's API into the same folder.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from flask.testing import FlaskClient

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = PROJECT_ROOT / "app" / "translations"
EN_PO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"
EN_MO = EN_PO.with_suffix(".mo")
BABEL_CFG = PROJECT_ROOT / "babel.cfg"
# The top-level folders babel.cfg maps; extraction never walks .venv, node_modules and the like.
SOURCE_DIRS = {"app", "workshops", "fairs", "recordings", "templates"}
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
MIN_COVERAGE = 0.95

PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]|\{(\w+)\}")


def _read_en() -> Catalog:
    with EN_PO.open("rb") as fh:
        return read_po(fh, locale="en")


def _is_translated(string: str | tuple[str, ...] | None) -> bool:
    if isinstance(string, tuple):
        return all(string)
    return bool(string)


def _placeholders(text: str) -> set[str]:
    return {a or b for a, b in PLACEHOLDER.findall(text)}


def _current_msgids() -> set[str | tuple[str, ...]]:
    """Extract the msgids the code and templates use now, as ``pybabel extract -F babel.cfg`` does."""
    with BABEL_CFG.open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh, str(BABEL_CFG))

    def only_source_dirs(dirpath: str) -> bool:
        rel = Path(dirpath).relative_to(PROJECT_ROOT)
        return not rel.parts or rel.parts[0] in SOURCE_DIRS

    ids: set[str | tuple[str, ...]] = set()
    for _filename, _lineno, message, _comments, context in extract_from_dir(
        str(PROJECT_ROOT), method_map, options_map, keywords=KEYWORDS, directory_filter=only_source_dirs
    ):
        if isinstance(message, (list, tuple)):
            # ngettext(singular, plural, n) yields (singular, plural, None); keep the strings.
            msgid: str | tuple[str, ...] = tuple(m for m in message if m)
            if len(msgid) == 1:
                msgid = msgid[0]
        else:
            msgid = message
        if msgid and context is None:
            ids.add(msgid)
    return ids


def _compile_en_mo() -> None:
    """Write the English .mo next to its .po (atomically, so parallel workers never see half a file)."""
    catalog = _read_en()
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    fd, tmp = tempfile.mkstemp(dir=EN_MO.parent, prefix=".messages-", suffix=".mo")
    with os.fdopen(fd, "wb") as fh:
        fh.write(buf.getvalue())
    os.chmod(tmp, 0o644)
    os.replace(tmp, EN_MO)


@pytest.fixture(scope="module", autouse=True)
def english_mo() -> Path:
    if not EN_MO.exists() or EN_MO.stat().st_mtime < EN_PO.stat().st_mtime:
        _compile_en_mo()
    return EN_MO


# --- (a) the catalogue compiles and covers the current source strings ----------------------------


def test_english_catalogue_compiles(english_mo: Path) -> None:
    catalog = _read_en()
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    compiled = read_mo(buf)
    assert len([m for m in compiled if m.id]) > 0
    with english_mo.open("rb") as fh:
        assert len([m for m in read_mo(fh) if m.id]) > 0
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not fuzzy, f"fuzzy entries are not used at run time; review them: {fuzzy[:10]}"


def test_english_catalogue_covers_current_msgids() -> None:
    current = _current_msgids()
    assert len(current) > 500, "extraction found suspiciously few strings; check babel.cfg"
    catalog = _read_en()
    translated = {m.id for m in catalog if m.id and not m.fuzzy and _is_translated(m.string)}
    # gettext("Sesión") finds the singular of the plural entry "Sesión"/"Sesiones" (Python >= 3.8).
    translated |= {m.id[0] for m in catalog if isinstance(m.id, tuple) and m.id in translated}
    missing = sorted((m if isinstance(m, str) else m[0]) for m in current - translated)
    coverage = 1 - len(missing) / len(current)
    assert coverage >= MIN_COVERAGE, (
        f"only {coverage:.1%} of {len(current)} source strings have an English translation; "
        f"run `pybabel extract` + `pybabel update` and translate, e.g.: {missing[:15]}"
    )


# --- (b) placeholders survive translation --------------------------------------------------------


def test_translations_keep_the_same_placeholders() -> None:
    problems = []
    for message in _read_en():
        if not message.id or not _is_translated(message.string):
            continue
        if isinstance(message.id, tuple):
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            # Form 0 answers the singular msgid, every other form the plural one.
            for index, form in enumerate(strings):
                source = message.id[0] if index == 0 else message.id[1]
                if _placeholders(source) != _placeholders(form):
                    problems.append((source, form))
        elif _placeholders(message.id) != _placeholders(message.string):
            problems.append((message.id, message.string))
    assert not problems, "placeholders differ between msgid and translation:\n" + "\n".join(
        f"  {src!r} -> {dst!r}" for src, dst in problems
    )


def test_catalogue_passes_babel_checks() -> None:
    catalog = _read_en()
    errors = [(m.id, [str(e) for e in errs]) for m, errs in catalog.check()]
    assert not errors, errors


# --- (c) the pages render in English with the lang=en cookie -------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/", ["Workshops", "Job fairs", "Skip to content"]),
        ("/cuenta/ingresar", ["Staff login", "Log in", "Password"]),
        ("/talleres", ["Job-readiness workshops", "Search workshops", "Territorial network"]),
    ],
)
def test_pages_render_in_english_with_cookie(client: FlaskClient, url: str, expected: list[str]) -> None:
    client.set_cookie("lang", "en")
    response = client.get(url)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert re.search(r'<html[^>]*\blang="en"', html), 'the page does not declare lang="en"'
    for text in expected:
        assert text in html, f"{text!r} not found on {url} in English"
    for spanish in ("Talleres de apresto laboral", "Saltar al contenido", "Ingreso de equipos"):
        assert spanish not in html, f"Spanish text {spanish!r} still on {url} in English"


def test_pages_stay_spanish_without_cookie(client: FlaskClient) -> None:
    html = client.get("/talleres").get_data(as_text=True)
    assert re.search(r'<html[^>]*\blang="es-CL"', html)
    assert "Talleres" in html
