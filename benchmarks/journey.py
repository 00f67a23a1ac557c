"""The jobseeker's path on a small phone: from the home page to a held seat, counted.

Drives Debian's Chromium (Playwright) at 360 px against the served demo and prints, for a
first-time registration that starts on the home page: taps, typed fields, page loads, bytes
transferred per page and the server's time per request. It is a measurement, not a test: it
follows whatever the pages offer, by visible text and role, so it keeps working while the home
page changes (a comuna search or session cards with an "Inscribirme" link are used when
present; otherwise "Talleres" → the first workshop → "Inscribirme en esta sesión").

    .venv/bin/python benchmarks/journey.py                       # builds and serves its own demo
    .venv/bin/python benchmarks/journey.py --base-url http://127.0.0.1:5000   # a running `make run`
    .venv/bin/python benchmarks/journey.py --width 320 --no-js   # a smaller phone, no JavaScript

Without ``--base-url`` it makes a throwaway instance folder, runs ``flask db upgrade`` and
``flask seed-demo`` there (SQLite), serves it with ``flask run`` on a free port, reads the
server's own request log for its time per request, and removes everything at the end.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--no-first-run"]
AIM = {"taps": 8, "typed": 4, "page_kb": 60}
# Every submission now gets the same answer page (issue 11: it must not reveal whether a RUT is
# known); the journey types a new RUT, whose seat is taken in that POST, so that page means held.
HELD = re.compile(r"Revise sus mensajes|Recibimos su inscripción|Su inscripción quedó confirmada|"
                  r"Quedó en la lista de espera")
LOG_LINE = re.compile(r"method=(\w+) path=(\S+) status=(\d+) ms=([\d.]+)")


@dataclass
class PageLoad:
    method: str
    url: str
    status: int
    html_bytes: int = 0  # transferred: headers and body, as sent
    sub_bytes: int = 0  # stylesheets, scripts, icons fetched for this page (0 when cached)
    ttfb_ms: float = 0.0
    server_ms: float | None = None


@dataclass
class Journey:
    taps: list[str] = field(default_factory=list)
    typed: list[str] = field(default_factory=list)
    pages: list[PageLoad] = field(default_factory=list)
    held: bool = False
    final_url: str = ""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served_demo() -> Iterator[tuple[str, Path]]:
    """A fresh demo (SQLite) served by ``flask run``; yields (base URL, the server's log file)."""
    folder = Path(tempfile.mkdtemp(prefix="puente-journey-"))
    env = {**os.environ, "INSTANCE_PATH": str(folder), "PYTHONUNBUFFERED": "1"}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    flask = [str(BIN / "flask"), "--app", "wsgi"]
    log = folder / "server.log"
    server = None
    try:
        for step in (["db", "upgrade"], ["seed-demo"]):
            subprocess.run([*flask, *step], cwd=ROOT, env=env, check=True, capture_output=True)  # noqa: S603
        port = _free_port()
        with log.open("w") as out:
            server = subprocess.Popen([*flask, "run", "--port", str(port), "--with-threads"],  # noqa: S603
                                      cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)  # noqa: S310 - our own loopback server
                break
            except OSError:
                time.sleep(0.2)
        yield base, log
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


def _rut(n: int) -> str:
    from stdnum.cl import rut

    body = str(17_000_000 + n)
    return f"{body}-{rut.calc_check_digit(body)}"


def _words(text: str) -> str:
    return " ".join(text.split())


def _click(page: Any, journey: Journey, locator: Any, what: str) -> None:
    journey.taps.append(what)
    locator.click()
    page.wait_for_load_state("load")


def _fill(page: Any, journey: Journey, selector: str, value: str, what: str) -> None:
    journey.typed.append(what)
    page.fill(selector, value)


def _register(page: Any, journey: Journey, n: int, one_date: bool) -> None:
    """On the registration form: type what it asks for, nothing optional."""
    _fill(page, journey, "#first_names", "Rosa", "nombres")
    _fill(page, journey, "#last_names", "Quispe Mamani", "apellidos")
    _fill(page, journey, "#document_number", _rut(n), "RUT")
    _fill(page, journey, "#phone", f"9 8{n % 1000:03d} 4321", "celular")
    comuna = page.locator("#comuna_code")
    if not comuna.input_value():  # not pre-filled: choose (no JavaScript) or type (type-ahead)
        if comuna.evaluate("e => e.tagName") == "SELECT":
            journey.taps.append("comuna (lista)")
            comuna.select_option("13120")
        else:
            _fill(page, journey, "#comuna_code", "Ñuñoa", "comuna")
    journey.taps.append("acepto el uso de mis datos")
    page.locator("#consent_data").check()
    form = page.locator("main form", has=page.locator("#first_names"))
    button = form.get_by_role("button", name=re.compile("^Inscribirme")).first
    only_marked = form.get_by_role("button", name=re.compile("solo en las fechas marcadas"))
    if one_date and only_marked.count():  # a series: just the date of the link followed
        button = only_marked.first
    _click(page, journey, button, f"«{_words(button.inner_text())}»")


def _next_step(page: Any, journey: Journey) -> bool:
    """Take the next step towards a registration form; False when nothing fits."""
    main = page.get_by_role("main")
    link = main.get_by_role("link", name=re.compile(r"^Inscribirme"))
    if link.count():
        _click(page, journey, link.first, f"«{_words(link.first.inner_text())}»")
        return True
    if "/talleres/" in page.url:
        return False
    if re.search(r"/talleres/?(\?|$)", page.url):
        first = main.get_by_role("heading").get_by_role("link")
        if first.count():
            _click(page, journey, first.first, f"«{_words(first.first.inner_text())}» (el primer taller)")
            return True
        return False
    talleres = page.get_by_role("link", name=re.compile(r"^Talleres$"))
    if talleres.count():
        _click(page, journey, talleres.first, "«Talleres»")
        return True
    return False


def run_journey(browser: Any, base: str, *, width: int, js: bool, n: int, one_date: bool = False) -> Journey:
    journey = Journey()
    context = browser.new_context(base_url=base, locale="es-CL", java_script_enabled=js, is_mobile=True,
                                  has_touch=True, viewport={"width": width, "height": 740})
    page = context.new_page()
    current: dict[str, PageLoad] = {}

    def on_finished(request: Any) -> None:
        try:
            sizes = request.sizes()
            response = request.response()
        except Exception:  # noqa: BLE001 - a request cancelled by a navigation has no sizes
            return
        total = int(sizes.get("responseBodySize", 0)) + int(sizes.get("responseHeadersSize", 0))
        if request.resource_type == "document" and request.frame == page.main_frame:
            timing = request.timing
            load = PageLoad(method=request.method, url=request.url, status=response.status if response else 0,
                            html_bytes=total, ttfb_ms=max(0.0, timing["responseStart"] - timing["requestStart"]))
            journey.pages.append(load)
            current["page"] = load
        elif "page" in current:
            current["page"].sub_bytes += total

    page.on("requestfinished", on_finished)
    page.goto("/")
    page.wait_for_load_state("load")
    for _ in range(12):
        if page.locator("main form #first_names").count():
            _register(page, journey, n, one_date)
            break
        if not _next_step(page, journey):
            break
    page.wait_for_timeout(300)  # the last requestfinished events
    journey.held = bool(HELD.search(page.inner_text("main")))
    journey.final_url = page.url
    context.close()
    return journey


def _server_times(log: Path | None, journey: Journey) -> None:
    """Match each page load with the server's own time for it (``puente.request ... ms=``)."""
    if log is None or not log.exists():
        return
    entries = [m.groups() for m in LOG_LINE.finditer(log.read_text(encoding="utf-8", errors="replace"))]
    sys.path.insert(0, str(ROOT))
    from app.requestlog import _scrub_path  # the log hides personal-link tokens the same way

    used: set[int] = set()
    for load in journey.pages:
        path = _scrub_path(urlparse(load.url).path)
        for i in range(len(entries) - 1, -1, -1):
            method, logged_path, _status, ms = entries[i]
            if i not in used and method == load.method and logged_path == path:
                load.server_ms = float(ms)
                used.add(i)
                break


def report(journey: Journey, *, width: int, js: bool) -> bool:
    print(f"\n== {width} px, JavaScript {'on' if js else 'off'} ==")
    print(f"{'#':>2}  {'method':6} {'status':>6} {'HTML KB':>8} {'+other KB':>9} {'TTFB ms':>8} {'server ms':>9}  page")
    for i, p in enumerate(journey.pages, start=1):
        server = f"{p.server_ms:9.1f}" if p.server_ms is not None else f"{'-':>9}"
        path = urlparse(p.url)
        shown = path.path if len(path.path) < 60 else path.path[:28] + "…" + path.path[-20:]
        print(f"{i:>2}  {p.method:6} {p.status:>6} {p.html_bytes / 1024:8.1f} {p.sub_bytes / 1024:9.1f} "
              f"{p.ttfb_ms:8.1f} {server}  {shown}{'?' + path.query if path.query else ''}")
    total_kb = sum(p.html_bytes + p.sub_bytes for p in journey.pages) / 1024
    heaviest = max((p.html_bytes + p.sub_bytes for p in journey.pages), default=0) / 1024
    server_total = sum(p.server_ms or 0 for p in journey.pages)
    taps, typed = len(journey.taps), len(journey.typed)
    print(f"taps: {taps} ({', '.join(journey.taps)})")
    print(f"typed fields: {typed} ({', '.join(journey.typed)}); taps counting one to focus each typed field: "
          f"{taps + typed}")
    print(f"page loads: {len(journey.pages)}; bytes transferred: {total_kb:.1f} KB in all, heaviest page "
          f"{heaviest:.1f} KB; server time: {server_total:.0f} ms in all"
          + ("" if any(p.server_ms is not None for p in journey.pages) else " (not available: TTFB shown)"))
    print(f"seat held: {'yes' if journey.held else 'NO'} ({journey.final_url})")
    ok = journey.held and taps <= AIM["taps"] and typed <= AIM["typed"] and heaviest < AIM["page_kb"]
    print(f"aim (≤{AIM['taps']} taps, ≤{AIM['typed']} typed fields, <{AIM['page_kb']} KB a page, seat held): "
          f"{'met' if ok else 'NOT met'}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", help="a running server (default: build and serve a throwaway demo)")
    parser.add_argument("--width", type=int, action="append", help="viewport width in px (repeatable; default 360)")
    parser.add_argument("--no-js", action="store_true", help="only the run without JavaScript")
    parser.add_argument("--js-only", action="store_true", help="only the run with JavaScript")
    parser.add_argument("--cold", action="store_true", help="no warm-up journey before the measured ones")
    parser.add_argument("--one-date", action="store_true",
                        help="on a series, register only the date followed (default: the form's first button)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    widths = args.width or [360]
    modes = [False] if args.no_js else [True] if args.js_only else [True, False]

    @contextmanager
    def target() -> Iterator[tuple[str, Path | None]]:
        if args.base_url:
            yield args.base_url.rstrip("/"), None
        else:
            with served_demo() as served:
                yield served

    all_ok = True
    with target() as (base, log), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        n = int(time.time()) % 100_000
        if not args.cold:  # one unreported journey first: templates compiled, caches filled
            run_journey(browser, base, width=360, js=True, n=n)
        for width in widths:
            for js in modes:
                n += 1
                journey = run_journey(browser, base, width=width, js=js, n=n, one_date=args.one_date)
                time.sleep(0.3)  # the server writes its log line after the response
                _server_times(log, journey)
                all_ok = report(journey, width=width, js=js) and all_ok
        browser.close()
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
