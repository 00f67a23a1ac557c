"""Every API error is application/problem+json with a Spanish detail; refused bodies never
reach the view, so nothing is half-written."""

from __future__ import annotations

import io
import json

import pytest

from tests.api.conftest import PROBLEM, assert_problem, bearer
from tests.conftest import table_counts

ECHO = "/api/v1/_test/public-echo"


@pytest.fixture
def unchanged():
    """Assert the database holds the same rows at the end of the test."""
    before = table_counts()
    yield
    assert table_counts() == before


def test_unknown_api_route_is_404_problem(client):
    body = assert_problem(client.get("/api/v1/no-existe"), 404)
    assert "openapi.json" in body["detail"]


def test_html_pages_keep_their_html_errors(client):
    resp = client.get("/no-existe")
    assert resp.status_code == 404
    assert resp.mimetype == "text/html"
    assert "No encontramos esta página" in resp.get_data(as_text=True)


def test_wrong_method_is_405_problem_with_allow(client):
    resp = client.delete("/api/v1/regions")
    body = assert_problem(resp, 405)
    assert "DELETE" in body["detail"]
    assert "GET" in resp.headers["Allow"]


def test_malformed_json_is_400_not_500(body_client, echo_calls, unchanged):
    resp = body_client.post(ECHO, data='{"name": "Ana",', content_type="application/json")
    body = assert_problem(resp, 400)
    assert "JSON válido" in body["detail"]
    assert echo_calls == []


def test_json_that_is_not_utf8_is_400(body_client, echo_calls, unchanged):
    resp = body_client.post(ECHO, data=b'{"name": "\xff"}', content_type="application/json")
    assert_problem(resp, 400)
    assert echo_calls == []


def test_body_over_the_limit_is_413_before_parsing(body_app, body_client, echo_calls, unchanged):
    limit = body_app.config["MAX_JSON_BYTES"]
    big = json.dumps({"name": "x" * limit})
    body = assert_problem(body_client.post(ECHO, data=big, content_type="application/json"), 413)
    assert "KiB" in body["detail"]
    assert echo_calls == []


def test_declared_length_over_the_limit_is_413_even_for_invalid_json(body_app, body_client, echo_calls):
    limit = body_app.config["MAX_JSON_BYTES"]
    resp = body_client.post(ECHO, data=b"{" * (limit + 1), content_type="application/json")
    assert_problem(resp, 413)


class CountingStream(io.RawIOBase):
    """An endless chunked body that counts what the server reads from it."""

    def __init__(self, prefix: bytes) -> None:
        self.prefix = prefix
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[no-untyped-def, override]
        n = len(b)
        data = (self.prefix + b" " * n)[:n] if self.read_bytes == 0 else b" " * n
        b[:n] = data
        self.read_bytes += n
        return n


def _chunked(app, stream):
    """POST ``stream`` as a chunked body (no Content-Length), straight to the WSGI app."""
    from werkzeug.test import EnvironBuilder, run_wsgi_app

    environ = EnvironBuilder(path=ECHO, method="POST", content_type="application/json",
                             data=b"").get_environ()
    environ.update({"wsgi.input": stream, "wsgi.input_terminated": True,
                    "HTTP_TRANSFER_ENCODING": "chunked"})
    environ.pop("CONTENT_LENGTH", None)
    app_iter, status, headers = run_wsgi_app(app, environ, buffered=True)
    return app.response_class(app_iter, status=status, headers=headers)


def test_chunked_body_over_the_limit_is_413_after_reading_at_most_limit_plus_one(
        body_app, body_client, echo_calls):
    limit = body_app.config["MAX_JSON_BYTES"]
    stream = CountingStream(b'{"name": "x"}')
    resp = _chunked(body_app, stream)
    assert_problem(resp, 413)
    assert stream.read_bytes <= limit + 1
    assert echo_calls == []


def test_chunked_body_of_exactly_the_limit_is_accepted(body_app, body_client, echo_calls):
    limit = body_app.config["MAX_JSON_BYTES"]
    payload = b'{"name": "x"}'
    payload += b" " * (limit - len(payload))
    resp = _chunked(body_app, io.BytesIO(payload))
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    assert echo_calls == [{"name": "x"}]


@pytest.mark.parametrize("content_type, data", [
    ("text/plain", '{"name": "Ana"}'),
    ("application/x-www-form-urlencoded", "name=Ana"),
    (None, '{"name": "Ana"}'),
])
def test_body_that_is_not_json_is_415(body_client, echo_calls, unchanged, content_type, data):
    kwargs = {"content_type": content_type} if content_type else {}
    resp = body_client.post(ECHO, data=data, **kwargs)
    body = assert_problem(resp, 415)
    assert "application/json" in body["detail"]
    assert echo_calls == []


def test_json_with_a_charset_or_a_json_suffix_is_accepted(body_client, echo_calls):
    for content_type in ["application/json; charset=utf-8", "application/merge-patch+json"]:
        resp = body_client.post(ECHO, data='{"name": "Ana"}', content_type=content_type)
        assert resp.status_code == 200, content_type
    assert len(echo_calls) == 2


def test_invalid_fields_are_422_with_spanish_messages_per_field(body_client, echo_calls, unchanged):
    resp = body_client.post(ECHO, json={"count": "muchos", "color": "rojo"})
    body = assert_problem(resp, 422)
    errors = body["errors"]["json"]
    assert errors["name"] == ["Este campo es obligatorio."]
    assert errors["count"] == ["Debe ser un número entero."]
    assert errors["color"] == ["Campo desconocido."]
    assert body["detail"] == "Revise los campos indicados en «errors»."
    assert echo_calls == []


def test_json_that_is_not_an_object_is_422(body_client, echo_calls):
    body = assert_problem(body_client.post(ECHO, json=["Ana"]), 422)
    assert body["errors"]["json"]["_schema"] == ["Se esperaba un objeto JSON."]
    assert echo_calls == []


def test_empty_post_reaches_validation(body_client, echo_calls):
    body = assert_problem(body_client.post(ECHO), 422)
    assert body["errors"]["json"]["name"] == ["Este campo es obligatorio."]


@pytest.mark.parametrize("query, field, fragment", [
    ("per_page=101", "per_page", "entre 1 y 100"),
    ("per_page=0", "per_page", "entre 1 y 100"),
    ("page=0", "page", "entre 1 y"),
    ("page=abc", "page", "número entero"),
    ("page=99999999999999999999999", "page", "entre 1 y"),
    ("region=RM", "region", "dos dígitos"),
    ("region=99", "region", "No existe la región 99"),
])
def test_invalid_query_is_422_problem(client, query, field, fragment):
    body = assert_problem(client.get(f"/api/v1/comunas?{query}"), 422)
    [message] = body["errors"]["query"][field]
    assert fragment in message


def test_query_is_validated_after_authentication(client, factory, token_for):
    assert_problem(client.get("/api/v1/offices?region=99"), 401)
    user = factory.user("sence_national")
    assert_problem(client.get("/api/v1/offices?region=99", headers=bearer(token_for(user))), 422)


def test_problem_bodies_are_json_with_the_problem_media_type(client):
    resp = client.get("/api/v1/no-existe")
    assert resp.headers["Content-Type"].startswith(PROBLEM)
    assert set(resp.get_json(force=True)) >= {"type", "title", "status", "detail", "request_id"}
