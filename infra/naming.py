"""Azure's naming rules for the resource types terraform/ names, and evaluation of the module's name templates.

Rules from Microsoft's "Naming rules and restrictions for Azure resources" page; `pattern` is anchored and
already encodes the length.
"""
from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class NameRule:
    resource: str
    pattern: str
    says: str

    def check(self, name: str) -> str | None:
        """None when `name` fits, else what Azure requires."""
        return None if re.fullmatch(self.pattern, name) else self.says


_RG = NameRule("resource group", r"(?=.{1,90}$)[-\w.()]*[-\w()]",
               "1-90 letters, digits, '-', '_', '.', '(' and ')', not ending with '.'")
_DATABRICKS = NameRule("Databricks workspace", r"[A-Za-z0-9_-]{3,64}", "3-64 letters, digits, '_' and '-'")

# Keys are the keys of `local.names` in modules/environment/locals.tf.
RULES: dict[str, NameRule] = {
    "application_insights": NameRule("Application Insights", r"[^%&\\?/]{0,259}[^%&\\?/. ]",
                                     "1-260 characters without % & \\ ? /, not ending with '.' or a space"),
    "container_registry": NameRule("container registry", r"[A-Za-z0-9]{5,50}", "5-50 letters and digits"),
    "data_factory": NameRule("data factory", r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?!-)){1,61}[A-Za-z0-9]",
                             "3-63 letters, digits and single hyphens, starting and ending with a letter or digit"),
    "databricks_access_connector": NameRule("Databricks access connector", r"[A-Za-z0-9_-]{3,64}",
                                            "3-64 letters, digits, '_' and '-'"),
    "databricks_managed_rg": _RG,
    "databricks_workspace": _DATABRICKS,
    "key_vault": NameRule("Key Vault", r"[A-Za-z](?:[A-Za-z0-9]|-(?!-)){1,22}[A-Za-z0-9]",
                          "3-24 letters, digits and single hyphens, starting with a letter"),
    "log_analytics_workspace": NameRule("Log Analytics workspace", r"[A-Za-z0-9][A-Za-z0-9-]{2,61}[A-Za-z0-9]",
                                        "4-63 letters, digits and hyphens, starting and ending with a letter or digit"),
    "ml_key_vault": NameRule("Key Vault", r"[A-Za-z](?:[A-Za-z0-9]|-(?!-)){1,22}[A-Za-z0-9]",
                             "3-24 letters, digits and single hyphens, starting with a letter"),
    "ml_storage_account": NameRule("storage account", r"[a-z0-9]{3,24}", "3-24 lowercase letters and digits"),
    "ml_workspace": NameRule("Azure ML workspace", r"[A-Za-z0-9][A-Za-z0-9_-]{2,32}",
                             "3-33 letters, digits, '_' and '-', starting with a letter or digit"),
    "resource_group": _RG,
    "storage_account": NameRule("storage account", r"[a-z0-9]{3,24}", "3-24 lowercase letters and digits"),
    # Microsoft's rules page says 2-16 alphanumerics and hyphens (workspaces/computes); the azurerm provider and
    # the REST API want a leading letter, a trailing letter or digit and at least 3 characters. Both hold here.
    "training_compute": NameRule("Azure ML compute cluster", r"[A-Za-z][A-Za-z0-9-]{1,14}[A-Za-z0-9]",
                                 "3-16 letters, digits and hyphens, starting with a letter and ending with a "
                                 "letter or digit"),
}

_REF = re.compile(r"\$\{([^}]*)\}")


class NotDerived(ValueError):
    """A name template uses something other than var.prefix, var.environment and other names' locals."""


def evaluate(template: str, variables: dict[str, str], local_values: dict[str, str], seen: tuple = ()) -> str:
    """Expand `${var.x}` and `${local.x}` references; anything else raises NotDerived."""
    def expand(match: re.Match) -> str:
        ref = match.group(1).strip()
        if ref.startswith("var.") and ref[4:] in variables:
            return variables[ref[4:]]
        if ref.startswith("local.") and isinstance(local_values.get(ref[6:]), str) and ref not in seen:
            return evaluate(local_values[ref[6:]], variables, local_values, seen + (ref,))
        raise NotDerived(f"`${{{ref}}}` is neither var.prefix, var.environment nor a local built from them")
    return _REF.sub(expand, template)


def references(template: str) -> set[str]:
    return {m.group(1).strip() for m in _REF.finditer(template)}
