"""Security headers for every response."""

from __future__ import annotations

from flask import Flask, Response, request

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


def register_security_headers(app: Flask) -> None:
    production = app.config["PRODUCTION"]

    @app.after_request
    def _headers(response: Response) -> Response:
        h = response.headers
        # A view that is meant to be embedded (a later widget) sets its own CSP first.
        h.setdefault("Content-Security-Policy", CSP)
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
