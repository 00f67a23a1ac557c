"""Locale and time-zone selection, and the template helpers that show dates."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app, request
from flask_babel import format_datetime
from flask_login import current_user

LOCALES = ("es_CL", "en")
LOCALE_NAMES = {"es_CL": "Español", "en": "English"}
LOCALE_COOKIE = "lang"
DEFAULT_TZ = "America/Santiago"


def get_locale() -> str:
    chosen = request.cookies.get(LOCALE_COOKIE) if request else None
    if chosen in LOCALES:
        return chosen
    if current_user and getattr(current_user, "is_authenticated", False) and current_user.locale in LOCALES:
        return current_user.locale
    default: str = current_app.config["BABEL_DEFAULT_LOCALE"]
    if request:
        best = request.accept_languages.best_match(["es-CL", "es", "en"])
        if best and best.startswith("en"):
            return "en"
    return default if default in LOCALES else "es_CL"


def get_timezone() -> str:
    return DEFAULT_TZ


def html_lang() -> str:
    return get_locale().replace("_", "-")


def local_time(value: datetime | None, tz: str = DEFAULT_TZ, fmt: str = "medium") -> str:
    """Format an aware UTC datetime in the given IANA zone and the reader's locale."""
    if value is None:
        return ""
    return format_datetime(value.astimezone(ZoneInfo(tz)), fmt, rebase=False)


ZONE_NAMES = {
    "America/Santiago": "hora de Chile continental",
    "America/Punta_Arenas": "hora de Magallanes",
    "America/Coyhaique": "hora de Aysén",
    "Pacific/Easter": "hora de Isla de Pascua",
}


def zone_name(tz: str) -> str:
    from flask_babel import gettext

    return gettext(ZONE_NAMES[tz]) if tz in ZONE_NAMES else tz


def format_day(value: datetime) -> str:
    """'martes 8 de diciembre de 2026' in the reader's locale (the value is already local)."""
    from flask_babel import format_date

    return str(format_date(value, "full"))


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["zone_name"] = zone_name
    app.jinja_env.filters["format_day"] = format_day
    from app.channels.phone import as_written

    app.jinja_env.filters["phone"] = as_written  # {{ office.phone|phone }}: +56 2 2248 6200
    app.jinja_env.globals.update(html_lang=html_lang, LOCALES=LOCALES, LOCALE_NAMES=LOCALE_NAMES,
                                 get_locale=get_locale)
