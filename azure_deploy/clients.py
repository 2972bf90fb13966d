"""SDK client construction in one place: credentials, base URLs, polling, and HTTPS enforcement.

Production talks to the public cloud over HTTPS with DefaultAzureCredential (environment variables in CI,
a managed identity or `az login` elsewhere). The test suite points every client at its loopback fake with a
fake TokenCredential; azure-core refuses bearer tokens over plain HTTP, so only for a loopback host the
policy below lets a token go over http://127.0.0.1. Tokens travel in the Authorization header only.
"""
from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

from azure.core.credentials import TokenCredential
from azure.mgmt.core.policies import ARMChallengeAuthenticationPolicy

from azure_deploy.target import Endpoints

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
ARM_SCOPE_SUFFIX = "/.default"
# The Azure Databricks first-party application: tokens for this scope open any Azure Databricks workspace.
DATABRICKS_SCOPE = "2ff814a6-3304-4ab8-85cb-cd0e6f879c1d/.default"
ENV_CREDENTIAL_VARS = ("AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_FEDERATED_TOKEN_FILE")


def is_loopback(url: str) -> bool:
    return (urlsplit(url).hostname or "") in LOOPBACK


class _LoopbackAwareAuthPolicy(ARMChallengeAuthenticationPolicy):
    """ARM's bearer-token policy; allows plain HTTP to a loopback host (the test fake) and nowhere else."""

    def on_request(self, request):  # type: ignore[override]
        if is_loopback(request.http_request.url):
            request.context.options["enforce_https"] = False
        return super().on_request(request)


def loopback_auth_policy(credential: TokenCredential, arm_url: str) -> ARMChallengeAuthenticationPolicy:
    return _LoopbackAwareAuthPolicy(credential, arm_scope(arm_url))


def arm_scope(arm_url: str) -> str:
    return arm_url.rstrip("/") + ARM_SCOPE_SUFFIX


def mgmt_kwargs(credential: TokenCredential, endpoints: Endpoints) -> dict[str, Any]:
    """Keyword arguments for any azure-mgmt-* client: base URL, auth policy, polling interval."""
    kwargs: dict[str, Any] = {
        "base_url": endpoints.arm_url,
        "credential_scopes": [arm_scope(endpoints.arm_url)],
        "authentication_policy": _LoopbackAwareAuthPolicy(credential, arm_scope(endpoints.arm_url)),
    }
    if endpoints.polling_interval is not None:
        kwargs["polling_interval"] = endpoints.polling_interval
    if endpoints.retry_total is not None:
        kwargs["retry_total"] = endpoints.retry_total
    return kwargs


def credentials_configured(environ: dict[str, str] | None = None) -> bool:
    """Whether the environment names a service principal or workload identity (what CI sets), without asking
    any service: a dry run reads the current state only then."""
    env = os.environ if environ is None else environ
    return bool(env.get("AZURE_CLIENT_ID") and env.get("AZURE_TENANT_ID")
                and any(env.get(name) for name in ENV_CREDENTIAL_VARS))


def default_credential() -> TokenCredential:
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential()
