"""The public home page, the staff home under /gestion, and the language switch."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from flask import Blueprint, Flask, abort, current_app, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from markupsafe import Markup

from app.accounts.policy import can
from app.i18n import LOCALE_COOKIE, LOCALES
from app.territory.search import ComunaEntry, comuna_index

bp = Blueprint("public", __name__)

#: What a domain adds to the home page: given the comuna searched (or None), some HTML.
HomeSection = Callable[[ComunaEntry | None], Markup]
MAX_QUERY = 80


def add_home_section(app: Flask, section: HomeSection) -> None:
    """A domain (workshops, later fairs) shows its part of the home page without ``app``
    importing it: it registers a section when its blueprint is registered."""
    sections: list[HomeSection] = app.extensions.setdefault("public.home_sections", [])
    if section not in sections:
        sections.append(section)


@bp.get("/")
def home() -> ResponseReturnValue:
    """The comuna search and what is coming up. ``comuna`` is what the person typed (a name,
    with or without accents) or a CUT code; several matches are offered as links to choose."""
    query = " ".join((request.args.get("comuna") or "").split())[:MAX_QUERY]
    index = comuna_index()
    comuna, candidates = index.resolve(query) if query else (None, [])
    sections = [section(comuna) for section in current_app.extensions.get("public.home_sections", [])]
    return render_template("public/home.html", query=comuna.name if comuna else query, comuna=comuna,
                           candidates=candidates, not_found=bool(query) and comuna is None and not candidates,
                           comunas=index.entries, sections=sections)


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
