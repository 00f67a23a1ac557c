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


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} debe ser un número (recibido: {raw!r})") from exc


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
        # Unset: links use the address each request came to (and, in the worker, the one
        # ``make run`` gives it); production requires it (a Host header must not choose links).
        "BASE_URL": (env.get("BASE_URL") or "").rstrip("/") or None,
        # Co-branding of public workshop pages: the partner mark beside each office's own logo.
        # Text by default (no trademark ships in the repository); "" hides it.
        "PARTNER_MARK_TEXT": env.get("PARTNER_MARK_TEXT", "Servicio Nacional de Capacitación y Empleo (SENCE)"),
        "PARTNER_MARK_IMAGE_URL": env.get("PARTNER_MARK_IMAGE_URL") or None,
        "BABEL_DEFAULT_LOCALE": env.get("DEFAULT_LOCALE") or "es_CL",
        "BABEL_DEFAULT_TIMEZONE": "America/Santiago",
        "SMTP_URL": env.get("SMTP_URL") or None,
        "MAIL_FROM": env.get("MAIL_FROM") or "Puente Laboral <no-responder@puentelaboral.cl>",
        "HUEY_SQLITE_PATH": env.get("HUEY_SQLITE_PATH") or str(instance / "huey.db"),
        "LOGIN_RATE_LIMIT": env.get("LOGIN_RATE_LIMIT") or "10 per 5 minutes",
        # Login attempts per account (typed email), from any address (app/accounts/throttle.py).
        "LOGIN_ACCOUNT_RATE_LIMIT": env.get("LOGIN_ACCOUNT_RATE_LIMIT") or "10 per 15 minutes",
        # Web processes serving this app: gunicorn reads it as its default --workers, and
        # gunicorn.conf.py sets it to the real count (-w included) before workers start.
        "WEB_CONCURRENCY": _int("WEB_CONCURRENCY", 1),
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
        # Stored Zoom events keep participants' names and emails only this long; then just the
        # event's kind, meeting and time stay (attendance is already on the registrations).
        "ZOOM_EVENT_RETENTION_DAYS": _int("ZOOM_EVENT_RETENTION_DAYS", 90),
        # --- video providers with an API (app/conferencing): rooms made by the worker -----------
        # Secrets at rest (app/secrets.py): Fernet keys, comma-separated, newest first; unset:
        # a key derived from SECRET_KEY.
        "CREDENTIALS_KEY": env.get("CREDENTIALS_KEY") or None,
        # Zoom, platform-wide (an office may store its own on /gestion/oficinas/<id>/videoconferencia):
        # a Server-to-Server OAuth app (account id, client id/secret) and, to embed the meeting
        # in the join page, a Meeting SDK app (key/secret).
        "ZOOM_ACCOUNT_ID": env.get("ZOOM_ACCOUNT_ID") or None,
        "ZOOM_CLIENT_ID": env.get("ZOOM_CLIENT_ID") or None,
        "ZOOM_CLIENT_SECRET": env.get("ZOOM_CLIENT_SECRET") or None,
        "ZOOM_USER_ID": env.get("ZOOM_USER_ID") or "me",  # whose meetings: "me" or the host's email
        "ZOOM_SDK_KEY": env.get("ZOOM_SDK_KEY") or None,
        "ZOOM_SDK_SECRET": env.get("ZOOM_SDK_SECRET") or None,
        "ZOOM_API_BASE": (env.get("ZOOM_API_BASE") or "https://api.zoom.us/v2").rstrip("/"),
        "ZOOM_OAUTH_URL": env.get("ZOOM_OAUTH_URL") or "https://zoom.us/oauth/token",
        "ZOOM_SDK_CDN": (env.get("ZOOM_SDK_CDN") or "https://source.zoom.us").rstrip("/"),
        "ZOOM_SDK_VERSION": env.get("ZOOM_SDK_VERSION") or "5.1.4",
        "ZOOM_SDK_SIGNATURE_SECONDS": _int("ZOOM_SDK_SIGNATURE_SECONDS", 300),
        # Google Meet, platform-wide: a service account (JSON text or a file path) allowed to
        # write GOOGLE_CALENDAR_ID, acting as GOOGLE_DELEGATED_USER (domain-wide delegation).
        "GOOGLE_SERVICE_ACCOUNT_JSON": env.get("GOOGLE_SERVICE_ACCOUNT_JSON") or None,
        "GOOGLE_SERVICE_ACCOUNT_FILE": env.get("GOOGLE_SERVICE_ACCOUNT_FILE") or None,
        "GOOGLE_CALENDAR_ID": env.get("GOOGLE_CALENDAR_ID") or "primary",
        "GOOGLE_DELEGATED_USER": env.get("GOOGLE_DELEGATED_USER") or None,
        "GOOGLE_API_BASE_URL": env.get("GOOGLE_API_BASE_URL") or None,  # unset: Google's own
        # Every provider call: timeout, and how often the worker tries before giving up.
        "CONFERENCE_HTTP_TIMEOUT": _int("CONFERENCE_HTTP_TIMEOUT", 15),
        "CONFERENCE_MAX_ATTEMPTS": _int("CONFERENCE_MAX_ATTEMPTS", 8),
        "REGISTRATION_RATE_LIMIT": env.get("REGISTRATION_RATE_LIMIT") or "20 per minute",
        # A known document's public registration holds a seat this long, waiting to be confirmed
        # from the contact on file (app/registration/holds.py).
        "REGISTRATION_HOLD_MINUTES": _int("REGISTRATION_HOLD_MINUTES", 30),
        # "Mis inscripciones" (asking for one's links again), per address.
        "RECOVERY_RATE_LIMIT": env.get("RECOVERY_RATE_LIMIT") or "5 per minute; 30 per hour",
        "FILE_DOWNLOAD_MAX_AGE_SECONDS": _int("FILE_DOWNLOAD_MAX_AGE_SECONDS", 300),
        "MAX_JSON_BYTES": _int("MAX_JSON_KB", 256) * 1024,
        # Arrays/objects nested deeper than this in a request or webhook body: 400 (app.inputguard).
        "JSON_MAX_DEPTH": _int("JSON_MAX_DEPTH", 32),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "TESTING": False,
        "SCHEMA_CHECK": True,
    }
    # --- Outward channels (app/channels) ------------------------------------------------------
    # All optional. WhatsApp goes out through the Cloud API when WHATSAPP_TOKEN and
    # WHATSAPP_PHONE_NUMBER_ID are set, SMS through a Twilio-compatible Messages API when
    # SMS_API_URL is set; otherwise those messages stay in the outbox viewer. Rates are
    # messages per second per channel (0: unlimited); timeouts are seconds.
    cfg.update({
        "WHATSAPP_TOKEN": env.get("WHATSAPP_TOKEN") or None,
        "WHATSAPP_PHONE_NUMBER_ID": env.get("WHATSAPP_PHONE_NUMBER_ID") or None,
        "WHATSAPP_API_BASE": (env.get("WHATSAPP_API_BASE") or "https://graph.facebook.com").rstrip("/"),
        "WHATSAPP_API_VERSION": env.get("WHATSAPP_API_VERSION") or "v21.0",
        "WHATSAPP_TEMPLATE_LANGUAGE": env.get("WHATSAPP_TEMPLATE_LANGUAGE") or "es",
        # The approved template announcements go out with (one body parameter: the message).
        "WHATSAPP_TEMPLATE_ANNOUNCEMENT": env.get("WHATSAPP_TEMPLATE_ANNOUNCEMENT") or "anuncio_actividad",
        "WHATSAPP_RATE_PER_SECOND": _float("WHATSAPP_RATE_PER_SECOND", 20.0),
        "SMS_API_URL": env.get("SMS_API_URL") or None,
        "SMS_FROM": env.get("SMS_FROM") or "",
        "SMS_ACCOUNT_SID": env.get("SMS_ACCOUNT_SID") or "",
        "SMS_API_KEY": env.get("SMS_API_KEY") or "",
        "SMS_MAX_SEGMENTS": _int("SMS_MAX_SEGMENTS", 3),
        "SMS_RATE_PER_SECOND": _float("SMS_RATE_PER_SECOND", 5.0),
        # Delivery receipts: the SMS provider calls /webhooks/sms (signed with SMS_WEBHOOK_SECRET,
        # by default the API key, as Twilio signs with its auth token); Meta calls
        # /webhooks/whatsapp (verify token for the subscription, app secret for signatures).
        "SMS_STATUS_CALLBACK": (env.get("SMS_STATUS_CALLBACK") or "").lower() in ("1", "true", "yes"),
        "SMS_WEBHOOK_SECRET": env.get("SMS_WEBHOOK_SECRET") or None,
        "WHATSAPP_APP_SECRET": env.get("WHATSAPP_APP_SECRET") or None,
        "WHATSAPP_WEBHOOK_VERIFY_TOKEN": env.get("WHATSAPP_WEBHOOK_VERIFY_TOKEN") or None,
        "FACEBOOK_GRAPH_BASE": (env.get("FACEBOOK_GRAPH_BASE") or "https://graph.facebook.com").rstrip("/"),
        "FACEBOOK_API_VERSION": env.get("FACEBOOK_API_VERSION") or "v21.0",
        "CHANNELS_CONNECT_TIMEOUT": _float("CHANNELS_CONNECT_TIMEOUT", 5.0),
        "CHANNELS_READ_TIMEOUT": _float("CHANNELS_READ_TIMEOUT", 20.0),
    })
    # --- end of outward channels ---------------------------------------------------------------
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
        if not cfg.get("BASE_URL"):
            raise ConfigError(
                "PUENTE_ENV=production exige BASE_URL, la dirección pública (https://…) que llevan los "
                "enlaces de los mensajes, afiches y calendarios."
            )
        cfg["SESSION_COOKIE_SECURE"] = True
        cfg["REMEMBER_COOKIE_SECURE"] = True
        cfg["PREFERRED_URL_SCHEME"] = "https"
    elif not cfg["SECRET_KEY"]:
        cfg["SECRET_KEY"] = DEV_SECRET_KEY

    _check_credentials_key(cfg.get("CREDENTIALS_KEY"))

    uri: str = cfg["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("postgres://"):
        uri = "postgresql://" + uri.removeprefix("postgres://")
    if uri.startswith("postgresql://"):
        uri = "postgresql+psycopg://" + uri.removeprefix("postgresql://")
    cfg["SQLALCHEMY_DATABASE_URI"] = uri

    cfg["RATELIMIT_STORAGE_URI"] = cfg["REDIS_URL"] or "memory://"
    cfg["RATELIMIT_HEADERS_ENABLED"] = True
    if production:
        _check_shared_rate_limits(cfg)
    return cfg


def _check_shared_rate_limits(cfg: dict[str, Any]) -> None:
    """Without Redis, rate-limit counters live in each process: refuse several web processes."""
    workers = int(cfg.get("WEB_CONCURRENCY") or 1)
    if workers > 1 and str(cfg["RATELIMIT_STORAGE_URI"]).startswith("memory://"):
        raise ConfigError(
            f"PUENTE_ENV=production con {workers} procesos web (WEB_CONCURRENCY) exige REDIS_URL: "
            "sin él, cada proceso cuenta por su cuenta los intentos de ingreso e inscripción, y "
            f"cada límite («{cfg['LOGIN_RATE_LIMIT']}» por dirección) se multiplica por {workers}. "
            "Configure REDIS_URL o use un solo proceso (WEB_CONCURRENCY=1).")


def unshared_state_warning(cfg: dict[str, Any]) -> str | None:
    """What a production start-up should say is kept per process, or None."""
    if not cfg.get("PRODUCTION") or not str(cfg["RATELIMIT_STORAGE_URI"]).startswith("memory://"):
        return None
    return ("Sin REDIS_URL, los límites de intentos (ingreso, inscripción, por dirección y por "
            "cuenta) se cuentan en la memoria de este proceso: cada copia del rol web que corra "
            "detrás de un balanceador cuenta por separado. Configure REDIS_URL para compartirlos.")


def _check_credentials_key(value: str | None) -> None:
    """Each CREDENTIALS_KEY entry must be a Fernet key: 32 bytes in url-safe base64."""
    import base64
    import binascii

    for key in (value or "").split(","):
        if not key.strip():
            continue
        try:
            ok = len(base64.urlsafe_b64decode(key.strip().encode())) == 32
        except (binascii.Error, ValueError):
            ok = False
        if not ok:
            raise ConfigError(
                "CREDENTIALS_KEY debe ser una o más claves Fernet separadas por comas. Genere una con: "
                "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'")
