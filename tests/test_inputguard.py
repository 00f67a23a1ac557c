"""The request-level input guard (app/inputguard.py), the guarded JSON parser on the API and
the signed webhooks, and the 500 page rolling back first (app/errors.py)."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

import pytest
from flask import g
from sqlalchemy import select, text

from app.extensions import db
from app.inputguard import UnsafeInput, json_too_deep, loads
from app.people.models import Person
from tests.conftest import csrf_from, login, table_counts
from tests.hostile import NESTED_JSON, form_body
from tests.workshops.conftest import WorkshopWorld, local_in

NUL_PAGES = ("/talleres/%00", "/talleres/%00.ics", "/widget/oficina/%00", "/widget/red/x%00",
             "/feeds/oficina/%00.atom", "/feeds/region/13%00.atom", "/c/%00", "/talleres?q=%00",
             "/inscripcion/sesion/1?x=%00")


@pytest.fixture
def world(factory: Any) -> WorkshopWorld:
    return WorkshopWorld(factory)


def _is_spanish_400_page(resp: Any) -> bool:
    body = resp.get_data(as_text=True)
    return (resp.status_code == 400 and resp.mimetype == "text/html" and "carácter nulo" in body
            and 'lang="es' in body)


# --- NUL and lone surrogates: one guard, before any view ----------------------------------------


@pytest.mark.parametrize("path", NUL_PAGES)
def test_a_nul_in_a_public_path_or_query_is_a_spanish_400_page(client, path):
    assert _is_spanish_400_page(client.get(path))


def test_a_nul_in_a_staff_filter_is_a_400_page(client, logged_in):
    logged_in(role="sence_national")
    for url in ("/gestion/oficinas?q=%00", "/gestion/redes?q=a%00b", "/gestion/talleres?estado=%00",
                "/gestion/auditoria?q=%00"):
        assert _is_spanish_400_page(client.get(url)), url


def test_a_nul_in_an_api_query_or_path_is_problem_json(client):
    for url in ("/api/v1/offices?q=%00", "/api/v1/workshops?status=%00", "/api/v1/workshops/%00"):
        resp = client.get(url)
        assert resp.status_code == 400 and resp.mimetype == "application/problem+json", url
        assert "carácter nulo" in resp.get_json()["detail"]


def test_a_nul_in_a_webhook_path_is_problem_json(client):
    resp = client.post("/webhooks/zoom?x=%00", data=b"{}", content_type="application/json")
    assert resp.status_code == 400 and resp.mimetype == "application/problem+json"


def test_a_nul_in_the_public_form_is_refused_before_anything_is_written(client, world):
    session = world.workshop(publish=True, start=local_in(10)).activity.sessions[0]
    url = f"/inscripcion/sesion/{session.id}"
    token = csrf_from(client.get(url).get_data(as_text=True))
    before = table_counts()
    resp = client.post(url, data=form_body({"first_names": "Ana\x00", "csrf_token": token}),
                       content_type="application/x-www-form-urlencoded")
    assert _is_spanish_400_page(resp)
    assert table_counts() == before


def test_a_nul_or_lone_surrogate_in_a_json_string_is_400_with_a_message(client, world):
    session = world.workshop(publish=True, start=local_in(10)).activity.sessions[0]
    for raw in (b'"Ana\\u0000"', b'"Ana\\ud800"', b'"\\udfff"'):
        body = b'{"session_id": %d, "person": {"first_names": %s}}' % (session.id, raw)
        resp = client.post("/api/v1/registrations", data=body, content_type="application/json")
        assert resp.status_code == 400, raw
        assert "carácter nulo" in resp.get_json()["detail"]
    # in a key too
    resp = client.post("/api/v1/registrations", data=b'{"a\\u0000": 1}', content_type="application/json")
    assert resp.status_code == 400
    assert db.session.scalar(select(Person.id)) is None


def test_a_paired_surrogate_escape_is_an_ordinary_character(client):
    assert loads('{"a": "\\ud83d\\ude00"}') == {"a": "\U0001F600"}


# --- deep JSON -------------------------------------------------------------------------------------


def test_depth_is_counted_outside_strings_only():
    assert not json_too_deep('{"a": "[[[[[[[[[["}', 3)
    assert not json_too_deep('[[["\\"[[[["]]]', 3)
    assert json_too_deep("[[[[", 3)
    assert not json_too_deep("[[[]]]" * 1000, 3)


def test_the_parser_refuses_deep_json_before_parsing_it():
    with pytest.raises(UnsafeInput):
        loads("[" * 100_000)
    with pytest.raises(UnsafeInput):
        loads('{"a":' * 40 + "1" + "}" * 40)
    assert loads('{"a":' * 20 + "1" + "}" * 20) is not None


def _api_write_urls(app: Any) -> list[tuple[str, str]]:
    urls = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        for method in sorted((rule.methods or set()) & {"POST", "PUT", "PATCH"}):
            path = rule.rule
            for arg in rule.arguments:
                path = path.replace(f"<int:{arg}>", "1").replace(f"<{arg}>", "1")
            urls.append((method, path))
    return urls


@pytest.mark.parametrize("body", NESTED_JSON, ids=["100k-brackets", "100-level-object"])
def test_deeply_nested_json_is_400_on_every_api_write_endpoint(app, client, body):
    urls = _api_write_urls(app)
    assert len(urls) >= 5
    for method, path in urls:
        resp = client.open(path, method=method, data=body, content_type="application/json")
        assert resp.status_code == 400, (method, path, resp.status_code)
        assert resp.mimetype == "application/problem+json"
        assert "anidados" in resp.get_json()["detail"]


def _zoom_post(client: Any, secret: str, body: bytes) -> Any:
    ts = str(int(time.time()))
    signature = "v0=" + hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    return client.post("/webhooks/zoom", data=body, content_type="application/json",
                       headers={"x-zm-request-timestamp": ts, "x-zm-signature": signature})


@pytest.mark.parametrize("body", [*NESTED_JSON, b'{"event": "meeting.ended\\u0000"}'],
                         ids=["100k-brackets", "100-level-object", "nul-in-string"])
def test_a_signed_zoom_webhook_with_a_hostile_body_is_400(app, client, body):
    old = app.config.get("ZOOM_WEBHOOK_SECRET_TOKEN")
    app.config["ZOOM_WEBHOOK_SECRET_TOKEN"] = secret = "zoom-secret-" + "s" * 20
    try:
        resp = _zoom_post(client, secret, body)
    finally:
        app.config["ZOOM_WEBHOOK_SECRET_TOKEN"] = old
    assert resp.status_code == 400 and resp.mimetype == "application/problem+json"


@pytest.mark.parametrize("body", [*NESTED_JSON, b'{"entry": [{"id": "\\ud800"}]}'],
                         ids=["100k-brackets", "100-level-object", "lone-surrogate"])
def test_a_signed_whatsapp_receipt_with_a_hostile_body_is_400(app, client, body):
    old = app.config.get("WHATSAPP_APP_SECRET")
    app.config["WHATSAPP_APP_SECRET"] = secret = "meta-app-secret-" + "m" * 16
    try:
        signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        resp = client.post("/webhooks/whatsapp", data=body, content_type="application/json",
                           headers={"X-Hub-Signature-256": signature})
    finally:
        app.config["WHATSAPP_APP_SECRET"] = old
    assert resp.status_code == 400 and resp.mimetype == "application/problem+json"


# --- the 500 page ----------------------------------------------------------------------------------


def test_the_500_handler_rolls_back_a_failed_flush_before_rendering(app, client, factory):
    """A failed flush leaves the session needing a rollback; the error page reads the database
    (the signed-in user), so without a rollback first the error page itself failed."""
    from app.territory.models import Office

    user = factory.user()
    login(client, user.email)
    handler = app.error_handler_spec[None][None][Exception]
    cookie = client.get_cookie("session")
    assert cookie is not None
    g.pop("_login_user", None)  # the user is loaded from the session cookie, by the error page
    with app.test_request_context("/gestion/", headers={"Cookie": f"session={cookie.value}"}):
        db.session.add(Office(name=None, slug="sin-nombre", comuna_code="13101"))
        with pytest.raises(Exception):  # noqa: B017,PT011 - IntegrityError on either database
            db.session.flush()
        resp = handler(RuntimeError("boom"))
        assert resp.status_code == 500
        assert db.session.execute(text("SELECT 1")).scalar() == 1
