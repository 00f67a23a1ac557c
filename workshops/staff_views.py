"""(being written)"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("workshops_staff", __name__, url_prefix="/gestion/talleres")
