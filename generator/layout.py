"""The ADF git layout on disk: `<root>/<folder>/<name>.json`, one object per file, plus the definition file."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.errors import ExportError

DEFINITION_FILE = "arm-template-parameters-definition.json"

# Folder in the git layout -> ARM resource type segment under Microsoft.DataFactory/factories.
FOLDERS = {
    "linkedService": "linkedServices",
    "dataset": "datasets",
    "dataflow": "dataflows",
    "pipeline": "pipelines",
    "trigger": "triggers",
    "integrationRuntime": "integrationRuntimes",
    "credential": "credentials",
    "managedVirtualNetwork": "managedVirtualNetworks",
}


@dataclass(frozen=True)
class FactoryObject:
    folder: str
    name: str
    body: dict[str, Any]  # {"name": ..., "properties": {...}}

    @property
    def resource_type(self) -> str:
        return f"Microsoft.DataFactory/factories/{FOLDERS[self.folder]}"


def dumps(obj: Any) -> str:
    """The one JSON formatting used for every generated file: stable bytes, readable diffs."""
    return json.dumps(obj, indent=4, ensure_ascii=False) + "\n"


def write_json(path: Path, obj: Any) -> bool:
    """Write only when the bytes change, so regeneration leaves timestamps and git alone. Returns changed."""
    text = dumps(obj)
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True


def read_factory_folder(root: Path) -> tuple[list[FactoryObject], dict | None]:
    """Read every object of an ADF git folder and its definition file (None when absent)."""
    root = Path(root)
    if not root.is_dir():
        raise ExportError(f"{root} is not a folder; pass the root of an ADF git layout (it holds pipeline/, dataset/, ...)")
    objects = [_read_object(folder, file) for folder in FOLDERS for file in sorted((root / folder).glob("*.json"))]
    definition_path = root / DEFINITION_FILE
    definition = json.loads(definition_path.read_text(encoding="utf-8")) if definition_path.exists() else None
    return objects, definition


def _read_object(folder: str, file: Path) -> FactoryObject:
    body = json.loads(file.read_text(encoding="utf-8"))
    if body.get("name") != file.stem:
        raise ExportError(f"{file}: object name {body.get('name')!r} differs from the file name; "
                          f"ADF requires them equal: rename the file to {body.get('name')}.json")
    return FactoryObject(folder, body["name"], body)


def read_git_folder(root: Path) -> tuple[list[FactoryObject], dict | None]:
    """`read_factory_folder` plus what only the exporter needs: `factory/<name>.json` (global parameters) and
    `managedVirtualNetwork/<vnet>/managedPrivateEndpoint/<name>.json`."""
    root = Path(root)
    objects, definition = read_factory_folder(root)
    objects += [_read_object("factory", p) for p in sorted((root / "factory").glob("*.json"))]
    objects += [_read_object(f"managedVirtualNetwork/{p.parent.parent.name}/managedPrivateEndpoint", p)
                for p in sorted((root / "managedVirtualNetwork").glob("*/managedPrivateEndpoint/*.json"))]
    return objects, definition
