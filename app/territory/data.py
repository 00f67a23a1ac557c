"""Chile's official territory as shipped in ``app/territory/data/*.csv`` (see SOURCES.md there).

The same files are loaded into the database by migration 0002; these helpers read them
directly, for tests and for services that need the facts without a query.
"""

from __future__ import annotations

import csv
from collections import Counter
from functools import cache
from pathlib import Path
from typing import TypedDict

DATA_DIR = Path(__file__).resolve().parent / "data"
REGIONS_CSV = DATA_DIR / "regions.csv"
COMUNAS_CSV = DATA_DIR / "comunas.csv"

DEFAULT_TIMEZONE = "America/Santiago"


class RegionRow(TypedDict):
    code: str
    name: str
    iso_code: str
    roman: str
    position: int


class ComunaRow(TypedDict):
    code: str
    name: str
    province: str
    region_code: str
    timezone: str


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@cache
def _regions() -> tuple[RegionRow, ...]:
    return tuple(
        RegionRow(code=r["code"], name=r["name"], iso_code=r["iso_code"], roman=r["roman"],
                  position=int(r["position"]))
        for r in _read(REGIONS_CSV)
    )


@cache
def _comunas() -> tuple[ComunaRow, ...]:
    return tuple(
        ComunaRow(code=r["code"], name=r["name"], province=r["province"],
                  region_code=r["region_code"], timezone=r["timezone"])
        for r in _read(COMUNAS_CSV)
    )


@cache
def comuna_codes() -> frozenset[str]:
    """Every comuna's CUT code: the same rows migration 0002 loads, so a form can check a code
    without asking the database (the registration form does, at the morning peak)."""
    return frozenset(c["code"] for c in _comunas())


def load_regions_csv() -> list[RegionRow]:
    """The 16 regions, in file order (by CUT code); each a fresh dict the caller may change."""
    return [RegionRow(**r) for r in _regions()]


def load_comunas_csv() -> list[ComunaRow]:
    """The 346 comunas, by CUT code; each a fresh dict the caller may change."""
    return [ComunaRow(**c) for c in _comunas()]


@cache
def _region_timezones() -> dict[str, str]:
    # A region's zone is the one most of its comunas use: Valparaíso is America/Santiago
    # even though Isla de Pascua (05201) is Pacific/Easter.
    counts: dict[str, Counter[str]] = {}
    for c in _comunas():
        counts.setdefault(c["region_code"], Counter())[c["timezone"]] += 1
    return {region: zones.most_common(1)[0][0] for region, zones in counts.items()}


def timezone_for_region(code: str) -> str:
    """The IANA zone of a region's capital and mainland (``"12"`` → America/Punta_Arenas).

    Unknown codes get America/Santiago. For a single comuna use its own ``timezone`` instead:
    Isla de Pascua differs from the rest of Valparaíso.
    """
    return _region_timezones().get(code, DEFAULT_TIMEZONE)


def timezone_for_comuna(code: str) -> str:
    """The IANA zone of one comuna (``"05201"`` → Pacific/Easter); unknown codes get Santiago."""
    for c in _comunas():
        if c["code"] == code:
            return c["timezone"]
    return DEFAULT_TIMEZONE
