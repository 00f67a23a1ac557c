"""Small text helpers shared by domains."""

from __future__ import annotations

import re
import unicodedata


def slugify(value: str, max_length: int = 80) -> str:
    """ASCII, lower-case, hyphenated: "Entrevista de trabajo en Ñuñoa" -> "entrevista-de-trabajo-en-nunoa"."""
    normalised = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", normalised.lower()).strip("-")
    return slug[:max_length].rstrip("-") or "actividad"
