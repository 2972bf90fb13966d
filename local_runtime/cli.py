"""Thin CLI over the local runtime: plan and deploy, serve, start and inspect runs."""
from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

from local_runtime import deploy as deployer
from local_runtime.errors import RuntimeErrorBase
from local_runtime.report import format_run
from local_runtime.runs import start_run
from local_runtime.settings import PROJECT_ROOT, load_settings
from local_runtime.store import Store

TERMINAL = {"Succeeded", "Failed", "Cancelled"}


def _pairs(items: list[str]) -> dict:
    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise RuntimeErrorBase(f"{item!r} is not NAME=VALUE")
        try:
            out[key] = json.loads(value)
        except ValueError:
            out[key] = value
    return out


def environment_target(env: str) -> str:
    from generator.spec import load_spec

    return load_spec().environment(env)["target"]


def require_local(env: str) -> None:
    """The one message for every command that needs a deployed environment (plan, deploy) on Azure."""
    target = environment_target(env)
    if target != "local":
        raise RuntimeErrorBase(
            f"ENV={env} is an Azure environment (spec: environments.{env}.target = {target}). Planning or "
            "deploying it needs an Azure subscription, credentials (az login or a service principal) and the Azure "
            "deployer, which this project does not have yet. Use ENV=local for the embedded runtime.")


def _local_plan(args, settings, store: Store | deployer.DeployedState) -> deployer.DeployPlan:
    require_local(args.env)
    generated = Path(args.generated)
    template, values = deployer.load_arm(generated / "arm" / "ARMTemplateForFactory.json",
                                         generated / "arm" / "parameters" / f"{args.env}.json", _pairs(args.parameter))
    return deployer.plan(store, settings, template, values)


def cmd_plan(args, settings, store) -> int:
    plan = _local_plan(args, settings, deployer.DeployedState(settings.db_path))  # read-only: no side effects
    print(json.dumps(plan.to_json(), indent=2, ensure_ascii=False) if args.json else "\n".join(plan.describe()))
    return 0


def cmd_deploy(args, settings, store) -> int:
    plan = _local_plan(args, settings, store)
    print("\n".join(plan.describe()))
    deployer.apply(store, plan)
    print(f"deployed {plan.factory} to the local runtime ({settings.db_path})")
    return 0


def cmd_serve(args, settings, store) -> int:
    from local_runtime.service import main

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("azure").setLevel(logging.WARNING)  # the SDK logs every HTTP request at INFO
    return main(settings)


def wait_for(store: Store, run_id: str, timeout: float, quiet: bool = False) -> dict:
    deadline, last = time.monotonic() + timeout, None
    while True:
        run = store.run(run_id)
        if run["status"] != last and not quiet:
            print(f"  {run_id}: {run['status']}", flush=True)
            last = run["status"]
        if run["status"] in TERMINAL:
            return run
        if time.monotonic() > deadline:
            raise RuntimeErrorBase(f"run {run_id} still {run['status']} after {timeout:.0f}s; is the runtime up "
                                   "(`make up`)? Its log: .local/logs/runtime.log")
        time.sleep(0.5)


def cmd_run(args, settings, store) -> int:
    run_id = start_run(store, args.pipeline, _pairs(args.param))
    print(run_id)
    if args.wait:
        run = wait_for(store, run_id, args.timeout)
        print(format_run(run, store.activity_runs(run_id)))
        return 0 if run["status"] == "Succeeded" else 1
    return 0


def cmd_runs(args, settings, store) -> int:
    if args.run_id:
        run = store.run(args.run_id)
        if run is None:
            raise RuntimeErrorBase(f"no run {args.run_id}; `python -m local_runtime runs` lists them")
        print(json.dumps({**run, "activities": store.activity_runs(args.run_id)}, indent=2) if args.json
              else format_run(run, store.activity_runs(args.run_id)))
        if args.svg:
            from local_runtime.timeline_svg import render

            Path(args.svg).write_text(render(run, store.activity_runs(args.run_id)))
            print(f"timeline picture: {args.svg}")
        return 0
    runs = store.runs(args.limit)
    if args.json:
        print(json.dumps(runs, indent=2))
        return 0
    print(f"{'run id':<38}{'pipeline':<18}{'status':<12}{'invoked by':<20}queued")
    for run in runs:
        print(f"{run['run_id']:<38}{run['pipeline']:<18}{run['status']:<12}{run['invoked_by']:<20}{run['queued_at']}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m local_runtime", description="The local ADF runtime.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("deploy", help="deploy an environment's ARM template + parameters file locally")
    p.add_argument("--env", required=True)
    p.add_argument("--generated", default=str(PROJECT_ROOT / "generated"))
    p.add_argument("--parameter", action="append", help="override a template parameter: NAME=VALUE")
    p.set_defaults(func=cmd_deploy)
    p = sub.add_parser("plan", help="show what deploy would change (objects, triggers, containers); changes nothing")
    p.add_argument("--env", required=True)
    p.add_argument("--generated", default=str(PROJECT_ROOT / "generated"))
    p.add_argument("--parameter", action="append", help="override a template parameter: NAME=VALUE")
    p.add_argument("--json", action="store_true", help="the plan as JSON, for tools")
    p.set_defaults(func=cmd_plan, read_only=True)
    sub.add_parser("serve", help="run triggers, runs and the Azure ML stand-in until stopped").set_defaults(func=cmd_serve)
    p = sub.add_parser("run", help="start a pipeline run (like Invoke-AzDataFactoryV2Pipeline)")
    p.add_argument("--pipeline", required=True)
    p.add_argument("--param", action="append", help="pipeline parameter NAME=VALUE")
    p.add_argument("--wait", action="store_true")
    p.add_argument("--timeout", type=float, default=900)
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("runs", help="list runs, or show one with its activity runs")
    p.add_argument("run_id", nargs="?")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--json", action="store_true")
    p.add_argument("--svg", help="with a run id: also draw its activity timeline to this SVG file")
    p.set_defaults(func=cmd_runs)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = load_settings()
    try:
        store = None if getattr(args, "read_only", False) else Store(settings.db_path)
        return args.func(args, settings, store)
    except RuntimeErrorBase as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        from generator.errors import GeneratorError

        if isinstance(exc, GeneratorError):
            print(f"error: {exc}", file=sys.stderr)
            return 2
        raise
