"""Column types shared by every model."""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import Enum as SAEnum

#: The largest id a row can have (integer primary keys are 32-bit on PostgreSQL). Routes stop
#: there (the app's ``int`` converter), and so do ids parsed from tokens, forms and JSON.
MAX_ROW_ID = 2**31 - 1


def str_enum(cls: type[enum.Enum], name: str, length: int) -> SAEnum:
    """A Python enum stored as its value in a plain string column (no native database enum,
    so adding a member never needs an ALTER TYPE; the same migration works on SQLite)."""
    return SAEnum(cls, name=name, native_enum=False, length=length,
                  values_callable=lambda e: [m.value for m in e])


def insert_on_conflict(table: Any) -> Any:
    """``INSERT`` for ``table`` in the session's dialect, which has ``on_conflict_do_nothing``
    and ``on_conflict_do_update`` (PostgreSQL and SQLite, the two supported databases)."""
    from app.extensions import db

    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - only the two supported databases are tested
        raise RuntimeError(f"base de datos no soportada: {dialect}")
    return insert(table)
