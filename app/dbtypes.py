"""Column types shared by every model."""

from __future__ import annotations

import enum

from sqlalchemy import Enum as SAEnum

#: The largest id a row can have (integer primary keys are 32-bit on PostgreSQL). Routes stop
#: there (the app's ``int`` converter), and so do ids parsed from tokens, forms and JSON.
MAX_ROW_ID = 2**31 - 1


def str_enum(cls: type[enum.Enum], name: str, length: int) -> SAEnum:
    """A Python enum stored as its value in a plain string column (no native database enum,
    so adding a member never needs an ALTER TYPE; the same migration works on SQLite)."""
    return SAEnum(cls, name=name, native_enum=False, length=length,
                  values_callable=lambda e: [m.value for m in e])
