"""The audit log, read under /gestion/auditoria."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue
from flask_login import login_required

bp = Blueprint("audit", __name__, url_prefix="/gestion/auditoria")


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    return render_template("audit/index.html", events=[])
