"""The OpenAPI document: valid, complete for /api/v1, and nothing else."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from openapi_spec_validator import validate

SPEC_URL = "/api/v1/openapi.json"


@pytest.fixture
def spec(client):
    resp = client.get(SPEC_URL)
    assert resp.status_code == 200
    return resp.get_json()


def _api_routes(app: Flask) -> set[tuple[str, str]]:
    """(path in OpenAPI form, method) for every /api/v1 route except the document itself."""
    out = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.rule == SPEC_URL:
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            out.add((path, method.lower()))
    return out


def test_openapi_document_is_valid_openapi_3(spec):
    validate(spec)
    assert spec["openapi"].startswith("3.")


def test_openapi_document_needs_no_authentication(client):
    assert client.get(SPEC_URL).status_code == 200


def test_openapi_lists_every_api_route(app, spec):
    documented = {(path, method) for path, ops in spec["paths"].items() for method in ops
                  if method in {"get", "post", "put", "patch", "delete"}}
    assert _api_routes(app) == documented
    for expected in ["/api/v1/me", "/api/v1/regions", "/api/v1/regions/{code}/comunas",
                     "/api/v1/comunas", "/api/v1/networks", "/api/v1/offices",
                     "/api/v1/offices/{office_id}"]:
        assert expected in spec["paths"]


def test_openapi_contains_no_html_routes(spec):
    paths = list(spec["paths"])
    assert paths and all(p.startswith("/api/v1/") for p in paths)
    assert not [p for p in paths if p.startswith(("/gestion", "/cuenta", "/healthz"))]


def test_openapi_declares_bearer_and_session_schemes(spec):
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {**schemes["bearerAuth"], "type": "http", "scheme": "bearer"}
    assert schemes["sessionCookie"]["in"] == "cookie"
    assert "X-CSRFToken" in schemes["sessionCookie"]["description"]


def test_protected_operations_accept_bearer_or_session_and_public_ones_nothing(spec):
    assert spec["paths"]["/api/v1/me"]["get"]["security"] == [{"bearerAuth": []},
                                                               {"sessionCookie": []}]
    assert "security" not in spec["paths"]["/api/v1/regions"]["get"]
    assert "401" in spec["paths"]["/api/v1/offices"]["get"]["responses"]


def test_every_operation_has_a_summary_and_a_description(spec):
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            assert op.get("summary"), f"{method} {path}"
            assert op.get("description"), f"{method} {path}"


def test_error_responses_are_documented_as_problem_json(spec):
    for ops in spec["paths"].values():
        for op in ops.values():
            for status, response in op["responses"].items():
                if status.startswith(("4", "5")):
                    assert list(response["content"]) == ["application/problem+json"]


def test_list_envelope_is_documented(spec):
    page = spec["components"]["schemas"]["OfficePage"]
    assert set(page["required"]) == {"items", "page", "per_page", "total"}
    params = {p["name"]: p for p in spec["paths"]["/api/v1/offices"]["get"]["parameters"]}
    assert params["per_page"]["schema"]["maximum"] == 100
