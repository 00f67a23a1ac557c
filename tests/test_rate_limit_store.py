"""Rate-limit counters must be shared by every web process: in production, several processes
without Redis refuse to start; one process says at start-up what it keeps to itself."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from app import create_app
from app.config import PROJECT_ROOT, ConfigError, load_config
from tests.conftest import make_test_config

PROD = {"ENV_NAME": "production", "SECRET_KEY": "k" * 40, "SCHEMA_CHECK": False, "BASE_URL": "https://puente.example"}


def test_production_with_several_web_processes_and_no_redis_refuses_to_start(
        monkeypatch, database_url, instance_dir):
    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    with pytest.raises(ConfigError, match=r"4 procesos web .*exige REDIS_URL"):
        create_app(make_test_config(database_url, instance_dir, REDIS_URL=None, **PROD))


def test_production_with_several_web_processes_and_redis_is_accepted(monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    cfg = load_config({**PROD, "REDIS_URL": "redis://127.0.0.1:6379/0"})
    assert cfg["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"


def test_development_with_several_processes_and_no_redis_still_starts(monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    assert load_config({"ENV_NAME": "development", "REDIS_URL": None})["WEB_CONCURRENCY"] == 4


def test_one_production_process_without_redis_starts_and_says_what_is_not_shared(
        monkeypatch, caplog, database_url, instance_dir):
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    with caplog.at_level(logging.WARNING, logger="puente.startup"):
        create_app(make_test_config(database_url, instance_dir, REDIS_URL=None, **PROD))
    assert "se cuentan en la memoria de este proceso" in caplog.text
    assert "REDIS_URL" in caplog.text


def test_a_web_concurrency_that_is_not_a_number_is_a_clear_refusal(monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "muchos")
    with pytest.raises(ConfigError, match="WEB_CONCURRENCY debe ser un número entero"):
        load_config()


# --- under gunicorn: the worker count given with -w is seen too (gunicorn.conf.py) -----------


def _gunicorn(tmp_path: Path, workers: int) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("REDIS_URL", "WEB_CONCURRENCY", "DATABASE_URL", "SCHEMA_CHECK")}
    env.update(PUENTE_ENV="production", SECRET_KEY="k" * 40, INSTANCE_PATH=str(tmp_path), BASE_URL="https://puente.example",
               DATABASE_URL=f"sqlite:///{tmp_path / 'puente.db'}")
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", str(workers), "--bind", "127.0.0.1:0",
         "--no-control-socket", "wsgi:app"],
        cwd=PROJECT_ROOT, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)


def test_gunicorn_with_two_workers_and_no_redis_stops_with_the_reason(tmp_path):
    proc = _gunicorn(tmp_path, workers=2)
    try:
        _out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode != 0
    assert "2 procesos web" in err and "REDIS_URL" in err
    assert "Booting worker" not in err


def test_gunicorn_with_one_worker_and_no_redis_serves_and_warns(tmp_path):
    proc = _gunicorn(tmp_path, workers=1)
    assert proc.stderr is not None
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True)  # type: ignore[arg-type]
    reader.start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if any("se cuentan en la memoria de este proceso" in line for line in lines):
                break
            time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        reader.join(timeout=10)
    seen = "".join(lines)
    assert "Booting worker" in seen
    assert "se cuentan en la memoria de este proceso" in seen
