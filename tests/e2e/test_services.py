"""`make up` / `make down`: real Azurite and runtime processes, PIDs and logs recorded, exactly those stopped."""
from __future__ import annotations

import os
import subprocess
import sys

import requests

from local_runtime.settings import PROJECT_ROOT
from tests.conftest import free_port


def services(command: str, env: dict) -> str:
    result = subprocess.run([sys.executable, "-m", "ops.services", command], cwd=PROJECT_ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_up_starts_both_services_and_down_stops_exactly_them(tmp_path):
    azurite_port, runtime_port = free_port(), free_port()
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "LOCAL_HOME": str(tmp_path),
           "AZURITE_BLOB_PORT": str(azurite_port), "LOCAL_RUNTIME_PORT": str(runtime_port)}
    try:
        out = services("up", env)
        assert "azurite    started" in out and "runtime    started" in out
        pids = {name: int((tmp_path / "pids" / f"{name}.pid").read_text()) for name in ("azurite", "runtime")}
        assert requests.get(f"http://127.0.0.1:{runtime_port}/health", timeout=5).json() == {"status": "ok"}
        assert (tmp_path / "logs" / "azurite.log").exists() and (tmp_path / "azurite").is_dir()
        assert "already running" in services("up", env)  # idempotent
    finally:
        out = services("down", env)
    assert "azurite    stopped" in out and "runtime    stopped" in out
    for pid in pids.values():
        assert subprocess.run(["kill", "-0", str(pid)], capture_output=True).returncode != 0
    assert not list((tmp_path / "pids").glob("*.pid"))
    assert "not running" in services("down", env)
