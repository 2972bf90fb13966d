"""`make lineage`: the chain from a model version down to the archived input bytes, each link with its hash."""
from __future__ import annotations

from lineage.resolve import Anchored


def describe(anchor: Anchored) -> dict:
    """The chain for tools (`--json`): links in order from the model version down to the delivered blob."""
    r = anchor.record
    prep, training, evaluation = r["prep"], r["training"], r.get("evaluation", {})
    links = [
        {"link": "model version", "name": f"{anchor.version.name}/{anchor.version.version}",
         "uri": r["model"].get("artifact_uri"), "sha256": r["model"].get("sha256")},
        {"link": "lineage record", "name": f"#{r.get('sequence')}", "uri": anchor.record_url,
         "sha256": anchor.record_sha256, "previous_sha256": r.get("previous_record_sha256")},
        {"link": "evaluation", "name": evaluation.get("outcome"), "reason": evaluation.get("reason"),
         "candidate_auc": evaluation.get("candidate_auc"), "production": evaluation.get("production")},
        {"link": "training run", "name": training.get("mlflow_run_id"), "metrics": training.get("metrics"),
         "git_commit": (training.get("code") or {}).get("git_commit")},
        *({"link": f"{side} output", "uri": entry.get("url"), "sha256": entry.get("sha256"), "rows": entry.get("rows"),
           "ids_sha256": entry.get("ids_sha256")} for side, entry in _sides(r)),
        {"link": "data-prep manifest", "uri": prep.get("manifest_url"), "sha256": prep.get("manifest_sha256")},
        {"link": "data prep", "name": prep.get("notebook"), "sha256": prep.get("notebook_sha256"),
         "git_commit": prep.get("git_commit"), "git_dirty": prep.get("git_dirty"),
         "parameters": prep.get("parameters"), "contract_uri": prep.get("contract_url")},
        {"link": "archived input", "uri": r["input"].get("archived_url"), "sha256": r["input"].get("sha256"),
         "bytes": r["input"].get("bytes"), "rows": r["input"].get("rows"),
         "schema_sha256": r["input"].get("schema_sha256")},
        {"link": "delivered blob", "uri": r["input"].get("url"), **{k: v for k, v in r.get("trigger", {}).items()}},
    ]
    return {"model": anchor.version.name, "version": str(anchor.version.version), "pipeline_run_id": r["pipeline_run_id"],
            "record_url": anchor.record_url, "record_sha256": anchor.record_sha256, "links": links, "record": r}


def _sides(record: dict) -> list[tuple[str, dict]]:
    return [(side, record["outputs"][side]) for side in ("train", "test")]


def _num(value: object) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def text(anchor: Anchored) -> str:
    r = anchor.record
    prep, training, ev = r["prep"], r["training"], r.get("evaluation", {})
    metrics, trigger, source = training.get("metrics", {}), r.get("trigger", {}), r["input"]
    production = ev.get("production") or {}
    lines = [
        f"model {anchor.version.name} version {anchor.version.version}   model.lgb sha256 {r['model'].get('sha256')}",
        f"  <- lineage record #{r.get('sequence')}   {anchor.record_url}",
        f"       sha256 {anchor.record_sha256}   previous {r.get('previous_record_sha256') or 'none (first record)'}",
        f"  <- evaluation           {ev.get('outcome')}: candidate AUC {_num(ev.get('candidate_auc'))}"
        + (f" vs production v{production.get('version')} AUC {_num(production.get('auc'))}" if production else
           " (no production model)"),
        f"  <- training run         MLflow {training.get('mlflow_run_id')}   AUC {_num(metrics.get('auc'))}, "
        f"Gini {_num(metrics.get('gini'))}   git {str((training.get('code') or {}).get('git_commit'))[:12]}",
    ]
    for side, entry in _sides(r):
        lines += [f"  <- {side:<20} {entry.get('url')}  ({entry.get('rows')} rows)",
                  f"       sha256 {entry.get('sha256')}   sorted ids sha256 {entry.get('ids_sha256')}"]
    parameters = prep.get("parameters", {})
    lines += [
        f"  <- data-prep manifest   {prep.get('manifest_url')}",
        f"       sha256 {prep.get('manifest_sha256')}",
        f"  <- data prep            {prep.get('notebook')} sha256 {prep.get('notebook_sha256')}",
        f"       git {prep.get('git_commit')}{' (dirty work tree)' if prep.get('git_dirty') else ''}   split "
        f"{parameters.get('split_method')} seed {parameters.get('split_seed')} test {parameters.get('test_fraction')}"
        f"   contract {parameters.get('contract')} sha256 {parameters.get('contract_sha256')}",
        f"  <- archived input       {source.get('archived_url')}  ({source.get('rows')} rows, {source.get('bytes')} bytes)",
        f"       sha256 {source.get('sha256')}   schema sha256 {source.get('schema_sha256')}",
        f"  <- delivered blob       {source.get('url')}",
        f"       trigger {trigger.get('name')} ({trigger.get('type')}) at {trigger.get('time')}, etag "
        f"{trigger.get('etag')}, version id {trigger.get('version_id')}",
    ]
    return "\n".join(lines)
