"""Permission-checked file downloads (filled in with the storage layer)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("files", __name__, url_prefix="/archivos")
