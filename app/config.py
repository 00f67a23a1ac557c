"""Settings, each read from an environment variable with a safe embedded default.

The README's configuration table lists every variable here; keep the two in step.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET_KEY = "solo-para-desarrollo-no-usar-en-produccion"  # noqa: S105 - dev default, refused in production


class ConfigError(RuntimeError):
    """A setting is missing or unsafe; the message says which and how to fix it."""


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on", "si", "sí"}


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} debe ser un número entero (recibido: {raw!r})") from exc


def load_config(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build the Flask config from the environment, then apply ``overrides`` (tests use them)."""
    env = os.environ
    instance = Path(env.get("INSTANCE_PATH") or PROJECT_ROOT / "instance")
    environment = env.get("PUENTE_ENV", "development")
    cfg: dict[str, Any] = {
        "ENV_NAME": environment,
        "INSTANCE_DIR": str(instance),
        "SECRET_KEY": env.get("SECRET_KEY") or "",
        "SQLALCHEMY_DATABASE_URI": env.get("DATABASE_URL")
        or f"sqlite:///{instance / 'puente.db'}",
        "REDIS_URL": env.get("REDIS_URL") or None,
        "STORAGE_URL": env.get("STORAGE_URL") or f"file://{instance / 'files'}",
        "STORAGE_ENDPOINT_URL": env.get("STORAGE_ENDPOINT_URL") or None,
        "STORAGE_REGION": env.get("STORAGE_REGION") or "us-east-1",
        "MAX_UPLOAD_MB": _int("MAX_UPLOAD_MB", 50),
        "BASE_URL": (env.get("BASE_URL") or "http://127.0.0.1:5000").rstrip("/"),
        "BABEL_DEFAULT_LOCALE": env.get("DEFAULT_LOCALE") or "es_CL",
        "BABEL_DEFAULT_TIMEZONE": "America/Santiago",
        "SMTP_URL": env.get("SMTP_URL") or None,
        "MAIL_FROM": env.get("MAIL_FROM") or "Puente Laboral <no-responder@puentelaboral.cl>",
        "HUEY_SQLITE_PATH": env.get("HUEY_SQLITE_PATH") or str(instance / "huey.db"),
        "LOGIN_RATE_LIMIT": env.get("LOGIN_RATE_LIMIT") or "10 per 5 minutes",
        "INVITATION_MAX_AGE_HOURS": _int("INVITATION_MAX_AGE_HOURS", 72),
        "PASSWORD_RESET_MAX_AGE_MINUTES": _int("PASSWORD_RESET_MAX_AGE_MINUTES", 60),
        "OUTBOX_MAX_ATTEMPTS": _int("OUTBOX_MAX_ATTEMPTS", 8),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": _int("MAX_UPLOAD_MB", 50) * 1024 * 1024,
        "TRUSTED_PROXIES": _int("TRUSTED_PROXIES", 0),
        "REGISTRATION_CLOSES_MINUTES": _int("REGISTRATION_CLOSES_MINUTES", 60),
        "JITSI_BASE_URL": (env.get("JITSI_BASE_URL") or "https://meet.jit.si").rstrip("/"),
        "JOIN_OPENS_MINUTES": _int("JOIN_OPENS_MINUTES", 15),
        "ZOOM_WEBHOOK_SECRET_TOKEN": env.get("ZOOM_WEBHOOK_SECRET_TOKEN") or None,  # unset: /webhooks/zoom answers 503
        "ZOOM_WEBHOOK_MAX_SKEW_SECONDS": _int("ZOOM_WEBHOOK_MAX_SKEW_SECONDS", 300),
        "REGISTRATION_RATE_LIMIT": env.get("REGISTRATION_RATE_LIMIT") or "20 per minute",
        "FILE_DOWNLOAD_MAX_AGE_SECONDS": _int("FILE_DOWNLOAD_MAX_AGE_SECONDS", 300),
        "MAX_JSON_BYTES": _int("MAX_JSON_KB", 256) * 1024,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "TESTING": False,
        "SCHEMA_CHECK": True,
    }
    if overrides:
        cfg.update(overrides)

    production = cfg["ENV_NAME"] == "production"
    cfg["PRODUCTION"] = production
    if production:
        if not cfg["SECRET_KEY"] or cfg["SECRET_KEY"] == DEV_SECRET_KEY or len(cfg["SECRET_KEY"]) < 32:
            raise ConfigError(
                "PUENTE_ENV=production exige SECRET_KEY (al menos 32 caracteres aleatorios). "
                "Genere una con: python -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
        cfg["SESSION_COOKIE_SECURE"] = True
        cfg["REMEMBER_COOKIE_SECURE"] = True
        cfg["PREFERRED_URL_SCHEME"] = "https"
    elif not cfg["SECRET_KEY"]:
        cfg["SECRET_KEY"] = DEV_SECRET_KEY

    uri: str = cfg["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("postgres://"):
        uri = "postgresql://" + uri.removeprefix("postgres://")
    if uri.startswith("postgresql://"):
        uri = "postgresql+psycopg://" + uri.removeprefix("postgresql://")
    cfg["SQLALCHEMY_DATABASE_URI"] = uri

    cfg["RATELIMIT_STORAGE_URI"] = cfg["REDIS_URL"] or "memory://"
    cfg["RATELIMIT_HEADERS_ENABLED"] = True
    return cfg
