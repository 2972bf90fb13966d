"""Checks of the environment roots, the module's variables and outputs, and the Terraform tests."""
from __future__ import annotations

import re

from infra.checks.registry import MODULE_SOURCE, Problem, check, leaf_paths, make_problem, module_call
from infra.hcl import EXPECTED_ENVIRONMENTS, Config

# --- environments ------------------------------------------------------------------------------------------

@check("environments", "dev, qa and prod exist, each calls the module once, with remote state and no auto-registration")
def environments_present(config: Config, spec: dict) -> list[Problem]:
    problems = []
    for name in EXPECTED_ENVIRONMENTS:
        if name not in config.environments:
            problems.append(make_problem(config, config.root / "environments", f"environments/{name}",
                                     "environment directory is missing",
                                     f"copy environments/qa to environments/{name} and set environment = \"{name}\""))
    for name, env_spec in sorted((spec.get("environments") or {}).items()):
        if isinstance(env_spec, dict) and env_spec.get("target") == "azure" and name not in config.environments:
            problems.append(make_problem(config, config.root / "environments", f"environments/{name}",
                                     f"the spec's environments.{name} targets Azure but Terraform does not provision it",
                                     f"add environments/{name} (copy environments/qa) or change the spec"))
    for name, env in config.environments.items():
        main = env.files.get("module.environment", env.path / "main.tf")
        call = module_call(env)
        if call is None:
            problems.append(make_problem(config, env.path, f"environments/{name}", 'no module "environment" call',
                                     f'add module "environment" {{ source = "{MODULE_SOURCE}" ... }}'))
            continue
        if call.get("source") != MODULE_SOURCE:
            problems.append(make_problem(config, main, "module.environment.source", f"is {call.get('source')!r}",
                                     f'use source = "{MODULE_SOURCE}" so every environment runs the same code', "source"))
        if call.get("environment") != name:
            problems.append(make_problem(config, main, "module.environment.environment",
                                     f"is {call.get('environment')!r} in the directory environments/{name}",
                                     f'set environment = "{name}"', "environment "))
        backends = [b for t in env.blocks.get("terraform", []) for b in t.get("backend", [])]
        if not any("azurerm" in b for b in backends):
            problems.append(make_problem(config, main, "terraform.backend", "no azurerm backend: state would stay local",
                                     'add backend "azurerm" {} and init with -backend-config=backend.hcl'))
        provider = env.labelled("provider").get("azurerm", {})
        if provider.get("resource_provider_registrations") != "none":
            problems.append(make_problem(config, main, "provider.azurerm.resource_provider_registrations",
                                     "is not \"none\": the provider would register its own list and clash with the "
                                     "module's azurerm_resource_provider_registration",
                                     'set resource_provider_registrations = "none"', "provider"))
    return problems


@check("same-arguments", "every environment sets the same module arguments, each a declared variable")
def same_arguments(config: Config, spec: dict) -> list[Problem]:
    problems = []
    calls = {name: module_call(env) for name, env in config.environments.items()}
    calls = {name: call for name, call in calls.items() if call is not None}
    paths = {name: leaf_paths({k: v for k, v in call.items() if k not in ("source", "depends_on", "providers")})
             for name, call in calls.items()}
    union = set().union(*paths.values()) if paths else set()
    for name, found in sorted(paths.items()):
        main = config.environments[name].files.get("module.environment")
        for missing in sorted(union - found):
            others = sorted(n for n, p in paths.items() if missing in p)
            problems.append(make_problem(config, main, f"module.environment.{missing}",
                                     f"set in {', '.join(others)} but not in {name}",
                                     f"set {missing} in environments/{name} too: every environment sets the same "
                                     "arguments, only the values differ", 'module "environment"'))
    variables = config.module.labelled("variable")
    for name, call in sorted(calls.items()):
        main = config.environments[name].files.get("module.environment")
        for argument in sorted(set(call) - set(variables) - {"source", "depends_on", "providers"}):
            problems.append(make_problem(config, main, f"module.environment.{argument}", "is not a variable of the module",
                                     "remove it or declare it in modules/environment/variables.tf", argument))
        for variable, body in sorted(variables.items()):
            if "default" not in body and variable not in call:
                problems.append(make_problem(config, main, f"module.environment.{variable}",
                                         "required variable is not set", f"set {variable} in environments/{name}",
                                         'module "environment"'))
    prefixes = {call.get("prefix") for call in calls.values()}
    if len(prefixes) > 1:
        problems.append(make_problem(config, config.root / "environments", "module.environment.prefix",
                                 f"environments use different prefixes {sorted(map(str, prefixes))}",
                                 "use one prefix everywhere; the environment name already tells them apart"))
    return problems


@check("variables", "module variables are typed (never `any`), described, and the name parts are validated")
def variables_typed(config: Config, spec: dict) -> list[Problem]:
    problems = []
    file = config.module.path / "variables.tf"
    for name, body in config.module.labelled("variable").items():
        var_type = str(body.get("type", ""))
        if not var_type or re.search(r"\bany\b", var_type):
            problems.append(make_problem(config, file, f"variable.{name}.type", f"is {var_type or 'missing'!s}",
                                     "declare a concrete type, object({...optional()}) for settings", f'"{name}"'))
        if not str(body.get("description", "")).strip():
            problems.append(make_problem(config, file, f"variable.{name}.description", "is missing",
                                     "describe what it sets and its allowed values", f'"{name}"'))
    names = list(config.module.labelled("variable"))
    required = [n for n in names if "default" not in config.module.labelled("variable")[n]]
    expected = sorted(required) + sorted(n for n in names if n not in required)
    if names != expected:
        problems.append(make_problem(config, file, "variable", "variables are not ordered required first, then optional, "
                                 "each alphabetical", f"order them: {', '.join(expected)}"))
    for name in ("prefix", "environment", "location"):
        if not config.module.labelled("variable").get(name, {}).get("validation"):
            problems.append(make_problem(config, file, f"variable.{name}", "has no validation block",
                                     "validate it: every resource name is built from it", f'"{name}"'))
    return problems


@check("outputs", "outputs are alphabetical and every environment exposes every module output")
def outputs_complete(config: Config, spec: dict) -> list[Problem]:
    from infra.outputs import SPEC_FIELDS

    problems = []
    module_outputs = list(config.module.labelled("output"))
    outputs_file = config.module.path / "outputs.tf"
    if module_outputs != sorted(module_outputs):
        problems.append(make_problem(config, outputs_file, "output", "outputs are not in alphabetical order",
                                 "sort the output blocks by name"))
    for field in SPEC_FIELDS:
        if field.output not in module_outputs:
            problems.append(make_problem(config, outputs_file, f"output.{field.output}",
                                     f"missing: outputs-to-spec writes it into environments.<env>.{field.spec_key}",
                                     f'add output "{field.output}" to modules/environment/outputs.tf'))
    for name, env in sorted(config.environments.items()):
        env_outputs = env.labelled("output")
        for missing in sorted(set(module_outputs) - set(env_outputs)):
            problems.append(make_problem(config, env.path / "outputs.tf", f"output.{missing}",
                                     f"the module outputs it but environments/{name} does not",
                                     f'add output "{missing}" {{ value = module.environment.{missing} }}'))
        for output, body in sorted(env_outputs.items()):
            if body.get("value") != f"${{module.environment.{output}}}":
                problems.append(make_problem(config, env.path / "outputs.tf", f"output.{output}",
                                         f"value is {body.get('value')!r}",
                                         f"pass the module's output through: value = module.environment.{output}",
                                         f'"{output}"'))
    return problems


@check("tftest", "terraform/tests/*.tftest.hcl exist and every run only plans")
def tftest_plans_only(config: Config, spec: dict) -> list[Problem]:
    if not config.tests:
        return [make_problem(config, config.root / "tests", "tests/*.tftest.hcl", "no Terraform test files",
                         "add tests with run blocks that use command = plan")]
    problems = []
    for file, data in config.tests.items():
        for block in data.get("run", []):
            for name, body in block.items():
                if body.get("command") != "plan":
                    problems.append(make_problem(config, file, f"run.{name}.command",
                                             f"is {body.get('command', 'apply (the default)')!r}",
                                             "set command = plan: these tests must never create resources",
                                             f'run "{name}"'))
    return problems
