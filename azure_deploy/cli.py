"""`python -m azure_deploy deploy|smoke|integration-test --env dev|qa|prod`: each command is a few lines that
call the library; errors become messages (and exit codes) in one place, `error_handler`."""
from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable

from azure_deploy.errors import AzureDeployError, StepFailed
from azure_deploy.target import Endpoints, load_target


def error_handler(fn: Callable[..., int]) -> Callable[..., int]:
    @functools.wraps(fn)
    def wrapper(*args, **kwargs) -> int:
        try:
            return fn(*args, **kwargs)
        except StepFailed as exc:
            print(f"deploy failed at step {exc.index}/{exc.total}: {exc.step}\n  error: "
                  f"{str(exc).split(': ', 2)[-1]}", file=sys.stderr)
            print("remaining plan (the failed step first; fix the cause and deploy again, every step is "
                  "idempotent):", file=sys.stderr)
            for offset, step in enumerate(exc.remaining):
                print(f"  {exc.index + offset}. {step}", file=sys.stderr)
            return 1
        except AzureDeployError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    return wrapper


def _credential(dry_run: bool, read_state: bool | None, say: Callable[[str], None]):
    from azure_deploy.clients import credentials_configured, default_credential

    if not dry_run:
        return default_credential()
    if read_state is False:
        say("dry run: not reading the current state (--no-read-state)")
        return None
    if read_state or credentials_configured():
        return default_credential()
    say("dry run: no Azure credentials in the environment (AZURE_CLIENT_ID, AZURE_TENANT_ID and a secret, "
        "certificate or federated token): planning against an unknown current state, no request is sent")
    return None


@error_handler
def cmd_deploy(args: argparse.Namespace) -> int:
    from azure_deploy.deploy import deploy

    target = load_target(args.env, endpoints=Endpoints.from_environ())
    deploy(target, _credential(args.dry_run, args.read_state, print), dry_run=args.dry_run)
    return 0


def cmd_smoke(args: argparse.Namespace) -> int:
    from ops.smoke import azure_smoke

    return azure_smoke(args.env, dict(p.split("=", 1) for p in args.param), args.timeout)


@error_handler
def cmd_integration(args: argparse.Namespace) -> int:
    from ops.integration import main as integration_main

    return integration_main(["--env", args.env] + (["--run-id", args.run_id] if args.run_id else []))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m azure_deploy", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("deploy", help="plan, then deploy generated/arm + notebooks + the training endpoint")
    p.add_argument("--env", required=True)
    p.add_argument("--dry-run", action="store_true", help="print the plan; change nothing")
    p.add_argument("--read-state", action=argparse.BooleanOptionalAction, default=None,
                   help="dry run: read the current state (default: only when credentials are in the environment)")
    p.set_defaults(fn=cmd_deploy)
    p = sub.add_parser("smoke", help="run the pipeline through the ADF API and follow it to the end")
    p.add_argument("--env", required=True)
    p.add_argument("--param", action="append", default=[], help="NAME=VALUE pipeline parameter")
    p.add_argument("--timeout", type=float, default=1800)
    p.set_defaults(fn=cmd_smoke)
    p = sub.add_parser("integration-test", help="check the data of the latest successful run")
    p.add_argument("--env", required=True)
    p.add_argument("--run-id")
    p.set_defaults(fn=cmd_integration)
    args = parser.parse_args(argv)
    return args.fn(args)
