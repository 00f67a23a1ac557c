"""Shared fixtures.

The suite runs on SQLite by default and on PostgreSQL with ``TEST_DATABASE=postgresql``.
Each run (and each xdist worker) makes a database of its own, migrates it with the real
Alembic migrations, and drops it at the end. After every test the non-reference tables are
emptied. Any response with status 500 or more fails the test that caused it.

``hostile`` gives one hostile text from ``tests/hostile.py`` (NUL, lone surrogates, control
characters, line breaks, 100k characters, direction overrides, invisible-only text,
superscript digits, markup, calendar separators): a test that asks for it runs once per case.
Use it for every new form field and JSON endpoint, with ``tests.hostile.check_outcome``: a 4xx
with a clear message or a normalised save, never a 5xx, nothing half-written.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from tests.hostile import HOSTILE_TEXT, Hostile

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")
REFERENCE_TABLES = {"regions", "comunas", "sence_units", "workshop_topics", "alembic_version"}


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "gw0")


def _pg_admin() -> Any:
    import psycopg

    try:
        return psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        msg = f"PostgreSQL no responde en {PG_ADMIN_URL}: {exc}"
        if IN_CI:
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    kind = os.environ.get("TEST_DATABASE", "sqlite")
    if kind == "sqlite":
        path = tmp_path_factory.mktemp("db") / "test.db"
        yield f"sqlite:///{path}"
        return
    if kind != "postgresql":
        raise pytest.UsageError(f"TEST_DATABASE must be sqlite or postgresql, not {kind!r}")
    name = f"puente_test_{os.getpid()}_{_worker()}_{secrets.token_hex(3)}"
    admin = _pg_admin()
    admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="session")
def instance_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="puente-instance-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def make_test_config(database_url: str, instance_dir: Path, **extra: Any) -> dict[str, Any]:
    cfg: dict[str, Any] = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "INSTANCE_DIR": str(instance_dir),
        "STORAGE_URL": f"file://{instance_dir / 'files'}",
        "SECRET_KEY": "test-secret-key-" + "x" * 32,
        "SMTP_URL": None,
        "REDIS_URL": None,
        "BASE_URL": "http://localhost",
        "SERVER_NAME": None,
    }
    cfg.update(extra)
    return cfg


class IsolatedClient(FlaskClient):
    """A test client whose requests do not share ``g`` (the logged-in user) with each other.

    Tests keep an app context open (for factories and assertions); Flask reuses it for each
    request, so without this Flask-Login's cached user would leak from one client to another.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        from flask import g, has_app_context

        if has_app_context():
            for name in ("_login_user", "csrf_token", "request_id", "request_started", "_policy_cache"):
                g.pop(name, None)
        return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def app(database_url: str, instance_dir: Path) -> Iterator[Flask]:
    from flask_migrate import upgrade

    from app import create_app
    from app.tasks import huey

    huey.immediate = True  # tasks run in-process, inside the caller's app context
    # Argon2 at production cost makes every test login take ~100 ms; tests use a cheap one.
    from argon2 import PasswordHasher

    import app.accounts.services as account_services

    account_services._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    application = create_app(make_test_config(database_url, instance_dir))
    application.test_client_class = IsolatedClient
    application.config["SERVER_ERRORS"] = []

    from flask import request_finished

    def _record_5xx(sender: Flask, response: Any, **_kw: Any) -> None:
        if response.status_code >= 500:
            from flask import request

            sender.config["SERVER_ERRORS"].append(f"{request.method} {request.path} -> {response.status_code}")

    request_finished.connect(_record_5xx, application, weak=False)
    with application.app_context():
        upgrade()
    yield application
    from app.extensions import db

    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_state(request: pytest.FixtureRequest) -> Iterator[None]:
    """Empty the non-reference tables after each test; fail the test on any 5xx."""
    if "app" not in request.fixturenames:
        yield
        return
    app: Flask = request.getfixturevalue("app")
    app.config["SERVER_ERRORS"].clear()
    ctx = app.app_context()
    ctx.push()
    try:
        yield
    finally:
        from app.extensions import db, limiter

        db.session.rollback()
        db.session.remove()
        ctx.pop()
        with app.app_context():
            tables = [t for t in reversed(db.metadata.sorted_tables) if t.name not in REFERENCE_TABLES]
            with db.engine.begin() as conn:
                for table in tables:
                    conn.execute(table.delete())
            db.session.remove()
        limiter.reset()
    errors = list(app.config["SERVER_ERRORS"])
    if errors and not request.node.get_closest_marker("allow_5xx"):
        pytest.fail(f"server error responses: {errors}", pytrace=False)


@pytest.fixture(params=HOSTILE_TEXT, ids=[h.id for h in HOSTILE_TEXT])
def hostile(request: pytest.FixtureRequest) -> Hostile:
    """One hostile text (see ``tests/hostile.py``); the test runs once per case."""
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


_CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = _CSRF_RE.search(html)
    assert match, "no CSRF token in page"
    return match.group(1)


def get_csrf(client: FlaskClient, url: str = "/cuenta/ingresar") -> str:
    """A CSRF token valid for this client's session (any form)."""
    return csrf_from(client.get(url).get_data(as_text=True))


# --- factories -----------------------------------------------------------------------------


class Factory:
    """Small model factories; each commits so the objects are visible to other sessions."""

    password = "clave-de-prueba-123"

    def __init__(self) -> None:
        self._n = 0

    def _seq(self) -> int:
        self._n += 1
        return self._n

    def office(self, comuna_code: str = "13101", *, name: str | None = None,
               category: str = "intermedia", kind: str = "omil", networks: list[Any] | None = None,
               **kw: Any) -> Any:
        from app.extensions import db
        from app.territory.models import Office, OfficeCategory, OfficeKind

        n = self._seq()
        office = Office(
            name=name or f"OMIL Prueba {n}", slug=f"omil-prueba-{n}-{secrets.token_hex(2)}",
            kind=OfficeKind(kind), category=OfficeCategory(category) if category else None,
            comuna_code=comuna_code, email=f"omil{n}@example.cl", **kw,
        )
        if networks:
            office.networks = list(networks)
        db.session.add(office)
        db.session.commit()
        return office

    def network(self, region_codes: tuple[str, ...] = ("13",), *, name: str | None = None,
                offices: list[Any] | None = None, coordinator: Any = None, year: int | None = None) -> Any:
        from app.accounts.policy import current_year
        from app.extensions import db
        from app.territory.models import Network, NetworkCoordination, Region

        n = self._seq()
        net = Network(name=name or f"Red Prueba {n}", slug=f"red-prueba-{n}-{secrets.token_hex(2)}")
        net.regions = [db.session.get(Region, code) for code in region_codes]
        net.offices = list(offices or [])
        db.session.add(net)
        db.session.flush()
        if coordinator is not None:
            if coordinator not in net.offices:
                net.offices.append(coordinator)
            db.session.add(NetworkCoordination(network_id=net.id, office_id=coordinator.id,
                                               year=year or current_year()))
        db.session.commit()
        return net

    def sence_unit(self, region_code: str | None) -> Any:
        from sqlalchemy import select

        from app.extensions import db
        from app.territory.models import SenceUnit

        if region_code is None:
            return db.session.scalar(select(SenceUnit).where(SenceUnit.region_code.is_(None)))
        return db.session.scalar(select(SenceUnit).where(SenceUnit.region_code == region_code))

    def user(self, role: str = "office_staff", *, office: Any = None, sence_unit: Any = None,
             email: str | None = None, name: str | None = None, password: str | None = None,
             active: bool = True) -> Any:
        from app.accounts.models import Role
        from app.accounts.services import create_user
        from app.extensions import db

        n = self._seq()
        r = Role(role)
        if r == Role.OFFICE_STAFF and office is None:
            office = self.office()
        if r == Role.SENCE_REGIONAL and sence_unit is None:
            sence_unit = self.sence_unit("13")
        if r == Role.SENCE_NATIONAL and sence_unit is None:
            sence_unit = self.sence_unit(None)
        user = create_user(email=email or f"persona{n}@example.cl", name=name or f"Persona {n}",
                           password=password or self.password, role=r, office=office,
                           sence_unit=sence_unit)
        if not active:
            user.active = False
            db.session.commit()
        return user


@pytest.fixture
def factory(app: Flask) -> Factory:
    return Factory()


def login(client: FlaskClient, email: str, password: str = Factory.password) -> Any:
    token = get_csrf(client)
    return client.post("/cuenta/ingresar", data={"email": email, "password": password,
                                                 "csrf_token": token})


@pytest.fixture
def logged_in(client: FlaskClient, factory: Factory) -> Any:
    """Log a user in: ``user = logged_in(role=..., office=...)``."""

    def _login(**kw: Any) -> Any:
        user = factory.user(**kw)
        resp = login(client, user.email)
        assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
        return user

    return _login


def count(model: Any) -> int:
    from sqlalchemy import func, select

    from app.extensions import db

    return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def table_counts() -> dict[str, int]:
    from app.extensions import db

    out = {}
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            out[table.name] = int(conn.execute(text(f"SELECT COUNT(*) FROM {table.name}")).scalar() or 0)  # noqa: S608
    return out
