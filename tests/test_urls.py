"""Links use the address the platform is served on when BASE_URL is unset."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from app.config import ConfigError, load_config
from app.devserver import served_at
from app.urls import SERVED_AT_ENV, base_url, external_url


@pytest.fixture
def no_base_url(app: Flask) -> Iterator[Flask]:
    old = app.config["BASE_URL"]
    app.config["BASE_URL"] = None
    yield app
    app.config["BASE_URL"] = old


def test_unset_base_url_is_none_in_the_config(monkeypatch):
    monkeypatch.delenv("BASE_URL", raising=False)
    assert load_config()["BASE_URL"] is None


def test_in_a_request_links_use_the_address_it_came_to(no_base_url):
    with no_base_url.test_request_context("/", base_url="http://192.168.1.20:8123"):
        assert external_url("workshops.detail", slug="cv") == "http://192.168.1.20:8123/talleres/cv"


def test_a_set_base_url_wins_over_the_request_host(app):
    with app.test_request_context("/", base_url="http://evil.example"):
        assert base_url() == app.config["BASE_URL"]


def test_outside_a_request_the_worker_uses_the_address_make_run_hands_it(no_base_url, monkeypatch):
    monkeypatch.setenv(SERVED_AT_ENV, "http://127.0.0.1:8123")
    assert external_url("public.home") == "http://127.0.0.1:8123/"
    monkeypatch.delenv(SERVED_AT_ENV)
    assert external_url("public.home") == "http://127.0.0.1:5000/"


def test_the_dev_server_hands_its_own_port_to_the_worker():
    assert served_at("127.0.0.1", "8123") == "http://127.0.0.1:8123"
    assert served_at("0.0.0.0", "8123") == "http://127.0.0.1:8123"  # noqa: S104 - a value, not a bind


def test_a_workshop_page_served_on_another_port_links_to_that_port(no_base_url, client, factory):
    from tests.workshops.conftest import WorkshopWorld

    w = WorkshopWorld(factory).workshop(publish=True)
    html = client.get(f"/talleres/{w.activity.slug}", base_url="http://127.0.0.1:8123").get_data(as_text=True)
    assert f'<link rel="canonical" href="http://127.0.0.1:8123/talleres/{w.activity.slug}">' in html


def test_production_requires_base_url():
    with pytest.raises(ConfigError, match="BASE_URL"):
        load_config({"ENV_NAME": "production", "SECRET_KEY": "k" * 40, "BASE_URL": None})
