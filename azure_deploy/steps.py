"""Carry out a plan: each step type has one handler (a registry, not an if/elif chain); steps run in order,
each idempotent, and the first failure stops the sequence with an error naming the step and the steps left."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from azure_deploy.arm import ArmOps
from azure_deploy.azureml import TrainingPublisher
from azure_deploy.databricks import DatabricksOps
from azure_deploy.errors import StepFailed
from azure_deploy.factory import FactoryOps
from azure_deploy.plan import (
    DeleteObject,
    DeployComponent,
    DeployTemplate,
    EnsureEndpoint,
    Plan,
    RegisterComponent,
    SetDefaultDeployment,
    StartTrigger,
    Step,
    StopTrigger,
    UploadNotebook,
)
from azure_deploy.source import Source


@dataclass
class Services:
    factory: FactoryOps
    arm: ArmOps
    databricks: DatabricksOps
    azureml: TrainingPublisher
    source: Source


S = TypeVar("S")
HANDLERS: dict[type, Callable[[Services, object], None]] = {}


def handles(step_type: type[S]) -> Callable[[Callable[[Services, S], None]], Callable[[Services, S], None]]:
    def register(fn: Callable[[Services, S], None]) -> Callable[[Services, S], None]:
        HANDLERS[step_type] = fn  # type: ignore[assignment]
        return fn
    return register


@handles(StopTrigger)
def _stop(services: Services, step: StopTrigger) -> None:
    services.factory.stop_trigger(step.name, step.blob_events)


@handles(DeployTemplate)
def _deploy(services: Services, step: DeployTemplate) -> None:
    services.arm.deploy(step.deployment, services.source)


@handles(DeleteObject)
def _delete(services: Services, step: DeleteObject) -> None:
    services.factory.delete(step.folder, step.name)


@handles(UploadNotebook)
def _upload(services: Services, step: UploadNotebook) -> None:
    notebook = next(nb for nb in services.source.notebooks if nb.workspace_path == step.workspace_path)
    services.databricks.upload(notebook)


@handles(RegisterComponent)
def _register(services: Services, step: RegisterComponent) -> None:
    services.azureml.register_component(step.release)


@handles(EnsureEndpoint)
def _endpoint(services: Services, step: EnsureEndpoint) -> None:
    services.azureml.ensure_endpoint(step.release)


@handles(DeployComponent)
def _deploy_component(services: Services, step: DeployComponent) -> None:
    services.azureml.deploy(step.release)


@handles(SetDefaultDeployment)
def _set_default(services: Services, step: SetDefaultDeployment) -> None:
    services.azureml.set_default(step.release)


@handles(StartTrigger)
def _start(services: Services, step: StartTrigger) -> None:
    services.factory.start_trigger(step.name, step.blob_events)


def apply(plan: Plan, services: Services, say: Callable[[str], None] = print) -> None:
    total = len(plan.steps)
    for index, step in enumerate(plan.steps, 1):
        say(f"[{index}/{total}] {step}")
        try:
            HANDLERS[type(step)](services, step)
        except Exception as exc:  # noqa: BLE001 - any failure stops the sequence and names the step
            raise StepFailed(index, total, step, exc, list(plan.steps[index - 1:])) from exc
    say(f"deploy of {plan.env} done: {total} step(s)")


def run_step(services: Services, step: Step) -> None:
    HANDLERS[type(step)](services, step)
