"""The one list envelope, ``{items, page, per_page, total}``, filled from a query."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypedDict

from sqlalchemy import Select, func, select
from sqlalchemy.orm.interfaces import LoaderOption

from app.extensions import db


class Page(TypedDict):
    items: list[Any]
    page: int
    per_page: int
    total: int


def paginate(query: Select[Any], page: int, per_page: int,
             options: Sequence[LoaderOption] = ()) -> Page:
    """One page of ``query`` (which must be ordered) plus the total over all pages."""
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = db.session.scalars(
        query.options(*options).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return {"items": list(rows), "page": page, "per_page": per_page, "total": int(total or 0)}
