"""Notebooks into the Databricks workspace with databricks-sdk: SOURCE format, PYTHON, overwrite, at the
path the pipeline's DatabricksNotebook activity names. Authenticates with the same Azure credential as the
rest of the deploy (an Entra ID token for the Azure Databricks application), never a personal access token."""
from __future__ import annotations

import base64
from posixpath import dirname

from azure.core.credentials import TokenCredential
from databricks.sdk import WorkspaceClient
from databricks.sdk.config import Config
from databricks.sdk.credentials_provider import CredentialsStrategy
from databricks.sdk.errors import NotFound
from databricks.sdk.service.workspace import ExportFormat, ImportFormat, Language

from azure_deploy.clients import DATABRICKS_SCOPE
from azure_deploy.source import Notebook
from azure_deploy.target import Target


class AzureTokenStrategy(CredentialsStrategy):
    """Bearer tokens from an azure-core TokenCredential (DefaultAzureCredential in production)."""

    def __init__(self, credential: TokenCredential):
        self.credential = credential

    def auth_type(self) -> str:
        return "azure-token-credential"

    def __call__(self, cfg: Config):
        def headers() -> dict[str, str]:
            return {"Authorization": f"Bearer {self.credential.get_token(DATABRICKS_SCOPE).token}"}
        return headers


def _normalized(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n").strip()


class DatabricksOps:
    def __init__(self, target: Target, credential: TokenCredential):
        self.client = WorkspaceClient(config=Config(host=target.databricks_url,
                                                    credentials_strategy=AzureTokenStrategy(credential)))

    def is_current(self, notebook: Notebook) -> bool:
        """Whether the workspace already holds exactly this notebook's source."""
        try:
            exported = self.client.workspace.export(notebook.workspace_path, format=ExportFormat.SOURCE)
        except NotFound:
            return False
        return _normalized(base64.b64decode(exported.content or "")) == _normalized(notebook.content())

    def upload(self, notebook: Notebook) -> None:
        self.client.workspace.mkdirs(dirname(notebook.workspace_path))
        self.client.workspace.import_(notebook.workspace_path, content=base64.b64encode(notebook.content()).decode(),
                                      format=ImportFormat.SOURCE, language=Language.PYTHON, overwrite=True)
