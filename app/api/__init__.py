"""The JSON API under /api/v1, documented by the OpenAPI document APIFlask generates."""

from __future__ import annotations

from apiflask import APIBlueprint
from flask import Flask


def create_api_blueprint() -> APIBlueprint:
    from app.api import routes

    return routes.bp


def register_api(app: Flask, bp: APIBlueprint) -> None:
    from app.extensions import csrf

    csrf.exempt(bp)
    app.register_blueprint(bp)
