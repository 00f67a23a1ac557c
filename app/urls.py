"""Absolute links (messages, posters, calendars, feeds) on the address the platform is served on.

``BASE_URL`` when it is set (production requires it). Unset, a request's own address is used
(``make run`` on any port gives working links), and outside a request (the worker, the CLI)
the address ``make run`` hands its worker, else http://127.0.0.1:5000.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, has_request_context, request

#: Outside a request, with BASE_URL unset and no address handed down by ``make run``.
FALLBACK_BASE_URL = "http://127.0.0.1:5000"
#: What app.devserver sets for its worker: the address its web server listens on.
SERVED_AT_ENV = "PUENTE_SERVED_AT"


def base_url() -> str:
    """Scheme, host and path prefix the links start with, without a trailing slash."""
    configured = current_app.config.get("BASE_URL")
    if configured:
        return str(configured).rstrip("/")
    if has_request_context():
        return request.url_root.rstrip("/")
    return (os.environ.get(SERVED_AT_ENV) or FALLBACK_BASE_URL).rstrip("/")


def external_url(endpoint: str, **values: Any) -> str:
    base = urlsplit(base_url())
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https"
    )
    return adapter.build(endpoint, values, force_external=True)
