"""Is the database at the migrations' head? A database that is behind gets a clear message."""

from __future__ import annotations

import logging

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask, Response, render_template, request
from sqlalchemy.exc import SQLAlchemyError

from app.config import PROJECT_ROOT
from app.extensions import db

log = logging.getLogger("puente.schema")
logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)


def schema_state() -> tuple[bool, str]:
    """(up_to_date, message). Never raises."""
    try:
        script = ScriptDirectory.from_config(_alembic_config())
        heads = set(script.get_heads())
        with db.engine.connect() as conn:
            current = set(MigrationContext.configure(conn).get_current_heads())
    except SQLAlchemyError as exc:
        return False, f"no se pudo conectar con la base de datos ({type(exc).__name__})"
    if current == heads:
        return True, "al día"
    if not current:
        return False, "la base de datos está vacía: ejecute «flask --app wsgi db upgrade»"
    return False, (
        f"la base de datos está en la versión {', '.join(sorted(current))} y el código espera "
        f"{', '.join(sorted(heads))}: ejecute «flask --app wsgi db upgrade»"
    )


def _alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    return cfg


def register_schema_check(app: Flask) -> None:
    """Answer 503 with a plain message until the schema is migrated (checked until it is)."""
    if not app.config.get("SCHEMA_CHECK", True):
        return
    state = {"ok": False}

    @app.before_request
    def _check() -> Response | None:
        if state["ok"] or request.endpoint in ("health.healthz", "health.readyz", "static"):
            return None
        ok, message = schema_state()
        if ok:
            state["ok"] = True
            return None
        log.error("database schema not ready: %s", message)
        return Response(render_template("errors/schema.html", message=message), status=503,
                        headers={"Retry-After": "30"})
