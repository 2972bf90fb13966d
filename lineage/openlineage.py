"""OpenLineage run events from the local runtime: START and COMPLETE/FAIL/ABORT for every pipeline run and every
activity run, with the datasets they read and wrote (lineage/openlineage_datasets.py).

Jobs: namespace from the spec (`adf://{factory}`), `<pipeline>` for a pipeline run, `<pipeline>.<activity>` for
an activity run, whose ParentRunFacet points at its container activity or its pipeline run (root: the pipeline
run). Run ids are the ADF run ids (UUIDs; anything else becomes a deterministic uuid5, the original kept in the
`adfRun` facet).

Each Azure ML job the stand-in runs (the training) is a job of its own: namespace `azureml://{workspace}`, name
= its batch endpoint, runId from its job name (the `azuremlJob` facet keeps the name), parent and root = the
pipeline run that invoked it. It reads the manifest and the train and test blobs (named and hashed as the prep
activity's outputs) and writes the registered model version.

Plan, then apply: `OpenLineageConfig` is the spec's section as data, `transport_plan` turns it into the client's
transport settings (no secret in it), `make_client` applies it. `OpenLineageEmitter` is the engine's
RunObserver: it records what happened and one background thread builds and sends the events, so a slow or
broken lineage backend never slows or fails a run (a failed send is a logged warning).
"""
from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
import queue
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import error_message_run, parent_run
from openlineage.client.transport import get_default_factory

from lineage.openlineage_datasets import (
    PRODUCER,
    AdfRunRunFacet,
    azureml_job_facet,
    model_dataset,
    prep_datasets,
    training_inputs,
)
from local_runtime.engine import RunContext, RunObserver, observe, unobserve
from local_runtime.settings import Settings
from local_runtime.store import Store
from storage import download_bytes

log = logging.getLogger("lineage.openlineage")
DEFAULT_SECTION = {"namespace": "adf://{factory}", "transport": {"type": "file", "path": "openlineage/events.jsonl"}}
OVERRIDE_VARIABLES = ("OPENLINEAGE_URL", "OPENLINEAGE_CONFIG")
RUN_ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, PRODUCER)
END_STATES = {"Succeeded": RunState.COMPLETE, "Failed": RunState.FAIL, "Cancelled": RunState.ABORT}
AZUREML_NAMESPACE = "azureml://{workspace}"
"""Job namespace of Azure ML jobs. The naming spec ties a job namespace to the scheduler that runs the job and
has no entry for Azure ML: the workspace schedules it, and the parent facet links it to the ADF run."""
JOB_STATES = {"Running": RunState.START, "Completed": RunState.COMPLETE, "Failed": RunState.FAIL,
              "Canceled": RunState.ABORT}


@dataclass(frozen=True)
class OpenLineageConfig:
    namespace: str = DEFAULT_SECTION["namespace"]
    transport: dict = field(default_factory=lambda: dict(DEFAULT_SECTION["transport"]))
    column_types: dict[str, str] = field(default_factory=dict)
    """Data contract column -> type, for the schema facets."""

    @classmethod
    def from_spec(cls, spec: dict) -> OpenLineageConfig:
        section = (spec.get("lineage") or {}).get("openlineage") or DEFAULT_SECTION
        types = {c["name"]: c["type"] for c in (spec.get("data_contract") or {}).get("columns", [])}
        return cls(section["namespace"], dict(section["transport"]), types)

    def job_namespace(self, factory: str) -> str:
        return self.namespace.replace("{factory}", factory)


def environment_overrides(environ: Mapping[str, str]) -> list[str]:
    """The standard OpenLineage settings present in the environment; any of them takes the transport over."""
    found = [name for name in OVERRIDE_VARIABLES if environ.get(name)]
    found += sorted(name for name in environ if name.startswith("OPENLINEAGE__TRANSPORT"))
    if not found and (path := OpenLineageClient._find_yaml_config_path()):  # cwd or ~/.openlineage
        found.append(path)
    return found


def transport_plan(config: OpenLineageConfig, home: Path, environ: Mapping[str, str]) -> dict | None:
    """The client's transport settings from the spec, or None when the environment overrides them (then the
    client reads OPENLINEAGE_URL / OPENLINEAGE_API_KEY / OPENLINEAGE_CONFIG itself). An API key appears here
    only as the name of its environment variable."""
    if environment_overrides(environ):
        return None
    transport = config.transport
    if transport["type"] == "file":
        return {"type": "file", "log_file_path": str(home / transport["path"]), "append": True}
    plan = {"type": "http", "url": transport["url"], "endpoint": transport.get("endpoint", "api/v1/lineage")}
    if transport.get("api_key_env"):
        plan["api_key_env"] = transport["api_key_env"]
    return plan


def make_client(config: OpenLineageConfig, home: Path, environ: Mapping[str, str] = os.environ) -> OpenLineageClient:
    plan = transport_plan(config, home, environ)
    if plan is None:
        log.info("OpenLineage transport from the environment (%s)", ", ".join(environment_overrides(environ)))
        return OpenLineageClient()
    settings = dict(plan)
    key_variable = settings.pop("api_key_env", None)
    if key_variable and environ.get(key_variable):
        settings["auth"] = {"type": "api_key", "apiKey": environ[key_variable]}
    elif key_variable:
        log.warning("OpenLineage: %s is not set; sending events without an API key", key_variable)
    if settings["type"] == "file":
        Path(settings["log_file_path"]).parent.mkdir(parents=True, exist_ok=True)
    where = settings.get("log_file_path") or f"{settings['url'].rstrip('/')}/{settings['endpoint'].lstrip('/')}"
    log.info("OpenLineage events go to %s", where)
    return OpenLineageClient(transport=get_default_factory().create(settings))


def run_uuid(run_id: str) -> str:
    """The OpenLineage runId of an ADF run id: the id itself when it is a UUID, else a stable uuid5 of it."""
    try:
        return str(uuid.UUID(run_id))
    except ValueError:
        return str(uuid.uuid5(RUN_ID_NAMESPACE, run_id))


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _parent(namespace: str, run_id: str, job: str, root_id: str, root_job: str) -> parent_run.ParentRunFacet:
    return parent_run.ParentRunFacet(
        run=parent_run.Run(runId=run_uuid(run_id)), job=parent_run.Job(namespace=namespace, name=job),
        root=parent_run.Root(run=parent_run.RootRun(runId=run_uuid(root_id)),
                             job=parent_run.RootJob(namespace=namespace, name=root_job)),
        producer=PRODUCER)


def azureml_namespace(workspace_id: str) -> str:
    """`azureml://<workspace name>` of a workspace's Azure resource id."""
    return AZUREML_NAMESPACE.format(workspace=workspace_id.rstrip("/").rsplit("/", 1)[-1])


def build_event(state: RunState, when: str, namespace: str, job: str, run_id: str, own: dict[str, Any],
                parent: parent_run.ParentRunFacet | None = None, error: str | None = None,
                inputs: list[InputDataset] | None = None, outputs: list[OutputDataset] | None = None) -> RunEvent:
    """`own` is the run facet of the system that ran it (`adfRun`, `azuremlJob`), which keeps `run_id` verbatim."""
    facets: dict[str, Any] = dict(own)
    if parent is not None:
        facets["parent"] = parent
    if error:
        facets["errorMessage"] = error_message_run.ErrorMessageRunFacet(
            message=error, programmingLanguage="python", producer=PRODUCER)
    return RunEvent(eventType=state, eventTime=when, producer=PRODUCER, run=Run(runId=run_uuid(run_id), facets=facets),
                    job=Job(namespace=namespace, name=job), inputs=inputs or [], outputs=outputs or [])


class OpenLineageEmitter(RunObserver):
    """Sends one START and one COMPLETE/FAIL/ABORT event per pipeline run and activity run, in the order the
    engine reports them, from a single background thread. Activities that do not run in a run (Skipped, or
    reused by a rerun from the failed activity) emit nothing; each retry attempt is a run of its own. Also the
    Azure ML stand-in's JobObserver: one START and one COMPLETE/FAIL/ABORT per job it runs."""

    def __init__(self, client: OpenLineageClient, config: OpenLineageConfig, store: Store, settings: Settings,
                 fetch: Callable[[str], bytes] | None = None):
        self.client, self.config, self.store, self.settings = client, config, store, settings
        self.fetch = fetch or download_bytes
        self._jobs: dict[str, str] = {}  # activity run id -> its job name, while it runs (parents of nested runs)
        self._job_inputs: dict[str, list] = {}  # Azure ML job name -> what it reads, from its START to its end
        self._queue: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._drain, daemon=True, name="openlineage")
        self._thread.start()

    # --- RunObserver: record, queue, return --------------------------------------------------------------
    def pipeline_started(self, run: dict) -> None:
        self._queue.put((self._pipeline_event, (dict(run), RunState.START, "InProgress", None, _now())))

    def pipeline_ended(self, run: dict, status: str, message: str | None) -> None:
        self._queue.put((self._pipeline_event, (dict(run), END_STATES.get(status, RunState.OTHER), status, message,
                                                _now())))

    def activity_started(self, rc: RunContext, activity: dict, activity_run_id: str) -> None:
        job = f"{rc.pipeline_name}.{activity['name']}"
        self._jobs[activity_run_id] = job
        parent_job = self._jobs.get(rc.parent, rc.pipeline_name) if rc.parent else rc.pipeline_name
        self._queue.put((self._activity_event, (rc.factory, rc.run_id, rc.pipeline_name, rc.parent or rc.run_id,
                                                parent_job, job, activity, activity_run_id, "InProgress", None, None,
                                                _now())))

    def activity_ended(self, rc: RunContext, activity: dict, activity_run_id: str, status: str, output: Any,
                       error: dict | None) -> None:
        job = self._jobs.pop(activity_run_id, f"{rc.pipeline_name}.{activity['name']}")
        parent_job = self._jobs.get(rc.parent, rc.pipeline_name) if rc.parent else rc.pipeline_name
        self._queue.put((self._activity_event, (rc.factory, rc.run_id, rc.pipeline_name, rc.parent or rc.run_id,
                                                parent_job, job, activity, activity_run_id, status, output, error,
                                                _now())))

    # --- the Azure ML stand-in's JobObserver -------------------------------------------------------------
    def job_started(self, job: dict, workspace_id: str) -> None:
        self._queue.put((self._job_event, (copy.deepcopy(job), workspace_id, _now())))

    def job_ended(self, job: dict, workspace_id: str) -> None:
        self._queue.put((self._job_event, (copy.deepcopy(job), workspace_id, _now())))

    # --- the background thread ---------------------------------------------------------------------------
    def _drain(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                if isinstance(item, threading.Event):
                    item.set()
                    continue
                build, args = item
                self.client.emit(build(*args))
            except Exception as exc:  # a lineage backend that is down must not take the runtime with it
                log.warning("OpenLineage event not sent: %s: %s", type(exc).__name__, exc)
            finally:
                self._queue.task_done()

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every event reported so far has been sent (or failed); False on timeout."""
        done = threading.Event()
        self._queue.put(done)
        return done.wait(timeout)

    def close(self, timeout: float = 30.0) -> None:
        """Stop observing, send what is queued (up to `timeout`), stop the thread."""
        unobserve(self.store, self)
        self.flush(timeout)
        self._queue.put(None)
        self._thread.join(timeout)
        self.client.close(timeout)

    # --- events ------------------------------------------------------------------------------------------
    def _pipeline_event(self, run: dict, state: RunState, status: str, message: str | None, when: str) -> RunEvent:
        namespace = self.config.job_namespace(run["factory"])
        trigger = run.get("trigger") or {}
        parent = None
        if run.get("invoked_by") == "PipelineActivity" and trigger.get("id"):  # a child run of ExecutePipeline
            parent = _parent(namespace, trigger["id"], f"{trigger['pipelineName']}.{trigger['name']}",
                             trigger["pipelineRunId"], trigger["pipelineName"])
        inputs, outputs = ([], []) if state == RunState.START else self._run_datasets(run["run_id"])
        adf = AdfRunRunFacet(runId=run["run_id"], status=status, producer=PRODUCER)
        return build_event(state, when, namespace, run["pipeline"], adf.runId, {"adfRun": adf}, parent,
                           message if state in (RunState.FAIL, RunState.ABORT) else None, inputs, outputs)

    def _activity_event(self, factory: str, run_id: str, pipeline: str, parent_id: str, parent_job: str, job: str,
                        activity: dict, activity_run_id: str, status: str, output: Any, error: dict | None,
                        when: str) -> RunEvent:
        namespace = self.config.job_namespace(factory)
        state = RunState.START if status == "InProgress" else END_STATES.get(status, RunState.OTHER)
        inputs, outputs = [], []
        if status == "Succeeded" and (reader := DATASET_READERS.get(activity["type"])):
            inputs, outputs = reader(self, output)
        adf = AdfRunRunFacet(runId=activity_run_id, status=status, activityType=activity["type"],
                             errorCode=(error or {}).get("errorCode"), producer=PRODUCER)
        return build_event(state, when, namespace, job, activity_run_id, {"adfRun": adf},
                           _parent(namespace, parent_id, parent_job, run_id, pipeline),
                           (error or {}).get("message") if state != RunState.COMPLETE else None, inputs, outputs)

    def _job_event(self, job: dict, workspace_id: str, when: str) -> RunEvent:
        state = JOB_STATES.get(job["status"], RunState.OTHER)
        given = job["request"].get("properties", {}).get("InputData") or {}
        known = self._job_inputs.pop(job["name"], None)  # read once at START: its end reports the same
        inputs = known if known is not None else self._training_inputs((given.get("manifest") or {}).get("Uri"))
        if state == RunState.START:
            self._job_inputs[job["name"]] = inputs
        model = model_dataset(self.settings.mlflow_tracking_uri, job["outputs"] or {}) \
            if state == RunState.COMPLETE else None
        return build_event(state, when, azureml_namespace(workspace_id), job["endpoint"], job["name"],
                           {"azuremlJob": azureml_job_facet(job, workspace_id)},
                           self._invoker((given.get("pipeline_run_id") or {}).get("Value")),
                           (job.get("error") or job["status"]) if state in (RunState.FAIL, RunState.ABORT) else None,
                           inputs, [model] if model else [])

    def _invoker(self, pipeline_run_id: str | None) -> parent_run.ParentRunFacet | None:
        """Parent (and root) of an Azure ML job: the ADF pipeline run that invoked it, when this runtime ran it."""
        run = self.store.run(pipeline_run_id) if pipeline_run_id else None
        if run is None:
            return None
        namespace = self.config.job_namespace(run["factory"])
        return _parent(namespace, run["run_id"], run["pipeline"], run["run_id"], run["pipeline"])

    def _training_inputs(self, manifest_url: str | None) -> list[InputDataset]:
        """What a training job reads, from the manifest it was given; nothing (and a warning) when the manifest
        cannot be read or is not one: the job's events are still sent."""
        if not manifest_url:
            return []
        try:
            body = self.fetch(manifest_url)
            return training_inputs(json.loads(body), manifest_url, hashlib.sha256(body).hexdigest(), len(body),
                                   self.config.column_types)
        except Exception as exc:
            log.warning("OpenLineage: the training job's inputs are left out, manifest %s: %s: %s", manifest_url,
                        type(exc).__name__, exc)
            return []

    def _prep_datasets(self, output: Any) -> tuple[list, list]:
        result = (output or {}).get("runOutput") if isinstance(output, dict) else None
        if not isinstance(result, dict) or not result.get("manifest_url"):
            return [], []
        body = self.fetch(result["manifest_url"])
        digest = result.get("manifest_sha256") or hashlib.sha256(body).hexdigest()
        return prep_datasets(json.loads(body), result["manifest_url"], digest, len(body), self.config.column_types)

    def _run_datasets(self, run_id: str) -> tuple[list, list]:
        """A pipeline run's datasets: what its data-prep activity read and wrote, and the model version its
        training job registered."""
        inputs: list = []
        outputs: list = []
        for record in self.store.activity_runs(run_id):
            if record["status"] != "Succeeded":
                continue
            if record["type"] == "DatabricksNotebook":
                found_in, found_out = self._prep_datasets(record["output"])
                inputs += found_in
                outputs += found_out
            name = str((record["output"] or {}).get("name", "")) if isinstance(record["output"], dict) else ""
            if record["type"] == "WebActivity" and name.startswith("batchjob-"):
                job = self.store.job(name)
                if job and job["status"] == "Completed" and (model := model_dataset(
                        self.settings.mlflow_tracking_uri, job["outputs"] or {})):
                    outputs.append(model)
        return _unique(inputs), _unique(outputs)


def _unique(datasets: list) -> list:
    seen, kept = set(), []
    for dataset in datasets:
        if (dataset.namespace, dataset.name) not in seen:
            seen.add((dataset.namespace, dataset.name))
            kept.append(dataset)
    return kept


DATASET_READERS: dict[str, Callable[[OpenLineageEmitter, Any], tuple[list, list]]] = {
    "DatabricksNotebook": OpenLineageEmitter._prep_datasets,
}
"""Activity type -> what a succeeded activity of that type read and wrote, from its output."""


def attach(store: Store, settings: Settings, spec: dict | None = None,
           environ: Mapping[str, str] = os.environ) -> OpenLineageEmitter:
    """Emit OpenLineage events for every run executed against `store` (what the service does at start)."""
    if spec is None:
        from generator.spec import load_spec

        spec = load_spec().data
    config = OpenLineageConfig.from_spec(spec)
    emitter = OpenLineageEmitter(make_client(config, settings.home, environ), config, store, settings)
    observe(store, emitter)
    return emitter
