"""Thin CLI over infra.validate and infra.outputs; every InfraError becomes one message and exit code 1."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from infra.errors import InfraError


def _validate(args: argparse.Namespace) -> int:
    from infra.validate import validate

    report = validate(Path(args.terraform_dir), Path(args.spec), run_checkov=not args.no_checkov,
                      checkov_bin=Path(args.checkov))
    for problem in report.problems:
        print(problem, file=sys.stderr)
    if report.problems:
        print(f"infra validate: {len(report.problems)} problem(s)", file=sys.stderr)
        return 1
    checkov = "checkov passed (skips: terraform/checkov-skips.yaml)" if report.checkov_ran else "checkov not run"
    print(f"infra validate: {report.files} .tf files, environments {', '.join(report.environments)}: "
          f"structure ok, {checkov}")
    return 0


def _outputs_to_spec(args: argparse.Namespace) -> int:
    from infra.outputs import outputs_to_spec

    if args.outputs == "-":
        text, source = sys.stdin.read(), "<stdin>"
    else:
        path = Path(args.outputs)
        if not path.is_file():
            raise InfraError(f"{path}: no such file\n  fix: terraform -chdir=terraform/environments/{args.env} "
                             f"output -json > {path}")
        text, source = path.read_text(encoding="utf-8"), str(path)
    changes = outputs_to_spec(Path(args.spec), args.env, text, source, write=not args.check)
    if not changes:
        print(f"{args.spec}: environments.{args.env} already matches the Terraform outputs")
        return 0
    for change in changes:
        print(f"  {change}")
    if args.check:
        print(f"{args.spec}: {len(changes)} value(s) differ from the Terraform outputs (not written: --check)",
              file=sys.stderr)
        return 1
    print(f"{args.spec}: wrote {len(changes)} value(s) of environments.{args.env}; now run `make generate`")
    return 0


def main(argv: list[str] | None = None) -> int:
    from infra.checkov import CHECKOV_BIN
    from infra.hcl import TERRAFORM_DIR
    from infra.validate import DEFAULT_SPEC

    parser = argparse.ArgumentParser(prog="python -m infra", description="Check terraform/ offline, and write "
                                     "Terraform outputs into the spec.")
    sub = parser.add_subparsers(dest="command", required=True)
    val = sub.add_parser("validate", help="parse terraform/ and check it offline (structure, names, secrets, checkov)")
    val.add_argument("--terraform-dir", default=str(TERRAFORM_DIR))
    val.add_argument("--spec", default=str(DEFAULT_SPEC))
    val.add_argument("--checkov", default=str(CHECKOV_BIN), help="checkov executable (default .venv-checkov)")
    val.add_argument("--no-checkov", action="store_true", help="structural checks only")
    val.set_defaults(func=_validate)
    out = sub.add_parser("outputs-to-spec", help="write `terraform output -json` into environments.<env> of the spec")
    out.add_argument("--env", required=True)
    out.add_argument("--outputs", required=True, help="file written by `terraform output -json`, or - for stdin")
    out.add_argument("--spec", default=str(DEFAULT_SPEC))
    out.add_argument("--check", action="store_true", help="only report differences; exit 1 if there are any")
    out.set_defaults(func=_outputs_to_spec)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except InfraError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
