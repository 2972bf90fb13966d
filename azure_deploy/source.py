"""What the repository says the environment should be: the generated ARM template and the environment's
parameters file, resolved into factory objects `{(folder, name): {"name", "properties"}}`, plus the notebooks
the pipelines run. Pure reading; nothing here talks to Azure."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from azure_deploy.errors import ConfigError
from azure_deploy.target import Target

# ARM resource type -> ADF git-layout folder, and the PrePostDeploymentScript's delete order.
FOLDERS = {
    "Microsoft.DataFactory/factories/triggers": "trigger",
    "Microsoft.DataFactory/factories/pipelines": "pipeline",
    "Microsoft.DataFactory/factories/dataflows": "dataflow",
    "Microsoft.DataFactory/factories/datasets": "dataset",
    "Microsoft.DataFactory/factories/linkedServices": "linkedService",
    "Microsoft.DataFactory/factories/integrationRuntimes": "integrationRuntime",
}
DELETE_ORDER = list(FOLDERS.values())
KEY_VAULT_REFERENCE = "<Key Vault reference, resolved by ARM>"

ObjectKey = tuple[str, str]


@dataclass(frozen=True)
class Notebook:
    local_path: Path
    workspace_path: str
    activity: str  # pipeline/activity that runs it

    def content(self) -> bytes:
        return self.local_path.read_bytes()


@dataclass(frozen=True)
class Source:
    template: dict
    parameters: dict            # the parameters file's "parameters" object, passed to ARM unchanged
    objects: dict[ObjectKey, dict]
    notebooks: tuple[Notebook, ...]

    @property
    def sha256(self) -> str:
        """Hash of what the ARM deployment sends: same hash, same deployment content."""
        body = json.dumps({"template": self.template, "parameters": self.parameters}, sort_keys=True)
        return hashlib.sha256(body.encode()).hexdigest()

    def started_triggers(self) -> list[str]:
        return sorted(name for (folder, name), body in self.objects.items()
                      if folder == "trigger" and body["properties"].get("runtimeState") == "Started")


def _read_json(path: Path) -> dict:
    if not path.exists():
        raise ConfigError(f"{path} does not exist\n  fix: run `make generate`")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not JSON ({exc.msg} at line {exc.lineno})\n  fix: run `make generate`") from None


def _values(parameters: dict) -> dict[str, Any]:
    values = {}
    for name, entry in parameters.items():
        values[name] = KEY_VAULT_REFERENCE if "reference" in entry else entry.get("value")
    return values


def _activities(activities: list[dict]) -> Iterator[dict]:
    """Every activity, nested ones (ForEach, Until, If, Switch) included."""
    for activity in activities:
        yield activity
        tp = activity.get("typeProperties", {})
        for key in ("activities", "ifTrueActivities", "ifFalseActivities", "defaultActivities"):
            yield from _activities(tp.get(key) or [])
        for case in tp.get("cases") or []:
            yield from _activities(case.get("activities") or [])


def notebooks_of(objects: dict[ObjectKey, dict], notebooks_dir: Path) -> tuple[Notebook, ...]:
    """notebooks/<name>.py for every DatabricksNotebook activity whose notebookPath ends in <name>."""
    found: dict[str, Notebook] = {}
    for (folder, pipeline), body in sorted(objects.items()):
        if folder != "pipeline":
            continue
        for activity in _activities(body["properties"].get("activities", [])):
            if activity.get("type") != "DatabricksNotebook":
                continue
            path = activity.get("typeProperties", {}).get("notebookPath")
            if not isinstance(path, str) or not path.startswith("/"):
                raise ConfigError(f"pipeline {pipeline}: activity {activity['name']}: notebookPath {path!r} is not "
                                  "an absolute workspace path\n  fix: set pipeline.prepare.notebook_path in the spec")
            local = notebooks_dir / f"{PurePosixPath(path).name}.py"
            if not local.exists():
                raise ConfigError(f"pipeline {pipeline}: activity {activity['name']} runs {path}, but {local} does "
                                  f"not exist\n  fix: the notebook's file name must equal the last part of its path")
            found.setdefault(path, Notebook(local, path, f"{pipeline}/{activity['name']}"))
    return tuple(found[p] for p in sorted(found))


def load_source(target: Target) -> Source:
    from local_runtime.arm import resolve
    from local_runtime.errors import DeployError

    template = _read_json(target.template_path)
    parameters = _read_json(target.parameters_path).get("parameters", {})
    try:
        resources = resolve(template, _values(parameters))
    except DeployError as exc:
        raise ConfigError(f"{target.template_path} with {target.parameters_path}: {exc}") from None
    objects: dict[ObjectKey, dict] = {}
    for resource in resources:
        folder = FOLDERS.get(resource["type"])
        if folder is None:
            continue  # deployed by ARM, not an object the factory lists (the factory itself, managed networks)
        factory, _, name = resource["name"].partition("/")
        if factory != target.factory_name:
            raise ConfigError(f"{target.parameters_path}: the template deploys into factory {factory!r}, but "
                              f"environments.{target.env}.factory_name is {target.factory_name!r}\n"
                              "  fix: run `make generate` after changing the spec")
        objects[(folder, name)] = {"name": name, "properties": resource["properties"]}
    return Source(template, parameters, objects, notebooks_of(objects, target.notebooks_dir))
