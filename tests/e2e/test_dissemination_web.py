"""The web channel in a browser: a municipal site embeds the widget; widget pages pass axe."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e import conftest as browser_fixtures
from tests.registration.conftest import world

__all__ = ["world"]


@pytest.fixture
def municipal_site() -> Iterator[Any]:
    """Another origin on loopback serving one page: ``site.html = ...``; ``site.url``."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Site:
        html = ""
        url = ""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the standard library's name
            body = Site.html.encode()
            self.send_response(200 if self.path == "/" else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    Site.url = f"http://127.0.0.1:{server.server_port}/"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Site
    server.shutdown()
    server.server_close()


@pytest.mark.e2e
def test_a_municipal_site_embeds_the_widget_with_the_script(page: Any, live_server: str, axe: Any, world: Any,
                                                            municipal_site: Any) -> None:
    world.workshop(publish=True, title="Taller para la web municipal")
    municipal_site.html = (
        f'<!doctype html><html lang="es-CL"><head><title>Municipalidad</title></head><body><main>'
        f'<h1>Empleo</h1><script src="{live_server}/static/js/widget.js" data-oficina="{world.host.slug}" '
        f'async></script></main></body></html>')
    page.goto(municipal_site.url)
    frame = page.frame_locator("iframe")
    link = frame.get_by_role("link", name=re.compile(r"Inscribirse\W+Taller para la web municipal"))
    link.wait_for()
    assert link.get_attribute("target") == "_blank"
    assert page.locator("iframe").get_attribute("title")
    axe.check(page)


@pytest.mark.e2e
def test_widget_and_snippet_pages_pass_axe(page: Any, axe: Any, world: Any) -> None:
    world.workshop(publish=True, title="Taller accesible")
    browser_fixtures.visit(page, axe, f"/widget/oficina/{world.host.slug}")
    assert page.locator("h2", has_text="Taller accesible").count() == 1
    browser_fixtures.visit(page, axe, f"/widget/oficina/{world.host.slug}/insertar")
    browser_fixtures.visit(page, axe, "/widget/red/no-existe")
