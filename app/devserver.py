"""``make run``: the web server and the background worker together; Ctrl-C stops both."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def main() -> int:
    env = dict(os.environ)
    env.setdefault("PYTHONUNBUFFERED", "1")
    host = env.get("HOST", "127.0.0.1")
    port = env.get("PORT", "5000")
    worker = subprocess.Popen(  # noqa: S603 - fixed argv, our own virtualenv
        [str(BIN / "huey_consumer"), "app.tasks.huey", "-w", "2", "-k", "thread", "-q"], env=env
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
