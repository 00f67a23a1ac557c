"""Hostile input: what every form and endpoint must survive.

Each ``Hostile`` is a text a client can send in a field. The promise for every one of them,
on every form and JSON endpoint: **a 4xx with a clear message, or a normalised save; never a
5xx, nothing half-written.** ``check_outcome`` asserts exactly that after a request.

How to use it in a test of a new form or endpoint (fairs, recordings, ...)::

    def test_the_booth_form_survives_hostile_names(client, hostile, ...):
        before = table_counts()
        resp = post_booth(client, name=hostile.value)
        check_outcome(resp, before, hostile)

The ``hostile`` fixture (``tests/conftest.py``) is parametrised over ``HOSTILE_TEXT``, so a
test that asks for it runs once per case, with the case's id in the test id. JSON-only cases
(``NESTED_JSON``: 100 KB of ``[``, and a 100-level object) go in the body as raw bytes.
``form_body`` encodes a form by hand, so a lone surrogate can be sent at all.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from app.text import BIDI_CONTROLS


@dataclass(frozen=True)
class Hostile:
    id: str
    value: str
    # What a one-line field holds if the value is accepted (None: it must be refused, or
    # the case has no single expected form: long text may be refused or cut by a length rule).
    saved_as: str | None = None
    # Must be refused (4xx, or the form shown again) wherever a one-line field takes it.
    refused: bool = False

    def __str__(self) -> str:  # readable test ids
        return self.id


HOSTILE_TEXT: tuple[Hostile, ...] = (
    Hostile("nul", "Taller\x00de prueba", refused=True),
    Hostile("lone-surrogate", "Taller \ud800 de prueba"),
    Hostile("control-chars", "Taller\x07 de\x1b[31m prueba\x7f"),
    Hostile("line-breaks", "Taller\r\nde\nprueba\tuno", saved_as="Taller de prueba uno"),
    Hostile("long-100k", "a" * 100_000),
    Hostile("rtl-override", "Taller \u202egpj.exe", refused=True),
    Hostile("rtl-isolate", "Taller \u2067de prueba\u2069", refused=True),
    Hostile("invisible-only", "\u200b\u200c\u2060\ufeff", refused=True),
    Hostile("hangul-filler", "\u3164", refused=True),
    Hostile("superscript-digits", "Taller ²³¹⁰", saved_as="Taller ²³¹⁰"),
    Hostile("markup", '<script>alert("x")</script>', saved_as='<script>alert("x")</script>'),
    Hostile("calendar-specials", "Taller; uno, dos \\ tres", saved_as="Taller; uno, dos \\ tres"),
)

# Bodies no JSON endpoint may answer with a 5xx: 100 KB of "[" and an object 100 levels deep.
NESTED_JSON: tuple[bytes, ...] = (
    b"[" * 100_000,
    ('{"a":' * 100 + "1" + "}" * 100).encode(),
)


def form_body(data: dict[str, Any]) -> bytes:
    """``application/x-www-form-urlencoded`` bytes; lone surrogates are sent as their UTF-8-like
    bytes (the test client would refuse to encode them)."""
    pairs = [(k, v) for k, vs in data.items() for v in (vs if isinstance(vs, list) else [vs])]
    return urlencode(pairs, encoding="utf-8", errors="surrogatepass").encode("ascii")


def json_body(data: Any) -> bytes:
    """JSON bytes; a lone surrogate becomes the escape ``\\ud800``, as a hostile client sends it."""
    return json.dumps(data, ensure_ascii=True).encode()


def is_clean_line(text: str) -> bool:
    """What a stored one-line field may hold: no control, surrogate or direction character."""
    return not any(unicodedata.category(c) in ("Cc", "Cs") or c in BIDI_CONTROLS for c in text)


def is_clean_block(text: str) -> bool:
    return not any((unicodedata.category(c) in ("Cc", "Cs") and c not in "\n\t") or c in BIDI_CONTROLS
                   for c in text)


def check_outcome(resp: Any, before: dict[str, int], hostile: Hostile, *, stored: str | None = None,
                  one_line: bool = True) -> None:
    """The promise: never a 5xx; a refusal (4xx, or a form shown again with 200) writes nothing
    and says why; an accepted value (2xx/3xx that created something) is stored clean.

    ``stored`` is the value that ended up in the field, when the caller knows where to look.
    ``one_line=False`` for fields that clean rather than refuse (an uploaded file's name)."""
    from tests.conftest import table_counts

    assert resp.status_code < 500, f"{hostile.id}: {resp.status_code}"
    if hostile.refused and one_line:
        assert table_counts() == before, f"{hostile.id}: accepted ({resp.status_code}), must be refused"
    if resp.status_code >= 400:
        assert table_counts() == before, f"{hostile.id}: a refusal wrote something"
        body = resp.get_data(as_text=True)
        assert body.strip(), f"{hostile.id}: a refusal without a message"
        if resp.mimetype == "application/problem+json":
            problem = resp.get_json()
            assert problem.get("detail") or problem.get("errors"), f"{hostile.id}: {problem}"
        return
    if stored is not None:
        assert is_clean_line(stored), f"{hostile.id}: stored {stored[:80]!r}"
        if hostile.saved_as is not None and one_line:
            assert stored == hostile.saved_as, f"{hostile.id}: stored {stored[:80]!r}"
