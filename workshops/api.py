"""Workshops in the JSON API (being written)."""

from __future__ import annotations

from app.api import api_blueprint

bp = api_blueprint("workshops_api", __name__, "/api/v1/workshops", tag="Talleres")
