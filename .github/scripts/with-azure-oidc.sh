#!/usr/bin/env bash
# Run a command (a make target) with workload identity federation for azure-identity's DefaultAzureCredential:
# fetch a fresh GitHub OIDC token (the job needs `permissions: id-token: write`), write it to a file only this
# user can read, and export AZURE_CLIENT_ID / AZURE_TENANT_ID (the environment's secrets) and
# AZURE_FEDERATED_TOKEN_FILE. No client secret exists anywhere. The token is fetched per command because GitHub's
# OIDC tokens are short-lived; Entra ID trusts it through a federated credential on the app registration with
# subject repo:<owner>/<repo>:environment:<dev|qa|prod>.
set -euo pipefail
: "${AZURE_CLIENT_ID:?set the AZURE_CLIENT_ID secret on this GitHub environment}"
: "${AZURE_TENANT_ID:?set the AZURE_TENANT_ID secret on this GitHub environment}"
: "${ACTIONS_ID_TOKEN_REQUEST_URL:?the job needs permissions: id-token: write}"
token_file="${RUNNER_TEMP:-/tmp}/azure-federated-token"
umask 077
curl -sSf -H "Authorization: bearer ${ACTIONS_ID_TOKEN_REQUEST_TOKEN}" \
  "${ACTIONS_ID_TOKEN_REQUEST_URL}&audience=api://AzureADTokenExchange" \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["value"])' > "$token_file"
export AZURE_FEDERATED_TOKEN_FILE="$token_file"
exec "$@"
