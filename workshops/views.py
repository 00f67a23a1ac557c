"""Public workshop pages: the listing at /talleres and each workshop at /talleres/<slug>."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from app.activities.models import Activity, ActivityKind
from app.extensions import db

bp = Blueprint("workshops", __name__)


@bp.get("/talleres")
def index() -> ResponseReturnValue:
    return render_template("workshops/index.html")


@bp.get("/talleres/<slug>")
def detail(slug: str) -> ResponseReturnValue:
    activity = db.session.scalar(select(Activity).where(Activity.slug == slug, Activity.kind == ActivityKind.WORKSHOP))
    if activity is None or not activity.is_public:
        abort(404)
    return render_template("workshops/index.html")
