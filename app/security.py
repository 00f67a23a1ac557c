"""Security headers for every response."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Flask, Response, current_app, request

View = TypeVar("View", bound=Callable[..., object])

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'self'",
        "object-src 'none'",
        "frame-src 'self'",
        "frame-ancestors 'none'",
    ]
)


def allow_framing(view: View) -> View:
    """Let other sites show this view in an iframe (the dissemination widget). The view sets
    its own Content-Security-Policy, whose ``frame-ancestors`` says who may frame it; it gets
    no X-Frame-Options. Every other view keeps ``frame-ancestors 'none'`` and DENY."""
    view.allow_framing = True  # type: ignore[attr-defined]
    return view


def _frameable() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "allow_framing", False))


def register_security_headers(app: Flask) -> None:
    production = app.config["PRODUCTION"]

    @app.after_request
    def _headers(response: Response) -> Response:
        h = response.headers
        # A view that is meant to be embedded (a later widget) sets its own CSP first.
        h.setdefault("Content-Security-Policy", CSP)
        if not _frameable():
            h.setdefault("X-Frame-Options", "DENY")
        h["X-Content-Type-Options"] = "nosniff"
        h["Referrer-Policy"] = "strict-origin-when-cross-origin"
        h.setdefault("Permissions-Policy", "geolocation=(), microphone=(), camera=()")
        h["Cross-Origin-Opener-Policy"] = "same-origin"
        if production:
            h["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        if request.endpoint != "static" and "Cache-Control" not in h:
            h["Cache-Control"] = "no-store" if request.path.startswith(("/gestion", "/cuenta", "/api")) else "no-cache"
        return response
