"""Chile's territory data: the CSV files, the helpers that read them, and migration 0002."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import unicodedata
from contextlib import closing
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select

from app.territory.data import (
    load_comunas_csv,
    load_regions_csv,
    timezone_for_comuna,
    timezone_for_region,
)

ISO_CODES_JSON = Path("/usr/share/iso-codes/json/iso_3166-2.json")
ROOT = Path(__file__).resolve().parents[2]
MIGRATION = ROOT / "migrations/versions/0002_load_territory.py"

NORTH_TO_SOUTH = ["15", "01", "02", "03", "04", "05", "13", "06", "07", "16", "08", "09", "14",
                  "10", "11", "12"]


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _comuna(code: str) -> dict[str, str]:
    return next(dict(c) for c in load_comunas_csv() if c["code"] == code)


# --- the files -----------------------------------------------------------------------------


def test_there_are_16_regions_and_346_comunas_with_unique_codes() -> None:
    regions, comunas = load_regions_csv(), load_comunas_csv()
    assert len(regions) == 16
    assert len(comunas) == 346
    assert len({r["code"] for r in regions}) == 16
    assert len({c["code"] for c in comunas}) == 346
    assert len({r["name"] for r in regions}) == 16


def test_codes_are_zero_padded_strings() -> None:
    assert sorted(r["code"] for r in load_regions_csv()) == [f"{n:02d}" for n in range(1, 17)]
    for c in load_comunas_csv():
        assert len(c["code"]) == 5 and c["code"].isdigit(), c
        assert len(c["region_code"]) == 2, c


def test_every_comuna_code_starts_with_its_region_code() -> None:
    region_codes = {r["code"] for r in load_regions_csv()}
    for c in load_comunas_csv():
        assert c["code"][:2] == c["region_code"], c
        assert c["region_code"] in region_codes, c


def test_every_region_has_comunas() -> None:
    per_region = {r["code"]: 0 for r in load_regions_csv()}
    for c in load_comunas_csv():
        per_region[c["region_code"]] += 1
    assert min(per_region.values()) >= 4  # Arica y Parinacota has 4
    assert per_region["13"] == 52
    assert per_region["16"] == 21


@pytest.mark.parametrize(
    ("code", "name", "province", "region_code"),
    [
        ("13101", "Santiago", "Santiago", "13"),
        ("13120", "Ñuñoa", "Santiago", "13"),
        ("16101", "Chillán", "Diguillín", "16"),
        ("11201", "Aysén", "Aysén", "11"),
        ("02202", "Ollagüe", "El Loa", "02"),
        ("05201", "Isla de Pascua", "Isla de Pascua", "05"),
        ("12101", "Punta Arenas", "Magallanes", "12"),
        ("12401", "Natales", "Última Esperanza", "12"),
        ("08301", "Los Ángeles", "Biobío", "08"),
        ("16206", "Ránquil", "Itata", "16"),
        ("11302", "O'Higgins", "Capitán Prat", "11"),
    ],
)
def test_known_comunas_have_their_official_code_and_name(
    code: str, name: str, province: str, region_code: str
) -> None:
    c = _comuna(code)
    assert (c["name"], c["province"], c["region_code"]) == (name, province, region_code)


def test_names_carry_their_accents() -> None:
    names = {c["name"] for c in load_comunas_csv()}
    for accented in ("Concepción", "Valparaíso", "Peñalolén", "Maipú", "Curacaví", "Los Ángeles",
                     "Ránquil", "Los Álamos", "Viña del Mar", "Copiapó", "Chañaral", "Pucón",
                     "Quilpué", "Río Ibáñez", "Antártica", "Ñiquén", "Chillán Viejo"):
        assert accented in names
        assert _ascii(accented) not in names


def test_regions_have_iso_codes_roman_numerals_and_north_to_south_positions() -> None:
    regions = {r["code"]: r for r in load_regions_csv()}
    assert regions["13"]["name"] == "Metropolitana de Santiago"
    assert regions["13"]["iso_code"] == "CL-RM" and regions["13"]["roman"] == "RM"
    assert regions["16"]["name"] == "Ñuble"
    assert regions["16"]["iso_code"] == "CL-NB" and regions["16"]["roman"] == "XVI"
    assert regions["15"]["roman"] == "XV" and regions["15"]["iso_code"] == "CL-AP"
    assert regions["12"]["name"] == "Magallanes y de la Antártica Chilena"
    assert regions["06"]["name"] == "Libertador General Bernardo O'Higgins"
    assert regions["11"]["name"] == "Aysén del General Carlos Ibáñez del Campo"
    by_position = sorted(regions.values(), key=lambda r: r["position"])
    assert [r["code"] for r in by_position] == NORTH_TO_SOUTH
    assert [r["position"] for r in by_position] == list(range(1, 17))


@pytest.mark.skipif(not ISO_CODES_JSON.exists(), reason="Debian's iso-codes is not installed")
def test_region_iso_codes_match_debian_iso_codes() -> None:
    data = json.loads(ISO_CODES_JSON.read_text(encoding="utf-8"))
    official = {s["code"] for s in data["3166-2"] if s["code"].startswith("CL-")}
    assert {r["iso_code"] for r in load_regions_csv()} == official


# --- time zones ----------------------------------------------------------------------------


def test_every_comuna_of_magallanes_is_on_punta_arenas_time() -> None:
    magallanes = [c for c in load_comunas_csv() if c["region_code"] == "12"]
    assert len(magallanes) == 11
    assert {c["timezone"] for c in magallanes} == {"America/Punta_Arenas"}


def test_every_comuna_of_aysen_is_on_coyhaique_time() -> None:
    aysen = [c for c in load_comunas_csv() if c["region_code"] == "11"]
    assert len(aysen) == 10
    assert {c["timezone"] for c in aysen} == {"America/Coyhaique"}


def test_isla_de_pascua_is_the_only_comuna_on_easter_island_time() -> None:
    easter = [c["code"] for c in load_comunas_csv() if c["timezone"] == "Pacific/Easter"]
    assert easter == ["05201"]


@pytest.mark.parametrize("code", ["13101", "13120", "05101", "05104", "16101", "15101", "10101",
                                  "08101", "02202"])
def test_other_comunas_are_on_santiago_time(code: str) -> None:
    assert _comuna(code)["timezone"] == "America/Santiago"


def test_every_time_zone_is_a_real_iana_zone() -> None:
    for tz in {c["timezone"] for c in load_comunas_csv()}:
        ZoneInfo(tz)  # raises if unknown


@pytest.mark.parametrize(
    ("region", "zone"),
    [("12", "America/Punta_Arenas"), ("11", "America/Coyhaique"), ("05", "America/Santiago"),
     ("13", "America/Santiago"), ("16", "America/Santiago"), ("99", "America/Santiago")],
)
def test_timezone_for_region(region: str, zone: str) -> None:
    assert timezone_for_region(region) == zone


def test_timezone_for_comuna() -> None:
    assert timezone_for_comuna("05201") == "Pacific/Easter"
    assert timezone_for_comuna("12301") == "America/Punta_Arenas"
    assert timezone_for_comuna("13120") == "America/Santiago"


def test_loaded_rows_are_copies_the_caller_may_change() -> None:
    rows = load_comunas_csv()
    rows[0]["name"] = "cambiado"
    assert load_comunas_csv()[0]["name"] != "cambiado"


# --- the migration -------------------------------------------------------------------------


def test_migration_imports_no_application_code() -> None:
    source = MIGRATION.read_text(encoding="utf-8")
    assert "from app" not in source
    assert "import app" not in source


def test_database_agrees_with_the_csv_files(app: Flask) -> None:
    from app.extensions import db
    from app.territory.models import Comuna, Region

    regions = [
        {"code": r.code, "name": r.name, "iso_code": r.iso_code, "roman": r.roman,
         "position": r.position}
        for r in db.session.scalars(select(Region).order_by(Region.code))
    ]
    assert regions == sorted(load_regions_csv(), key=lambda r: r["code"])
    comunas = [
        {"code": c.code, "name": c.name, "province": c.province, "region_code": c.region_code,
         "timezone": c.timezone}
        for c in db.session.scalars(select(Comuna).order_by(Comuna.code))
    ]
    assert comunas == sorted(load_comunas_csv(), key=lambda c: c["code"])


def test_comunas_are_linked_to_their_region(app: Flask) -> None:
    from app.extensions import db
    from app.territory.models import Comuna, Region

    assert db.session.get(Comuna, "13120").region.name == "Metropolitana de Santiago"
    assert len(db.session.get(Region, "12").comunas) == 11


def test_sence_has_a_national_unit_and_one_regional_direction_per_region(app: Flask) -> None:
    from app.extensions import db
    from app.territory.models import SenceUnit, SenceUnitLevel

    units = db.session.scalars(select(SenceUnit)).all()
    assert len(units) == 17
    national = [u for u in units if u.level == SenceUnitLevel.NATIONAL]
    assert [(u.name, u.region_code) for u in national] == [("SENCE Nacional", None)]
    regional = {u.region_code: u.name for u in units if u.level == SenceUnitLevel.REGIONAL}
    assert set(regional) == {r["code"] for r in load_regions_csv()}
    assert regional["16"] == "Dirección Regional SENCE Ñuble"
    assert regional["13"] == "Dirección Regional SENCE Metropolitana de Santiago"


def test_migration_downgrades_and_upgrades_again(tmp_path: Path) -> None:
    """On a SQLite database of its own, 0002 removes exactly what it loaded and loads it again.

    Runs ``flask db`` in a subprocess so the session's app and extensions stay untouched.
    """
    db_path = tmp_path / "roundtrip.db"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db_path}", "INSTANCE_PATH": str(tmp_path),
           "PUENTE_ENV": "development"}
    env.pop("SECRET_KEY", None)

    def flask_db(*args: str) -> None:
        subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", *args],
                       cwd=ROOT, env=env, check=True, capture_output=True, timeout=120)

    def counts() -> tuple[int, ...]:
        with closing(sqlite3.connect(db_path)) as conn:
            return tuple(conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]  # noqa: S608
                         for t in ("regions", "comunas", "sence_units"))

    flask_db("upgrade", "0002")
    assert counts() == (16, 346, 17)
    flask_db("downgrade", "0001")
    assert counts() == (0, 0, 0)
    flask_db("upgrade", "0002")
    assert counts() == (16, 346, 17)
