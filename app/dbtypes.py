"""Column types shared by every model."""

from __future__ import annotations

import enum

from sqlalchemy import Enum as SAEnum


def str_enum(cls: type[enum.Enum], name: str, length: int) -> SAEnum:
    """A Python enum stored as its value in a plain string column (no native database enum,
    so adding a member never needs an ALTER TYPE; the same migration works on SQLite)."""
    return SAEnum(cls, name=name, native_enum=False, length=length,
                  values_callable=lambda e: [m.value for m in e])
