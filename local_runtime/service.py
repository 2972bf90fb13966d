"""The local runtime as a service: the Azure ML stand-in on loopback, the triggers (storage events from the
Event Grid stand-in's log, schedules) and the run executor, until SIGTERM/SIGINT."""
from __future__ import annotations

import logging
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from http.server import ThreadingHTTPServer

from local_runtime.azureml_standin import AzureMLStandIn, handler_for
from local_runtime.runs import execute
from local_runtime.settings import Settings
from local_runtime.store import Store
from local_runtime.triggers import watch

log = logging.getLogger("local_runtime.service")
MAX_CONCURRENT_RUNS = 2  # the machines are 2-core; each run mostly waits on a child process


def _attach_lineage(store: Store, settings: Settings):
    """OpenLineage events for every run (spec: lineage.openlineage); without them the runtime still runs."""
    from lineage.openlineage import attach

    try:
        return attach(store, settings)
    except Exception as exc:
        log.error("OpenLineage events are off: %s: %s", type(exc).__name__, exc)
        return None


def serve(settings: Settings, stop: threading.Event | None = None) -> None:
    stop = stop or threading.Event()
    store = Store(settings.db_path)
    interrupted = store.fail_interrupted_runs()
    if interrupted:
        log.warning("marked %d run(s) interrupted by the last stop as Failed", interrupted)
    lineage = _attach_lineage(store, settings)
    standin = AzureMLStandIn(store, settings, [lineage] if lineage is not None else [])  # the training job's events
    server = ThreadingHTTPServer(("127.0.0.1", settings.runtime_port), handler_for(standin))
    threading.Thread(target=server.serve_forever, daemon=True, name="http").start()
    log.info("local runtime serving on 127.0.0.1:%d, state in %s", settings.runtime_port, settings.home)

    threading.Thread(target=watch, args=(store, settings, stop), daemon=True, name="triggers").start()
    slots = threading.Semaphore(MAX_CONCURRENT_RUNS)
    with ThreadPoolExecutor(MAX_CONCURRENT_RUNS, thread_name_prefix="run") as pool:
        while not stop.is_set():
            if not slots.acquire(timeout=settings.poll_seconds):
                continue
            run = store.claim_next_run()
            if run is None:
                slots.release()
                stop.wait(settings.poll_seconds / 2)
                continue
            log.info("run %s of %s started", run["run_id"], run["pipeline"])
            future = pool.submit(execute, store, settings, run)
            future.add_done_callback(lambda _: slots.release())
    server.shutdown()
    if lineage is not None:
        lineage.close(timeout=10)


def main(settings: Settings) -> int:
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    serve(settings, stop)
    return 0
