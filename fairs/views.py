"""Public fair pages (placeholder until the fairs issue)."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

bp = Blueprint("fairs", __name__)


@bp.get("/ferias")
def index() -> ResponseReturnValue:
    return render_template("fairs/index.html")
