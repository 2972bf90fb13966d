"""Checks that no secret has a literal value."""
from __future__ import annotations

import re

from infra.checks.registry import Problem, check, flatten, is_expression, make_problem
from infra.hcl import Config, TfDir

# --- secrets -----------------------------------------------------------------------------------------------

SECRET_KEY = re.compile(r"(^|_)(password|secret|token|connection_string|sas_token|sas_url|access_key|primary_key|"
                        r"secondary_key|client_secret|private_key|api_key|instrumentation_key)($|_)")
SECRET_VALUE = (
    (re.compile(r"AccountKey=[A-Za-z0-9+/=]{20,}"), "a storage account key"),
    (re.compile(r"[?&]sig=[A-Za-z0-9%+/=]{20,}"), "a SAS signature"),
    (re.compile(r"\bdapi[0-9a-f]{32}\b"), "a Databricks personal access token"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\."), "a JWT"),
    (re.compile(r"^[A-Za-z0-9+/]{86}==$"), "a base64 account key"),
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"), "a private key"),
)


def _all_dirs(config: Config) -> list[TfDir]:
    return [config.module, *config.environments.values()]


@check("secrets", "no secret has a literal value; secret variables and outputs are sensitive")
def no_literal_secrets(config: Config, spec: dict) -> list[Problem]:
    problems = []
    for tf_dir in _all_dirs(config):
        for kind, blocks in tf_dir.blocks.items():
            for path, value in flatten(blocks):
                leaf = re.sub(r"\[\d+\]", "", path.rsplit(".", 1)[-1])
                label = re.sub(r"^\[\d+\]\.?", "", path)
                secret_value = isinstance(value, str) and not is_expression(value) and value.strip()
                file = tf_dir.files.get(f"{kind}.{label.split('.')[0]}") if label else None
                if secret_value and kind not in ("variable", "output") and (SECRET_KEY.search(leaf) or
                                     (leaf == "value" and "azurerm_key_vault_secret" in label)):
                    problems.append(make_problem(config, file or tf_dir.path, f"{kind}.{label}",
                                             "a secret has a literal value", "reference a sensitive variable with no "
                                             "default, or better a managed identity; never commit the value", leaf))
                for pattern, what in SECRET_VALUE:
                    if isinstance(value, str) and pattern.search(value):
                        problems.append(make_problem(config, file or tf_dir.path, f"{kind}.{label}",
                                                 f"looks like {what}", "remove it and rotate the secret", leaf))
        for name, body in tf_dir.labelled("variable").items():
            if SECRET_KEY.search(name):
                file = tf_dir.files.get(f"variable.{name}")
                if body.get("sensitive") is not True:
                    problems.append(make_problem(config, file, f"variable.{name}", "secret variable is not sensitive",
                                             "add sensitive = true", f'"{name}"'))
                if body.get("default") not in (None, "null", "${null}"):
                    problems.append(make_problem(config, file, f"variable.{name}.default", "secret variable has a default",
                                             "remove the default; pass it from Key Vault or TF_VAR_ at apply time",
                                             f'"{name}"'))
        for name, body in tf_dir.labelled("output").items():
            if SECRET_KEY.search(name) and body.get("sensitive") is not True:
                problems.append(make_problem(config, tf_dir.files.get(f"output.{name}"), f"output.{name}",
                                         "secret output is not sensitive", "add sensitive = true", f'"{name}"'))
    return problems
