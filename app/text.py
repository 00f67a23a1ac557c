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
