"""How fast are the public workshop pages and the calendar feeds with a year of workshops?

A script, not a test: ``.venv/bin/python benchmarks/listing.py [--postgresql]``. It makes a
database of its own (a SQLite file in a temporary folder, or a throwaway PostgreSQL database on
127.0.0.1:5432 that is dropped afterwards), migrates it, fills it with 10,000 sessions over a
year across 50 networks with bulk inserts into the real tables, and times requests through
the Flask test client: the time measured is the application's (routing, queries, templates),
without a network or a WSGI server in front. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
TOPIC_SLUGS_FALLBACK = ["entrevista-de-trabajo"]
MODALITIES = ["remote", "remote", "in_person", "hybrid"]  # half of the sessions are online
SESSIONS_PER_WORKSHOP = [1, 1, 2, 4]  # single sessions and weekly series; 2 on average


# --- the database ------------------------------------------------------------------------------


@contextmanager
def throwaway_database(postgresql: bool) -> Iterator[tuple[str, Path]]:
    workdir = Path(tempfile.mkdtemp(prefix="puente-bench-"))
    try:
        if not postgresql:
            yield f"sqlite:///{workdir / 'bench.db'}", workdir
            return
        import psycopg

        name = f"puente_bench_{os.getpid()}_{secrets.token_hex(3)}"
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}", workdir
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def make_app(database_url: str, workdir: Path) -> Flask:
    from flask_migrate import upgrade

    from app import create_app

    app = create_app({
        "SQLALCHEMY_DATABASE_URI": database_url,
        "INSTANCE_DIR": str(workdir / "instance"),
        "STORAGE_URL": f"file://{workdir / 'files'}",
        "SECRET_KEY": "benchmark-secret-key-" + "x" * 32,
        "SMTP_URL": None,
        "REDIS_URL": None,
        "BASE_URL": "https://puentelaboral.example",
        "HUEY_SQLITE_PATH": str(workdir / "huey.db"),
    })
    for name in ("puente.request", "alembic", "alembic.runtime.migration"):
        logging.getLogger(name).setLevel(logging.WARNING)
    with app.app_context():
        upgrade()
    return app


# --- filling it ----------------------------------------------------------------------------------


@dataclass
class Filled:
    network_slugs: list[str]
    busy_comuna: str
    busy_region: str
    topic_slugs: list[str]
    public_slugs: list[str]
    coordinator_id: int
    coordinated_network_id: int


def fill(app: Flask, *, sessions: int, networks: int, seed: int = 7) -> Filled:
    """Bulk inserts (SQLAlchemy Core) into the real tables: networks with their offices, then
    workshops with their networks, convening offices, a facilitator and their sessions."""
    from app.accounts.models import Role
    from app.accounts.services import create_user
    from app.extensions import db
    from app.territory.models import Comuna, Office, Region

    rng = random.Random(seed)
    t = db.metadata.tables
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    year = datetime.now(ZoneInfo("America/Santiago")).year
    with app.app_context():
        regions = list(db.session.scalars(select(Region.code).order_by(Region.position)))
        comunas_by_region: dict[str, list[tuple[str, str]]] = {}
        for code, region, tz in db.session.execute(select(Comuna.code, Comuna.region_code, Comuna.timezone)):
            comunas_by_region.setdefault(region, []).append((code, tz))
        topics = list(db.session.execute(select(t["workshop_topics"].c.id, t["workshop_topics"].c.slug)))
        conn = db.session.connection()

        # 50 networks over the 16 regions (the capital has more), 6 offices each.
        net_rows, office_rows, net_region_rows, net_office_rows = [], [], [], []
        office_id = 0
        network_offices: dict[int, list[int]] = {}
        office_zone: dict[int, tuple[str, str]] = {}
        for n in range(1, networks + 1):
            region = "13" if n % 4 == 0 else regions[n % len(regions)]
            net_rows.append({"id": n, "name": f"Red territorial {n:03d}", "slug": f"red-territorial-{n:03d}",
                             "active": True, "created_at": now})
            net_region_rows.append({"network_id": n, "region_code": region})
            comunas = comunas_by_region[region]
            network_offices[n] = []
            for k in range(6):
                office_id += 1
                comuna, tz = comunas[(n * 6 + k) % len(comunas)]
                office_rows.append({
                    "id": office_id, "name": f"OMIL {office_id:04d}", "slug": f"omil-{office_id:04d}",
                    "kind": "omil", "category": ["basica", "intermedia", "avanzada"][k % 3], "comuna_code": comuna,
                    "email": f"omil{office_id}@example.cl", "phone": "+56222223333", "active": True,
                    "created_at": now})
                net_office_rows.append({"network_id": n, "office_id": office_id})
                network_offices[n].append(office_id)
                office_zone[office_id] = (comuna, tz)
        conn.execute(insert(t["networks"]), net_rows)
        conn.execute(insert(t["offices"]), office_rows)
        conn.execute(insert(t["network_regions"]), net_region_rows)
        conn.execute(insert(t["network_offices"]), net_office_rows)
        conn.execute(insert(t["network_coordinations"]), [
            {"network_id": n, "office_id": offices[0], "year": year, "assigned_at": now}
            for n, offices in network_offices.items()])

        # Workshops: 85 % published, 10 % drafts, 5 % cancelled; 1 in 10 shared by two networks.
        activity_rows, workshop_rows, an_rows, conv_rows, fac_rows, session_rows = [], [], [], [], [], []
        activity_id = 0
        session_count = 0
        public_slugs: list[str] = []
        start_span = timedelta(days=365)
        while session_count < sessions:
            activity_id += 1
            net = rng.randint(1, networks)
            host = rng.choice(network_offices[net])
            comuna, tz = office_zone[host]
            roll = rng.random()
            status = "published" if roll < 0.85 else "draft" if roll < 0.95 else "cancelled"
            topic_id, _topic_slug = rng.choice(topics)
            slug = f"taller-{activity_id:05d}-apresto-laboral"
            activity_rows.append({
                "id": activity_id, "kind": "workshop", "title": f"Taller de apresto laboral {activity_id}",
                "slug": slug, "description": "Preparamos la búsqueda de empleo: currículum, entrevista y redes.",
                "status": status, "cancel_reason": "Sin sala disponible" if status == "cancelled" else None,
                "host_office_id": host, "created_at": now, "updated_at": now,
                "published_at": None if status == "draft" else now})
            workshop_rows.append({
                "activity_id": activity_id, "topic_id": topic_id, "audience": "Personas que buscan empleo",
                "language": "es", "offers_subtitles": activity_id % 3 == 0,
                "offers_sign_language": activity_id % 7 == 0,
                "offers_materials_in_advance": activity_id % 2 == 0, "accessibility_notes": ""})
            an_rows.append({"activity_id": activity_id, "network_id": net})
            if activity_id % 10 == 0:
                an_rows.append({"activity_id": activity_id, "network_id": net % networks + 1})
            convening = [o for o in network_offices[net] if o != host][: 1 + activity_id % 3]
            conv_rows += [{"activity_id": activity_id, "office_id": o} for o in convening]
            fac_rows.append({"workshop_id": activity_id, "guest_name": f"Facilitadora {activity_id}"})
            if status == "published":
                public_slugs.append(slug)
            # The year runs from 30 days ago: past sessions stay in the table, as in real life.
            first = now - timedelta(days=30) + timedelta(minutes=rng.randrange(int(start_span.total_seconds() // 60)))
            first = first.replace(minute=0 if first.minute < 30 else 30)
            modality = rng.choice(MODALITIES)
            for k in range(rng.choice(SESSIONS_PER_WORKSHOP)):
                session_count += 1
                starts = first + timedelta(weeks=k)
                in_person = modality != "remote"
                session_rows.append({
                    "activity_id": activity_id, "uid": f"workshop-{secrets.token_hex(10)}@puentelaboral",
                    "starts_at": starts, "ends_at": starts + timedelta(hours=2), "timezone": tz,
                    "modality": modality, "capacity": 30 if in_person else 300,
                    "venue_name": "Sala de capacitación" if in_person else None,
                    "address": "Av. Principal 123" if in_person else None,
                    "comuna_code": comuna if in_person else None, "join_provider": "link",
                    "join_url": None if modality == "in_person" else "https://meet.example/abc-defg-hij",
                    "status": "cancelled" if status == "cancelled" else "scheduled",
                    "sequence": 0, "detached": False, "created_at": now, "updated_at": now})
        for table, rows in (("activities", activity_rows), ("workshops", workshop_rows),
                            ("activity_networks", an_rows), ("activity_convening_offices", conv_rows),
                            ("workshop_facilitators", fac_rows), ("activity_sessions", session_rows)):
            for i in range(0, len(rows), 2000):
                conn.execute(insert(t[table]), rows[i:i + 2000])
        db.session.commit()
        with db.engine.begin() as c:
            if db.engine.dialect.name == "postgresql":  # explicit ids: move the sequences past them
                for table in ("networks", "offices", "activities"):
                    c.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                                      f"(SELECT max(id) FROM {table}))")
            c.exec_driver_sql("ANALYZE")  # fresh statistics, as a database in use would have

        # A coordinator (staff of the coordinating office of the busiest network) for the feed.
        net_sizes: dict[int, int] = {}
        for row in an_rows:
            net_sizes[row["network_id"]] = net_sizes.get(row["network_id"], 0) + 1
        busiest = max(net_sizes, key=lambda n: net_sizes[n])
        office = db.session.get(Office, network_offices[busiest][0])
        coordinator = create_user(email="coordinacion@example.cl", name="Coordinación", password=None,
                                  role=Role.OFFICE_STAFF, office=office)
        busy_office = office_rows[3]
        return Filled(
            network_slugs=[f"red-territorial-{n:03d}" for n in (busiest, 1, 2)],
            busy_comuna=str(busy_office["comuna_code"]), busy_region="13",
            topic_slugs=[s for _i, s in topics] or TOPIC_SLUGS_FALLBACK,
            public_slugs=public_slugs, coordinator_id=coordinator.id, coordinated_network_id=busiest)


# --- measuring -----------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    times_ms: list[float]
    cpu_ms: list[float]
    status: set[int]
    size: int

    def pct(self, p: float) -> float:
        data = sorted(self.times_ms)
        return data[min(len(data) - 1, max(0, round(p / 100 * len(data) + 0.5) - 1))]


def measure(client: FlaskClient, name: str, urls: Callable[[int], str], n: int,
            headers: Callable[[int], dict[str, str]] | None = None, warmup: int = 3) -> Result:
    for i in range(warmup):
        client.get(urls(i), headers=(headers(i) if headers else {}))
    times: list[float] = []
    cpu: list[float] = []
    statuses: set[int] = set()
    size = 0
    for i in range(n):
        url, hdrs = urls(i), (headers(i) if headers else {})
        started, started_cpu = time.perf_counter(), time.process_time()
        resp = client.get(url, headers=hdrs)
        body = resp.get_data()
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        statuses.add(resp.status_code)
        size = max(size, len(body))
    return Result(name, times, cpu, statuses, size)


def feed_target(app: Flask, filled: Filled) -> tuple[str, str]:
    """(label, URL) of a network's private feed, or of a public workshop file if the feed
    modules are not there."""
    try:
        from app.activities import feeds
    except ImportError:
        return "taller .ics público (sin módulo de feeds)", f"/talleres/{filled.public_slugs[0]}.ics"
    from flask import url_for

    from app.accounts.models import User
    from app.extensions import db

    with app.app_context():
        user = db.session.get(User, filled.coordinator_id)
        feed, _created = feeds.create_feed(user, "network", filled.coordinated_network_id)
        with app.test_request_context():
            url = url_for("workshops_ical.feed", feed_id=feed.id, token=feeds.feed_token(feed))
    return "feed .ics de una red", url


def run(postgresql: bool, sessions: int, networks: int, n: int) -> list[Result]:
    with throwaway_database(postgresql) as (url, workdir):
        app = make_app(url, workdir)
        started = time.perf_counter()
        filled = fill(app, sessions=sessions, networks=networks)
        print(f"Base {'PostgreSQL' if postgresql else 'SQLite'}: {sessions} sesiones, {networks} redes, "
              f"{len(filled.public_slugs)} talleres publicados; llenado en {time.perf_counter() - started:.1f} s",
              flush=True)
        client = app.test_client()
        soon = datetime.now(ZoneInfo("America/Santiago")).date() + timedelta(days=30)
        later = soon + timedelta(days=14)
        nets, topics, slugs = filled.network_slugs, filled.topic_slugs, filled.public_slugs
        listing = {
            "listado sin filtros": lambda i: "/talleres",
            "listado página 10": lambda i: "/talleres?page=10",
            "listado página 200 (offset 3980)": lambda i: "/talleres?page=200",
            "listado región 13": lambda i: f"/talleres?region={filled.busy_region}",
            "listado comuna": lambda i: f"/talleres?comuna={filled.busy_comuna}",
            "listado red": lambda i: f"/talleres?network={nets[i % len(nets)]}",
            "listado tema + presencial": lambda i: f"/talleres?topic={topics[i % len(topics)]}&modality=presencial",
            "listado 2 semanas": lambda i: f"/talleres?desde={soon.isoformat()}&hasta={later.isoformat()}",
            "listado región+tema+remota+desde": lambda i: (
                f"/talleres?region=13&topic={topics[i % len(topics)]}&modality=remota&desde={soon.isoformat()}"),
            "listado valores inválidos": lambda i: "/talleres?region=99&desde=mañana&topic=x&page=abc",
        }
        results = [measure(client, name, fn, n) for name, fn in listing.items()]
        results.append(measure(client, "página de un taller", lambda i: f"/talleres/{slugs[(i * 37) % len(slugs)]}", n))
        results.append(measure(client, "taller .ics público", lambda i: f"/talleres/{slugs[(i * 37) % len(slugs)]}.ics",
                               n))
        label, feed_url = feed_target(app, filled)
        results.append(measure(client, f"{label}: primera", lambda i: feed_url, n))
        etag = client.get(feed_url).headers.get("ETag", "")
        results.append(measure(client, f"{label}: repetida (If-None-Match)", lambda i: feed_url, n,
                               headers=lambda i: {"If-None-Match": etag}))
        from app.extensions import db

        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        return results


def print_table(title: str, results: list[Result]) -> None:
    width = max(len(r.name) for r in results)
    print(f"\n{title}")
    print(f"{'escenario':<{width}}  {'n':>4}  {'p50 ms':>7}  {'p95 ms':>7}  {'máx ms':>7}  {'CPU p50':>7}  "
          f"{'estado':>7}  {'bytes':>7}")
    for r in results:
        status = ",".join(str(s) for s in sorted(r.status))
        print(f"{r.name:<{width}}  {len(r.times_ms):>4}  {statistics.median(r.times_ms):>7.1f}  {r.pct(95):>7.1f}  "
              f"{max(r.times_ms):>7.1f}  {statistics.median(r.cpu_ms):>7.1f}  {status:>7}  {r.size:>7}")
    worst = max(r.pct(95) for r in results)
    print(f"peor p95: {worst:.1f} ms ({'cumple' if worst < 50 else 'NO cumple'} la meta de 50 ms)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--postgresql", action="store_true",
                        help=f"usar una base PostgreSQL desechable (administración: {PG_ADMIN_URL})")
    parser.add_argument("--sessions", type=int, default=10_000, help="sesiones a crear (10000)")
    parser.add_argument("--networks", type=int, default=50, help="redes territoriales (50)")
    parser.add_argument("-n", "--requests", type=int, default=200, help="solicitudes medidas por escenario (200)")
    args = parser.parse_args(argv)
    os.environ.setdefault("PUENTE_ENV", "development")
    results = run(args.postgresql, args.sessions, args.networks, args.requests)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print_table(f"Tiempo de servidor (cliente de pruebas de Flask), {args.requests} solicitudes por escenario; "
                f"carga de la máquina {load} en {os.cpu_count()} CPU", results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
