"""Staff pages under /gestion for networks and offices."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from app.accounts.policy import visible_networks, visible_offices
from app.extensions import db

bp = Blueprint("territory", __name__, url_prefix="/gestion")


@bp.get("/redes")
@login_required
def networks() -> ResponseReturnValue:
    rows = db.session.scalars(visible_networks(current_user)).all()
    return render_template("territory/networks.html", networks=rows)


@bp.get("/oficinas")
@login_required
def offices() -> ResponseReturnValue:
    rows = db.session.scalars(visible_offices(current_user)).all()
    return render_template("territory/offices.html", offices=rows)
