"""Checks that the resources the pipeline needs exist, with least-privilege grants."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from infra.checks.registry import Problem, attribute, check, make_problem
from infra.hcl import Config

# --- resources ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Need:
    rtype: str
    why: str
    every: tuple[tuple[str, Any], ...] = ()   # (attribute path, value) every resource of the type must have
    some: tuple[tuple[str, Any], ...] = ()    # ... at least one resource of the type must have


SET = object()  # "any value": the attribute must be present

NEEDS = (
    Need("azurerm_resource_group", "holds the environment"),
    Need("azurerm_storage_account", "the data lake the trigger watches",
         every=(("https_traffic_only_enabled", True), ("min_tls_version", "TLS1_2"),
                ("allow_nested_items_to_be_public", False), ("shared_access_key_enabled", False),
                ("blob_properties.delete_retention_policy.days", SET),
                ("blob_properties.container_delete_retention_policy.days", SET)),
         some=(("is_hns_enabled", True),)),
    Need("azurerm_storage_container", "the input, training, testing, rejected and archive containers"),
    Need("azurerm_storage_container_immutability_policy", "WORM for archived inputs and lineage manifests",
         every=(("immutability_period_in_days", SET),)),
    Need("azurerm_data_factory", "the factory the generated ARM template deploys into",
         every=(("identity.type", "SystemAssigned"),)),
    Need("azurerm_databricks_workspace", "runs the data-prep notebook"),
    Need("azurerm_machine_learning_workspace", "trains and registers the model",
         every=(("key_vault_id", SET), ("application_insights_id", SET), ("container_registry_id", SET),
                ("identity.type", SET))),
    Need("azurerm_machine_learning_compute_cluster", "runs the training jobs, the component's default compute",
         every=(("identity.type", "SystemAssigned"), ("local_auth_enabled", False),
                ("scale_settings.min_node_count", 0))),
    Need("azurerm_key_vault", "secrets and the Azure ML workspace's vault", every=(("rbac_authorization_enabled", True),
                                                                            ("purge_protection_enabled", SET))),
    Need("azurerm_application_insights", "the Azure ML workspace's telemetry"),
    Need("azurerm_container_registry", "the training image", every=(("admin_enabled", False),)),
    Need("azurerm_log_analytics_workspace", "receives every diagnostic setting"),
    Need("azurerm_monitor_diagnostic_setting", "sends logs and metrics to Log Analytics",
         every=(("log_analytics_workspace_id", SET),)),
    Need("azurerm_role_assignment", "least-privilege access for the managed identities"),
    Need("azurerm_resource_provider_registration", "registers Microsoft.EventGrid for the blob trigger"),
)


def _has(body: dict, path: str, expected: Any) -> bool:
    value = attribute(body, path)
    return value is not None if expected is SET else value == expected


@check("resources", "every resource the pipeline needs exists with the settings it needs")
def required_resources(config: Config, spec: dict) -> list[Problem]:
    problems = []
    resources = config.module.resources()
    for need in NEEDS:
        of_type = {address: body for address, body in resources.items() if address.startswith(need.rtype + ".")}
        if not of_type:
            problems.append(make_problem(config, config.module.path, need.rtype, f"no such resource ({need.why})",
                                     f"add a {need.rtype} to the module, in the main.<concern>.tf it belongs to"))
            continue
        for address, body in sorted(of_type.items()):
            file = config.module.files.get(address)
            for path, expected in need.every:
                if not _has(body, path, expected):
                    want = "set" if expected is SET else repr(expected).replace("True", "true").replace("False", "false")
                    problems.append(make_problem(config, file, f"{address}.{path}",
                                             f"is {attribute(body, path)!r}, needs to be {want} ({need.why})",
                                             f"set {path} = {'...' if expected is SET else want}",
                                             address.split(".")[1]))
        for path, expected in need.some:
            if not any(_has(body, path, expected) for body in of_type.values()):
                problems.append(make_problem(config, config.module.path, f"{need.rtype}.*.{path}",
                                         f"no {need.rtype} has {path} = {expected!r} ({need.why})",
                                         f"set {path} on the data lake account"))
    locals_ = config.module.locals()
    locals_file = config.module.path / "locals.tf"
    roles = locals_.get("container_roles") or []
    spec_roles = sorted((spec.get("storage") or {}).get("containers") or {})
    if sorted(roles) != spec_roles:
        problems.append(make_problem(config, locals_file, "local.container_roles",
                                 f"is {sorted(roles)}, the spec's storage.containers roles are {spec_roles}",
                                 "list exactly the spec's container roles", "container_roles"))
    policy = resources.get("azurerm_storage_container_immutability_policy.archive", {})
    if "[\"archive\"]" not in str(policy.get("storage_container_resource_manager_id", "")).replace("'", '"'):
        problems.append(make_problem(config, config.module.files.get("azurerm_storage_container_immutability_policy.archive"),
                                 "azurerm_storage_container_immutability_policy.archive",
                                 "does not protect the archive container",
                                 'storage_container_resource_manager_id = azurerm_storage_container.this["archive"].id'))
    if "Microsoft.EventGrid" not in str(locals_.get("resource_providers", "")):
        problems.append(make_problem(config, locals_file, "local.resource_providers",
                                 "does not include Microsoft.EventGrid, which storage event triggers need",
                                 'add "Microsoft.EventGrid"', "resource_providers"))
    targets = str(locals_.get("diagnostic_targets", ""))
    for target in ("azurerm_data_factory", "azurerm_storage_account.data", "azurerm_key_vault",
                   "azurerm_machine_learning_workspace", "azurerm_databricks_workspace"):
        if target not in targets:
            problems.append(make_problem(config, locals_file, "local.diagnostic_targets",
                                     f"sends no diagnostics from {target}", f"add {target} to diagnostic_targets",
                                     "diagnostic_targets"))
    return problems


FORBIDDEN_ROLES = {"Owner", "User Access Administrator", "Role Based Access Control Administrator"}
NEEDED_GRANTS = (
    ("azurerm_data_factory", "Storage Blob Data Contributor", "azurerm_storage_account.data",
     "the factory reads and writes the lake"),
    ("azurerm_data_factory", None, "azurerm_databricks_workspace", "the factory runs notebooks with its identity"),
    ("azurerm_data_factory", None, "azurerm_machine_learning_workspace", "the factory starts the training job"),
    ("azurerm_machine_learning_compute_cluster", "Storage Blob Data Reader", "azurerm_storage_account.data",
     "training jobs read the prepared data with the cluster's identity"),
    ("azurerm_machine_learning_compute_cluster", "Storage Blob Data Contributor", 'azurerm_storage_container.this["archive"]',
     "training jobs append their lineage record to the archive"),
)


@check("role-assignments", "least privilege: the grants the pipeline needs, no owner roles, nothing at subscription scope")
def role_assignments(config: Config, spec: dict) -> list[Problem]:
    problems = []
    file = config.module.path / "locals.tf"
    grants = config.module.locals().get("role_assignments") or {}
    for key, grant in sorted(grants.items()):
        scope, role = str(grant.get("scope", "")), str(grant.get("role", ""))
        if role in FORBIDDEN_ROLES:
            problems.append(make_problem(config, file, f"local.role_assignments.{key}", f"grants {role}",
                                     "grant the narrowest built-in role that does the job", key))
        if not re.fullmatch(r"\$\{azurerm_[a-z_]+\.[a-z_]+(\[[^\]]+\])?\.id\}(/[A-Za-z]+/[A-Za-z0-9_-]+)*", scope):
            problems.append(make_problem(config, file, f"local.role_assignments.{key}.scope",
                                     f"is {scope!r}, not a resource this module creates",
                                     "scope every assignment to one resource (its .id), never a subscription or "
                                     "a literal id", key))
    for address, body in config.module.resources().items():
        if address.startswith("azurerm_role_assignment.") and body.get("scope") != "${each.value.scope}":
            scope = str(body.get("scope", ""))
            if "subscription" in scope or not scope.endswith(".id}"):
                problems.append(make_problem(config, config.module.files.get(address), f"{address}.scope",
                                         f"is {scope!r}", "scope the assignment to one resource's id"))
    for principal, role, scope, why in NEEDED_GRANTS:
        if not any(principal in str(g.get("principal_id")) and scope in str(g.get("scope"))
                   and (role is None or g.get("role") == role) for g in grants.values()):
            problems.append(make_problem(config, file, "local.role_assignments",
                                     f"no grant of {role or 'a role'} on {scope} to {principal} ({why})",
                                     "add it to local.role_assignments", "role_assignments"))
    return problems
