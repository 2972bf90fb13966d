"""Publish the training pipeline to Azure ML (SDK v2, azure-ai-ml): a pipeline component deployed to the batch
endpoint the factory's Web activity posts to, set as its default deployment. The factory holds the endpoint's
scoring URI, never a component or job id, so republishing never breaks ADF.

`TrainingPublisher` is the small interface the deploy steps use; `AzureMLPublisher` implements it with
MLClient. Component registration (it uploads the code snapshot to the workspace's datastore) is behind
`register_component`; endpoint and deployment calls go through MLClient's ARM client.

The compute cluster the component runs on is not the deployer's: Terraform provisions it
(terraform/modules/environment, `azurerm_machine_learning_compute_cluster.training`) with the managed identity
and storage grants the training jobs need, and `make infra-outputs` writes its name into the spec
(`azure_ml.training_compute`). Reading the state checks that it exists; a missing one stops the deploy before
anything changes, since a cluster created here would have neither that identity nor those grants, and would
block Terraform's own create.
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from azure.core.credentials import TokenCredential
from azure.core.exceptions import ResourceNotFoundError

from azure_deploy.clients import is_loopback, loopback_auth_policy
from azure_deploy.errors import AzureDeployError, ConfigError, StateError
from azure_deploy.target import PROJECT_ROOT, Target

COMPONENT_NAME = "porto_training_pipeline"
TRAINING_CONFIG = PROJECT_ROOT / "generated" / "azureml" / "training-config.json"
CODE_PACKAGES = ("training", "storage", "dataprep", "lineage")  # what `python -m training` imports
IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest"
# Runtime packages of the training step, pinned as requirements.txt pins them; azureml-mlflow points MLflow
# at the workspace's tracking server.
PIP_PACKAGES = ("numpy", "pandas", "pyarrow", "lightgbm", "scikit-learn", "mlflow", "azure-storage-blob",
                "azure-identity", "PyYAML")


@dataclass(frozen=True)
class TrainingRelease:
    """What one publish puts into the workspace; the version is a content hash, so the same code and config
    always publish as the same component version and deployment."""
    endpoint: str
    component: str
    version: str
    inputs: tuple[str, ...]
    compute: str         # the component's default compute: the environment's Terraform-provisioned cluster

    @property
    def deployment(self) -> str:
        return f"train-{self.version[:10]}"  # 3-32 letters, digits, hyphens


@dataclass(frozen=True)
class EndpointState:
    component_registered: bool
    endpoint_exists: bool
    deployment_exists: bool
    default_deployment: str | None
    scoring_uri: str | None


class TrainingPublisher(Protocol):
    def state(self, release: TrainingRelease) -> EndpointState: ...
    def register_component(self, release: TrainingRelease) -> None: ...
    def ensure_endpoint(self, release: TrainingRelease) -> str: ...
    def deploy(self, release: TrainingRelease) -> None: ...
    def set_default(self, release: TrainingRelease) -> None: ...


# --- what the factory sends -------------------------------------------------------------------------------------
def endpoint_inputs(pipeline: dict, activity_name: str | None = None) -> tuple[str, ...]:
    """The input names the pipeline's Web activity posts to the batch endpoint (properties.InputData keys):
    the published component must declare exactly these."""
    for activity in pipeline["properties"].get("activities", []):
        if activity.get("type") != "WebActivity" or (activity_name and activity["name"] != activity_name):
            continue
        body = activity.get("typeProperties", {}).get("body")
        text = body.get("value") if isinstance(body, dict) else body
        if not isinstance(text, str) or "InputData" not in text:
            continue
        # The body is an interpolated string; its @{...} parts sit inside JSON string values, so it parses.
        data = json.loads(re.sub(r"@\{[^}]*\}", "x", text))
        return tuple(sorted(data["properties"]["InputData"]))
    raise ConfigError(f"pipeline {pipeline['name']}: no WebActivity posts properties.InputData to the training "
                      "endpoint\n  fix: regenerate with `make generate`")


def training_release(target: Target, pipeline: dict) -> TrainingRelease:
    inputs = endpoint_inputs(pipeline)
    digest = hashlib.sha256()
    digest.update(json.dumps({"inputs": inputs, "compute": target.training_compute, "image": IMAGE,
                              "pip": pip_requirements(), "command": command_line()}, sort_keys=True).encode())
    for path in sorted(code_files()):
        digest.update(str(path.relative_to(PROJECT_ROOT)).encode() + b"\0" + path.read_bytes())
    name = target.training_endpoint_name
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9-]{1,30}[A-Za-z0-9]", name):
        raise ConfigError(f"environments.{target.env}.azure_ml.training_endpoint_uri {target.training_endpoint_uri!r}"
                          f" does not start with a batch endpoint name (got {name!r})\n  fix: use "
                          "https://<endpoint name>.<region>.inference.ml.azure.com/jobs")
    return TrainingRelease(name, COMPONENT_NAME, digest.hexdigest()[:16], inputs, target.training_compute)


def code_files() -> list[Path]:
    files = [TRAINING_CONFIG]
    for package in CODE_PACKAGES:
        root = PROJECT_ROOT / package
        if root.is_dir():
            files += [p for p in root.rglob("*.py") if "__pycache__" not in p.parts]
    return files


def pip_requirements() -> list[str]:
    pins = {}
    for line in (PROJECT_ROOT / "requirements.txt").read_text().splitlines():
        name, sep, version = line.strip().partition("==")
        if sep:
            pins[name.lower()] = version
    return [f"{p}=={pins[p.lower()]}" if p.lower() in pins else p for p in PIP_PACKAGES] + ["azureml-mlflow"]


def command_line() -> str:
    return ("ADF_PIPELINE_RUN_ID='${{inputs.pipeline_run_id}}' python -m training "
            "--manifest-url '${{inputs.manifest}}' --manifest-sha256 '${{inputs.manifest_sha256}}' "
            "--config training-config.json")


def build_pipeline_component(release: TrainingRelease, code_dir: Path):
    """The pipeline component (one command step running `python -m training`), built locally, no service calls.
    The manifest input is a uri_file in direct mode: the step receives the blob URL and checks its sha256."""
    from azure.ai.ml import Input, command, dsl
    from azure.ai.ml.constants import InputOutputModes
    from azure.ai.ml.entities import Environment

    environment = Environment(name="porto-training-env", image=IMAGE, conda_file={
        "name": "porto-training", "channels": ["conda-forge"],
        "dependencies": ["python=3.11", "pip", {"pip": pip_requirements()}]})
    train = command(name="train_evaluate_register", display_name="train, evaluate, register",
                    code=str(code_dir), command=command_line(), environment=environment,
                    inputs={"manifest": Input(type="uri_file"), "manifest_sha256": Input(type="string"),
                            "pipeline_run_id": Input(type="string")})
    if set(release.inputs) != {"manifest", "manifest_sha256", "pipeline_run_id"}:
        raise ConfigError(f"the factory posts inputs {list(release.inputs)}, the training component declares "
                          "manifest, manifest_sha256, pipeline_run_id\n  fix: keep the Web activity body and "
                          "azure_deploy/azureml.py in step")

    def training_pipeline(manifest, manifest_sha256, pipeline_run_id):
        step = train(manifest=manifest, manifest_sha256=manifest_sha256, pipeline_run_id=pipeline_run_id)
        step.inputs.manifest.mode = InputOutputModes.DIRECT

    # Real objects, not the strings `from __future__ import annotations` would leave for dsl to read.
    training_pipeline.__annotations__ = {"manifest": Input(type="uri_file"), "manifest_sha256": Input(type="string"),
                                         "pipeline_run_id": Input(type="string")}
    training_pipeline = dsl.pipeline(name=release.component,
                                     description="Train, evaluate and register the Porto Seguro model")(training_pipeline)
    return training_pipeline._pipeline_builder.build()


def stage_code(into: Path) -> Path:
    for package in CODE_PACKAGES:
        if (PROJECT_ROOT / package).is_dir():
            shutil.copytree(PROJECT_ROOT / package, into / package,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy(TRAINING_CONFIG, into / "training-config.json")
    return into


# --- azure-ai-ml ------------------------------------------------------------------------------------------------
class AzureMLPublisher:
    def __init__(self, target: Target, credential: TokenCredential):
        from azure.ai.ml import MLClient

        kwargs: dict[str, Any] = {"enable_telemetry": False, "show_progress": False}
        url = target.endpoints.azureml_url
        if target.endpoints.azureml_arm or target.endpoints.arm:  # another cloud, or the test fake
            kwargs.update(cloud=f"custom-{hashlib.sha256(url.encode()).hexdigest()[:8]}", cloud_metadata={
                "azure_portal": url + "/", "resource_manager": url + "/", "active_directory": url + "/",
                "aml_resource_id": url + "/", "storage_endpoint": "core.windows.net",
                "registry_discovery_endpoint": url + "/"})
            if is_loopback(url):  # the test fake: azure-core refuses bearer tokens over plain HTTP elsewhere
                kwargs["authentication_policy"] = loopback_auth_policy(credential, url)
        if target.endpoints.polling_interval is not None:
            kwargs["polling_interval"] = target.endpoints.polling_interval
        if target.endpoints.retry_total is not None:
            kwargs["retry_total"] = target.endpoints.retry_total
        self.target = target
        self.ml = MLClient(credential, target.subscription_id, target.resource_group, target.azureml_workspace,
                           **kwargs)
        # azure-ai-ml logs every expected 404 (a get before a create) as an ERROR "activity"; the steps say more.
        for name in list(logging.root.manager.loggerDict):
            if name.startswith("azure.ai.ml._telemetry"):
                logging.getLogger(name).setLevel(logging.CRITICAL)

    def state(self, release: TrainingRelease) -> EndpointState:
        self.check_compute(release)
        try:
            self.ml.components.get(release.component, version=release.version)
            registered = True
        except ResourceNotFoundError:
            registered = False
        try:
            endpoint = self.ml.batch_endpoints.get(release.endpoint)
        except ResourceNotFoundError:
            return EndpointState(registered, False, False, None, None)
        try:
            self.ml.batch_deployments.get(release.deployment, release.endpoint)
            deployed = True
        except ResourceNotFoundError:
            deployed = False
        return EndpointState(registered, True, deployed, _default_deployment(endpoint), endpoint.scoring_uri)

    def check_compute(self, release: TrainingRelease) -> None:
        """The default compute must exist and be a compute cluster: Terraform creates it, the deployer never does."""
        env, where = self.target.env, f"Azure ML workspace {self.target.azureml_workspace}"
        try:
            compute = self.ml.compute.get(release.compute)
        except ResourceNotFoundError:
            raise StateError(
                f"compute cluster {release.compute} (environments.{env}.azure_ml.training_compute) does not exist in "
                f"{where}\n  fix: Terraform owns the training cluster: `terraform -chdir=terraform/environments/{env} "
                f"apply`, then `make infra-outputs ENV={env}` and `make generate` (terraform/README.md); the "
                "deployer does not create it\n  nothing was changed") from None
        kind = str(getattr(compute, "type", "") or "unknown")
        if kind.lower() != "amlcompute":
            raise StateError(
                f"compute {release.compute} in {where} is of type {kind}, not a compute cluster (AmlCompute)\n  fix: "
                f"Terraform names the training cluster {release.compute}: delete or rename that compute, then "
                f"`terraform -chdir=terraform/environments/{env} apply`\n  nothing was changed")

    def register_component(self, release: TrainingRelease) -> None:
        """The component version; uploads the code snapshot."""
        with tempfile.TemporaryDirectory() as tmp:
            component = build_pipeline_component(release, stage_code(Path(tmp)))
            self.ml.components.create_or_update(component, version=release.version)

    def ensure_endpoint(self, release: TrainingRelease) -> str:
        from azure.ai.ml.entities import BatchEndpoint

        try:
            endpoint = self.ml.batch_endpoints.get(release.endpoint)
        except ResourceNotFoundError:
            endpoint = self.ml.batch_endpoints.begin_create_or_update(BatchEndpoint(
                name=release.endpoint, description="Porto Seguro training; ADF's StartTrainingJob posts here")).result()
        uri = endpoint.scoring_uri or ""
        if uri.rstrip("/") != self.target.training_endpoint_uri.rstrip("/"):
            raise AzureDeployError(
                f"batch endpoint {release.endpoint} scores at {uri!r}, but the factory posts to "
                f"{self.target.training_endpoint_uri!r}\n  fix: set environments.{self.target.env}.azure_ml."
                "training_endpoint_uri to the endpoint's scoring URI (`make infra-outputs`), then `make generate`")
        return uri

    def deploy(self, release: TrainingRelease) -> None:
        from azure.ai.ml.entities import PipelineComponentBatchDeployment

        self.ml.batch_deployments.begin_create_or_update(PipelineComponentBatchDeployment(
            name=release.deployment, endpoint_name=release.endpoint,
            component=f"azureml:{release.component}:{release.version}",
            settings={"default_compute": release.compute, "continue_on_step_failure": False},
            description=f"{release.component} version {release.version}")).result()

    def set_default(self, release: TrainingRelease) -> None:
        endpoint = self.ml.batch_endpoints.get(release.endpoint)
        endpoint.defaults = {"deployment_name": release.deployment}
        self.ml.batch_endpoints.begin_create_or_update(endpoint).result()


def _default_deployment(endpoint) -> str | None:
    """`defaults` is None, a dict or the REST model, depending on where the entity came from."""
    defaults = endpoint.defaults
    if isinstance(defaults, dict):
        return defaults.get("deployment_name") or defaults.get("deploymentName")
    return getattr(defaults, "deployment_name", None)
