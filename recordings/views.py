"""Public recordings catalogue (placeholder until the recordings issue)."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

bp = Blueprint("recordings", __name__)


@bp.get("/grabaciones")
def index() -> ResponseReturnValue:
    return render_template("recordings/index.html")
