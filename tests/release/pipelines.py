"""Read the release pipelines of both CI systems into one shape, and check it.

GitHub Actions (.github/workflows/) and Azure DevOps (.pipelines/) are each read into `Unit`s: a GitHub job or an
Azure DevOps stage, with what it waits for, the environment it deploys to and its steps' shell text in order.
Reusable workflows (`uses: ./.github/workflows/x.yml` + `with:`), composite actions (`uses: ./.github/actions/x`)
and Azure DevOps templates (`template:` + `parameters:`) are expanded, substituting `${{ inputs.x }}` and
`${{ parameters.x }}`. The checks are pure functions that return problems (empty: fine), so a test can feed them a
deliberately broken copy.
"""
from __future__ import annotations

import copy
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
GITHUB = ROOT / ".github"
AZURE = ROOT / ".pipelines"
ENVIRONMENTS = ("dev", "qa", "prod")
# What every CI must run, as make targets; plus `git diff --exit-code` after `make generate`.
CI_TARGETS = ("lint", "test", "generate", "validate", "diff")
# What each deploy unit runs, in this order, all with ENV=<its environment>.
DEPLOY_SEQUENCE = ("deploy", "smoke", "integration-test")
# Changes to these must start CD.
TRIGGER_PATHS = ("spec", "notebooks", "training", "templates")

_EXPRESSION = re.compile(r"\$\{\{\s*(inputs|parameters)\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


@dataclass
class Unit:
    """A GitHub job or an Azure DevOps stage."""

    name: str
    needs: tuple[str, ...] = ()
    environment: str | None = None
    scripts: list[str] = field(default_factory=list)  # shell text of its steps, in order
    steps: list[dict] = field(default_factory=list)  # the expanded steps themselves
    variable_groups: tuple[str, ...] = ()
    jobs: dict[str, Unit] = field(default_factory=dict)  # an Azure DevOps stage's jobs
    raw: dict = field(default_factory=dict)


@dataclass(frozen=True)
class MakeCall:
    target: str
    variables: tuple[tuple[str, str], ...]
    script: str

    @property
    def env(self) -> str | None:
        return dict(self.variables).get("ENV")

    @property
    def dry_run(self) -> bool:
        return dict(self.variables).get("DRY_RUN", "") not in ("", "0")


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def substitute(node: Any, values: dict[str, Any]) -> Any:
    """`${{ inputs.x }}` / `${{ parameters.x }}` replaced in every string; a string that is only the expression
    takes the value itself (numbers stay numbers). Unknown names stay as written."""
    if isinstance(node, dict):
        return {substitute(k, values): substitute(v, values) for k, v in node.items()}
    if isinstance(node, list):
        return [substitute(v, values) for v in node]
    if isinstance(node, str):
        whole = _EXPRESSION.fullmatch(node.strip())
        if whole and whole.group(2) in values:
            return values[whole.group(2)]
        return _EXPRESSION.sub(lambda m: str(values[m.group(2)]) if m.group(2) in values else m.group(0), node)
    return node


def _as_list(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def _environment_name(value: Any) -> str | None:
    return value.get("name") if isinstance(value, dict) else value


# --- shell text ----------------------------------------------------------------------------------------------

def make_calls(script: str) -> list[MakeCall]:
    """Every `make` invocation in shell text: targets and VAR=value arguments, options and redirections skipped.
    Finds make after a wrapper too (`bash x.sh make deploy ENV=dev`); quoted text (`echo "make diff"`) is one
    word, not a call; `#` starts a comment."""
    calls = []
    for line in script.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        try:
            words = list(lexer)
        except ValueError:  # unbalanced quotes: one line of a larger construct; take it as plain words
            words = line.split()
        command: list[str] = []
        redirect = False
        for word in [*words, ";"]:
            if redirect:
                redirect = False
            elif word in (";", "&&", "||", "|", "&", "(", ")"):
                calls.extend(_calls_in(command, script))
                command = []
            elif set(word) <= set("<>&"):  # > x, >> x, 2> x, < x, >& 2
                redirect = True
                if command and command[-1].isdigit():
                    command.pop()
            else:
                command.append(word)
    return calls


def _calls_in(words: list[str], script: str) -> list[MakeCall]:
    if "make" not in words:
        return []
    args = words[words.index("make") + 1:]
    targets, variables, skip = [], [], False
    for arg in args:
        if skip:
            skip = False
        elif arg in ("-C", "-f", "--directory", "--file", "-j", "-o", "-W"):
            skip = True
        elif arg.startswith("-"):
            continue
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", arg):
            name, _, value = arg.partition("=")
            variables.append((name, value))
        else:
            targets.append(arg)
    return [MakeCall(t, tuple(variables), script) for t in targets]  # bare `make`: the help, nothing to check


def makefile_targets(text: str) -> set[str]:
    """Names of the rules in a Makefile (`target: ...`; not `VAR := ...`, `.PHONY:` or `$(VENV)/x:`)."""
    rules = re.findall(r"^([A-Za-z0-9_][A-Za-z0-9_. -]*?)\s*:(?!=)", text, flags=re.MULTILINE)
    return {name for names in rules for name in names.split()}


# --- GitHub Actions ------------------------------------------------------------------------------------------

def github_units(workflow: dict, root: Path = ROOT) -> dict[str, Unit]:
    """The jobs of a workflow, reusable workflows and local composite actions expanded."""
    units = {}
    for job_id, job in (workflow.get("jobs") or {}).items():
        unit = Unit(job_id, needs=_as_list(job.get("needs")), raw=job)
        if str(job.get("uses", "")).startswith("./"):
            called = load(root / job["uses"])
            inputs = {name: spec.get("default") for name, spec in
                      ((called.get("on") or {}).get("workflow_call") or {}).get("inputs", {}).items()}
            inputs.update(job.get("with") or {})
            called = substitute(called, inputs)
            inner = list(github_units(called, root).values())
            if len(inner) != 1:
                raise ValueError(f"{job['uses']}: expected one job in a reusable deploy workflow, found {len(inner)}")
            unit.environment, unit.steps = inner[0].environment, inner[0].steps
            unit.raw = {**inner[0].raw, "caller": job}
        else:
            unit.environment = _environment_name(job.get("environment"))
            unit.steps = _github_steps(job.get("steps") or [], root)
        unit.scripts = [s["run"] for s in unit.steps if "run" in s]
        units[job_id] = unit
    return units


def _github_steps(steps: list[dict], root: Path) -> list[dict]:
    out = []
    for step in steps:
        uses = str(step.get("uses", ""))
        if uses.startswith("./"):
            action = load(root / uses / "action.yml")
            values = {name: spec.get("default") for name, spec in (action.get("inputs") or {}).items()}
            values.update(step.get("with") or {})
            out.extend(_github_steps(substitute(action["runs"].get("steps", []), values), root))
        else:
            out.append(step)
    return out


def github_triggers(workflow: dict) -> dict:
    # PyYAML 1.1 reads the key `on` as True.
    return workflow.get("on", workflow.get(True)) or {}


# --- Azure DevOps --------------------------------------------------------------------------------------------

def azure_units(pipeline: dict, path: Path) -> dict[str, Unit]:
    """The stages of a pipeline, stage and step templates expanded (paths relative to the including file)."""
    units = {}
    stages = _expand(pipeline.get("stages") or [], path.parent)
    previous = None
    for stage in stages:
        name = stage["stage"]
        # A stage without dependsOn waits for the one before it, as Azure DevOps does.
        needs = _as_list(stage["dependsOn"]) if "dependsOn" in stage else _as_list(previous)
        unit = Unit(name, needs=needs, raw=stage)
        unit.variable_groups = tuple(v["group"] for v in (stage.get("variables") or [])
                                     if isinstance(v, dict) and "group" in v)
        for job in stage.get("jobs") or []:
            if "deployment" in job:
                steps = job.get("strategy", {}).get("runOnce", {}).get("deploy", {}).get("steps", [])
                job_unit = Unit(job["deployment"], environment=_environment_name(job.get("environment")), raw=job)
            else:
                steps = job.get("steps") or []
                job_unit = Unit(job["job"], raw=job)
            job_unit.steps = steps
            job_unit.scripts = [s for s in (_azure_script(step) for step in steps) if s is not None]
            unit.jobs[job_unit.name] = job_unit
            unit.steps.extend(job_unit.steps)
            unit.scripts.extend(job_unit.scripts)
        environments = {job.environment for job in unit.jobs.values() if job.environment}
        unit.environment = environments.pop() if len(environments) == 1 else None
        units[name] = unit
        previous = name
    return units


def azure_jobs(stages: dict[str, Unit]) -> dict[str, Unit]:
    """Every job of every stage, as `stage.job`: the unit the CI checks look at."""
    return {f"{stage.name}.{name}": job for stage in stages.values() for name, job in stage.jobs.items()}


def _expand(items: list[dict], base: Path) -> list[dict]:
    out = []
    for item in items:
        if isinstance(item, dict) and "template" in item:
            path = base / item["template"]
            template = load(path)
            values = {p["name"]: p.get("default") for p in template.get("parameters") or []}
            values.update(item.get("parameters") or {})
            body = substitute({k: v for k, v in template.items() if k != "parameters"}, values)
            inner = body.get("stages") or body.get("jobs") or body.get("steps") or []
            out.extend(_expand(inner, path.parent))
        elif isinstance(item, dict):
            expanded = dict(item)
            for key in ("jobs", "steps"):
                if key in expanded:
                    expanded[key] = _expand(expanded[key], base)
            if "strategy" in expanded:
                deploy = expanded["strategy"].get("runOnce", {}).get("deploy", {})
                if "steps" in deploy:
                    expanded = copy.deepcopy(expanded)
                    expanded["strategy"]["runOnce"]["deploy"]["steps"] = _expand(deploy["steps"], base)
            out.append(expanded)
        else:
            out.append(item)
    return out


def _azure_script(step: dict) -> str | None:
    for key in ("script", "bash", "pwsh", "powershell"):
        if key in step:
            return step[key]
    inputs = step.get("inputs") or {}
    for key in ("inlineScript", "script"):
        if key in inputs:
            return inputs[key]
    return None


def azure_path_filters(trigger: dict) -> tuple[str, ...]:
    return tuple((trigger.get("paths") or {}).get("include") or ())


# --- checks --------------------------------------------------------------------------------------------------

def calls_of(unit: Unit) -> list[MakeCall]:
    return [call for script in unit.scripts for call in make_calls(script)]


def check_targets_exist(units: dict[str, Unit], targets: set[str], where: str) -> list[str]:
    return [f"{where}: {name} runs `make {call.target}`, which is not a target in the Makefile"
            for name, unit in units.items() for call in calls_of(unit) if call.target not in targets]


def check_ci(units: dict[str, Unit], where: str) -> list[str]:
    problems = []
    called = {call.target for unit in units.values() for call in calls_of(unit)}
    problems += [f"{where}: no job runs `make {t}`" for t in CI_TARGETS if t not in called]
    generate_checked = False
    for unit in units.values():
        text = "\n".join(unit.scripts)
        generate = text.find("make generate")
        if generate >= 0 and text.find("git diff --exit-code", generate) > generate:
            generate_checked = True
    if not generate_checked:
        problems.append(f"{where}: no job runs `git diff --exit-code` after `make generate`")
    problems += _check_diff_published(units, where)
    return problems


def _check_diff_published(units: dict[str, Unit], where: str) -> list[str]:
    for unit in units.values():
        if not any(call.target == "diff" for call in calls_of(unit)):
            continue
        text = "\n".join(unit.scripts)
        uses = [str(step.get("uses", "")) for step in unit.steps]
        if "GITHUB_STEP_SUMMARY" in text and any(u.startswith("actions/github-script@") for u in uses):
            return []  # GitHub: job summary and a pull request comment
        if "##vso[task.uploadsummary]" in text and any("publish" in step for step in unit.steps):
            return []  # Azure DevOps: run summary and an artifact
    return [f"{where}: the job running `make diff` does not publish it for reviewers (summary and comment/artifact)"]


def check_cd(units: dict[str, Unit], where: str) -> list[str]:
    problems = []
    by_env: dict[str, Unit] = {}
    for unit in units.values():
        if unit.environment in ENVIRONMENTS:
            if unit.environment in by_env:
                problems.append(f"{where}: {by_env[unit.environment].name} and {unit.name} both deploy to "
                                f"{unit.environment}")
            by_env[unit.environment] = unit
    missing = [env for env in ENVIRONMENTS if env not in by_env]
    if missing:
        return problems + [f"{where}: no job or stage bound to environment(s) {', '.join(missing)}"]
    for earlier, later in zip(ENVIRONMENTS, ENVIRONMENTS[1:]):
        if by_env[earlier].name not in _upstream(units, by_env[later].name):
            problems.append(f"{where}: {later} ({by_env[later].name}) does not wait for {earlier} "
                            f"({by_env[earlier].name}); the order must be {' -> '.join(ENVIRONMENTS)}")
    for env, unit in by_env.items():
        problems += _check_deploy_steps(unit, env, where)
    # Approvals and secrets are the environment's: nothing may reach an environment from outside its unit.
    for unit in units.values():
        for call in calls_of(unit):
            if call.env in ENVIRONMENTS and unit.environment != call.env:
                problems.append(f"{where}: {unit.name} runs `make {call.target} ENV={call.env}` outside the unit "
                                f"bound to environment {call.env} (which holds its approvals and secrets)")
    return problems


def _upstream(units: dict[str, Unit], name: str) -> set[str]:
    seen: set[str] = set()
    todo = list(units[name].needs) if name in units else []
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo.extend(units[current].needs if current in units else ())
    return seen


def _check_deploy_steps(unit: Unit, env: str, where: str) -> list[str]:
    problems = []
    calls = calls_of(unit)
    # Every make call that names an environment names this one; deploy, smoke and integration-test must name it.
    wrong = [c for c in calls if (c.env is not None or c.target in DEPLOY_SEQUENCE) and c.env != env]
    problems += [f"{where}: {unit.name} (environment {env}) runs `make {c.target}` with ENV={c.env}" for c in wrong]
    position = -1
    for target in DEPLOY_SEQUENCE:
        found = [i for i, c in enumerate(calls) if c.target == target and not c.dry_run and i > position]
        if not found:
            return problems + [f"{where}: {unit.name} does not run `make {target} ENV={env}` after "
                               f"{' and '.join(DEPLOY_SEQUENCE[:DEPLOY_SEQUENCE.index(target)]) or 'setup'}; "
                               f"expected {' -> '.join(DEPLOY_SEQUENCE)}"]
        position = found[0]
    return problems


def check_cd_trigger_paths(paths: tuple[str, ...], where: str) -> list[str]:
    normalized = {p.rstrip("*").rstrip("/") for p in paths}
    return [f"{where}: the trigger's path filter misses {p}/" for p in TRIGGER_PATHS if p not in normalized]


def yamllint_problems(paths: list[Path], config_file: Path = ROOT / ".yamllint.yaml") -> list[str]:
    """yamllint's own API with the repository's configuration; warnings count, as `yamllint -s` does."""
    from yamllint import linter
    from yamllint.config import YamlLintConfig

    config = YamlLintConfig(file=str(config_file))
    problems = []
    for path in paths:
        shown = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)
        for problem in linter.run(path.read_text(encoding="utf-8"), config, shown):
            problems.append(f"{shown}:{problem.line}:{problem.column}: {problem.message} ({problem.rule})")
    return problems


def yaml_files(*folders: Path) -> list[Path]:
    return sorted(p for folder in folders for p in folder.rglob("*") if p.suffix in (".yml", ".yaml"))
