"""A burst of registrations against the platform served the production way, then a count.

A script, not a test: ``.venv/bin/python benchmarks/registration_burst.py`` (about a minute).
It needs PostgreSQL on 127.0.0.1:5432 (user postgres; ``BENCH_PG_ADMIN_URL`` to change it) and
no Redis. In one run it:

1. creates a throwaway database, migrates it with ``flask --app wsgi db upgrade`` in a
   subprocess (``DATABASE_URL`` set) and seeds, through the services, a published workshop with
   20 weekly sessions and a second one with a single *hot* session that has fewer seats than
   the requests it will get;
2. starts ``gunicorn -w 2 --threads 8 --no-control-socket wsgi:app`` on loopback with
   ``REGISTRATION_RATE_LIMIT`` raised (one address sends everything) and ``REDIS_URL`` unset;
3. measures, over plain ``http.client`` keep-alive connections: a hundred registrations sent
   one at a time (the latency without queueing); then, with 200 concurrent clients (threads in
   a few client processes), GET /healthz (the ceiling: the same server doing almost nothing),
   POST /api/v1/registrations with distinct valid RUTs spread over the 20 sessions, and the
   same into the hot session. For each: requests per second, p50/p95/p99 latency, and the
   ratio of registration throughput to the ceiling; also the time spent inside the
   application per request, read from the server's request log;
4. checks the database: confirmed + waitlisted = accepted (2xx) requests, no session oversold
   (confirmed <= capacity and ``confirmed_count`` = confirmed rows), the hot session exactly
   full, no person twice in a session, one person per RUT, one queued message per registration;
5. stops the server and drops the database. Exit status 1 if a check fails.

``--idempotency-keys`` sends an ``Idempotency-Key`` with every registration, as a careful
client would. Client and server share the machine's cores, so the figures are a floor.
See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import queue
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
VENV_BIN = Path(sys.executable).parent
SECRET_KEY = "benchmark-secret-key-" + "x" * 32
REGISTER_PATH = "/api/v1/registrations"
COMUNAS = ["13101", "13120", "13122", "13110", "13114", "05101", "08101"]


# --- the database and the server ------------------------------------------------------------


@contextmanager
def throwaway_database() -> Iterator[str]:
    import psycopg

    name = f"puente_burst_{os.getpid()}_{secrets.token_hex(3)}"
    admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def server_env(database_url: str, workdir: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "FLASK_APP")}
    env.update({
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET_KEY,
        "PUENTE_ENV": "production",
        "BASE_URL": f"http://127.0.0.1:{port}",
        "INSTANCE_PATH": str(workdir / "instance"),
        "HUEY_SQLITE_PATH": str(workdir / "huey.db"),
        "STORAGE_URL": f"file://{workdir / 'files'}",
        "REGISTRATION_RATE_LIMIT": "100000 per minute",
        "PYTHONUNBUFFERED": "1",
    })
    return env


def migrate(env: dict[str, str]) -> None:
    subprocess.run([str(VENV_BIN / "flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def gunicorn(env: dict[str, str], port: int, log: Path, workers: int, threads: int) -> Iterator[None]:
    cmd = [str(VENV_BIN / "gunicorn"), "-w", str(workers), "--threads", str(threads), "--no-control-socket",
           "-b", f"127.0.0.1:{port}", "wsgi:app"]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_until_up(port, proc)
            yield
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def wait_until_up(port: int, proc: subprocess.Popen[bytes], timeout: float = 40) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn stopped (exit {proc.returncode}); see its log")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("gunicorn did not answer /healthz in time")


# --- the seed ---------------------------------------------------------------------------------


@dataclass
class Seed:
    spread_ids: list[int]
    hot_id: int
    warmup_id: int


def seed(database_url: str, workdir: Path, *, spread_sessions: int, spread_capacity: int, hot_seats: int) -> Seed:
    """A host office, its staff member, and three published workshops, through the services."""
    from sqlalchemy import select

    from app import create_app
    from app.accounts.models import Role
    from app.accounts.services import create_user
    from app.activities.models import Modality
    from app.activities.services import SessionInput
    from app.extensions import db
    from app.territory.models import Office, OfficeCategory, OfficeKind
    from workshops import services
    from workshops.models import Topic

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": SECRET_KEY,
                      "INSTANCE_DIR": str(workdir / "instance"), "REDIS_URL": None, "SCHEMA_CHECK": False})
    with app.app_context():
        office = Office(name="OMIL Ñuñoa (benchmark)", slug="omil-nunoa-benchmark", kind=OfficeKind.OMIL,
                        category=OfficeCategory.AVANZADA, comuna_code="13120", email="omil@example.cl")
        db.session.add(office)
        db.session.commit()
        staff = create_user(email="staff@example.cl", name="Hilda Host", password=None, role=Role.OFFICE_STAFF,
                            office=office)
        topic_id = db.session.scalars(select(Topic.id).order_by(Topic.id)).first()
        assert topic_id is not None, "no workshop topics: did the migrations run?"
        tz = "America/Santiago"
        today = datetime.now(ZoneInfo(tz)).date()

        def workshop(title: str, days: int, hour: int, capacity: int, count: int) -> list[int]:
            day = today + timedelta(days=days)
            start = datetime(day.year, day.month, day.day, hour, 0)
            first = SessionInput(start_local=start, end_local=start + timedelta(hours=2), timezone=tz,
                                 modality=Modality.REMOTE, capacity=capacity,
                                 join_url="https://meet.jit.si/puente-benchmark")
            data = services.WorkshopData(title=title, description="Benchmark.", topic_id=topic_id,
                                         host_office_id=office.id)
            w = services.create_workshop(data, services.Schedule(first=first, count=count), actor=staff,
                                         confirm_warnings=True, confirm_facilitator=True)
            services.publish(w, actor=staff)
            return [s.id for s in w.activity.sessions]

        spread = workshop("Apresto laboral: 20 fechas", 7, 10, spread_capacity, spread_sessions)
        hot = workshop("Taller muy pedido", 3, 15, hot_seats, 1)
        warmup = workshop("Calentamiento", 4, 11, 10_000, 1)
        db.session.remove()
        db.engine.dispose()
    return Seed(spread_ids=spread, hot_id=hot[0], warmup_id=warmup[0])


# --- the clients ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    method: str
    path: str
    body: bytes | None = None
    key: str | None = None


@dataclass
class Outcome:
    status: int
    seconds: float
    retries: int
    body: bytes


def _send(conn: http.client.HTTPConnection, job: Job) -> tuple[int, bytes]:
    headers = {"Connection": "keep-alive"}
    if job.body is not None:
        headers["Content-Type"] = "application/json"
    if job.key is not None:
        headers["Idempotency-Key"] = job.key
    conn.request(job.method, job.path, body=job.body, headers=headers)
    resp = conn.getresponse()
    return resp.status, resp.read()


def _client_process(port: int, threads: int, jobs: list[Job], start: Any, results: Any, keep_body: bool) -> None:
    """One client process: ``threads`` keep-alive connections draining a shared list of jobs."""
    todo: queue.SimpleQueue[tuple[int, Job]] = queue.SimpleQueue()
    for item in enumerate(jobs):
        todo.put(item)
    out: list[tuple[int, int, float, int, bytes]] = []
    lock = threading.Lock()

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine: list[tuple[int, int, float, int, bytes]] = []
        while True:
            try:
                index, job = todo.get_nowait()
            except queue.Empty:
                break
            retries = 0
            began = time.perf_counter()
            while True:
                try:
                    status, body = _send(conn, job)
                    break
                except (OSError, http.client.HTTPException):
                    # A keep-alive connection the server closed: reconnect and send again (a
                    # repeated registration is the same registration; with a key, a replay).
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                    retries += 1
                    if retries > 3:
                        status, body = 0, b""
                        break
            mine.append((index, status, time.perf_counter() - began, retries, body if keep_body else b""))
        conn.close()
        with lock:
            out.extend(mine)

    start.wait()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    results.put(out)


@dataclass
class Phase:
    name: str
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rps(self) -> float:
        return len(self.outcomes) / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        values = sorted(o.seconds for o in self.outcomes)
        if not values:
            return 0.0
        return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1] if len(values) > 1 else values[0]

    def statuses(self) -> dict[int, int]:
        out: dict[int, int] = {}
        for o in self.outcomes:
            out[o.status] = out.get(o.status, 0) + 1
        return dict(sorted(out.items()))

    def line(self) -> str:
        return (f"{self.name:<26} {len(self.outcomes):>6} req {self.seconds:>6.2f} s {self.rps:>8.0f} req/s   "
                f"p50 {self.percentile(50) * 1000:>6.1f} ms  p95 {self.percentile(95) * 1000:>6.1f} ms  "
                f"p99 {self.percentile(99) * 1000:>6.1f} ms   {self.statuses()}")


def run_phase(name: str, port: int, jobs: list[Job], clients: int, processes: int, keep_body: bool = False) -> Phase:
    """Send ``jobs`` with ``clients`` concurrent connections spread over ``processes`` processes."""
    ctx = mp.get_context("fork")
    start = ctx.Event()
    results: Any = ctx.Queue()
    per_process = [jobs[i::processes] for i in range(processes)]
    threads = [clients // processes + (1 if i < clients % processes else 0) for i in range(processes)]
    procs = [ctx.Process(target=_client_process, args=(port, threads[i], per_process[i], start, results, keep_body))
             for i in range(processes)]
    for p in procs:
        p.start()
    time.sleep(0.3)  # let every process get ready before the gun
    began = time.perf_counter()
    start.set()
    rows: list[tuple[int, int, float, int, bytes]] = []
    for _ in procs:
        rows.extend(results.get())
    elapsed = time.perf_counter() - began
    for p in procs:
        p.join()
    return Phase(name, [Outcome(status, secs, retries, body) for _i, status, secs, retries, body in rows], elapsed)


# --- the requests -----------------------------------------------------------------------------


def rut(n: int) -> str:
    from stdnum.cl.rut import calc_check_digit

    body = str(20_000_000 + n)
    return f"{body}-{calc_check_digit(body)}"


def registration_jobs(session_ids: list[int], first: int, count: int, keys: bool) -> list[Job]:
    jobs = []
    for i in range(count):
        n = first + i
        body = {
            "session_id": session_ids[i % len(session_ids)],
            "person": {
                "first_names": "Persona", "last_names": f"Prueba {n}", "document_type": "rut",
                "document_number": rut(n), "email": f"persona{n}@example.cl",
                "comuna_code": COMUNAS[n % len(COMUNAS)], "preferred_channel": "email",
                "connectivity": "mobile_only" if n % 3 == 0 else "good", "consent_data": True,
                "opt_in_future": n % 2 == 0,
            },
        }
        jobs.append(Job("POST", REGISTER_PATH, json.dumps(body).encode(), str(uuid.uuid4()) if keys else None))
    return jobs


# --- the checks -------------------------------------------------------------------------------


def server_times(log: Path) -> dict[str, list[float]]:
    """Milliseconds the application itself spent per request (the request log's ``ms=``),
    without the time a request waited for a free worker thread."""
    out: dict[str, list[float]] = {"GET /healthz": [], f"POST {REGISTER_PATH}": []}
    for line in log.read_text(errors="replace").splitlines():
        if "puente.request" not in line or " ms=" not in line:
            continue
        fields = dict(part.split("=", 1) for part in line.split() if "=" in part)
        name = f"{fields.get('method')} {fields.get('path')}"
        if name in out:
            out[name].append(float(fields["ms"]))
    return out


def check_database(database_url: str, phases: dict[str, Phase], seed_: Seed) -> list[tuple[str, bool, str]]:
    import psycopg

    checks: list[tuple[str, bool, str]] = []
    sessions = [*seed_.spread_ids, seed_.hot_id, seed_.warmup_id]
    registering = [phases[k] for k in ("warm-up", "serial", "spread", "hot")]
    accepted = sum(1 for p in registering for o in p.outcomes if 200 <= o.status < 300)
    created = sum(1 for p in registering for o in p.outcomes if o.status == 201)
    with psycopg.connect(database_url) as conn:
        def one(sql: str, *args: Any) -> Any:
            row = conn.execute(sql, args).fetchone()
            return row[0] if row else None

        rows = conn.execute(
            "SELECT s.id, s.capacity, s.confirmed_count, "
            "count(r.id) FILTER (WHERE r.status = 'confirmed'), count(r.id) FILTER (WHERE r.status = 'waitlisted') "
            "FROM activity_sessions s LEFT JOIN registrations r ON r.session_id = s.id "
            "WHERE s.id = ANY(%s) GROUP BY s.id", (sessions,)).fetchall()
        confirmed = sum(r[3] for r in rows)
        waitlisted = sum(r[4] for r in rows)
        checks.append(("confirmed + waitlisted = accepted (2xx)", confirmed + waitlisted == accepted,
                       f"{confirmed} + {waitlisted} = {confirmed + waitlisted}; accepted {accepted} "
                       f"({created} created)"))
        oversold = [r for r in rows if r[3] > r[1] or r[2] != r[3]]
        checks.append(("no seat oversold (confirmed <= capacity, confirmed_count = confirmed)", not oversold,
                       f"{len(rows)} sessions" + (f"; wrong: {oversold}" if oversold else "")))
        hot = next(r for r in rows if r[0] == seed_.hot_id)
        hot_accepted = sum(1 for o in phases["hot"].outcomes if 200 <= o.status < 300)
        checks.append(("hot session exactly full, the rest waitlisted",
                       hot[3] == min(hot[1], hot_accepted) and hot[4] == hot_accepted - hot[3],
                       f"capacity {hot[1]}: {hot[3]} confirmed, {hot[4]} waitlisted of {hot_accepted} accepted"))
        twice = one("SELECT count(*) FROM (SELECT session_id, person_id FROM registrations "
                    "GROUP BY session_id, person_id HAVING count(*) > 1) d")
        checks.append(("no person twice in a session", twice == 0, f"{twice} duplicates"))
        people, documents = conn.execute("SELECT count(*), count(DISTINCT document_number) FROM people").fetchone()
        checks.append(("one person per RUT", people == documents == accepted, f"{people} people, {documents} RUTs"))
        messages = one("SELECT count(*) FROM outbox_messages WHERE kind LIKE 'registration_%%'")
        checks.append(("one message queued per registration", messages == confirmed + waitlisted,
                       f"{messages} messages"))
    return checks


# --- the run ----------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=200, help="concurrent connections (200)")
    parser.add_argument("--client-processes", type=int, default=4, help="processes the clients run in (4)")
    parser.add_argument("--ceiling-requests", type=int, default=6000, help="GET /healthz requests (6000)")
    parser.add_argument("--spread-requests", type=int, default=1000, help="registrations over 20 sessions (1000)")
    parser.add_argument("--hot-requests", type=int, default=1000, help="registrations into the hot session (1000)")
    parser.add_argument("--serial-requests", type=int, default=100,
                        help="registrations sent one at a time first, for the unqueued latency (100)")
    parser.add_argument("--hot-seats", type=int, default=100, help="seats of the hot session (100)")
    parser.add_argument("--sessions", type=int, default=20, help="sessions the spread burst goes to (20)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument("--threads", type=int, default=8, help="gunicorn threads per worker (8)")
    parser.add_argument("--idempotency-keys", action="store_true", help="send an Idempotency-Key per registration")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="puente-burst-"))
    port = free_port()
    log = workdir / "gunicorn.log"
    failed = False
    try:
        with throwaway_database() as database_url:
            env = server_env(database_url, workdir, port)
            t0 = time.perf_counter()
            migrate(env)
            seeded = seed(database_url, workdir, spread_sessions=args.sessions,
                          spread_capacity=max(1, (args.spread_requests // args.sessions) * 4 // 5),
                          hot_seats=args.hot_seats)
            load = os.getloadavg()[0]
            print(f"database ready in {time.perf_counter() - t0:.1f} s: {args.sessions} sessions, "
                  f"hot session with {args.hot_seats} seats; gunicorn -w {args.workers} --threads {args.threads}, "
                  f"{args.clients} clients in {args.client_processes} processes on {os.cpu_count()} cores"
                  + (", Idempotency-Key on every registration" if args.idempotency_keys else "")
                  + f"; load average before the run {load:.1f}")
            with gunicorn(env, port, log, args.workers, args.threads):
                run_phase("warm-up", port, [Job("GET", "/healthz")] * 2000, args.clients, args.client_processes)
                phases = {
                    # every thread of every worker registers a few times first (lazy imports, template
                    # compilation, connection pools); not measured, but checked with the rest
                    "warm-up": run_phase("warm-up registrations", port,
                                         registration_jobs([seeded.warmup_id], 900_000, args.workers * args.threads * 4,
                                                           args.idempotency_keys),
                                         args.workers * args.threads, 1),
                    # one client at a time: the cost of a registration without any queueing
                    "serial": run_phase("POST registrations, 1 client", port,
                                        registration_jobs(seeded.spread_ids, 800_000, args.serial_requests,
                                                          args.idempotency_keys), 1, 1),
                    "ceiling": run_phase("GET /healthz (ceiling)", port,
                                         [Job("GET", "/healthz")] * args.ceiling_requests,
                                         args.clients, args.client_processes),
                    "spread": run_phase(f"POST registrations, {args.sessions} s.", port,
                                        registration_jobs(seeded.spread_ids, 0, args.spread_requests,
                                                          args.idempotency_keys),
                                        args.clients, args.client_processes),
                    "hot": run_phase("POST registrations, hot", port,
                                     registration_jobs([seeded.hot_id], 100_000, args.hot_requests,
                                                       args.idempotency_keys),
                                     args.clients, args.client_processes),
                }
            print()
            for key in ("serial", "ceiling", "spread", "hot"):
                print(phases[key].line())
            ceiling = phases["ceiling"].rps
            for key in ("spread", "hot"):
                p = phases[key]
                ratio = p.rps / ceiling if ceiling else 0.0
                print(f"  {p.name}: {ratio:.2f} of the ceiling ({1 / ratio if ratio else 0:.1f}x its cost per request)")
            for name, times in server_times(log).items():
                if len(times) > 1:
                    cuts = statistics.quantiles(times, n=100, method="inclusive")
                    print(f"  time inside the application, {name}: p50 {cuts[49]:.1f} ms, p99 {cuts[98]:.1f} ms "
                          f"({len(times)} requests, warm-ups included)")
            retries = sum(o.retries for p in phases.values() for o in p.outcomes)
            errors = {k: v for p in phases.values() for k, v in p.statuses().items() if not 200 <= k < 300}
            print(f"  transport retries: {retries}; non-2xx answers: {errors or 'none'}")
            print()
            for name, ok, detail in check_database(database_url, phases, seeded):
                failed = failed or not ok
                print(f"  [{'ok' if ok else 'FAIL'}] {name}: {detail}")
            if errors:
                failed = True
    finally:
        if failed and log.exists():
            print(f"\nlast lines of the server log ({log}):")
            print("\n".join(log.read_text(errors="replace").splitlines()[-20:]))
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
