"""Finding a comuna by what people type, and sorting names as Spanish does.

People type on a phone keyboard without accents ("nunoa", "penalolen", "concepcion"): both
what they type and the 346 names are folded the same way (lower case, accents and the tilde
of ñ removed, punctuation and extra spaces dropped) and compared in a small in-memory index
built once from the shipped list (``app/territory/data/comunas.csv``, the same rows migration
0002 loaded). Sorting is separate from matching: Spanish puts ñ as a letter of its own
between n and o ("Nogales, Ñiquén, Ñuñoa, Olmué"), while á, é… sort as their plain letter.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from app.territory.data import load_comunas_csv, load_regions_csv

_NOT_WORD = re.compile(r"[^0-9a-z]+")
#: Sorts after every other letter of an n-word and before "o" ("n" + "{" > "nz", < "o").
_ENYE_KEY = "n{"


def fold(text: str) -> str:
    """What is compared when searching: "Ñuñoa" and "nunoa" both give "nunoa"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(_NOT_WORD.sub(" ", plain).split())


def spanish_key(text: str) -> str:
    """A sort key that orders names as Spanish does: accents ignored, ñ after n (and before o).

    A full collation (PyICU) would add a large compiled dependency for 346 place names whose
    only Spanish peculiarity is ñ; ch and ll sort as two letters since the 1994 reform.
    """
    lowered = text.casefold().replace("ñ", "\0")
    decomposed = unicodedata.normalize("NFKD", lowered)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return plain.replace("\0", _ENYE_KEY)


@dataclass(frozen=True)
class ComunaEntry:
    code: str
    name: str
    province: str
    region_code: str
    region_name: str
    folded: str


@dataclass(frozen=True)
class ComunaIndex:
    entries: tuple[ComunaEntry, ...]  # in Spanish order
    by_code: dict[str, ComunaEntry]

    def get(self, code: str) -> ComunaEntry | None:
        return self.by_code.get(code)

    def search(self, query: str, *, limit: int = 12) -> list[ComunaEntry]:
        """Comunas matching what was typed, best first: the exact name, then names that start
        with it, then names with a word that starts with it, then names that contain it."""
        q = fold(query)
        if not q:
            return []
        if q.isdecimal() and len(q) == 5 and q in self.by_code:
            return [self.by_code[q]]
        ranked: list[tuple[int, ComunaEntry]] = []
        for e in self.entries:
            if e.folded == q:
                rank = 0
            elif e.folded.startswith(q):
                rank = 1
            elif any(word.startswith(q) for word in e.folded.split()):
                rank = 2
            elif q in e.folded:
                rank = 3
            else:
                continue
            ranked.append((rank, e))
        ranked.sort(key=lambda pair: pair[0])  # stable: Spanish order within a rank
        return [e for _rank, e in ranked[:limit]]

    def resolve(self, query: str) -> tuple[ComunaEntry | None, list[ComunaEntry]]:
        """One comuna if what was typed names it unambiguously, else the candidates to choose from."""
        found = self.search(query)
        if len(found) == 1 or (found and found[0].folded == fold(query)):
            return found[0], []
        return None, found

    def nearby(self, code: str) -> list[ComunaEntry]:
        """Comunas near ``code`` without coordinates: the same province first, then the rest of
        the region (an honest approximation: provinces are small groups of neighbouring comunas)."""
        here = self.by_code.get(code)
        if here is None:
            return []
        same_province = [e for e in self.entries if e.province == here.province and e.code != code]
        same_region = [e for e in self.entries if e.region_code == here.region_code and e.province != here.province]
        return same_province + same_region


@cache
def comuna_index() -> ComunaIndex:
    """Built once per process from the shipped list (it changes only with a new release)."""
    region_names = {r["code"]: r["name"] for r in load_regions_csv()}
    entries = sorted(
        (ComunaEntry(c["code"], c["name"], c["province"], c["region_code"], region_names[c["region_code"]],
                     fold(c["name"])) for c in load_comunas_csv()),
        key=lambda e: spanish_key(e.name))
    return ComunaIndex(tuple(entries), {e.code: e for e in entries})
