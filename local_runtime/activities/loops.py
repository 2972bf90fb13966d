"""ForEach (sequential, or really parallel on a thread pool of `batchCount`) and Filter."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from local_runtime.activities.registry import flag, register
from local_runtime.errors import ActivityError
from local_runtime.expressions import evaluate_value

DEFAULT_BATCH, MAX_BATCH = 20, 50  # ADF: batchCount defaults to 20, at most 50 iterations at once


def _items(rc, props: dict, who: str) -> list:
    items = rc.evaluate(props["items"])
    if not isinstance(items, list):
        raise ActivityError(f"{who}: 'items' must evaluate to an array, got {type(items).__name__}", "InvalidTemplate")
    return items


@register("ForEach", container=True)
def for_each(activity: dict, props: dict, rc) -> Any:
    """Every iteration runs even when another fails (ADF does not stop a ForEach early); the activity fails
    afterwards if any did. Each iteration has its own item() and activity outputs; variables are shared."""
    from local_runtime.engine import outcome, run_activities

    items = _items(rc, props, activity["name"])
    body = props.get("activities", [])
    sequential = flag(props.get("isSequential"))
    batch = 1 if sequential else max(1, min(int(props.get("batchCount") or DEFAULT_BATCH), MAX_BATCH))

    def iteration(item: Any) -> str:
        if rc.cancelled.is_set():
            return "Cancelled"
        scope = rc.iteration(item)
        return outcome(body, run_activities(body, scope))

    if not items:
        return {"iterations": 0}
    with ThreadPoolExecutor(min(batch, len(items)), thread_name_prefix=f"foreach-{activity['name']}") as pool:
        results = list(pool.map(iteration, items))
    failed = [i for i, status in enumerate(results) if status != "Succeeded"]
    if failed:
        raise ActivityError(f"Activity failed because an inner activity failed: {len(failed)} of {len(items)} "
                            f"iterations did not succeed (indexes {failed[:10]})", "ForEachIterationFailed")
    return {"iterations": len(items)}


@register("Filter", container=True)
def filter_items(activity: dict, props: dict, rc) -> Any:
    """`condition` is evaluated once per item with item() bound; output is ADF's ItemsCount/FilteredItemsCount/Value."""
    items = _items(rc, props, activity["name"])
    kept = []
    for item in items:
        keep = evaluate_value(props["condition"], rc.expressions.with_item(item))
        if not isinstance(keep, bool):
            raise ActivityError(f"Filter condition must be a boolean, got {keep!r} for item {item!r}",
                                "InvalidTemplate")
        if keep:
            kept.append(item)
    return {"ItemsCount": len(items), "FilteredItemsCount": len(kept), "Value": kept}
