"""`make generate`: spec -> ADF git layout + definition file + ARM template + per-environment parameters.

Output under generated/:
  factory/                      ADF git layout with the authoring environment's values (what ADF Studio commits)
  factory/arm-template-parameters-definition.json
  arm/ARMTemplateForFactory.json            one template, promoted unchanged through every environment
  arm/ARMTemplateParametersForFactory.json  its export defaults (the authoring environment)
  arm/parameters/<env>.json                 what differs per environment, and nothing else
  arm/linkedTemplates/                      only past ARM's resource or size limit, as ADF's export writes them
  azureml/training-config.json              the training component's config, from the spec's training: section
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from generator.arm_export import ArmExport, export, strip_defaults
from generator.errors import StaleEnvironmentError
from generator.layout import DEFINITION_FILE, write_json
from generator.linked_templates import linked_template_files
from generator.render import render_definition, render_objects, render_training_config
from generator.spec import Spec

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = PROJECT_ROOT / "generated"


@dataclass(frozen=True)
class GeneratedFile:
    path: Path
    content: object


def _first_difference(a: object, b: object, path: str = "") -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                return _first_difference(a.get(key), b.get(key), f"{path}.{key}" if path else key)
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                return _first_difference(x, y, f"{path}[{i}]")
    return f"{path}: {json.dumps(a)[:100]} vs {json.dumps(b)[:100]}"


def environment_exports(spec: Spec) -> dict[str, ArmExport]:
    """Export each environment's rendering; all must share one template up to parameter defaults."""
    definition = render_definition(spec)
    exports = {name: export(render_objects(spec, name), definition, env["factory_name"])
               for name, env in spec.environments.items()}
    reference = strip_defaults(exports[spec.authoring_environment].template)
    for name, exp in exports.items():
        if strip_defaults(exp.template) != reference:
            where = _first_difference(reference, strip_defaults(exp.template))
            raise StaleEnvironmentError(
                f"environment {name!r} differs from {spec.authoring_environment!r} in a property the ARM template "
                f"does not parameterize ({where}); add that property to "
                "templates/adf/arm-template-parameters-definition.json.j2 so each environment sets it")
    return exports


def plan_files(spec: Spec, out: Path = DEFAULT_OUT) -> list[GeneratedFile]:
    """Everything `generate` writes, as data (no side effects)."""
    authoring = spec.authoring_environment
    files = [GeneratedFile(out / "factory" / o.folder / f"{o.name}.json", o.body) for o in render_objects(spec, authoring)]
    files.append(GeneratedFile(out / "factory" / DEFINITION_FILE, render_definition(spec)))
    exports = environment_exports(spec)
    files.append(GeneratedFile(out / "arm" / "ARMTemplateForFactory.json", exports[authoring].template))
    files.append(GeneratedFile(out / "arm" / "ARMTemplateParametersForFactory.json", exports[authoring].parameters_file()))
    for relative, content in linked_template_files(exports[authoring]).items():
        files.append(GeneratedFile(out / "arm" / relative, content))
    for name in sorted(exports):
        files.append(GeneratedFile(out / "arm" / "parameters" / f"{name}.json", exports[name].parameters_file()))
    files.append(GeneratedFile(out / "azureml" / "training-config.json", render_training_config(spec)))
    return files


def generate(spec: Spec, out: Path = DEFAULT_OUT) -> tuple[list[Path], list[Path]]:
    """Write the planned files; remove stale .json files under out. Returns (changed, removed)."""
    files = plan_files(spec, out)
    changed = [f.path for f in files if write_json(f.path, f.content)]
    wanted = {f.path.resolve() for f in files}
    removed = [p for p in sorted(out.rglob("*.json")) if p.resolve() not in wanted]
    for path in removed:
        path.unlink()
    return changed, removed


def stale_files(spec: Spec, out: Path = DEFAULT_OUT) -> list[str]:
    """Paths whose committed bytes differ from what generate would write (for the staleness test and CI)."""
    from generator.layout import dumps

    files = plan_files(spec, out)
    stale = [str(f.path.relative_to(out)) for f in files
             if not f.path.exists() or f.path.read_text(encoding="utf-8") != dumps(f.content)]
    wanted = {f.path.resolve() for f in files}
    stale += [str(p.relative_to(out)) + " (not generated)" for p in sorted(out.rglob("*.json")) if p.resolve() not in wanted]
    return stale
