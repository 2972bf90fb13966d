"""A loopback stand-in for the Azure ML v2 pieces the pipeline calls: a batch endpoint that runs the
training pipeline (`POST .../endpoints/<name>/jobs`) and the job resource it returns
(`GET .../workspaces/<ws>/jobs/<name>`), with Azure ML's request and response shapes and statuses
(Queued, Running, Completed, Failed). The training itself is the real training package, run as a child
process against the local MLflow store. Job observers (the OpenLineage emitter) hear when a job starts running
and when it ends."""
from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import threading
import uuid
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler
from typing import Any, Protocol

from local_runtime.identity import token_audience
from local_runtime.settings import PROJECT_ROOT, Settings
from local_runtime.store import Store, utcnow

log = logging.getLogger("local_runtime.azureml")
INVOKE_AUDIENCE = "https://ml.azure.com"
TRAINING_CONFIG = PROJECT_ROOT / "generated" / "azureml" / "training-config.json"
MANAGEMENT_AUDIENCE = "https://management.azure.com/"
INVOKE = re.compile(r"^/azureml/endpoints/(?P<endpoint>[A-Za-z0-9-]+)/jobs/?$")
JOB = re.compile(r"^/azureml(?P<id>/subscriptions/[^/]+/resourceGroups/[^/]+/providers/"
                 r"Microsoft\.MachineLearningServices/workspaces/[^/]+/jobs/(?P<name>[^/?]+))$")


class JobObserver(Protocol):
    """Told when a job starts running and when it ends, with the workspace's resource id. Called on the job's
    thread, so it must return quickly; whatever it raises is logged and ignored: it never fails a job."""

    def job_started(self, job: dict, workspace_id: str) -> None: ...

    def job_ended(self, job: dict, workspace_id: str) -> None: ...


class AzureMLStandIn:
    def __init__(self, store: Store, settings: Settings, observers: Sequence[JobObserver] = ()):
        self.store, self.settings, self.observers = store, settings, list(observers)

    def _tell(self, event: str, job: dict) -> None:
        for observer in self.observers:
            try:
                getattr(observer, event)(job, self.workspace_id())
            except Exception:
                log.warning("job observer %s failed on %s; the job goes on", type(observer).__name__, event,
                            exc_info=True)

    def workspace_id(self) -> str:
        for factory in self.store.factories():
            for body in self.store.objects(factory, "linkedService").values():
                if body["properties"].get("type") == "AzureMLService":
                    tp = body["properties"]["typeProperties"]
                    return (f"/subscriptions/{tp['subscriptionId']}/resourceGroups/{tp['resourceGroupName']}"
                            f"/providers/Microsoft.MachineLearningServices/workspaces/{tp['mlWorkspaceName']}")
        return ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/local/providers/"
                "Microsoft.MachineLearningServices/workspaces/local")

    def resource(self, job: dict) -> dict:
        """The job as Azure ML's REST API shows it."""
        properties: dict[str, Any] = {
            "jobType": "Pipeline", "status": job["status"], "displayName": job["name"],
            "properties": {"endpoint": job["endpoint"]},
            "inputs": job["request"].get("properties", {}).get("InputData", {}),
            "creationContext": {"createdAt": job["created_at"]},
        }
        if job.get("outputs"):
            properties["outputs"] = job["outputs"]
        if job.get("error"):
            properties["error"] = {"code": "UserError", "message": job["error"]}
        return {"id": f"{self.workspace_id()}/jobs/{job['name']}", "name": job["name"],
                "type": "Microsoft.MachineLearningServices/workspaces/jobs", "properties": properties}

    # --- batch endpoint ---------------------------------------------------------------------------
    def invoke(self, endpoint: str, request: dict) -> tuple[int, dict]:
        inputs = request.get("properties", {}).get("InputData")
        manifest = (inputs or {}).get("manifest", {})
        if manifest.get("JobInputType") != "UriFile" or not isinstance(manifest.get("Uri"), str):
            return 400, {"error": {"code": "UserError", "message":
                                   "properties.InputData.manifest must be {JobInputType: UriFile, Uri: <blob url>}"}}
        job = {"name": f"batchjob-{uuid.uuid4()}", "endpoint": endpoint, "status": "Queued", "request": request,
               "created_at": utcnow(), "start": None, "end": None, "outputs": None, "error": None}
        self.store.save_job(job)
        threading.Thread(target=self._run_training, args=(job,), daemon=True).start()
        return 200, self.resource(job)

    def _run_training(self, job: dict) -> None:
        inputs = job["request"]["properties"]["InputData"]
        # The deployed component's config: what the generator rendered from the spec's training: section.
        command = [sys.executable, "-m", "training", "--manifest-url", inputs["manifest"]["Uri"],
                   "--tracking-uri", self.settings.mlflow_tracking_uri, "--config", str(TRAINING_CONFIG)]
        expected = inputs.get("manifest_sha256", {}).get("Value")
        if expected:
            command += ["--manifest-sha256", expected]
        job.update(status="Running", start=utcnow())
        self.store.save_job(job)
        self._tell("job_started", job)
        log_dir = self.settings.logs / "azureml"
        log_dir.mkdir(parents=True, exist_ok=True)
        self.settings.mlflow_dir.mkdir(parents=True, exist_ok=True)
        with open(log_dir / f"{job['name']}.log", "w") as stderr:
            proc = subprocess.run(command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=stderr, text=True,
                                  env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)})
        lines = [line for line in proc.stdout.splitlines() if line.strip()]
        if proc.returncode == 0 and lines:
            job.update(status="Completed", outputs=json.loads(lines[-1]))
        else:
            tail = (log_dir / f"{job['name']}.log").read_text().strip().splitlines()
            job.update(status="Failed", error=tail[-1] if tail else f"training exited with {proc.returncode}")
        job["end"] = utcnow()
        self._tell("job_ended", job)  # before the end is visible to the poller: the job's events precede the run's
        self.store.save_job(job)
        log.info("training job %s %s", job["name"], job["status"])

    # --- HTTP -------------------------------------------------------------------------------------
    def handle(self, method: str, path: str, headers: dict, body: bytes) -> tuple[int, dict]:
        path = path.split("?", 1)[0]
        if method == "POST" and (match := INVOKE.match(path)):
            if token_audience(headers.get("Authorization")) != INVOKE_AUDIENCE:
                return 401, {"error": {"code": "Unauthorized", "message": f"a bearer token for {INVOKE_AUDIENCE} is required"}}
            try:
                request = json.loads(body or b"{}")
            except ValueError:
                return 400, {"error": {"code": "UserError", "message": "the request body is not JSON"}}
            return self.invoke(match["endpoint"], request)
        if method == "GET" and (match := JOB.match(path)):
            if token_audience(headers.get("Authorization")) != MANAGEMENT_AUDIENCE:
                return 401, {"error": {"code": "AuthenticationFailed",
                                       "message": f"a bearer token for {MANAGEMENT_AUDIENCE} is required"}}
            job = self.store.job(match["name"])
            if job is None:
                return 404, {"error": {"code": "ResourceNotFound", "message": f"job {match['name']} not found"}}
            return 200, self.resource(job)
        if method == "GET" and path == "/health":
            return 200, {"status": "ok"}
        return 404, {"error": {"code": "NotFound", "message": f"{method} {path} is not served by the local runtime"}}


def handler_for(standin: AzureMLStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status, payload = standin.handle(self.command, self.path, dict(self.headers), body)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _serve

        def log_message(self, fmt: str, *args: Any) -> None:
            log.debug("http %s", fmt % args)

    return Handler
