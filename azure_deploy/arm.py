"""The ARM template deployment, through azure-mgmt-resource-deployments (in azure-mgmt-resource 26 the
`deployments` operations moved to that package's DeploymentsMgmtClient): incremental mode, a named
deployment, the environment's parameters file passed as is (Key Vault references resolve in ARM)."""
from __future__ import annotations

import re
import subprocess

from azure.core.credentials import TokenCredential
from azure.mgmt.resource.deployments import DeploymentsMgmtClient
from azure.mgmt.resource.deployments.models import Deployment, DeploymentMode, DeploymentProperties

from azure_deploy.clients import mgmt_kwargs
from azure_deploy.errors import AzureDeployError
from azure_deploy.source import Source
from azure_deploy.target import PROJECT_ROOT, Target

MAX_NAME = 64


def git_revision(root=PROJECT_ROOT) -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "--short=8", "HEAD"], cwd=root, capture_output=True, text=True,
                             timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    rev = out.stdout.strip()
    return rev if out.returncode == 0 and re.fullmatch(r"[0-9a-f]{4,40}", rev) else None


def deployment_name(factory: str, source: Source, revision: str | None) -> str:
    """adf-<factory>-<short git sha>, or the content hash without git: the same commit redeploys under the
    same name (ARM keeps one history entry per name)."""
    suffix = revision or source.sha256[:8]
    prefix = factory if factory.startswith("adf-") else f"adf-{factory}"
    return prefix[:MAX_NAME - len(suffix) - 1] + f"-{suffix}"


class ArmOps:
    def __init__(self, target: Target, credential: TokenCredential):
        self.target = target
        self.client = DeploymentsMgmtClient(credential, target.subscription_id,
                                            **mgmt_kwargs(credential, target.endpoints))

    def deploy(self, name: str, source: Source) -> None:
        properties = DeploymentProperties(mode=DeploymentMode.INCREMENTAL, template=source.template,
                                          parameters=source.parameters)
        result = self.client.deployments.begin_create_or_update(
            self.target.resource_group, name, Deployment(properties=properties)).result()
        state = getattr(result.properties, "provisioning_state", None) if result else None
        if state not in (None, "Succeeded"):
            raise AzureDeployError(f"deployment {name} ended {state}\n  fix: see the deployment's operations in "
                                   f"the portal (resource group {self.target.resource_group}, Deployments)")
