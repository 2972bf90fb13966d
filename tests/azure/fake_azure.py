"""A loopback fake of the Azure services the deployer talks to, at the HTTP boundary: ARM (template
deployments with long-running-operation polling, Data Factory objects, triggers and their event subscriptions,
pipeline and activity runs), the Databricks workspace API and the Azure ML control plane (workspace, compute
clusters, batch endpoints and deployments, component versions). The real SDKs talk to it; it records every request and can
fail on demand.

Behaviour modelled after the services: an ARM deployment re-PUTs every factory object of the template and fails
if it would change a Started trigger; new triggers arrive Stopped; event subscriptions go through
Provisioning/Deprovisioning before Enabled/Disabled; pipeline runs follow a scripted status sequence.
"""
from __future__ import annotations

import base64
import json
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from local_runtime.arm import resolve

RG = r"/subscriptions/(?P<sub>[^/]+)/resourcegroups/(?P<rg>[^/]+)"
ADF = RG + r"/providers/microsoft\.datafactory/factories/(?P<factory>[^/]+)"
AML = RG + r"/providers/microsoft\.machinelearningservices/workspaces/(?P<ws>[^/]+)"
COLLECTIONS = {"triggers": "trigger", "pipelines": "pipeline", "dataflows": "dataflow", "datasets": "dataset",
               "linkedservices": "linkedService", "integrationruntimes": "integrationRuntime"}
TYPES = {"trigger": "triggers", "pipeline": "pipelines", "dataflow": "dataflows", "dataset": "datasets",
         "linkedService": "linkedservices", "integrationRuntime": "integrationruntimes"}
ARM_FOLDERS = {f"Microsoft.DataFactory/factories/{t}".lower(): f for t, f in COLLECTIONS.items()}
LOCATION = "westeurope"


@dataclass
class Recorded:
    method: str
    path: str          # without the query
    query: str
    headers: dict[str, str]
    body: str

    @property
    def url(self) -> str:
        return f"{self.path}?{self.query}" if self.query else self.path

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


@dataclass
class Failure:
    method: str
    pattern: re.Pattern
    status: int
    times: int | None  # None: every time
    code: str


@dataclass
class Run:
    run_id: str
    pipeline: str
    parameters: dict
    statuses: list[str]
    activities: list[dict]
    message: str = ""


@dataclass
class FakeAzure:
    base_url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    # ARM
    deployments: dict[str, dict] = field(default_factory=dict)
    operations: dict[str, list[dict]] = field(default_factory=dict)
    factories: set[str] = field(default_factory=set)
    objects: dict[tuple[str, str, str], dict] = field(default_factory=dict)  # (factory, folder, name) -> body
    trigger_state: dict[tuple[str, str], str] = field(default_factory=dict)
    subscriptions: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # statuses still to report
    runs: dict[str, Run] = field(default_factory=dict)
    run_script: list[str] = field(default_factory=lambda: ["Queued", "InProgress", "InProgress", "Succeeded"])
    run_activities: list[dict] = field(default_factory=list)
    run_message: str = ""
    lro_polls: int = 1  # how many times an operation reports InProgress before it ends
    # Databricks
    workspace: dict[str, bytes] = field(default_factory=dict)
    folders: set[str] = field(default_factory=set)
    # Azure ML
    endpoints: dict[str, dict] = field(default_factory=dict)
    ml_deployments: dict[tuple[str, str], dict] = field(default_factory=dict)
    components: set[tuple[str, str]] = field(default_factory=set)
    computes: dict[str, str] = field(default_factory=dict)  # name -> computeType; Terraform's, read-only here
    lock: threading.Lock = field(default_factory=threading.Lock)

    # --- test API -------------------------------------------------------------------------------------------------
    def fail(self, method: str, pattern: str, status: int = 500, times: int | None = None,
             code: str = "InternalServerError") -> None:
        """Answer `method` on paths matching `pattern` (regex, case-insensitive) with `status`."""
        self.failures.append(Failure(method.upper(), re.compile(pattern, re.I), status, times, code))

    def clear(self) -> None:
        self.requests.clear()

    def calls(self, *, methods: tuple[str, ...] = ("GET", "PUT", "POST", "DELETE", "PATCH")) -> list[str]:
        return [f"{r.method} {r.path}" for r in self.requests if r.method in methods]

    def changes(self) -> list[str]:
        """Requests that change something (reads, status polls and queries left out)."""
        reads = re.compile(r"/(getEventSubscriptionStatus|queryActivityruns|queryPipelineRuns)$|/fake/operations/", re.I)
        return [f"{r.method} {r.path}" for r in self.requests
                if r.method in ("PUT", "POST", "DELETE", "PATCH") and not reads.search(r.path)]

    def add_factory(self, name: str) -> None:
        self.factories.add(name)

    def put_object(self, factory: str, folder: str, name: str, properties: dict, state: str = "Stopped") -> None:
        properties = {k: v for k, v in properties.items() if k != "runtimeState"}
        self.objects[(factory, folder, name)] = properties
        if folder == "trigger":
            self.trigger_state[(factory, name)] = state

    # --- dispatch ------------------------------------------------------------------------------------------------
    def handle(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict, Any]:
        parts = urlsplit(raw_path)
        path, query = parts.path, parts.query
        text = body.decode("utf-8", "replace")
        with self.lock:
            self.requests.append(Recorded(method, path, query, dict(headers), text))
            for failure in self.failures:
                if failure.method == method and failure.pattern.search(path) and failure.times != 0:
                    if failure.times is not None:
                        failure.times -= 1
                    return failure.status, {}, {"error": {"code": failure.code,
                                                          "message": f"injected {failure.status} for {method} {path}"}}
            if not (headers.get("Authorization") or "").startswith("Bearer "):
                return 401, {}, {"error": {"code": "AuthenticationFailed", "message": "no bearer token"}}
            data = json.loads(text) if text.strip() else None
            for route_method, pattern, handler in ROUTES:
                if route_method == method and (match := re.fullmatch(pattern, path, re.I)):
                    return handler(self, match.groupdict(), parse_qs(query), data)
        return 404, {}, {"error": {"code": "NotFound", "message": f"the fake does not serve {method} {path}"}}

    # --- long-running operations ---------------------------------------------------------------------------------
    def _operation(self, final: dict) -> dict[str, str]:
        op = str(uuid.uuid4())
        self.operations[op] = [{"status": "InProgress"}] * self.lro_polls + [final]
        return {"Azure-AsyncOperation": f"{self.base_url}/fake/operations/{op}?api-version=2020-01-01",
                "Retry-After": "0"}

    def get_operation(self, m: dict, q: dict, data: Any):
        statuses = self.operations[m["op"]]
        return 200, {"Retry-After": "0"}, statuses.pop(0) if len(statuses) > 1 else statuses[0]

    # --- ARM deployments -----------------------------------------------------------------------------------------
    def put_deployment(self, m: dict, q: dict, data: dict):
        name = m["name"]
        props = data["properties"]
        error = None
        try:
            self._apply_template(props["template"], {k: v.get("value") for k, v in props.get("parameters", {}).items()})
        except ValueError as exc:
            error = {"code": "DeploymentFailed", "message": str(exc)}
        state = "Failed" if error else "Succeeded"
        self.deployments[name] = {"id": f"/subscriptions/{m['sub']}/resourceGroups/{m['rg']}/providers/"
                                        f"Microsoft.Resources/deployments/{name}", "name": name,
                                  "properties": {"provisioningState": state, "mode": props.get("mode"),
                                                 **({"error": error} if error else {})}}
        final = {"status": state, **({"error": error} if error else {})}
        return 201, self._operation(final), {"name": name, "properties": {"provisioningState": "Accepted"}}

    def get_deployment(self, m: dict, q: dict, data: Any):
        if m["name"] not in self.deployments:
            return 404, {}, {"error": {"code": "DeploymentNotFound", "message": m["name"]}}
        return 200, {}, self.deployments[m["name"]]

    def _apply_template(self, template: dict, values: dict) -> None:
        changes = []
        for resource in resolve(template, values):
            folder = ARM_FOLDERS.get(resource["type"].lower())
            if folder is None:
                continue
            factory, _, name = resource["name"].partition("/")
            if factory not in self.factories:
                raise ValueError(f"factory {factory} not found")
            props = {k: v for k, v in resource["properties"].items() if k != "runtimeState"}
            old = self.objects.get((factory, folder, name))
            if folder == "trigger" and old is not None and old != props \
                    and self.trigger_state.get((factory, name)) == "Started":
                raise ValueError(f"TriggerEnabledCannotUpdate: cannot update trigger {name} while it is started")
            changes.append((factory, folder, name, props))
        for factory, folder, name, props in changes:
            self.objects[(factory, folder, name)] = props
            if folder == "trigger":
                self.trigger_state.setdefault((factory, name), "Stopped")

    # --- Data Factory ---------------------------------------------------------------------------------------------
    def _resource(self, m: dict, folder: str, name: str) -> dict:
        factory = m["factory"]
        props = dict(self.objects[(factory, folder, name)])
        if folder == "trigger":
            props["runtimeState"] = self.trigger_state[(factory, name)]
        return {"id": f"/subscriptions/{m['sub']}/resourceGroups/{m['rg']}/providers/Microsoft.DataFactory/factories/"
                      f"{factory}/{TYPES[folder]}/{name}",
                "name": name, "type": f"Microsoft.DataFactory/factories/{TYPES[folder]}", "etag": "0",
                "properties": props}

    def get_factory(self, m: dict, q: dict, data: Any):
        if m["factory"] not in self.factories:
            return 404, {}, {"error": {"code": "ResourceNotFound", "message": f"factory {m['factory']} not found"}}
        return 200, {}, {"id": f"/subscriptions/{m['sub']}/resourceGroups/{m['rg']}/providers/Microsoft.DataFactory/"
                               f"factories/{m['factory']}", "name": m["factory"], "location": LOCATION,
                         "properties": {"provisioningState": "Succeeded"}}

    def list_objects(self, m: dict, q: dict, data: Any):
        folder = COLLECTIONS[m["collection"].lower()]
        names = sorted(n for f, fo, n in self.objects if f == m["factory"] and fo == folder)
        return 200, {}, {"value": [self._resource(m, folder, n) for n in names]}

    def delete_object(self, m: dict, q: dict, data: Any):
        folder = COLLECTIONS[m["collection"].lower()]
        key = (m["factory"], folder, m["name"])
        if key not in self.objects:
            return 204, {}, None
        if folder == "trigger" and self.trigger_state.get((m["factory"], m["name"])) == "Started":
            return 400, {}, {"error": {"code": "TriggerEnabledCannotDelete", "message": "stop the trigger first"}}
        del self.objects[key]
        self.trigger_state.pop((m["factory"], m["name"]), None)
        return 200, {}, None

    def trigger_action(self, m: dict, q: dict, data: Any):
        key, action = (m["factory"], m["name"]), m["action"].lower()
        if (m["factory"], "trigger", m["name"]) not in self.objects:
            return 404, {}, {"error": {"code": "TriggerNotFound", "message": m["name"]}}
        if action in ("start", "stop"):
            self.trigger_state[key] = "Started" if action == "start" else "Stopped"
            return 200, {}, None
        if action == "subscribetoevents":
            self.subscriptions[key] = ["Provisioning", "Enabled"]
            return 200, {}, {"triggerName": m["name"], "status": "Provisioning"}
        if action == "unsubscribefromevents":
            self.subscriptions[key] = ["Deprovisioning", "Disabled"]
            return 200, {}, {"triggerName": m["name"], "status": "Deprovisioning"}
        statuses = self.subscriptions.setdefault(key, ["Disabled"])
        status = statuses.pop(0) if len(statuses) > 1 else statuses[0]
        return 200, {}, {"triggerName": m["name"], "status": status}

    def create_run(self, m: dict, q: dict, data: Any):
        run_id = str(uuid.uuid4())
        self.runs[run_id] = Run(run_id, m["name"], data or {}, list(self.run_script), list(self.run_activities),
                                self.run_message)
        return 200, {}, {"runId": run_id}

    def _run_body(self, run: Run, status: str) -> dict:
        ended = status in ("Succeeded", "Failed", "Cancelled")
        return {"runId": run.run_id, "pipelineName": run.pipeline, "status": status, "parameters": run.parameters,
                "runStart": "2024-06-01T10:00:00Z", "runEnd": "2024-06-01T10:05:00Z" if ended else None,
                "lastUpdated": "2024-06-01T10:05:00Z", "message": run.message if ended else ""}

    def get_run(self, m: dict, q: dict, data: Any):
        run = self.runs.get(m["run"])
        if run is None:
            return 404, {}, {"error": {"code": "PipelineRunNotFound", "message": m["run"]}}
        status = run.statuses.pop(0) if len(run.statuses) > 1 else run.statuses[0]
        return 200, {}, self._run_body(run, status)

    def query_runs(self, m: dict, q: dict, data: Any):
        done = [self._run_body(r, r.statuses[-1]) for r in self.runs.values() if r.statuses[-1] == "Succeeded"]
        return 200, {}, {"value": list(reversed(done))}

    def query_activity_runs(self, m: dict, q: dict, data: Any):
        run = self.runs.get(m["run"])
        activities = [{"pipelineName": run.pipeline, "pipelineRunId": run.run_id, "activityRunStart":
                       "2024-06-01T10:00:00Z", **a} for a in (run.activities if run else [])]
        return 200, {}, {"value": activities}

    # --- Databricks -----------------------------------------------------------------------------------------------
    def dbx_mkdirs(self, m: dict, q: dict, data: dict):
        self.folders.add(data["path"])
        return 200, {}, {}

    def dbx_import(self, m: dict, q: dict, data: dict):
        path = data["path"]
        if path in self.workspace and not data.get("overwrite"):
            return 400, {}, {"error_code": "RESOURCE_ALREADY_EXISTS", "message": f"{path} already exists"}
        if path.rsplit("/", 1)[0] not in self.folders:
            return 404, {}, {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": f"parent folder of {path}"}
        self.workspace[path] = base64.b64decode(data["content"])
        return 200, {}, {}

    def dbx_get_status(self, m: dict, q: dict, data: Any):
        path = q.get("path", [""])[0]
        if path in self.workspace:
            return 200, {}, {"path": path, "object_type": "NOTEBOOK", "language": "PYTHON"}
        return 404, {}, {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": f"Path ({path}) doesn't exist."}

    def dbx_export(self, m: dict, q: dict, data: Any):
        path = q.get("path", [""])[0]
        if path not in self.workspace:
            return 404, {}, {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": f"Path ({path}) doesn't exist."}
        return 200, {}, {"content": base64.b64encode(self.workspace[path]).decode(), "file_type": "py"}

    # --- Azure ML -------------------------------------------------------------------------------------------------
    def _ws_id(self, m: dict) -> str:
        return (f"/subscriptions/{m['sub']}/resourceGroups/{m['rg']}/providers/Microsoft.MachineLearningServices/"
                f"workspaces/{m['ws']}")

    def get_workspace(self, m: dict, q: dict, data: Any):
        return 200, {}, {"id": self._ws_id(m), "name": m["ws"], "location": LOCATION,
                         "type": "Microsoft.MachineLearningServices/workspaces", "kind": "Default",
                         "properties": {"workspaceId": "00000000-0000-0000-0000-0000000000aa",
                                        "discoveryUrl": f"{self.base_url}/discovery", "provisioningState": "Succeeded"}}

    def _endpoint_body(self, m: dict, name: str) -> dict:
        body = self.endpoints[name]
        props = dict(body.get("properties", {}))
        props.update(scoringUri=f"https://{name}.{LOCATION}.inference.ml.azure.com/jobs",
                     swaggerUri=f"https://{name}.{LOCATION}.inference.ml.azure.com/swagger.json",
                     provisioningState="Succeeded", authMode=props.get("authMode", "AADToken"))
        return {"id": f"{self._ws_id(m)}/batchEndpoints/{name}", "name": name, "location": LOCATION,
                "type": "Microsoft.MachineLearningServices/workspaces/batchEndpoints",
                "identity": {"type": "SystemAssigned"}, "properties": props}

    def get_endpoint(self, m: dict, q: dict, data: Any):
        if m["endpoint"] not in self.endpoints:
            return 404, {}, {"error": {"code": "UserError", "message": f"endpoint {m['endpoint']} not found"}}
        return 200, {}, self._endpoint_body(m, m["endpoint"])

    def put_endpoint(self, m: dict, q: dict, data: dict):
        defaults = (data.get("properties") or {}).get("defaults") or {}
        name = defaults.get("deploymentName")
        if name and (m["endpoint"], name) not in self.ml_deployments:
            return 400, {}, {"error": {"code": "UserError", "message": f"deployment {name} does not exist"}}
        self.endpoints[m["endpoint"]] = data
        return 201, self._operation({"status": "Succeeded"}), self._endpoint_body(m, m["endpoint"])

    def get_ml_deployment(self, m: dict, q: dict, data: Any):
        body = self.ml_deployments.get((m["endpoint"], m["deployment"]))
        if body is None:
            return 404, {}, {"error": {"code": "UserError", "message": f"deployment {m['deployment']} not found"}}
        return 200, {}, body

    def put_ml_deployment(self, m: dict, q: dict, data: dict):
        if m["endpoint"] not in self.endpoints:
            return 404, {}, {"error": {"code": "UserError", "message": f"endpoint {m['endpoint']} not found"}}
        props = dict(data.get("properties", {}), provisioningState="Succeeded")
        body = {"id": f"{self._ws_id(m)}/batchEndpoints/{m['endpoint']}/deployments/{m['deployment']}",
                "name": m["deployment"], "location": LOCATION,
                "type": "Microsoft.MachineLearningServices/workspaces/batchEndpoints/deployments", "properties": props}
        self.ml_deployments[(m["endpoint"], m["deployment"])] = body
        return 201, self._operation({"status": "Succeeded"}), body

    def get_compute(self, m: dict, q: dict, data: Any):
        kind = self.computes.get(m["compute"])
        if kind is None:
            return 404, {}, {"error": {"code": "ResourceNotFound", "message": f"compute {m['compute']} not found"}}
        properties: dict[str, Any] = {"computeType": kind, "computeLocation": LOCATION, "provisioningState": "Succeeded",
                                      "disableLocalAuth": True}
        if kind == "AmlCompute":
            properties["properties"] = {
                "vmSize": "STANDARD_DS3_V2", "vmPriority": "Dedicated", "osType": "Linux",
                "enableNodePublicIp": True, "remoteLoginPortPublicAccess": "Disabled",
                "scaleSettings": {"maxNodeCount": 2, "minNodeCount": 0, "nodeIdleTimeBeforeScaleDown": "PT15M"}}
        return 200, {}, {"id": f"{self._ws_id(m)}/computes/{m['compute']}", "name": m["compute"], "location": LOCATION,
                         "type": "Microsoft.MachineLearningServices/workspaces/computes",
                         "identity": {"type": "SystemAssigned", "principalId": "00000000-0000-0000-0000-0000000000cc",
                                      "tenantId": "00000000-0000-0000-0000-0000000000d1"},
                         "properties": properties}

    def get_component(self, m: dict, q: dict, data: Any):
        if (m["component"], m["version"]) not in self.components:
            return 404, {}, {"error": {"code": "UserError", "message": f"component {m['component']}:{m['version']}"}}
        return 200, {}, {"id": f"{self._ws_id(m)}/components/{m['component']}/versions/{m['version']}",
                         "name": m["version"], "type": "Microsoft.MachineLearningServices/workspaces/components/versions",
                         "properties": {"componentSpec": {"name": m["component"], "version": m["version"],
                                                          "type": "pipeline", "inputs": {}}}}


ROUTES: list[tuple[str, str, Callable]] = [
    ("GET", r"/fake/operations/(?P<op>[^/]+)", FakeAzure.get_operation),
    ("PUT", RG + r"/providers/microsoft\.resources/deployments/(?P<name>[^/]+)", FakeAzure.put_deployment),
    ("GET", RG + r"/providers/microsoft\.resources/deployments/(?P<name>[^/]+)", FakeAzure.get_deployment),
    ("GET", ADF, FakeAzure.get_factory),
    ("GET", ADF + r"/(?P<collection>triggers|pipelines|dataflows|datasets|linkedservices|integrationruntimes)",
     FakeAzure.list_objects),
    ("DELETE", ADF + r"/(?P<collection>triggers|pipelines|dataflows|datasets|linkedservices|integrationruntimes)"
     r"/(?P<name>[^/]+)", FakeAzure.delete_object),
    ("POST", ADF + r"/triggers/(?P<name>[^/]+)/(?P<action>start|stop|subscribeToEvents|unsubscribeFromEvents|"
     r"getEventSubscriptionStatus)", FakeAzure.trigger_action),
    ("POST", ADF + r"/pipelines/(?P<name>[^/]+)/createRun", FakeAzure.create_run),
    ("GET", ADF + r"/pipelineruns/(?P<run>[^/]+)", FakeAzure.get_run),
    ("POST", ADF + r"/queryPipelineRuns", FakeAzure.query_runs),
    ("POST", ADF + r"/pipelineruns/(?P<run>[^/]+)/queryActivityruns", FakeAzure.query_activity_runs),
    ("POST", r"/api/2\.0/workspace/mkdirs", FakeAzure.dbx_mkdirs),
    ("POST", r"/api/2\.0/workspace/import", FakeAzure.dbx_import),
    ("GET", r"/api/2\.0/workspace/get-status", FakeAzure.dbx_get_status),
    ("GET", r"/api/2\.0/workspace/export", FakeAzure.dbx_export),
    ("GET", AML, FakeAzure.get_workspace),
    ("GET", AML + r"/batchEndpoints/(?P<endpoint>[^/]+)", FakeAzure.get_endpoint),
    ("PUT", AML + r"/batchEndpoints/(?P<endpoint>[^/]+)", FakeAzure.put_endpoint),
    ("GET", AML + r"/batchEndpoints/(?P<endpoint>[^/]+)/deployments/(?P<deployment>[^/]+)", FakeAzure.get_ml_deployment),
    ("PUT", AML + r"/batchEndpoints/(?P<endpoint>[^/]+)/deployments/(?P<deployment>[^/]+)", FakeAzure.put_ml_deployment),
    ("GET", AML + r"/computes/(?P<compute>[^/]+)", FakeAzure.get_compute),
    ("GET", AML + r"/components/(?P<component>[^/]+)/versions/(?P<version>[^/]+)", FakeAzure.get_component),
]


def serve(fake: FakeAzure) -> ThreadingHTTPServer:
    """Start the fake on a free 127.0.0.1 port in a daemon thread; sets fake.base_url."""

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status, headers, payload = fake.handle(self.command, self.path, dict(self.headers.items()), body)
            data = b"" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("x-ms-request-id", str(uuid.uuid4()))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = _serve

        def log_message(self, fmt: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.base_url = f"http://127.0.0.1:{server.server_port}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
