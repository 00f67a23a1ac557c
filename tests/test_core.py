"""Core behaviour: security headers, languages, request logs, schema checks, error pages."""

from __future__ import annotations

import logging

import pytest

from app import create_app
from app.config import ConfigError, load_config
from tests.conftest import get_csrf, make_test_config


def test_pages_carry_a_strict_content_security_policy(client):
    resp = client.get("/")
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in csp
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


def test_no_inline_script_in_public_pages(client):
    for path in ("/", "/talleres", "/ferias", "/grabaciones", "/cuenta/ingresar"):
        body = client.get(path).get_data(as_text=True)
        assert "<script>" not in body and " onclick=" not in body, path


def test_hsts_only_in_production(database_url, instance_dir):
    prod = create_app(make_test_config(database_url, instance_dir, ENV_NAME="production",
                                       SECRET_KEY="k" * 40, SCHEMA_CHECK=False))
    assert "Strict-Transport-Security" in prod.test_client().get("/healthz").headers
    assert prod.config["SESSION_COOKIE_SECURE"] is True


def test_production_refuses_to_start_without_a_secret_key(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config({"ENV_NAME": "production", "SECRET_KEY": ""})


def test_development_gets_a_default_secret_key(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    assert load_config({"ENV_NAME": "development"})["SECRET_KEY"]


def test_default_database_is_sqlite_under_instance(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    cfg = load_config()
    assert cfg["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert cfg["SQLALCHEMY_DATABASE_URI"].endswith("instance/puente.db")


def test_postgres_urls_use_psycopg3(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u@h/db")
    assert load_config()["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"


def test_spanish_is_the_default_and_english_can_be_chosen(client):
    assert "Talleres de apresto laboral" in client.get("/").get_data(as_text=True)
    token = get_csrf(client)
    resp = client.post("/idioma", data={"lang": "en", "next": "/", "csrf_token": token})
    assert resp.status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert 'lang="en"' in page


def test_language_switch_refuses_unknown_languages_and_foreign_redirects(client):
    token = get_csrf(client)
    assert client.post("/idioma", data={"lang": "xx", "csrf_token": token}).status_code == 400
    resp = client.post("/idioma", data={"lang": "en", "next": "https://evil.example/", "csrf_token": token})
    assert resp.headers["Location"] == "/"


def test_each_request_is_logged_once_with_an_id_and_no_query_string(client, caplog):
    caplog.set_level(logging.INFO, logger="puente.request")
    resp = client.get("/?email=ana@example.cl")
    lines = [r.getMessage() for r in caplog.records if r.name == "puente.request"]
    assert len(lines) == 1
    assert resp.headers["X-Request-ID"] in lines[0]
    assert "ana@example.cl" not in lines[0]


def test_unknown_page_gets_a_spanish_404(client):
    resp = client.get("/no-existe")
    assert resp.status_code == 404
    assert "No encontramos esta página" in resp.get_data(as_text=True)


def test_gestion_requires_login(client):
    resp = client.get("/gestion/")
    assert resp.status_code == 302
    assert "/cuenta/ingresar" in resp.headers["Location"]


def test_employer_accounts_cannot_enter_gestion(client, logged_in):
    logged_in(role="employer")
    assert client.get("/gestion/").status_code == 403


def test_a_database_behind_the_migrations_gets_a_clear_503(tmp_path):
    fresh = create_app(make_test_config(f"sqlite:///{tmp_path / 'empty.db'}", tmp_path))
    client = fresh.test_client()
    resp = client.get("/")
    assert resp.status_code == 503
    assert "flask --app wsgi db upgrade" in resp.get_data(as_text=True)
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json()["status"] == "unavailable"
    assert client.get("/healthz").status_code == 200


def test_behind_a_trusted_proxy_the_client_address_comes_from_x_forwarded_for(database_url, instance_dir):
    proxied = create_app(make_test_config(database_url, instance_dir, TRUSTED_PROXIES=1, SCHEMA_CHECK=False))

    @proxied.get("/_ip")
    def _ip():
        from flask import request

        return request.remote_addr or ""

    resp = proxied.test_client().get("/_ip", headers={"X-Forwarded-For": "200.1.2.3"})
    assert resp.get_data(as_text=True) == "200.1.2.3"


def test_signed_tokens_are_hidden_in_the_request_log_but_slugs_are_not():
    from app.requestlog import _scrub_path

    assert _scrub_path("/inscripcion/WzEsIjc1YjljZGQwODAyODQwY2UiXQ.DAfamncVRYM49eKfDbaZ/datos") == \
        "/inscripcion/…/datos"
    assert _scrub_path("/talleres/como-enfrentar-una-entrevista-de-trabajo") == \
        "/talleres/como-enfrentar-una-entrevista-de-trabajo"


def test_an_id_larger_than_any_row_is_a_404_not_a_database_error(client):
    for path in ("/gestion/sesiones/99999999999/conexion", "/gestion/difusion/99999999999",
                 "/inscripcion/sesion/99999999999", "/gestion/oficinas/99999999999/videoconferencia"):
        assert client.get(path).status_code == 404, path


@pytest.mark.parametrize("path", [
    "/widget/oficina/%C2%B2", "/feeds/red/%C2%B2.atom", "/widget/region/13?limite=%C2%B2",
    "/b/%C2%B2-AAAAAAAAAAAA", "/talleres?page=%C2%B2", "/talleres?region=%C2%B2",
])
def test_superscript_digits_in_ids_and_numbers_are_refused_not_a_crash(client, path):
    """"²".isdigit() is true but int("²") fails: numbers are read with isdecimal()."""
    assert client.get(path).status_code < 500


def test_superscript_digits_on_staff_pages_are_refused_not_a_crash(client, logged_in):
    logged_in()
    for path in ("/gestion/difusion/?page=%C2%B2", "/gestion/difusion/nueva?actividad=%C2%B2",
                 "/gestion/talleres/?page=%C2%B2", "/gestion/mensajes/?page=%C2%B2",
                 "/gestion/auditoria/?page=%C2%B2"):
        assert client.get(path).status_code < 500, path
