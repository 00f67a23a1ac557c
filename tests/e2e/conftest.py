"""Browser fixtures: the app served on loopback, Debian's Chromium driven by Playwright,
and an axe-core check (WCAG 2.1 A/AA) for every page a test visits."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.conftest import IN_CI

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
               "--disable-background-networking", "--disable-component-update", "--no-first-run",
               "--disable-sync", "--disable-quic"]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)


def _axe_source() -> str:
    import axe_playwright_python

    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def live_server(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(autouse=True)
def _base_url_is_the_live_server(request: pytest.FixtureRequest) -> Iterator[None]:
    """Links in messages point at the live server, during browser tests only."""
    if "live_server" not in request.fixturenames:
        yield
        return
    app: Flask = request.getfixturevalue("app")
    old = app.config["BASE_URL"]
    app.config["BASE_URL"] = request.getfixturevalue("live_server")
    yield
    app.config["BASE_URL"] = old


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        msg = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if IN_CI:
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        yield b
        b.close()


class Axe:
    """Runs axe-core on the current page and fails on any WCAG 2.1 A/AA violation."""

    def __init__(self) -> None:
        self.source = _axe_source()
        self.checked: list[str] = []

    def check(self, page: Any) -> None:
        if page.evaluate("typeof window.axe") == "undefined":
            page.evaluate(self.source)
        result = page.evaluate(
            "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
        )
        violations = result["violations"]
        self.checked.append(page.url)
        if violations:
            lines = [f"{v['id']} ({v['impact']}): {v['help']} -> "
                     + "; ".join(n["target"][0] if isinstance(n["target"][0], str) else json.dumps(n["target"])
                                 for n in v["nodes"][:5]) for v in violations]
            pytest.fail(f"axe violations on {page.url}:\n" + "\n".join(lines), pytrace=False)


@pytest.fixture(scope="session")
def axe() -> Axe:
    return Axe()


@pytest.fixture
def page(browser: Any, live_server: str, axe: Axe) -> Iterator[Any]:
    """A fresh browser context per test; every page loaded is checked with axe-core."""
    context = browser.new_context(base_url=live_server, locale="es-CL")
    pg = context.new_page()
    pg.set_default_timeout(10_000)
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.on("console", lambda m: errors.append(m.text)
          if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
    pg.on("response", lambda r: errors.append(f"{r.status} {r.url}")
          if r.status >= 400 and r.request.resource_type != "document" else None)
    yield pg
    context.close()
    assert not errors, f"browser errors: {errors}"


def visit(page: Any, axe: Axe, path: str) -> Any:
    resp = page.goto(path)
    assert resp is not None and resp.status < 500, f"{path} -> {resp.status if resp else None}"
    axe.check(page)
    return resp
