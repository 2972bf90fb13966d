"""DatabricksNotebook: run the notebook file locally in the notebook host (a child process), with
`baseParameters` as widgets; its `dbutils.notebook.exit` value becomes `output.runOutput`."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from local_runtime.activities.registry import register
from local_runtime.errors import ActivityError
from local_runtime.settings import PROJECT_ROOT
from local_runtime.timespan import parse_timespan


def notebook_file(settings, notebook_path: str) -> Path:
    root = settings.notebook_root.rstrip("/") + "/"
    if not notebook_path.startswith(root):
        raise ActivityError(f"notebookPath {notebook_path!r} is outside the local workspace folder {root!r}; "
                            f"locally {root} maps onto {settings.notebooks_dir}", "NotebookNotFound")
    path = settings.notebooks_dir / (notebook_path[len(root):] + ".py")
    if not path.exists():
        raise ActivityError(f"notebook {notebook_path} not found: expected {path}", "NotebookNotFound")
    return path


def _supervise(proc: subprocess.Popen, timeout: float, stop) -> str | None:
    """Wait for the notebook process; kill it at the timeout or when `stop` is set. Returns why it was killed."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None:
        reason = "cancelled" if stop.is_set() else "timeout" if time.monotonic() >= deadline else None
        if reason:
            proc.kill()
            proc.wait()
            return reason
        stop.wait(0.1)
    return None


@register("DatabricksNotebook")
def databricks_notebook(activity: dict, props: dict, rc) -> Any:
    notebook = notebook_file(rc.settings, props["notebookPath"])
    widgets = {k: v if isinstance(v, str) else json.dumps(v) for k, v in (props.get("baseParameters") or {}).items()}
    log_dir = rc.settings.logs / "notebooks"
    log_dir.mkdir(parents=True, exist_ok=True)
    # one log per activity run: parallel ForEach iterations run the same activity at once
    log_path = log_dir / f"{rc.run_id}-{activity['name']}-{(rc.parent or '')[:8]}.log"
    with tempfile.TemporaryDirectory() as tmp:
        result_path = Path(tmp) / "result.json"
        env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
        # The child is killed at the activity's timeout, as Databricks cancels the run, instead of outliving
        # it; and when the run is cancelled (the runner's stop signal), as cancelling an ADF run cancels the job.
        timeout = parse_timespan(activity.get("policy", {}).get("timeout", "7.00:00:00"))
        with open(log_path, "w") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "local_runtime.notebook_host", str(notebook), json.dumps(widgets),
                 str(result_path)], cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
            stopped = _supervise(proc, timeout, rc.cancelled)
        if stopped == "cancelled":
            from local_runtime.engine import Cancelled

            raise Cancelled(f"{notebook.name} was stopped because the run was cancelled; log: {log_path}")
        if stopped == "timeout":
            raise ActivityError(f"{notebook.name} did not finish within {timeout:.0f}s (policy.timeout); "
                                f"log: {log_path}", "ActivityTimedOut")
        result = json.loads(result_path.read_text()) if result_path.exists() else {}
    if proc.returncode != 0 or "error" in result:
        message = result.get("error") or f"notebook host exited with code {proc.returncode}; see {log_path}"
        raise ActivityError(f"{notebook.name}: {message} (log: {log_path})", "DatabricksNotebookFailed")
    run_output = result.get("exit_value")
    try:
        run_output = json.loads(run_output) if isinstance(run_output, str) else run_output
    except ValueError:
        pass  # a plain string exit value stays a string
    return {"runOutput": run_output, "runPageUrl": f"file://{log_path}",
            "effectiveIntegrationRuntime": "LocalNotebookHost"}
