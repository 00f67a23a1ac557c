"""``make run``: the web server and the background worker together; Ctrl-C stops both."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from app.urls import SERVED_AT_ENV

BIN = Path(sys.executable).parent


def served_at(host: str, port: str) -> str:
    """The address people reach the dev server on (0.0.0.0 listens everywhere: loopback works)."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host  # noqa: S104 - compared, not bound
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def main() -> int:
    env = dict(os.environ)
    env.setdefault("PYTHONUNBUFFERED", "1")
    host = env.get("HOST", "127.0.0.1")
    port = env.get("PORT", "5000")
    # The worker writes links in messages outside any request: with BASE_URL unset it uses
    # the address served here (the web process uses each request's own address).
    worker_env = dict(env)
    worker_env.setdefault(SERVED_AT_ENV, served_at(host, port))
    worker = subprocess.Popen(  # noqa: S603 - fixed argv, our own virtualenv
        [str(BIN / "huey_consumer"), "app.tasks.huey", "-w", "2", "-k", "thread", "-q"], env=worker_env
    )
    web = subprocess.Popen(  # noqa: S603
        [str(BIN / "flask"), "--app", "wsgi", "run", "--host", host, "--port", port, "--with-threads"],
        env=env,
    )
    print(f"\nPuente Laboral: http://{host}:{port}  (trabajador en segundo plano activo; Ctrl-C detiene ambos)\n",
          flush=True)
    procs = [web, worker]

    def stop(*_args: object) -> None:
        # A second Ctrl-C (or make forwarding the first) must not interrupt the clean stop.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        deadline = time.monotonic() + 10
        for p in procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()

    signal.signal(signal.SIGTERM, lambda *_: (stop(), sys.exit(0)))
    try:
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    stop()
    print("Puente Laboral detenido.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
