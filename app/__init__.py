"""Puente Laboral: the application factory and the core every domain shares."""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from typing import Any

from apiflask import APIFlask
from flask import Flask
from werkzeug.routing import IntegerConverter

from app.config import PROJECT_ROOT, load_config
from app.dbtypes import MAX_ROW_ID

# Domain packages register themselves here; the core never imports them otherwise.
DOMAIN_BLUEPRINTS = (
    "workshops.views",
    "workshops.home",
    "workshops.staff_views",
    "workshops.calendar_views",
    "workshops.ical_views",
    "fairs.views",
    "recordings.views",
)
DOMAIN_MODELS = ("workshops.models",)
DOMAIN_DEMOS = ("workshops.demo",)  # each has seed(offices, networks, users) -> int
DOMAIN_API_BLUEPRINTS = ("workshops.api",)
CORE_API_BLUEPRINTS = ("app.registration.api",)

CORE_BLUEPRINTS = (
    "app.public",
    "app.health",
    "app.accounts.views",
    "app.accounts.staff_views",
    "app.territory.views",
    "app.territory.branding_views",
    "app.audit.views",
    "app.outbox.views",
    "app.files_views",
    "app.registration.views",
    "app.registration.staff_views",
    "app.registration.after_views",
    "app.registration.identity_views",  # confirming a held registration, "Mis inscripciones"
    "app.conferencing.views",
    "app.conferencing.staff_views",
    "app.conferencing.webhooks",  # CSRF-exempt: Zoom signs its calls
    "app.channels.webhooks",  # CSRF-exempt: delivery receipts signed by WhatsApp and the SMS provider
    "app.dissemination.web",  # public widget (frameable) and Atom feeds
    "app.dissemination.public_views",  # tracked short links /c/<code>, one-click unsubscribe /b/<token>
    "app.dissemination.staff_views",
)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application. ``config`` overrides settings read from the environment."""
    from app.api import create_api_blueprint, register_api
    from app.errors import register_error_handlers
    from app.extensions import babel, csrf, db, limiter, login_manager, migrate, socketio
    from app.i18n import get_locale, get_timezone, register_template_helpers
    from app.requestlog import register_request_logging
    from app.schema import register_schema_check
    from app.security import register_security_headers

    settings = load_config(config)
    instance = Path(settings["INSTANCE_DIR"])
    # APIFlask is Flask plus an OpenAPI generator; only APIBlueprints (the /api/v1 ones)
    # appear in the document, HTML blueprints stay out of it.
    app = APIFlask(
        __name__,
        title="Puente Laboral API",
        version="1",
        spec_path="/api/v1/openapi.json",
        docs_path=None,
        json_errors=False,
        instance_path=str(instance),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.update(settings)
    from app.config import unshared_state_warning

    if warning := unshared_state_warning(settings):
        logging.getLogger("puente.startup").warning(warning)
    from app.inputguard import install_input_guard

    install_input_guard(app)  # NUL, lone surrogates, deep JSON: refused before anything else
    # ``<int:…>`` in every route stops at the largest id a row can have (32-bit on
    # PostgreSQL): a larger number is a plain 404, never a database error.
    app.url_map.converters["int"] = IdConverter
    instance.mkdir(parents=True, exist_ok=True)
    if app.config["TRUSTED_PROXIES"]:
        # Behind a load balancer: take the client address and scheme from its X-Forwarded-*
        # headers (rate limits and audit IPs are per real client, links are https).
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]

    db.init_app(app)
    _configure_sqlite(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    login_manager.init_app(app)
    babel.init_app(
        app,
        locale_selector=get_locale,
        timezone_selector=get_timezone,
        default_translation_directories=str(PROJECT_ROOT / "app" / "translations"),
    )
    csrf.init_app(app)
    limiter.init_app(app)
    from app.accounts import throttle

    throttle.init_app(app)  # per-account login attempts, in the limiter's store
    socketio.init_app(
        app,
        message_queue=app.config["REDIS_URL"],
        # Unset BASE_URL: Socket.IO's default, the page's own origin only.
        cors_allowed_origins=[app.config["BASE_URL"]] if app.config["BASE_URL"] else None,
    )

    _import_models()
    register_request_logging(app)
    register_security_headers(app)
    register_error_handlers(app)
    register_template_helpers(app)
    from app.accounts.policy import can

    app.jinja_env.globals["can"] = can  # templates ask the same policy as views
    register_schema_check(app)

    for module_name in CORE_BLUEPRINTS + DOMAIN_BLUEPRINTS:
        module = importlib.import_module(module_name)
        app.register_blueprint(module.bp)
    register_api(app, create_api_blueprint())
    for module_name in CORE_API_BLUEPRINTS + DOMAIN_API_BLUEPRINTS:
        register_api(app, importlib.import_module(module_name).bp)

    from app.cli import register_cli

    register_cli(app)
    from app.accounts.services import load_user  # noqa: F401  (registers the user loader)

    return app


class IdConverter(IntegerConverter):
    """Werkzeug's ``int`` converter with ``max`` defaulting to ``MAX_ROW_ID``."""

    def __init__(self, map: Any, fixed_digits: int = 0, min: int | None = None,  # noqa: A002 - werkzeug's names
                 max: int | None = MAX_ROW_ID, signed: bool = False) -> None:  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def _import_models() -> None:
    """Import every model module so metadata (and Alembic) sees all tables."""
    import app.accounts.models
    import app.activities.models
    import app.audit.models
    import app.conferencing.models
    import app.dissemination.models
    import app.files_models
    import app.outbox.models
    import app.people.models
    import app.registration.models
    import app.territory.models  # noqa: F401

    for module_name in DOMAIN_MODELS:
        importlib.import_module(module_name)


def _configure_sqlite(app: Flask) -> None:
    """WAL mode, foreign keys on and a busy timeout for every SQLite connection."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from app.extensions import db

    with app.app_context():
        engine: Engine = db.engine

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling is kept on purpose: it runs reads outside a
        # transaction and BEGINs just before the first write, so concurrent requests wait on
        # busy_timeout instead of failing on a stale read snapshot. The price: SAVEPOINT does
        # not nest on SQLite (a released savepoint commits), so code never relies on
        # begin_nested() rolling back on SQLite.
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        if ":memory:" not in app.config["SQLALCHEMY_DATABASE_URI"]:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()


logging.getLogger("werkzeug").setLevel(logging.WARNING)
