"""The public home page, the staff home under /gestion, and the language switch."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from app.accounts.policy import can
from app.i18n import LOCALE_COOKIE, LOCALES

bp = Blueprint("public", __name__)


@bp.get("/")
def home() -> ResponseReturnValue:
    return render_template("public/home.html")


@bp.post("/idioma")
def set_language() -> ResponseReturnValue:
    lang = request.form.get("lang", "")
    if lang not in LOCALES:
        abort(400)
    target = safe_next(request.form.get("next"))
    resp = make_response(redirect(target))
    resp.set_cookie(LOCALE_COOKIE, lang, max_age=365 * 24 * 3600, samesite="Lax", httponly=True,
                    secure=request.is_secure)
    return resp


def safe_next(value: str | None, default: str | None = None) -> str:
    """A same-site relative path to go back to, never an open redirect."""
    fallback = default or url_for("public.home")
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return fallback
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return fallback
    return value


@bp.get("/gestion/")
@login_required
def gestion_home() -> ResponseReturnValue:
    if not can(current_user, "gestion.enter"):
        abort(403)
    return render_template("gestion/home.html")
