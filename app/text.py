"""Small text helpers shared by domains."""

from __future__ import annotations

import re
import unicodedata


def slugify(value: str, max_length: int = 80, fallback: str = "actividad") -> str:
    """ASCII, lower-case, hyphenated: "Entrevista de trabajo en Ñuñoa" -> "entrevista-de-trabajo-en-nunoa"."""
    # Accents (combining marks) go first, so "Ñ" gives "n"; anything else that is not a plain
    # letter or digit (dashes, slashes, other scripts) becomes a separator.
    normalised = "".join(c for c in unicodedata.normalize("NFKD", value) if not unicodedata.combining(c))
    slug = re.sub(r"[^a-z0-9]+", "-", normalised.lower()).strip("-")
    return slug[:max_length].rstrip("-") or fallback


# --- what people type: one-line and multi-line text -------------------------------------------
#
# Titles, names, office, venue and campaign names are *one-line* fields: they go into e-mail
# subjects, calendar properties, CSV exports and page headings, where a line break or a control
# character breaks the file or the header. ``one_line`` turns line breaks and tabs into a space
# and drops every other control character; ``clean_line`` does that and also refuses what no
# honest name holds (direction overrides, nothing visible). Descriptions and notes are
# *multi-line*: ``multi_line`` keeps their line breaks (as ``\n``) and drops the rest.

# Unicode direction embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069): they
# reorder what is shown, so "Taller<U+202E>fdp.exe" can display as something else entirely.
BIDI_CONTROLS = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))
# Characters that show nothing although they are not "format" characters: Hangul fillers,
# the braille blank, the Mongolian vowel separator.
_BLANK_LOOKING = frozenset("\u115f\u1160\u3164\uffa0\u2800\u180e")
_LINE_BREAKS = "\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029"


class TextError(ValueError):
    """A text a person typed cannot be kept; ``message`` says why, in Spanish."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _drop_controls(value: str, keep: str = "") -> str:
    # Cc: C0/C1 controls (NUL included); Cs: lone surrogates, which no database can store.
    return "".join(c for c in value if c in keep or unicodedata.category(c) not in ("Cc", "Cs"))


def one_line(value: str | None) -> str:
    """Line breaks, tabs and runs of spaces become one space; other control characters go;
    the result is in NFC and has no space at either end. Nothing is refused here."""
    text = unicodedata.normalize("NFC", _drop_controls(str(value or ""), keep="\t" + _LINE_BREAKS))
    text = re.sub(f"[\\s{_LINE_BREAKS}]+", " ", text)
    return text.strip()


def multi_line(value: str | None) -> str:
    """Line breaks kept (CR LF, CR and Unicode separators become ``\\n``), tabs kept, other
    control characters and direction overrides dropped, NFC, no blank space at either end."""
    text = re.sub("\r\n|[\r\v\f\x85\u2028\u2029]", "\n", str(value or ""))
    text = "".join(c for c in _drop_controls(text, keep="\n\t") if c not in BIDI_CONTROLS)
    return unicodedata.normalize("NFC", text).strip()


def _invisible(c: str) -> bool:
    return c in _BLANK_LOOKING or c.isspace() or unicodedata.category(c) in ("Cf", "Mn", "Me", "Zs", "Co", "Cn")


def text_problem(value: str) -> str | None:
    """Why a one-line value cannot be kept, in Spanish, or None when it can."""
    from flask_babel import gettext as _

    if any(c in BIDI_CONTROLS for c in value):
        return _("El texto trae caracteres invisibles que cambian el orden en que se muestra. "
                 "Escríbalo de nuevo en vez de copiarlo y pegarlo.")
    if value and all(_invisible(c) for c in value):
        return _("Escriba un texto con letras o números visibles.")
    return None


def clean_line(value: str | None) -> str:
    """``one_line``, then refuse direction overrides and values with nothing visible
    (``TextError``). An empty result is returned as it is: "required" is the caller's rule."""
    text = one_line(value)
    problem = text_problem(text)
    if problem:
        raise TextError(problem)
    return text


def file_name(value: str | None, default: str = "archivo") -> str:
    """An uploaded file's own name as it may be stored and shown: no folder part, no control,
    format (direction overrides, zero-width) or unassigned characters, no leading dots."""
    name = re.split(r"[/\\]", unicodedata.normalize("NFC", str(value or "")))[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    return " ".join(name.split()).lstrip(".").strip() or default
