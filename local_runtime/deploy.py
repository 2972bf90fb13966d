"""Deploy an environment's ARM template + parameters file to the local runtime: plan, then apply.

The same artifacts that would go to Azure: resolve the template's expressions, then, like Microsoft's
PrePostDeploymentScript, stop the triggers the deployment touches, upsert objects, delete objects no longer
in the template (triggers first), create the storage containers the datasets and triggers name, and start
the triggers whose runtimeState is Started.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local_runtime.arm import resolve
from local_runtime.errors import DeployError
from local_runtime.settings import Settings
from local_runtime.store import Store, utcnow
from storage import ensure_containers

RESOURCE_FOLDERS = {
    "Microsoft.DataFactory/factories/linkedServices": "linkedService",
    "Microsoft.DataFactory/factories/datasets": "dataset",
    "Microsoft.DataFactory/factories/pipelines": "pipeline",
    "Microsoft.DataFactory/factories/triggers": "trigger",
}
DELETE_ORDER = ["trigger", "pipeline", "dataset", "linkedService"]


@dataclass
class DeployPlan:
    factory: str
    objects: dict[tuple[str, str], dict]
    add: list[tuple[str, str]] = field(default_factory=list)
    update: list[tuple[str, str]] = field(default_factory=list)
    delete: list[tuple[str, str]] = field(default_factory=list)
    unchanged: list[tuple[str, str]] = field(default_factory=list)
    start_triggers: list[str] = field(default_factory=list)
    containers: dict[str, list[str]] = field(default_factory=dict)  # account url -> container names
    template_sha256: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> list[str]:
        lines = [f"deploy plan for factory {self.factory}:"]
        for verb, items in (("add", self.add), ("update", self.update), ("delete", self.delete)):
            lines += [f"  {verb:<8}{folder}/{name}" for folder, name in items]
        lines.append(f"  unchanged {len(self.unchanged)} object(s)")
        for account, names in self.containers.items():
            lines.append(f"  containers on {account}: {', '.join(names)}")
        lines += [f"  start   trigger/{name}" for name in self.start_triggers]
        return lines


def storage_account_url(settings: Settings, scope: str) -> str:
    """Map a storage account ARM id (a trigger's scope) onto the local Azurite."""
    parts = scope.strip("/").split("/")
    if len(parts) < 8 or parts[-2].lower() != "storageaccounts":
        raise DeployError(f"trigger scope {scope!r} is not a storage account id "
                          "(/subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.Storage/storageAccounts/<name>)")
    return settings.azurite_account_url(parts[-1])


def plan(store: Store, settings: Settings, template: dict, parameter_values: dict[str, Any]) -> DeployPlan:
    resources = resolve(template, parameter_values)
    objects: dict[tuple[str, str], dict] = {}
    factories = set()
    for resource in resources:
        folder = RESOURCE_FOLDERS.get(resource["type"])
        if folder is None:
            raise DeployError(f"resource type {resource['type']} cannot be deployed locally yet")
        factory, _, name = resource["name"].partition("/")
        factories.add(factory)
        objects[(folder, name)] = {"name": name, "properties": resource["properties"]}
    if len(factories) != 1:
        raise DeployError(f"the template must deploy exactly one factory, found {sorted(factories) or 'none'}")
    factory = factories.pop()
    current = store.objects(factory)
    result = DeployPlan(factory, objects, parameters=parameter_values,
                        template_sha256=hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest())
    for key, body in sorted(objects.items()):
        if key not in current:
            result.add.append(key)
        elif current[key] != body:
            result.update.append(key)
        else:
            result.unchanged.append(key)
    result.delete = sorted((k for k in current if k not in objects), key=lambda k: DELETE_ORDER.index(k[0]))
    linked = {name: body for (folder, name), body in objects.items() if folder == "linkedService"}
    for (folder, name), body in sorted(objects.items()):
        props = body["properties"]
        if folder == "dataset":
            container = props.get("typeProperties", {}).get("location", {}).get("container")
            endpoint = linked.get(props["linkedServiceName"]["referenceName"], {}).get("properties", {}) \
                .get("typeProperties", {}).get("serviceEndpoint")
            if isinstance(container, str) and isinstance(endpoint, str):
                result.containers.setdefault(endpoint.rstrip("/"), []).append(container)
        if folder == "trigger":
            if props.get("runtimeState") == "Started":
                result.start_triggers.append(name)
            if props.get("type") == "BlobEventsTrigger":
                tp = props["typeProperties"]
                container = tp.get("blobPathBeginsWith", "/").split("/")[1]
                if container:
                    result.containers.setdefault(storage_account_url(settings, tp["scope"]), []).append(container)
    result.containers = {k: sorted(set(v)) for k, v in result.containers.items()}
    return result


def apply(store: Store, deploy_plan: DeployPlan) -> None:
    for account_url, names in deploy_plan.containers.items():
        ensure_containers(account_url, names)
    factory, now = deploy_plan.factory, utcnow()
    previous = store.trigger_states(factory)
    touched_triggers = {name for folder, name in deploy_plan.add + deploy_plan.update + deploy_plan.delete
                        if folder == "trigger"}
    with store.transaction() as db:
        for name in touched_triggers:  # stop before changing, as the PrePostDeploymentScript does
            db.execute("UPDATE trigger_state SET runtime_state='Stopped' WHERE factory=? AND name=?", [factory, name])
        for folder, name in deploy_plan.add + deploy_plan.update:
            db.execute("INSERT OR REPLACE INTO objects (factory, folder, name, body) VALUES (?,?,?,?)",
                       [factory, folder, name, json.dumps(deploy_plan.objects[(folder, name)])])
        for folder, name in deploy_plan.delete:
            db.execute("DELETE FROM objects WHERE factory=? AND folder=? AND name=?", [factory, folder, name])
            if folder == "trigger":
                db.execute("DELETE FROM trigger_state WHERE factory=? AND name=?", [factory, name])
        for name in deploy_plan.start_triggers:
            before = previous.get(name)
            # An untouched, running trigger keeps its start time: blobs dropped since then still fire.
            keep = before and before["runtime_state"] == "Started" and name not in touched_triggers
            db.execute("INSERT OR REPLACE INTO trigger_state (factory, name, runtime_state, started_at) VALUES (?,?,?,?)",
                       [factory, name, "Started", before["started_at"] if keep else now])
        db.execute("INSERT OR REPLACE INTO deployments (factory, deployed_at, template_sha256, parameters) VALUES (?,?,?,?)",
                   [factory, now, deploy_plan.template_sha256, json.dumps(deploy_plan.parameters)])


def load_arm(template_path: Path, parameters_path: Path, overrides: dict[str, Any]) -> tuple[dict, dict[str, Any]]:
    for path in (template_path, parameters_path):
        if not path.exists():
            raise DeployError(f"{path} does not exist; run `make generate` first")
    template = json.loads(template_path.read_text())
    params_file = json.loads(parameters_path.read_text())
    values = {}
    for name, entry in params_file.get("parameters", {}).items():
        if "reference" in entry:
            raise DeployError(f"parameter {name} is a Key Vault reference; the local runtime has no Key Vault, "
                              "give local environments plain values")
        values[name] = entry["value"]
    values.update(overrides)
    return template, values
