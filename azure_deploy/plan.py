"""A deploy as data: one small frozen dataclass per step, computed from the source and the current state
with no side effects, printed before anything runs; `steps.apply` carries it out in order.

Order (Microsoft's PrePostDeploymentScript, plus the code the pipeline runs): stop the started triggers the
deployment changes or removes (blob triggers also leave Event Grid) -> ARM deployment (incremental) ->
delete what the source no longer has (triggers, pipelines in dependency order, dataflows, datasets, linked
services with Key Vault last, integration runtimes) -> notebooks into Databricks -> training pipeline to its
Azure ML batch endpoint -> start the triggers the source marks Started that are not running as deployed.
Notebooks and the endpoint are in place before any trigger starts a run that needs them.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from azure_deploy.azureml import EndpointState, TrainingRelease
from azure_deploy.factory import FactoryState, normalize
from azure_deploy.source import DELETE_ORDER, ObjectKey, Source
from generator.diff import Diff, diff_objects, render_lines


@dataclass(frozen=True)
class StopTrigger:
    name: str
    blob_events: bool
    reason: str

    def __str__(self) -> str:
        events = " and unsubscribe it from storage events (wait until Disabled)" if self.blob_events else ""
        return f"stop trigger {self.name}{events}: {self.reason}"


@dataclass(frozen=True)
class DeployTemplate:
    deployment: str
    resource_group: str
    summary: str

    def __str__(self) -> str:
        return (f"deploy ARM template as deployment {self.deployment} to resource group {self.resource_group} "
                f"(incremental): {self.summary}")


@dataclass(frozen=True)
class DeleteObject:
    folder: str
    name: str

    def __str__(self) -> str:
        return f"delete {self.folder} {self.name} (not in the source)"


@dataclass(frozen=True)
class UploadNotebook:
    local_path: str
    workspace_path: str
    reason: str

    def __str__(self) -> str:
        return f"import notebook {self.local_path} to Databricks {self.workspace_path} (SOURCE, PYTHON): {self.reason}"


@dataclass(frozen=True)
class RegisterComponent:
    release: TrainingRelease

    def __str__(self) -> str:
        return f"register Azure ML pipeline component {self.release.component} version {self.release.version}"


@dataclass(frozen=True)
class EnsureEndpoint:
    release: TrainingRelease

    def __str__(self) -> str:
        return f"create batch endpoint {self.release.endpoint} (the URI the factory's StartTrainingJob posts to)"


@dataclass(frozen=True)
class DeployComponent:
    release: TrainingRelease

    def __str__(self) -> str:
        r = self.release
        return f"create batch deployment {r.deployment} of {r.component}:{r.version} on endpoint {r.endpoint}"


@dataclass(frozen=True)
class SetDefaultDeployment:
    release: TrainingRelease
    previous: str | None

    def __str__(self) -> str:
        r = self.release
        return f"make {r.deployment} the default deployment of {r.endpoint} (was {self.previous or 'none'})"


@dataclass(frozen=True)
class StartTrigger:
    name: str
    blob_events: bool
    reason: str

    def __str__(self) -> str:
        events = f"subscribe trigger {self.name} to storage events (wait until Enabled), then " \
            if self.blob_events else ""
        return f"{events}start trigger {self.name}: {self.reason}"


Step = (StopTrigger | DeployTemplate | DeleteObject | UploadNotebook | RegisterComponent | EnsureEndpoint
        | DeployComponent | SetDefaultDeployment | StartTrigger)


@dataclass
class Plan:
    env: str
    factory: str
    steps: list[Step] = field(default_factory=list)
    diff_lines: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def describe(self) -> list[str]:
        lines = [f"deploy plan for {self.env} (factory {self.factory}): {len(self.steps)} step(s)"]
        lines += [f"  note: {note}" for note in self.notes]
        if self.diff_lines:
            lines.append("  factory changes:")
            lines += [f"    {line}" for line in self.diff_lines]
        lines += [f"  {i}. {step}" for i, step in enumerate(self.steps, 1)]
        lines += [f"  unchanged: {item}" for item in self.unchanged]
        return lines


# --- computing ----------------------------------------------------------------------------------------------------
def _blob_trigger(source: Source, state: FactoryState | None, name: str) -> bool:
    body = source.objects.get(("trigger", name)) or (state.objects.get(("trigger", name)) if state else None) or {}
    return body.get("properties", {}).get("type") == "BlobEventsTrigger"


def _references(body: dict) -> set[str]:
    """Pipelines an ExecutePipeline activity (at any depth) of this pipeline calls."""
    found: set[str] = set()

    def walk(value):
        if isinstance(value, dict):
            if value.get("type") == "PipelineReference" and isinstance(value.get("referenceName"), str):
                found.add(value["referenceName"])
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
    walk(body.get("properties", {}))
    return found


def delete_order(keys: list[ObjectKey], bodies: dict[ObjectKey, dict]) -> list[ObjectKey]:
    """Triggers, pipelines (callers before the pipelines they call), dataflows, datasets, linked services (Key
    Vault last: others may read their secrets through it), integration runtimes."""
    result: list[ObjectKey] = []
    for folder in DELETE_ORDER:
        names = sorted(name for f, name in keys if f == folder)
        if folder == "pipeline":
            remaining, ordered = set(names), []
            while remaining:
                called = set().union(*(_references(bodies.get(("pipeline", n), {})) for n in remaining))
                ready = sorted(n for n in remaining if n not in called) or sorted(remaining)  # a cycle: any order
                ordered += ready
                remaining -= set(ready)
            names = ordered
        if folder == "linkedService":
            names.sort(key=lambda n: (bodies.get((folder, n), {}).get("properties", {}).get("type") == "AzureKeyVault", n))
        result += [(folder, n) for n in names]
    return result


def factory_steps(source: Source, state: FactoryState | None, deployment: str, resource_group: str,
                  plan: Plan) -> tuple[list[Step], list[Step], list[Step], list[Step]]:
    """(stops, [deploy], deletes, starts) for the factory part of the plan."""
    desired = {key: normalize(key[0], body) for key, body in source.objects.items()}
    if state is None:
        plan.notes.append("current state unknown (no Azure credentials, or a dry run told not to read it): "
                          "every Started trigger in the source is listed as a conditional stop/start, and "
                          "deletions are computed from the factory's listing when the deploy runs")
        stops = [StopTrigger(n, _blob_trigger(source, None, n), "if it is running and the deployment changes it")
                 for n in source.started_triggers()]
        summary = f"{len(desired)} object(s) from the source, current state unknown"
        starts = [StartTrigger(n, _blob_trigger(source, None, n), "runtimeState Started in the source, if not running")
                  for n in source.started_triggers()]
        return stops, [DeployTemplate(deployment, resource_group, summary)], [], starts
    current = {}
    for key, body in state.objects.items():
        body = {**body, "properties": dict(body["properties"])}
        if key[0] == "trigger" and key in desired:  # runtimeState is the trigger's state, not its content
            body["properties"]["runtimeState"] = desired[key]["properties"].get("runtimeState")
        current[key] = body
    diff: Diff = diff_objects(current, desired, state.started)
    plan.diff_lines = render_lines(diff)
    counts = {kind: len(diff.keys(kind)) for kind in ("added", "changed", "removed")}
    touched = {(o.folder, o.name) for o in diff.objects}
    plan.unchanged += [f"{f} {n}" for f, n in sorted(desired) if (f, n) in current and (f, n) not in touched]
    stops = [StopTrigger(s.trigger, _blob_trigger(source, state, s.trigger), s.reason)
             for s in diff.triggers if s.action == "stop"]
    starts = [StartTrigger(s.trigger, _blob_trigger(source, state, s.trigger), s.reason)
              for s in diff.triggers if s.action == "start"]
    summary = f"{counts['added']} to add, {counts['changed']} to change, {len(plan.unchanged)} unchanged"
    deletes = [DeleteObject(f, n) for f, n in delete_order(diff.keys("removed"), current)]
    return stops, [DeployTemplate(deployment, resource_group, summary)], deletes, starts


def notebook_steps(source: Source, current: dict[str, bool] | None, plan: Plan) -> list[Step]:
    steps: list[Step] = []
    for nb in source.notebooks:
        is_current = current.get(nb.workspace_path) if current is not None else None
        if is_current:
            plan.unchanged.append(f"notebook {nb.workspace_path}")
            continue
        reason = {None: "workspace state unknown", False: "missing or different in the workspace"}[is_current]
        steps.append(UploadNotebook(nb.local_path.name, nb.workspace_path, f"{reason} (used by {nb.activity})"))
    return steps


def training_steps(release: TrainingRelease, state: EndpointState | None, plan: Plan) -> list[Step]:
    if state is None:
        return [RegisterComponent(release), EnsureEndpoint(release), DeployComponent(release),
                SetDefaultDeployment(release, "unknown")]
    steps: list[Step] = []
    if not state.component_registered:
        steps.append(RegisterComponent(release))
    if not state.endpoint_exists:
        steps.append(EnsureEndpoint(release))
    if not state.deployment_exists:
        steps.append(DeployComponent(release))
    if state.default_deployment != release.deployment:
        steps.append(SetDefaultDeployment(release, state.default_deployment))
    if not steps:
        plan.unchanged.append(f"batch endpoint {release.endpoint} -> {release.deployment} "
                              f"({release.component}:{release.version})")
    return steps


def make_plan(env: str, factory: str, source: Source, deployment: str, resource_group: str,
              state: FactoryState | None, notebooks: dict[str, bool] | None, release: TrainingRelease,
              endpoint: EndpointState | None) -> Plan:
    plan = Plan(env, factory)
    stops, deploy, deletes, starts = factory_steps(source, state, deployment, resource_group, plan)
    plan.steps = [*stops, *deploy, *deletes, *notebook_steps(source, notebooks, plan),
                  *training_steps(release, endpoint, plan), *starts]
    return plan
