"""Deploy an environment's ARM template + parameters file to the local runtime: plan, then apply.

The same artifacts that would go to Azure: resolve the template's expressions, then, like Microsoft's
PrePostDeploymentScript, stop the started triggers the deployment changes or deletes, upsert objects, delete
objects no longer in the template (triggers first), create the storage containers the datasets and triggers
name, and start the triggers whose runtimeState is Started.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.diff import Diff, diff_objects, render_lines, to_json as diff_json
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
    """What a deploy will do, as data: the semantic diff against the deployed factory (which also says which
    triggers stop and start) plus the containers it makes sure exist. `apply` carries it out."""
    factory: str
    objects: dict[tuple[str, str], dict]
    diff: Diff = field(default_factory=Diff)
    unchanged: list[tuple[str, str]] = field(default_factory=list)
    start_triggers: list[str] = field(default_factory=list)  # every trigger Started in the target
    containers: dict[str, list[str]] = field(default_factory=dict)  # account url -> container names
    template_sha256: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def add(self) -> list[tuple[str, str]]:
        return self.diff.keys("added")

    @property
    def update(self) -> list[tuple[str, str]]:
        return self.diff.keys("changed")

    @property
    def delete(self) -> list[tuple[str, str]]:
        return sorted(self.diff.keys("removed"), key=lambda k: DELETE_ORDER.index(k[0]))

    @property
    def stop_triggers(self) -> list[str]:
        return [s.trigger for s in self.diff.triggers if s.action == "stop"]

    def describe(self) -> list[str]:
        lines = [f"deploy plan for factory {self.factory}: {len(self.add)} to add, {len(self.update)} to change, "
                 f"{len(self.delete)} to delete, {len(self.unchanged)} unchanged"]
        lines += [f"  {line}" for line in render_lines(self.diff)]
        lines += [f"  ensure containers on {account}: {', '.join(names)}" for account, names in self.containers.items()]
        return lines

    def to_json(self) -> dict:
        return {"factory": self.factory, **diff_json(self.diff),
                "unchanged": [f"{folder}/{name}" for folder, name in self.unchanged],
                "containers": self.containers}


class DeployedState:
    """A read-only view of what is deployed, for `plan`: Store() would create a missing file and migrate an old
    one, so this opens the file read-only (or not at all when it does not exist yet)."""

    def __init__(self, db_path: Path):
        self.path = Path(db_path)

    def _rows(self, query: str, args: list) -> list[sqlite3.Row]:
        if not self.path.exists():
            return []
        db = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
        db.row_factory = sqlite3.Row
        try:
            return db.execute(query, args).fetchall()
        except sqlite3.Error as exc:
            raise DeployError(f"cannot read the local runtime's store {self.path}: {exc}") from None
        finally:
            db.close()

    def objects(self, factory: str) -> dict[tuple[str, str], dict]:
        rows = self._rows("SELECT folder, name, body FROM objects WHERE factory=?", [factory])
        return {(r["folder"], r["name"]): json.loads(r["body"]) for r in rows}

    def trigger_states(self, factory: str) -> dict[str, dict]:
        return {r["name"]: dict(r) for r in self._rows("SELECT * FROM trigger_state WHERE factory=?", [factory])}


def storage_account_url(settings: Settings, scope: str) -> str:
    """Map a storage account ARM id (a trigger's scope) onto the local Azurite."""
    parts = scope.strip("/").split("/")
    if len(parts) < 8 or parts[-2].lower() != "storageaccounts":
        raise DeployError(f"trigger scope {scope!r} is not a storage account id "
                          "(/subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.Storage/storageAccounts/<name>)")
    return settings.azurite_account_url(parts[-1])


def plan(store: Store | DeployedState | None, settings: Settings, template: dict,
         parameter_values: dict[str, Any]) -> DeployPlan:
    """Compute the deploy without side effects; `store` None means nothing is deployed."""
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
    current = store.objects(factory) if store else {}
    states = store.trigger_states(factory) if store else {}
    running = {name for name, state in states.items() if state["runtime_state"] == "Started"}
    diff = diff_objects(current, objects, running)
    result = DeployPlan(factory, objects, diff, parameters=parameter_values,
                        template_sha256=hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest())
    touched = {(o.folder, o.name) for o in diff.objects}
    result.unchanged = sorted(key for key in objects if key in current and key not in touched)
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
    stops = deploy_plan.stop_triggers
    # A trigger that was stopped, added or changed restarts now; an untouched running one keeps its start time
    # (blobs dropped since then still fire).
    restarted = {*stops, *(name for folder, name in deploy_plan.add + deploy_plan.update if folder == "trigger")}
    with store.transaction() as db:
        for name in stops:  # stop before changing, as the PrePostDeploymentScript does
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
            keep = before and before["runtime_state"] == "Started" and name not in restarted
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
