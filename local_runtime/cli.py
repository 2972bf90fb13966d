"""Thin CLI over the local runtime: plan and deploy, serve, start runs, and monitor them (list with filters,
show one, watch live, cancel, rerun). The work is in `deploy`, `runs` and `monitor`; views in `report`."""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from local_runtime import deploy as deployer, monitor
from local_runtime.errors import RuntimeErrorBase
from local_runtime.report import format_detail, format_event, format_run, format_runs
from local_runtime.runs import rerun, start_run
from local_runtime.settings import PROJECT_ROOT, load_settings
from local_runtime.store import Store


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


def _json_out(value) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def cmd_run(args, settings, store) -> int:
    run_id = start_run(store, args.pipeline, _pairs(args.param))
    print(run_id)
    if args.wait:
        run = monitor.wait_for_end(store, run_id, args.timeout,
                                   on_status=lambda status: print(f"  {run_id}: {status}", flush=True))
        print(format_run(run, store.activity_runs(run_id)))
        return 0 if run["status"] == "Succeeded" else 1
    return 0


def cmd_runs(args, settings, store) -> int:
    filters = (args.pipeline, args.status, args.since, args.until)
    if args.run_id:
        if any(filters):
            raise RuntimeErrorBase("--pipeline, --status, --since and --until filter the run list; leave out the "
                                   "run id to use them")
        detail = monitor.run_detail(store, args.run_id)
        if args.json:
            _json_out(detail)
        else:
            print(format_detail(detail))
        if args.svg:
            from local_runtime.timeline_svg import render

            Path(args.svg).write_text(render(detail, detail["activities"]))
            print(f"timeline picture: {args.svg}", file=sys.stderr if args.json else sys.stdout)
        return 0
    if args.svg:
        raise RuntimeErrorBase("--svg draws one run's timeline: give the run id too")
    where = monitor.RunFilter.parse(args.pipeline, args.status, args.since, args.until, args.limit)
    runs = monitor.list_runs(store, where)
    if args.json:
        _json_out(runs)
    else:
        print(format_runs(runs) if runs else f"no runs ({where.describe()})")
    return 0


def _follow(store: Store, run_id: str, args) -> int:
    """Print a run's events as it goes (JSON lines with --json); 0 if it ends Succeeded, else 1."""
    try:
        for event in monitor.follow(store, run_id, poll=args.poll, timeout=args.timeout):
            line = json.dumps(event.to_json(), default=str) if args.json else format_event(event)
            print(line, flush=True)
            if event.kind == "end":
                return 0 if event.data["run"]["status"] == "Succeeded" else 1
    except monitor.MonitorTimeout as exc:
        print(f"error: {exc}", file=sys.stderr)
    return 1


def cmd_watch(args, settings, store) -> int:
    return _follow(store, args.run_id, args)


def cmd_cancel(args, settings, store) -> int:
    requested, run = monitor.cancel(store, args.run_id, wait=not args.no_wait, timeout=args.timeout,
                                    recursive=not args.no_recursive)
    if args.json:
        _json_out({"run_id": args.run_id, "requested": requested, "status": run["status"], "run": run})
    else:
        print(f"run {args.run_id}: {requested}" + (f" -> {run['status']}" if run["status"] != requested else ""))
    return 0 if run["status"] in ("Cancelled", "Canceling") else 1  # it may have ended before it saw the request


def cmd_rerun(args, settings, store) -> int:
    new_id = rerun(store, args.run_id, from_failed=args.from_failed)
    if args.json and not args.wait:
        _json_out({"run_id": new_id, "rerun_of": args.run_id, "mode": "from_failed" if args.from_failed else "full"})
        return 0
    print(json.dumps({"event": "queued", "run_id": new_id, "rerun_of": args.run_id}) if args.json else new_id,
          flush=True)
    return _follow(store, new_id, args) if args.wait else 0


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
    p = sub.add_parser("runs", help="list runs (filters below), or show one with its activity runs")
    p.add_argument("run_id", nargs="?")
    p.add_argument("--pipeline", help="only runs of this pipeline")
    p.add_argument("--status", action="append", help=f"only runs in this status ({', '.join(monitor.STATUSES)}); "
                   "repeat or comma-separate for several")
    p.add_argument("--since", help="only runs queued since: ISO time (UTC unless it has an offset) or relative "
                   "(30m, 1h, 2d)")
    p.add_argument("--until", help="only runs queued before: ISO time or relative")
    p.add_argument("--limit", type=int, default=20, help="at most this many, newest first (default 20)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--svg", help="with a run id: also draw its activity timeline to this SVG file")
    p.set_defaults(func=cmd_runs)

    def follow_options(p, timeout: float | None) -> None:
        p.add_argument("--timeout", type=float, default=timeout, help="give up after this many seconds (exit 1)")
        p.add_argument("--poll", type=float, default=0.5, help=argparse.SUPPRESS)
        p.add_argument("--json", action="store_true", help="one JSON object per event")

    p = sub.add_parser("watch", help="follow a run live until it ends; exit 0 if it succeeded, else 1")
    p.add_argument("run_id")
    follow_options(p, None)
    p.set_defaults(func=cmd_watch)
    p = sub.add_parser("cancel", help="cancel a queued or running run (and its child runs)")
    p.add_argument("run_id")
    p.add_argument("--no-wait", action="store_true", help="return at once, while the run may still be Canceling")
    p.add_argument("--no-recursive", action="store_true", help="leave the child runs it started running")
    p.add_argument("--timeout", type=float, default=60, help="how long to wait for Cancelled (default 60s)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_cancel)
    p = sub.add_parser("rerun", help="run an ended run's pipeline again with the same parameters; prints the new "
                       "run id")
    p.add_argument("run_id")
    p.add_argument("--from-failed", action="store_true",
                   help="reuse the activities that succeeded and start at the failed ones")
    p.add_argument("--wait", action="store_true", help="follow the new run until it ends (exit 0 if it succeeded)")
    follow_options(p, 900)
    p.set_defaults(func=cmd_rerun)
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
