"""The background task queue (Huey).

SQLite storage under ``instance/`` by default, so a fresh clone needs no Redis; Redis when
``REDIS_URL`` is set, so several workers on several machines share one queue. Run the worker
with ``huey_consumer app.tasks.huey -w 2 -k thread``. Tasks run inside an application
context: the caller's when there is one (tests run tasks immediately), otherwise an app built
from the environment the first time a task runs in the worker.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask, has_app_context
from huey import Huey, RedisHuey, SqliteHuey

from app.config import PROJECT_ROOT

F = TypeVar("F", bound=Callable[..., Any])


def _make_huey() -> Huey:
    redis_url = os.environ.get("REDIS_URL")
    if redis_url:
        return RedisHuey("puente-laboral", url=redis_url)
    instance = Path(os.environ.get("INSTANCE_PATH") or PROJECT_ROOT / "instance")
    path = os.environ.get("HUEY_SQLITE_PATH") or str(instance / "huey.db")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("puente-laboral", filename=path)


huey: Huey = _make_huey()

_worker_app: Flask | None = None
_lock = threading.Lock()


def _app() -> Flask:
    global _worker_app
    with _lock:
        if _worker_app is None:
            from app import create_app

            _worker_app = create_app()
        return _worker_app


@contextlib.contextmanager
def task_context() -> Iterator[None]:
    if has_app_context():
        yield
        return
    with _app().app_context():
        yield


def register_worker_modules() -> None:
    """Import every module that defines tasks, so the consumer knows them."""
    import app.conferencing.tasks  # noqa: F401
    import app.dissemination.tasks  # noqa: F401
    import app.outbox.tasks  # noqa: F401
    import app.registration.tasks  # noqa: F401


register_worker_modules()
