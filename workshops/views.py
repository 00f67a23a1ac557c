"""Public workshop pages. The listing arrives with the workshops issue."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

bp = Blueprint("workshops", __name__)


@bp.get("/talleres")
def index() -> ResponseReturnValue:
    return render_template("workshops/index.html")
