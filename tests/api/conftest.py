"""API test fixtures: Bearer tokens, and a second app with a JSON-body endpoint.

The real API is read-only for now, so the checks every body goes through (413, 415, 400, 422,
CSRF on session writes) are exercised on ``body_app``: the real application plus a small
test blueprint built with ``app.api.api_blueprint`` — the same path domain endpoints take.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, request, request_finished
from flask.testing import FlaskClient

from tests.conftest import make_test_config

PROBLEM = "application/problem+json"


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def token_for() -> Any:
    """``secret = token_for(user)``: a fresh personal token."""
    from app.accounts.services import create_api_token

    def _make(user: Any, name: str = "pruebas") -> str:
        _token, secret = create_api_token(user, name)
        return secret

    return _make


def assert_problem(resp: Any, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.get_data(as_text=True)[:500]
    assert resp.mimetype == PROBLEM, resp.mimetype
    body = resp.get_json(force=True)
    assert body["status"] == status
    assert body["type"] == "about:blank"
    assert body["title"]
    assert body["request_id"] == resp.headers["X-Request-ID"]
    return dict(body)


@pytest.fixture(scope="session")
def body_app(app: Flask, database_url: str, instance_dir: Path) -> Iterator[Flask]:
    """The application plus POST /api/v1/_test/echo (auth) and /api/v1/_test/public-echo."""
    from apiflask.fields import Integer, String
    from apiflask.validators import Length

    from app import create_app
    from app.api import api_blueprint, register_api
    from app.api.auth import auth, current_api_user
    from app.api.schemas import ApiSchema
    from app.extensions import db

    application = create_app(make_test_config(database_url, instance_dir))
    calls: list[dict[str, Any]] = []

    class EchoIn(ApiSchema):
        name = String(required=True, validate=Length(min=1, max=20))
        count = Integer()

    bp = api_blueprint("api_test", __name__, "/api/v1/_test")

    @bp.post("/echo")
    @bp.auth_required(auth)
    @bp.input(EchoIn)
    def echo(json_data: dict[str, Any]) -> dict[str, Any]:
        calls.append(json_data)
        return {"user_id": current_api_user().id, "received": json_data}

    @bp.post("/public-echo")
    @bp.input(EchoIn)
    def public_echo(json_data: dict[str, Any]) -> dict[str, Any]:
        calls.append(json_data)
        return {"received": json_data}

    register_api(application, bp)
    application.config["ECHO_CALLS"] = calls

    def _record_5xx(sender: Flask, response: Any, **_kw: Any) -> None:
        # Server errors here fail the test too (tests/conftest.py's _clean_state reads the list).
        if response.status_code >= 500:
            app.config["SERVER_ERRORS"].append(f"body_app {request.path} -> {response.status_code}")

    request_finished.connect(_record_5xx, application, weak=False)
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def body_client(body_app: Flask) -> FlaskClient:
    body_app.config["ECHO_CALLS"].clear()
    return body_app.test_client()


@pytest.fixture
def echo_calls(body_app: Flask) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = body_app.config["ECHO_CALLS"]
    return calls
