"""(being written)"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("workshops_ical", __name__)
