"""Where an Azure environment lives and how to reach it: read from the spec's `environments.<env>`, plus
endpoint overrides (a sovereign cloud, or the test suite's loopback fake of ARM, Databricks and Azure ML).

The factory, Databricks workspace and Azure ML workspace share the environment's subscription and resource
group (terraform/modules/environment creates all of them in `rg-<prefix>-<env>`), which the spec records as
`azure_ml.subscription_id` and `azure_ml.resource_group` (Terraform outputs `subscription_id`,
`resource_group_name`). The training compute cluster is Terraform's too: `azure_ml.training_compute` (output
`training_compute_name`).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from azure_deploy.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ARM_DIR = PROJECT_ROOT / "generated" / "arm"
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
PUBLIC_ARM = "https://management.azure.com"


@dataclass(frozen=True)
class Endpoints:
    """Service base URLs. None means the public cloud's (or, for Databricks, the spec's workspace URL)."""
    arm: str | None = None          # Azure Resource Manager: deployments, Data Factory, Azure ML control plane
    databricks: str | None = None   # the Databricks workspace host
    azureml_arm: str | None = None  # Azure ML's control plane (ARM unless overridden separately)
    polling_interval: float | None = None  # seconds between long-running-operation polls (tests: 0)
    retry_total: int | None = None         # SDK retries of 5xx/429 (None: the SDK's default)

    @classmethod
    def from_environ(cls) -> Endpoints:
        """AZURE_DEPLOY_ARM_URL / AZURE_DEPLOY_DATABRICKS_HOST / AZURE_DEPLOY_AZUREML_URL (other clouds, the test
        fake) and AZURE_DEPLOY_POLL_SECONDS (long-running operations and event-subscription polls)."""
        poll = os.environ.get("AZURE_DEPLOY_POLL_SECONDS")
        return cls(os.environ.get("AZURE_DEPLOY_ARM_URL") or None,
                   os.environ.get("AZURE_DEPLOY_DATABRICKS_HOST") or None,
                   os.environ.get("AZURE_DEPLOY_AZUREML_URL") or None,
                   float(poll) if poll else None)

    @property
    def arm_url(self) -> str:
        return (self.arm or PUBLIC_ARM).rstrip("/")

    @property
    def azureml_url(self) -> str:
        return (self.azureml_arm or self.arm_url).rstrip("/")


@dataclass(frozen=True)
class Target:
    env: str
    subscription_id: str
    resource_group: str
    factory_name: str
    databricks_host: str
    azureml_workspace: str
    training_endpoint_uri: str
    storage_account_url: str
    training_compute: str           # the Azure ML compute cluster Terraform provisions; the component's default
    arm_dir: Path = ARM_DIR
    notebooks_dir: Path = NOTEBOOKS_DIR
    endpoints: Endpoints = field(default_factory=Endpoints)

    @property
    def template_path(self) -> Path:
        return self.arm_dir / "ARMTemplateForFactory.json"

    @property
    def parameters_path(self) -> Path:
        return self.arm_dir / "parameters" / f"{self.env}.json"

    @property
    def training_endpoint_name(self) -> str:
        """Batch endpoints score at https://<endpoint name>.<region>.inference.ml.azure.com/jobs."""
        host = urlsplit(self.training_endpoint_uri).hostname or ""
        return host.split(".", 1)[0]

    @property
    def databricks_url(self) -> str:
        return (self.endpoints.databricks or self.databricks_host).rstrip("/")


def load_target(env: str, spec_path: Path | None = None, endpoints: Endpoints | None = None,
                arm_dir: Path = ARM_DIR, notebooks_dir: Path = NOTEBOOKS_DIR) -> Target:
    """The environment's Azure coordinates from the spec (validated by the generator's loader)."""
    from generator.errors import GeneratorError
    from generator.spec import DEFAULT_SPEC, load_spec

    try:
        spec = load_spec(spec_path or DEFAULT_SPEC)
        data = spec.environment(env)
    except GeneratorError as exc:
        raise ConfigError(str(exc)) from None
    if data.get("target") != "azure":
        raise ConfigError(f"environments.{env}.target is {data.get('target')!r}, not 'azure'\n"
                          f"  fix: ENV={env} deploys with `python -m local_runtime deploy`; "
                          "the Azure deployer takes dev, qa or prod")
    ml, dbw = data["azure_ml"], data["databricks"]
    if not dbw["domain"].startswith("https://"):
        raise ConfigError(f"environments.{env}.databricks.domain is {dbw['domain']!r}, expected the workspace's "
                          f"https URL\n  fix: `make infra-outputs ENV={env}` writes it from Terraform")
    return Target(env=env, subscription_id=ml["subscription_id"], resource_group=ml["resource_group"],
                  factory_name=data["factory_name"], databricks_host=dbw["domain"],
                  azureml_workspace=ml["workspace"], training_endpoint_uri=ml["training_endpoint_uri"],
                  storage_account_url=data["storage"]["blob_endpoint"].rstrip("/"),
                  training_compute=ml["training_compute"],
                  arm_dir=arm_dir, notebooks_dir=notebooks_dir, endpoints=endpoints or Endpoints())
