"""Checks that every name derives from the prefix and fits Azure's rules."""
from __future__ import annotations

from infra import naming
from infra.checks.registry import Problem, check, make_problem, module_call
from infra.hcl import Config

# --- names -------------------------------------------------------------------------------------------------

@check("names", "every name derives from var.prefix and fits Azure's rules in every environment")
def names(config: Config, spec: dict) -> list[Problem]:
    problems = []
    file = config.module.path / "locals.tf"
    locals_ = config.module.locals()
    templates = locals_.get("names") or {}
    if not templates:
        return [make_problem(config, file, "local.names", "is missing", "build every name in one local.names map")]
    for key, template in sorted(templates.items()):
        if key not in naming.RULES:
            problems.append(make_problem(config, file, f"local.names.{key}", "has no Azure naming rule to check it against",
                                     f"add {key!r} to infra/naming.py RULES", key))
            continue
        try:
            marked = naming.evaluate(str(template), {"prefix": "\0", "environment": "\1"}, locals_)
        except naming.NotDerived as exc:
            problems.append(make_problem(config, file, f"local.names.{key}", str(exc),
                                     "build names only from var.prefix, var.environment and local.base", key))
            continue
        if "\0" not in marked or "\1" not in marked:
            problems.append(make_problem(config, file, f"local.names.{key}", f"{template!r} does not use both the prefix "
                                     "and the environment", "build it from local.base or both variables", key))
        for env_name, env in sorted(config.environments.items()):
            call = module_call(env) or {}
            values = {"prefix": str(call.get("prefix", "")), "environment": str(call.get("environment", ""))}
            name = naming.evaluate(str(template), values, locals_)
            says = naming.RULES[key].check(name)
            if says:
                problems.append(make_problem(config, env.files.get("module.environment"), f"local.names.{key}",
                                         f"{name!r} in {env_name} breaks the {naming.RULES[key].resource} rule: {says}",
                                         "shorten the prefix, or change the template in modules/environment/locals.tf",
                                         "prefix"))
    for address, body in sorted(config.module.resources().items()):
        name = body.get("name")
        if name is None:
            continue
        refs = naming.references(str(name))
        if not refs or not all(r.startswith(("local.names.", "local.base", "each.")) for r in refs):
            problems.append(make_problem(config, config.module.files.get(address), f"{address}.name",
                                     f"is {name!r}, not built from local.names",
                                     "add the name to local.names and use it here", address.split(".")[1]))
    return problems
