#!/usr/bin/env bash
# Run a command (a make target) with workload identity federation for azure-identity's DefaultAzureCredential,
# inside an AzureCLI@2 task with `addSpnToEnvironment: true` whose service connection uses workload identity
# federation: the task hands over servicePrincipalId, tenantId and a fresh idToken; this writes the token to a
# file only this user can read and exports AZURE_CLIENT_ID / AZURE_TENANT_ID / AZURE_FEDERATED_TOKEN_FILE.
# No client secret exists anywhere.
set -euo pipefail
: "${servicePrincipalId:?run this inside AzureCLI@2 with addSpnToEnvironment: true}"
: "${idToken:?the service connection must use workload identity federation (no idToken was handed over)}"
token_file="${AGENT_TEMPDIRECTORY:-/tmp}/azure-federated-token"
umask 077
printf '%s' "$idToken" > "$token_file"
export AZURE_CLIENT_ID="$servicePrincipalId" AZURE_TENANT_ID="${tenantId:?}" AZURE_FEDERATED_TOKEN_FILE="$token_file"
exec "$@"
