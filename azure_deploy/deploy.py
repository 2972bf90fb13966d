"""`deploy`: read the source and (when allowed) the current state, plan, print the plan, then apply it."""
from __future__ import annotations

from collections.abc import Callable

from azure.core.credentials import TokenCredential

from azure_deploy.arm import ArmOps, deployment_name, git_revision
from azure_deploy.azureml import AzureMLPublisher, TrainingPublisher, endpoint_inputs, training_release
from azure_deploy.databricks import DatabricksOps
from azure_deploy.errors import ConfigError, StateError, one_line
from azure_deploy.factory import FactoryOps
from azure_deploy.plan import Plan, make_plan
from azure_deploy.source import Source, load_source
from azure_deploy.steps import Services, apply
from azure_deploy.target import Target


def training_pipeline(source: Source) -> dict:
    for (folder, _), body in sorted(source.objects.items()):
        if folder == "pipeline":
            try:
                endpoint_inputs(body)
                return body
            except ConfigError:
                continue
    raise ConfigError("no pipeline invokes the training batch endpoint\n  fix: regenerate with `make generate`")


def make_services(target: Target, credential: TokenCredential, source: Source,
                  publisher: TrainingPublisher | None = None) -> Services:
    return Services(FactoryOps(target, credential), ArmOps(target, credential), DatabricksOps(target, credential),
                    publisher or AzureMLPublisher(target, credential), source)


def plan_deploy(target: Target, source: Source, services: Services | None, revision: str | None) -> Plan:
    """The plan against the current state (services given) or against an unknown one (None)."""
    release = training_release(target, training_pipeline(source))
    name = deployment_name(target.factory_name, source, revision)
    if services is None:
        return make_plan(target.env, target.factory_name, source, name, target.resource_group, None, None, release,
                         None)
    step = "read the factory's current state"
    try:
        state = services.factory.read_state()
        step = "read the notebooks in the Databricks workspace"
        notebooks = {nb.workspace_path: services.databricks.is_current(nb) for nb in source.notebooks}
        step = "read the Azure ML batch endpoint"
        endpoint = services.azureml.state(release)
    except StateError:
        raise
    except Exception as exc:  # noqa: BLE001 - say which read failed; nothing has changed yet
        raise StateError(f"{step} failed: {one_line(exc)}\n  nothing was changed") from exc
    return make_plan(target.env, target.factory_name, source, name, target.resource_group, state, notebooks,
                     release, endpoint)


def deploy(target: Target, credential: TokenCredential | None, *, dry_run: bool = False,
           say: Callable[[str], None] = print, publisher: TrainingPublisher | None = None,
           revision: str | None = None) -> Plan:
    """Plan and (unless dry_run) apply. A dry run without a credential plans against an unknown state and
    sends no request at all; with one it only reads."""
    source = load_source(target)
    revision = revision if revision is not None else git_revision()
    if credential is None and not dry_run:
        raise ConfigError("no Azure credential\n  fix: set AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET "
                          "(or a federated token), or `az login`; DRY_RUN=1 prints the plan without one")
    services = make_services(target, credential, source, publisher) if credential is not None else None
    try:
        plan = plan_deploy(target, source, services, revision)
    except StateError:
        say("\n".join(plan_deploy(target, source, None, revision).describe()))
        raise
    say("\n".join(plan.describe()))
    if dry_run:
        say("dry run: nothing was changed")
        return plan
    if not plan.steps:
        say(f"{target.env} is up to date: nothing to do")
        return plan
    apply(plan, services, say)
    return plan
