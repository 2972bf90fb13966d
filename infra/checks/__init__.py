"""Structural checks of terraform/, one function per rule, registered with @check and run in import order.

Each takes the parsed configuration and the spec's data and returns problems; none needs a terraform binary.
"""
# Importing the modules registers their checks, in this order (so isort must leave it alone).
# isort: off
from infra.checks import environments, resources, names, secrets
# isort: on
from infra.checks.registry import CHECKS, Check, run_checks

__all__ = ["CHECKS", "Check", "run_checks", "environments", "names", "resources", "secrets"]
