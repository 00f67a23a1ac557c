"""(being written)"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("workshops_calendar", __name__, url_prefix="/gestion/calendario")
