"""`python -m lineage show|prove --model NAME --version N|latest|ALIAS` (or `--run <pipeline run id>`).

show: the chain from the model version to the archived input bytes (`--json` for tools, `--format svg|png`
for a picture). prove: re-hash everything and check every link; exit 0 only if all hold (`--reproduce`
also re-runs the prep and demands byte-identical outputs). The tracking URI defaults to
$MLFLOW_TRACKING_URI, else the local runtime's MLflow store; storage is reached through the URLs the record
holds (Azurite locally, the account's identity in Azure).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from lineage.resolve import LineageError, anchored, client_for, version_of_run


def _tracking_uri(given: str | None) -> str:
    if uri := given or os.environ.get("MLFLOW_TRACKING_URI"):
        return uri
    from local_runtime.settings import load_settings

    return load_settings().mlflow_tracking_uri


def _model_name(given: str | None) -> str:
    if given:
        return given
    from training.config import load_config

    return load_config(str(Path(__file__).resolve().parent.parent / "generated/azureml/training-config.json")).model_name


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lineage", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (("show", "print the lineage chain of a model version"),
                       ("prove", "re-hash every stored byte and check every link")):
        command = commands.add_parser(name, help=text)
        command.add_argument("--model", default=None, help="registered model name (default: the spec's model_name)")
        command.add_argument("--version", default="latest", help="a version number, latest, or an alias")
        command.add_argument("--run", default=None, help="instead of --version: the pipeline run that registered it")
        command.add_argument("--tracking-uri", default=None)
    show = commands.choices["show"]
    show.add_argument("--json", action="store_true", help="machine-readable chain (links + the full record)")
    show.add_argument("--format", choices=("text", "svg", "png"), default="text")
    show.add_argument("--out", type=Path, default=None, help="picture path (default .local/reports/...)")
    commands.choices["prove"].add_argument("--reproduce", action="store_true",
                                           help="also re-run the prep on the archived input; outputs must match")
    return parser


# Picture node <- the prove check that verifies it.
PICTURE_NODES = {"archived input": "archived_input", "data-prep manifest": "manifest", "train output": "train",
                 "test output": "test", "model artifact": "model"}


def draw_picture(anchor, fmt: str, out: Path | None, tracking_uri: str) -> Path:
    from lineage.graph import render
    from lineage.prove import check_blobs, check_model_artifact

    checks = [*check_blobs(anchor.record), check_model_artifact(anchor, tracking_uri)]
    verification = {PICTURE_NODES[c.link]: c.ok for c in checks if c.link in PICTURE_NODES}
    verification["record"] = anchor.stored_sha256 == anchor.record_sha256
    if out is None:
        from local_runtime.settings import load_settings

        out = load_settings().home / "reports" / f"lineage-{anchor.version.name}-v{anchor.version.version}.{fmt}"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(render(anchor.record, fmt, verification, record_sha=anchor.stored_sha256))
    return out


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # one line per check, not a bar
    tracking_uri = _tracking_uri(args.tracking_uri)
    client = client_for(tracking_uri)
    try:
        name = _model_name(args.model)
        anchor = anchored(client, name, version_of_run(client, name, args.run) if args.run else args.version)
    except LineageError as exc:
        print(f"lineage: {exc}", file=sys.stderr)
        return 1
    if args.command == "show":
        from lineage.show import describe, text

        if args.json:
            print(json.dumps(describe(anchor), indent=2, sort_keys=True))
        elif args.format != "text":
            print(f"lineage picture: {draw_picture(anchor, args.format, args.out, tracking_uri)}")
        else:
            print(text(anchor))
        return 0
    from lineage.prove import prove

    name, version = anchor.version.name, anchor.version.version
    print(f"proving model {name} version {version} from record {anchor.record_url}"
          + (" (re-running the prep)" if args.reproduce else ""), flush=True)
    checks = prove(anchor, client, tracking_uri, reproduce=args.reproduce)
    for check in checks:
        print(check.line())
    failed = [c for c in checks if c.ok is False]
    passed = sum(c.ok is True for c in checks)
    print(f"{passed} passed, {len(failed)} failed, {len(checks) - passed - len(failed)} skipped")
    if failed:
        print(f"NOT PROVEN: {len(failed)} broken link(s): " + "; ".join(c.link for c in failed), file=sys.stderr)
        return 1
    print(f"PROVEN: model {name} version {version} was trained on exactly these bytes")
    return 0
