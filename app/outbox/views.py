"""The outbox viewer under /gestion/mensajes."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue
from flask_login import login_required

bp = Blueprint("outbox", __name__, url_prefix="/gestion/mensajes")


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    return render_template("outbox/index.html", messages=[])
