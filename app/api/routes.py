"""API v1 endpoints."""

from __future__ import annotations

from apiflask import APIBlueprint

bp = APIBlueprint("api_v1", __name__, url_prefix="/api/v1", tag="Puente Laboral")


@bp.get("/ping")
def ping() -> dict[str, str]:
    """Check the API answers."""
    return {"status": "ok"}
