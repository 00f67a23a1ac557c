"""gunicorn reads this file from the working directory by itself (the Procfile's web role).

It tells the app how many web processes serve it: ``WEB_CONCURRENCY`` is set to the real
worker count (``-w`` / ``--workers`` included) before any worker starts, and the settings are
checked once here, so ``PUENTE_ENV=production`` with several workers and no shared
rate-limit store (``REDIS_URL``) stops gunicorn with the reason instead of serving limits
that each worker counts on its own.
"""

from __future__ import annotations

import os
from typing import Any


def on_starting(server: Any) -> None:
    os.environ["WEB_CONCURRENCY"] = str(server.cfg.workers)
    from app.config import ConfigError, load_config

    try:
        load_config()
    except ConfigError as exc:
        server.log.error("No se inicia: %s", exc)
        raise SystemExit(1) from exc
