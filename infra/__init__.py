"""Offline checks of terraform/ and the step that writes Terraform outputs into the spec.

`python -m infra validate` parses every .tf file with python-hcl2, runs the structural checks in
`infra.checks` and then checkov (from its own virtualenv) against `terraform/checkov-skips.yaml`.
`python -m infra outputs-to-spec --env qa --outputs out.json` writes `terraform output -json` into
`spec/factory.yaml`'s `environments.qa`, editing only those values' text.
"""
from infra.errors import InfraError, Problem, ProblemsFound

__all__ = ["InfraError", "Problem", "ProblemsFound"]
