"""Video provider credentials: platform-wide from settings, or an office's own, encrypted.

An office's own credentials win over the platform's. They are stored with
``app.secrets.encrypt_text`` (a JSON object per provider) and only ever shown back masked
(``app.secrets.mask``: the last 4 characters). Saving validates every field and raises
``CredentialsError`` with a Spanish message and the field it belongs to.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from app.audit.services import record
from app.conferencing.models import OfficeConferenceSettings
from app.extensions import db
from app.secrets import SecretError, decrypt_text, encrypt_text, mask
from app.territory.models import Office

log = logging.getLogger("puente.conferencing")

API_PROVIDERS = ("zoom", "google_meet")

_TOKEN_RE = re.compile(r"^[A-Za-z0-9._~+/=-]+$")  # what Zoom ids, keys and secrets look like
_EMAIL_RE = re.compile(r"^[^@\s<>\"'`;,()\\]+@[^@\s<>\"'`;,()\\]+\.[A-Za-z]{2,}$")
_CALENDAR_RE = re.compile(r"^[A-Za-z0-9._%+@-]+$")
_USER_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_TOKEN = 200
MAX_SERVICE_ACCOUNT_CHARS = 20_000


class CredentialsError(ValueError):
    def __init__(self, message: str, field: str | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status


# --- what a provider uses ------------------------------------------------------------------


@dataclass(frozen=True)
class ZoomCredentials:
    account_id: str
    client_id: str
    client_secret: str = field(repr=False)
    user_id: str = "me"
    sdk_key: str | None = None
    sdk_secret: str | None = field(default=None, repr=False)
    source: str = "platform"

    @property
    def has_sdk(self) -> bool:
        return bool(self.sdk_key and self.sdk_secret)

    def cache_key(self, oauth_url: str) -> str:
        """Identifies one OAuth app (tokens are cached per app), without holding the secret."""
        raw = "\0".join((oauth_url, self.account_id, self.client_id, self.client_secret))
        return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True)
class GoogleCredentials:
    service_account_info: dict[str, Any] = field(repr=False)
    calendar_id: str = "primary"
    delegated_user: str | None = None
    source: str = "platform"


def platform_zoom() -> ZoomCredentials | None:
    cfg = current_app.config
    if not (cfg.get("ZOOM_ACCOUNT_ID") and cfg.get("ZOOM_CLIENT_ID") and cfg.get("ZOOM_CLIENT_SECRET")):
        return None
    return ZoomCredentials(
        account_id=cfg["ZOOM_ACCOUNT_ID"], client_id=cfg["ZOOM_CLIENT_ID"], client_secret=cfg["ZOOM_CLIENT_SECRET"],
        user_id=cfg.get("ZOOM_USER_ID") or "me", sdk_key=cfg.get("ZOOM_SDK_KEY") or None,
        sdk_secret=cfg.get("ZOOM_SDK_SECRET") or None, source="platform")


def platform_google() -> GoogleCredentials | None:
    cfg = current_app.config
    raw = cfg.get("GOOGLE_SERVICE_ACCOUNT_JSON")
    path = cfg.get("GOOGLE_SERVICE_ACCOUNT_FILE")
    if not raw and path:
        try:
            raw = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            log.warning("GOOGLE_SERVICE_ACCOUNT_FILE unreadable (%s): Google Meet disabled", type(exc).__name__)
            return None
    if not raw:
        return None
    try:
        info = check_service_account(raw)
    except CredentialsError as err:
        log.warning("platform Google service account refused: %s", err.message)
        return None
    return GoogleCredentials(service_account_info=info, calendar_id=cfg.get("GOOGLE_CALENDAR_ID") or "primary",
                             delegated_user=cfg.get("GOOGLE_DELEGATED_USER") or None, source="platform")


def settings_for(office_id: int | None) -> OfficeConferenceSettings | None:
    if office_id is None:
        return None
    return db.session.scalar(select(OfficeConferenceSettings).where(OfficeConferenceSettings.office_id == office_id))


def _decrypted(token: str | None) -> dict[str, Any] | None:
    if not token:
        return None
    try:
        data = json.loads(decrypt_text(token))
    except (SecretError, ValueError):
        log.error("stored office credentials cannot be decrypted (key changed?)")
        return None
    return data if isinstance(data, dict) else None


def office_zoom(office_id: int | None) -> ZoomCredentials | None:
    settings = settings_for(office_id)
    data = _decrypted(settings.zoom_credentials) if settings else None
    if not data:
        return None
    return ZoomCredentials(account_id=data["account_id"], client_id=data["client_id"],
                           client_secret=data["client_secret"], user_id=data.get("user_id") or "me",
                           sdk_key=data.get("sdk_key") or None, sdk_secret=data.get("sdk_secret") or None,
                           source="office")


def zoom_webhook_secrets() -> list[tuple[str, int | None]]:
    """Every Secret Token a Zoom event may be signed with, and whose it is: the platform's
    (``ZOOM_WEBHOOK_SECRET_TOKEN``, office None) first, then each office's own Zoom app's."""
    from flask import current_app

    out: list[tuple[str, int | None]] = []
    platform = current_app.config.get("ZOOM_WEBHOOK_SECRET_TOKEN")
    if platform:
        out.append((str(platform), None))
    for office_id, token in db.session.execute(
            select(OfficeConferenceSettings.office_id, OfficeConferenceSettings.zoom_credentials)
            .where(OfficeConferenceSettings.zoom_credentials.is_not(None))):
        secret = (_decrypted(token) or {}).get("webhook_secret")
        if secret:
            out.append((str(secret), office_id))
    return out


def office_google(office_id: int | None) -> GoogleCredentials | None:
    settings = settings_for(office_id)
    data = _decrypted(settings.google_credentials) if settings else None
    if not data:
        return None
    return GoogleCredentials(service_account_info=data["service_account"],
                             calendar_id=data.get("calendar_id") or "primary",
                             delegated_user=data.get("delegated_user") or None, source="office")


def zoom_for(office_id: int | None) -> ZoomCredentials | None:
    """The office's own Zoom app, else the platform's, else None."""
    return office_zoom(office_id) or platform_zoom()


def google_for(office_id: int | None) -> GoogleCredentials | None:
    return office_google(office_id) or platform_google()


def available_providers(office_id: int | None) -> list[str]:
    """Providers a session of this office may use: link and Jitsi always, the others when
    credentials exist (the office's or the platform's)."""
    out = ["link", "jitsi"]
    if zoom_for(office_id) is not None:
        out.append("zoom")
    if google_for(office_id) is not None:
        out.append("google_meet")
    return out


# --- what staff see ------------------------------------------------------------------------


@dataclass
class MaskedCredentials:
    """An office's settings as the page shows them: masked, never in full."""

    default_provider: str | None
    zoom: dict[str, str]
    google: dict[str, str]
    platform_zoom: bool
    platform_google: bool


def masked(office: Office) -> MaskedCredentials:
    settings = settings_for(office.id)
    zoom = _decrypted(settings.zoom_credentials) if settings else None
    google = _decrypted(settings.google_credentials) if settings else None
    zoom_view = {k: mask(str(zoom.get(k) or "")) for k in ("account_id", "client_id", "client_secret",
                                                             "sdk_key", "sdk_secret", "webhook_secret")} if zoom else {}
    if zoom:
        zoom_view["user_id"] = mask(str(zoom.get("user_id") or "")) if zoom.get("user_id") != "me" else "me"
    google_view: dict[str, str] = {}
    if google:
        sa = google.get("service_account") or {}
        google_view = {"client_email": mask(str(sa.get("client_email") or "")),
                       "private_key_id": mask(str(sa.get("private_key_id") or "")),
                       "calendar_id": mask(str(google.get("calendar_id") or "")),
                       "delegated_user": mask(str(google.get("delegated_user") or ""))}
    return MaskedCredentials(default_provider=settings.default_provider if settings else None,
                             zoom=zoom_view, google=google_view,
                             platform_zoom=platform_zoom() is not None, platform_google=platform_google() is not None)


# --- validation ----------------------------------------------------------------------------


def _clean(value: str | None) -> str:
    return (value or "").strip()


def _token(value: str, field_name: str, label: str, *, limit: int = MAX_TOKEN) -> str:
    if len(value) > limit:
        raise CredentialsError(_("%(label)s es demasiado largo (máximo %(n)s caracteres).", label=label, n=limit),
                               field=field_name)
    if not _TOKEN_RE.match(value):
        raise CredentialsError(
            _("%(label)s solo puede tener letras, números y los signos . _ - ~ + / = (sin espacios). "
              "Cópielo tal como aparece en el Zoom App Marketplace.", label=label), field=field_name)
    return value


def _email(value: str, field_name: str, label: str) -> str:
    if len(value) > 254 or not _EMAIL_RE.match(value):
        raise CredentialsError(_("%(label)s debe ser una dirección de correo válida.", label=label), field=field_name)
    return value


def check_service_account(raw: str) -> dict[str, Any]:
    """A Google service account key file (JSON) as a dict, or ``CredentialsError``."""
    field_name = "service_account_json"
    if len(raw) > MAX_SERVICE_ACCOUNT_CHARS:
        raise CredentialsError(_("El archivo de la cuenta de servicio es demasiado largo (máximo %(n)s caracteres).",
                                 n=MAX_SERVICE_ACCOUNT_CHARS), field=field_name)
    try:
        info = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # RecursionError: "[[[[…" nested too deep
        raise CredentialsError(_("La cuenta de servicio debe ser el contenido JSON del archivo de clave que "
                                 "descargó de Google Cloud."), field=field_name) from exc
    if not isinstance(info, dict) or info.get("type") != "service_account":
        raise CredentialsError(_("Ese JSON no es la clave de una cuenta de servicio de Google "
                                 "(falta \"type\": \"service_account\")."), field=field_name)
    email = info.get("client_email")
    key = info.get("private_key")
    if not isinstance(email, str) or not _EMAIL_RE.match(email):
        raise CredentialsError(_("A la cuenta de servicio le falta client_email."), field=field_name)
    if not isinstance(key, str) or "PRIVATE KEY-----" not in key:
        raise CredentialsError(_("A la cuenta de servicio le falta la clave privada (private_key)."),
                               field=field_name)
    token_uri = info.get("token_uri", "https://oauth2.googleapis.com/token")
    if not isinstance(token_uri, str) or not token_uri.startswith("https://"):
        raise CredentialsError(_("El token_uri de la cuenta de servicio debe comenzar con https://."),
                               field=field_name)
    return info


@dataclass
class ZoomInput:
    account_id: str = ""
    client_id: str = ""
    client_secret: str = ""
    user_id: str = ""
    sdk_key: str = ""
    sdk_secret: str = ""
    webhook_secret: str = ""


@dataclass
class GoogleInput:
    service_account_json: str = ""
    calendar_id: str = ""
    delegated_user: str = ""


def _settings_row(office: Office) -> OfficeConferenceSettings:
    row = settings_for(office.id)
    if row is None:
        row = OfficeConferenceSettings(office_id=office.id)
        db.session.add(row)
    return row


def save_zoom(office: Office, inp: ZoomInput, *, actor: Any) -> None:
    """Store the office's Zoom app. A blank field keeps what is stored; nothing stored and
    blank is refused. Commits."""
    row = _settings_row(office)
    current = _decrypted(row.zoom_credentials) or {}
    labels = {"account_id": _("El Account ID"), "client_id": _("El Client ID"),
              "client_secret": _("El Client Secret"), "sdk_key": _("La clave del Meeting SDK"),
              "sdk_secret": _("El secreto del Meeting SDK"),
              "webhook_secret": _("El Secret Token de los eventos (webhooks)")}
    data: dict[str, str] = {}
    for name in ("account_id", "client_id", "client_secret"):
        value = _clean(getattr(inp, name))
        if value:
            data[name] = _token(value, name, labels[name])
        elif current.get(name):
            data[name] = current[name]
        else:
            raise CredentialsError(_("%(label)s es obligatorio.", label=labels[name]), field=name)
    for name in ("sdk_key", "sdk_secret", "webhook_secret"):
        value = _clean(getattr(inp, name))
        if value:
            data[name] = _token(value, name, labels[name])
        elif current.get(name):
            data[name] = current[name]
    if bool(data.get("sdk_key")) != bool(data.get("sdk_secret")):
        missing = "sdk_secret" if data.get("sdk_key") else "sdk_key"
        raise CredentialsError(_("Para mostrar Zoom dentro de la página se necesitan la clave y el secreto del "
                                 "Meeting SDK; escriba ambos o ninguno."), field=missing)
    user_id = _clean(inp.user_id) or current.get("user_id") or "me"
    if user_id != "me" and "@" in user_id:
        _email(user_id, "user_id", _("El usuario anfitrión"))
    elif user_id != "me" and not _USER_ID_RE.match(user_id):
        raise CredentialsError(_("El usuario anfitrión debe ser «me», un correo o un ID de usuario de Zoom."),
                               field="user_id")
    data["user_id"] = user_id
    row.zoom_credentials = encrypt_text(json.dumps(data))
    row.updated_by_id = getattr(actor, "id", None)
    record("office.conferencing.zoom_saved", office, "credenciales de Zoom guardadas", actor=actor,
           office_id=office.id)
    db.session.commit()


def save_google(office: Office, inp: GoogleInput, *, actor: Any) -> None:
    row = _settings_row(office)
    current = _decrypted(row.google_credentials) or {}
    raw = _clean(inp.service_account_json)
    if raw:
        service_account = check_service_account(raw)
    elif current.get("service_account"):
        service_account = current["service_account"]
    else:
        raise CredentialsError(_("Pegue el contenido JSON de la clave de la cuenta de servicio."),
                               field="service_account_json")
    calendar_id = _clean(inp.calendar_id) or current.get("calendar_id") or "primary"
    if calendar_id != "primary" and (len(calendar_id) > 254 or not _CALENDAR_RE.match(calendar_id)):
        raise CredentialsError(_("El ID del calendario debe ser «primary» o el ID que muestra Google Calendar "
                                 "(parece un correo)."), field="calendar_id")
    delegated = _clean(inp.delegated_user) or current.get("delegated_user") or ""
    if delegated:
        _email(delegated, "delegated_user", _("La cuenta de Google Workspace"))
    row.google_credentials = encrypt_text(json.dumps({"service_account": service_account,
                                                      "calendar_id": calendar_id, "delegated_user": delegated}))
    row.updated_by_id = getattr(actor, "id", None)
    record("office.conferencing.google_saved", office, "credenciales de Google guardadas", actor=actor,
           office_id=office.id)
    db.session.commit()


def clear(office: Office, provider: str, *, actor: Any) -> None:
    if provider not in API_PROVIDERS:
        raise CredentialsError(_("Proveedor desconocido."), field="provider")
    row = settings_for(office.id)
    if row is not None:
        if provider == "zoom":
            row.zoom_credentials = None
        else:
            row.google_credentials = None
        if row.default_provider == provider:
            row.default_provider = None
        row.updated_by_id = getattr(actor, "id", None)
    record(f"office.conferencing.{provider}_cleared", office, f"credenciales de {provider} borradas", actor=actor,
           office_id=office.id)
    db.session.commit()


def set_default_provider(office: Office, provider: str | None, *, actor: Any) -> None:
    provider = (provider or "").strip() or None
    if provider is not None and provider not in available_providers(office.id):
        raise CredentialsError(_("Ese proveedor no está disponible: configure primero sus credenciales."),
                               field="default_provider")
    row = _settings_row(office)
    row.default_provider = provider
    row.updated_by_id = getattr(actor, "id", None)
    record("office.conferencing.default", office, f"proveedor por defecto: {provider or '-'}", actor=actor,
           office_id=office.id)
    db.session.commit()
