"""`python -m local_runtime.eventgrid`: run the Event Grid stand-in until SIGTERM/SIGINT (`make up` does)."""
import logging
import signal
import threading

from local_runtime.eventgrid.proxy import serve
from local_runtime.settings import load_settings

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
logging.getLogger("azure").setLevel(logging.WARNING)  # the SDK logs every HTTP request at INFO
stop = threading.Event()
for sig in (signal.SIGTERM, signal.SIGINT):
    signal.signal(sig, lambda *_: stop.set())
serve(load_settings(), stop)
