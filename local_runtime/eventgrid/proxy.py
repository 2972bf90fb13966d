"""The Event Grid stand-in: a loopback reverse proxy in front of Azurite that appends a storage event to the
runtime's event log after every successful blob write or delete.

Users, notebooks and pipelines keep talking to the blob endpoint they know (127.0.0.1:10000); Azurite moves
to an internal port. Bodies stream both ways in 64 KiB pieces (a 100 MB upload never sits in memory),
client connections are kept alive, and each one has its own keep-alive connection to Azurite. The event is
durable before the client sees its success response, so a write the client saw succeed always has its event,
even while the runtime is down; a write that bypasses the proxy is caught by the runtime's reconciliation at
start (see local_runtime.triggers).
"""
from __future__ import annotations

import http.client
import logging
import select
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from local_runtime.eventgrid.events import BlobOperation, blob_event, classify
from local_runtime.settings import Settings
from local_runtime.store import Store, utcnow
from storage import service_client

log = logging.getLogger("local_runtime.eventgrid")
CHUNK = 64 * 1024
IDLE_REUSE_SECONDS = 4.0   # Azurite (Node) drops keep-alive connections idle for 5 s; open a fresh one before
UPSTREAM_TIMEOUT = 300.0
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te",
              "trailer", "upgrade", "expect", "transfer-encoding"}


class ClientGone(Exception):
    """The client closed its connection in the middle of sending a request body."""


class EventRecorder:
    """Builds the event for a successful operation and appends it to the log. It reads what the request does
    not say (size and type after Put Block List or a copy, type before a delete) from Azurite itself."""

    def __init__(self, store: Store, settings: Settings):
        self.store, self.settings = store, settings

    def _properties(self, op: BlobOperation):
        blob = service_client(self.settings.azurite_internal_url(op.account)).get_blob_client(op.container, op.blob)
        return blob.get_blob_properties()

    def before_delete(self, op: BlobOperation) -> dict:
        try:
            props = self._properties(op)
            return {"content_type": props.content_settings.content_type, "blob_type": str(props.blob_type.value)}
        except Exception:  # missing blob: the delete fails too and raises no event
            return {"content_type": None, "blob_type": None}

    def record(self, op: BlobOperation, headers, response: http.client.HTTPResponse, sent: int,
               before: dict | None) -> dict | None:
        if op.api == "CopyBlob" and (response.getheader("x-ms-copy-status") or "success") != "success":
            log.warning("copy to %s/%s is still pending: no event (the runtime's reconciliation at start will see "
                        "the blob)", op.container, op.blob)
            return None
        try:
            if op.api == "PutBlob":  # the request says it all, exactly
                blob_type = headers.get("x-ms-blob-type") or "BlockBlob"
                length = int(headers.get("x-ms-blob-content-length") or 0) if blob_type == "PageBlob" else sent
                content_type, blob_type = headers.get("x-ms-blob-content-type") or "application/octet-stream", blob_type
            elif op.api == "DeleteBlob":
                content_type, blob_type, length = before["content_type"], before["blob_type"], None
            else:  # read right after the commit; a concurrent overwrite raises its own event
                props = self._properties(op)
                content_type, length = props.content_settings.content_type, props.size
                blob_type = str(props.blob_type.value)
            event = blob_event(op, host=headers.get("Host") or f"127.0.0.1:{self.settings.azurite_port}",
                               event_time=utcnow(), etag=response.getheader("ETag"), content_type=content_type,
                               content_length=length, blob_type=blob_type,
                               request_id=response.getheader("x-ms-request-id"),
                               client_request_id=headers.get("x-ms-client-request-id"))
            stored = self.store.append_storage_event(event)
            log.info("%s %s (%s)", op.event_type.rsplit(".", 1)[1], op.subject, op.api)
            return stored
        except Exception:  # never fail the client's write for the event; reconciliation covers the gap
            log.exception("could not record the event of %s on %s/%s", op.api, op.container, op.blob)
            return None


class Upstream:
    """The keep-alive connection to Azurite of one client connection."""

    def __init__(self, address: tuple[str, int]):
        self.address, self.conn, self.used = address, None, 0.0

    def connection(self) -> http.client.HTTPConnection:
        if self.conn is not None and (time.monotonic() - self.used > IDLE_REUSE_SECONDS or self._dropped()):
            self.close()
        if self.conn is None:
            self.conn = http.client.HTTPConnection(*self.address, timeout=UPSTREAM_TIMEOUT)
        self.used = time.monotonic()
        return self.conn

    def _dropped(self) -> bool:
        """An idle connection the server closed reads as ready (EOF)."""
        sock = self.conn.sock
        return sock is None or bool(select.select([sock], [], [], 0)[0])

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.conn = None


class ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = UPSTREAM_TIMEOUT  # idle client connections close after this
    server: EventGridProxy

    def setup(self) -> None:
        super().setup()
        self.upstream = Upstream(self.server.upstream_address)
        self.server.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.upstream.close()
            self.server.track(self.connection, False)

    def log_message(self, format: str, *args) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def do_proxy(self) -> None:
        op = classify(self.command, self.path, self.headers)
        before = self.server.recorder.before_delete(op) if op and op.api == "DeleteBlob" else None
        try:
            sent = self._forward_request()
            response = self.upstream.conn.getresponse()
        except ClientGone:
            return self._abort()
        except (OSError, http.client.HTTPException) as exc:
            self._abort()
            return self._bad_gateway(exc)
        try:
            body = None
            if op is not None and 200 <= response.status < 300:
                body = response.read()  # write and delete responses have (almost) no body
                self.server.recorder.record(op, self.headers, response, sent, before)
            self._relay(response, body)
        except OSError:  # the client or Azurite went away mid-response
            return self._abort()
        if response.will_close:
            self.upstream.close()

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_OPTIONS = do_PATCH = do_MERGE = do_proxy

    def _abort(self) -> None:
        self.upstream.close()
        self.close_connection = True

    def _forward_request(self) -> int:
        conn = self.upstream.connection()
        conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
        for name, value in self.headers.items():
            if name.lower() not in HOP_BY_HOP:
                conn.putheader(name, value)
        chunked = "chunked" in (self.headers.get("Transfer-Encoding") or "").lower()
        if chunked:
            conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        if chunked:
            return self._copy_chunked(conn)
        length = int(self.headers.get("Content-Length") or 0)
        self._copy(conn, length)
        return length

    def _copy(self, conn: http.client.HTTPConnection, remaining: int) -> None:
        while remaining:
            data = self.rfile.read(min(CHUNK, remaining))
            if not data:
                raise ClientGone()
            conn.send(data)
            remaining -= len(data)

    def _copy_chunked(self, conn: http.client.HTTPConnection) -> int:
        """Relay a chunked body frame by frame, as it arrives; returns the payload size."""
        total = 0
        while True:
            line = self.rfile.readline(CHUNK)
            if not line:
                raise ClientGone()
            conn.send(line)
            size = int(line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while line not in (b"\r\n", b"\n"):  # trailers, then the empty line
                    line = self.rfile.readline(CHUNK)
                    if not line:
                        raise ClientGone()
                    conn.send(line)
                return total
            self._copy(conn, size + 2)  # the data and its CRLF
            total += size

    def _relay(self, response: http.client.HTTPResponse, body: bytes | None) -> None:
        self.send_response_only(response.status, response.reason)
        for name, value in response.getheaders():
            if name.lower() not in HOP_BY_HOP:
                self.send_header(name, value)
        bodiless = self.command == "HEAD" or response.status in (204, 304) or response.status < 200
        has_length = response.getheader("Content-Length") is not None
        chunked = not bodiless and not has_length and body is None
        if body is not None and not has_length and not bodiless:
            self.send_header("Content-Length", str(len(body)))
        if chunked:  # http.client decoded Azurite's framing (or the body ends at close): frame it again
            self.send_header("Transfer-Encoding", "chunked")
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if bodiless:
            response.read()  # marks it complete, so the connection can carry the next request
            return
        if body is not None:
            self.wfile.write(body)
            return
        while chunk := response.read(CHUNK):
            self.wfile.write(b"%X\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")

    def _bad_gateway(self, exc: Exception) -> None:
        message = f"the Event Grid stand-in cannot reach Azurite at {self.server.upstream_address[0]}:" \
                  f"{self.server.upstream_address[1]} ({exc}); is it running (`make up`)?".encode()
        try:
            self.send_response_only(502, "Bad Gateway")
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(message)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(message)
        except OSError:
            pass


class EventGridProxy(ThreadingHTTPServer):
    """Listens on the public blob port (settings.azurite_port), forwards to Azurite's internal port."""
    daemon_threads = True

    def __init__(self, settings: Settings, store: Store | None = None):
        super().__init__(("127.0.0.1", settings.azurite_port), ProxyHandler)
        self.upstream_address = ("127.0.0.1", settings.azurite_upstream_port)
        self.recorder = EventRecorder(store or Store(settings.db_path), settings)
        self._clients: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def track(self, sock: socket.socket, open_: bool) -> None:
        with self._lock:
            (self._clients.add if open_ else self._clients.discard)(sock)

    def start(self) -> EventGridProxy:
        self._thread = threading.Thread(target=self.serve_forever, daemon=True, name="eventgrid")
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, then close the kept-alive client connections so their threads end too."""
        self.shutdown()
        self.server_close()
        with self._lock:
            for sock in list(self._clients):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def serve(settings: Settings, stop: threading.Event) -> None:
    proxy = EventGridProxy(settings).start()
    log.info("Event Grid stand-in on 127.0.0.1:%d -> Azurite on 127.0.0.1:%d, events in %s", settings.azurite_port,
             settings.azurite_upstream_port, settings.db_path)
    stop.wait()
    proxy.stop()
