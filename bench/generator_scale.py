"""Generator scale: generate + export + validate a factory of 1, 50 and 200 pipelines and show the cost per
pipeline stays flat (linear total). The baseline is the 1-pipeline factory measured in the same run, so a
noisy shared machine shifts every row alike."""
from __future__ import annotations

import copy
import statistics
import tempfile
import time
from pathlib import Path

from generator.arm_export import export
from generator.layout import write_json
from generator.render import render_definition, render_objects
from generator.spec import Spec, load_spec
from generator.validate import validate_generated

SIZES = (1, 50, 200)
REPEATS = 3


def factory_spec(spec: Spec, index: int) -> Spec:
    """The solution's pipeline and trigger under a numbered name (shared linked services and datasets)."""
    data = copy.deepcopy(spec.data)
    data["pipeline"]["name"] = f"PrepareAndTrain{index:03d}"
    data["trigger"]["name"] = f"InputCsvCreated{index:03d}"
    return Spec(spec.path, data)


def bench_definition(spec: Spec) -> dict:
    """Our definition minus the per-pipeline parameters: 200 pipelines x 4 would pass ARM's 256-parameter
    limit, which a factory that size solves with global parameters."""
    definition = render_definition(spec)
    definition["Microsoft.DataFactory/factories/pipelines"] = {}
    return definition


def generate_and_validate(spec: Spec, pipelines: int, out: Path) -> int:
    objects = {}
    for i in range(pipelines):
        for obj in render_objects(factory_spec(spec, i), spec.authoring_environment):
            objects[(obj.folder, obj.name)] = obj
    for obj in objects.values():
        write_json(out / "factory" / obj.folder / f"{obj.name}.json", obj.body)
    result = export(list(objects.values()), bench_definition(spec), "adf-bench")
    write_json(out / "arm" / "ARMTemplateForFactory.json", result.template)
    write_json(out / "arm" / "ARMTemplateParametersForFactory.json", result.parameters_file())
    problems = validate_generated(out)
    if problems:
        raise SystemExit(f"bench factory is invalid: {problems[:3]}")
    return len(objects)


def run() -> list[str]:
    spec = load_spec()
    rows, per_pipeline = [], {}
    for size in SIZES:
        times = []
        for _ in range(REPEATS):
            with tempfile.TemporaryDirectory() as tmp:
                start = time.perf_counter()
                count = generate_and_validate(spec, size, Path(tmp))
                times.append(time.perf_counter() - start)
        best = min(times)
        per_pipeline[size] = best / size
        rows.append((size, count, best, statistics.median(times)))
    base = per_pipeline[SIZES[0]]
    lines = ["generator scale: generate + export + validate (best of 3; baseline = 1 pipeline, same run)",
             f"  {'pipelines':>9} {'objects':>8} {'total s':>9} {'ms/pipeline':>12} {'vs baseline':>12}"]
    for size, count, best, _ in rows:
        lines.append(f"  {size:>9} {count:>8} {best:>9.3f} {per_pipeline[size] * 1000:>12.2f} "
                     f"{per_pipeline[size] / base:>11.2f}x")
    growth = per_pipeline[SIZES[-1]] / per_pipeline[SIZES[1]]
    lines.append(f"  per-pipeline cost {SIZES[-1]} vs {SIZES[1]} pipelines: {growth:.2f}x "
                 f"({'linear' if growth < 1.5 else 'SUPER-LINEAR: look for quadratic work'})")
    return lines


if __name__ == "__main__":
    print("\n".join(run()))
