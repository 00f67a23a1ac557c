"""One log line per request, with a request id; never personal data.

Only the path is logged (never the query string, which may carry an email or a token), and
the request id is echoed in ``X-Request-ID`` so a user's report can be matched to the line.
"""

from __future__ import annotations

import logging
import re
import secrets
import time

from flask import Flask, Response, g, request

log = logging.getLogger("puente.request")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def current_request_id() -> str | None:
    return getattr(g, "request_id", None)


def register_request_logging(app: Flask) -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")

    @app.before_request
    def _start() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _SAFE_ID.match(incoming) else secrets.token_hex(8)
        g.request_started = time.perf_counter()

    @app.after_request
    def _log(response: Response) -> Response:
        started = getattr(g, "request_started", None)
        ms = (time.perf_counter() - started) * 1000 if started else 0.0
        rid = current_request_id() or "-"
        response.headers["X-Request-ID"] = rid
        if request.endpoint != "static":
            log.info(
                "request_id=%s method=%s path=%s status=%s ms=%.1f",
                rid, request.method, _scrub_path(request.path), response.status_code, ms,
            )
        return response


# Long segments with a capital letter, "_" or "." look like signed tokens; lower-case slugs
# (/talleres/como-enfrentar-una-entrevista) are public and stay readable.
_TOKENISH = re.compile(r"/(?=[^/]*[A-Z_.])[A-Za-z0-9_\-\.]{24,}")


def _scrub_path(path: str) -> str:
    """Hide long opaque path segments (signed links) from the log."""
    return _TOKENISH.sub("/…", path)
