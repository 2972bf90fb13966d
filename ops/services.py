"""`make up` / `make down`: start Azurite (on its internal port), the Event Grid stand-in in front of it (on
the blob port everyone uses) and the local runtime as background services, PIDs and logs recorded under
.local/; stop exactly those processes. The stand-in runs on its own so storage events are logged while the
runtime is down."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from local_runtime.settings import PROJECT_ROOT, Settings, load_settings

AZURITE = PROJECT_ROOT / ".tools" / "node_modules" / ".bin" / "azurite-blob"


def _pid_file(settings: Settings, name: str) -> Path:
    return settings.home / "pids" / f"{name}.pid"


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def running_pid(settings: Settings, name: str) -> int | None:
    path = _pid_file(settings, name)
    if path.exists():
        pid = int(path.read_text().strip() or 0)
        if pid and process_alive(pid):
            return pid
        path.unlink()
    return None


def wait_for_http(url: str, timeout: float = 30) -> None:
    """Block until something answers HTTP at url; TimeoutError otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f}s")


def _start(settings: Settings, name: str, command: list[str], health_url: str) -> None:
    pid = running_pid(settings, name)
    if pid:
        print(f"  {name:<10} already running (pid {pid})")
        return
    log = settings.logs / f"{name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    _pid_file(settings, name).parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT,
                                env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}, start_new_session=True)
    _pid_file(settings, name).write_text(str(proc.pid))
    try:
        wait_for_http(health_url)
    except TimeoutError as exc:
        raise SystemExit(f"{name} did not start: {exc}; see {log}") from exc
    print(f"  {name:<10} started (pid {proc.pid}, log {log.relative_to(PROJECT_ROOT) if log.is_relative_to(PROJECT_ROOT) else log})")


def up(settings: Settings) -> None:
    if not AZURITE.exists():
        raise SystemExit("Azurite is not installed in .tools/: run `make bootstrap`")
    data = settings.home / "azurite"
    data.mkdir(parents=True, exist_ok=True)
    internal = settings.azurite_upstream_port
    _start(settings, "azurite", [str(AZURITE), "--blobHost", "127.0.0.1", "--blobPort", str(internal),
                                 "--location", str(data), "--skipApiVersionCheck", "--loose", "--disableTelemetry"],
           f"http://127.0.0.1:{internal}/")
    _start(settings, "eventgrid", [sys.executable, "-m", "local_runtime.eventgrid"],
           f"http://127.0.0.1:{settings.azurite_port}/")
    _start(settings, "runtime", [sys.executable, "-m", "local_runtime", "serve"],
           f"http://127.0.0.1:{settings.runtime_port}/health")


def down(settings: Settings) -> None:
    for name in ("runtime", "eventgrid", "azurite"):
        pid = running_pid(settings, name)
        if not pid:
            print(f"  {name:<10} not running")
            continue
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        while process_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if process_alive(pid):
            os.kill(pid, signal.SIGKILL)
        _pid_file(settings, name).unlink(missing_ok=True)
        print(f"  {name:<10} stopped (pid {pid})")


if __name__ == "__main__":
    {"up": up, "down": down}[sys.argv[1]](load_settings())
