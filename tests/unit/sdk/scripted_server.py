"""A real HTTP server on 127.0.0.1 that answers from a script (``http.server`` in a thread).

The SDK tests use it for answers the collector gives only under load or a full disk
(429/503 with ``Retry-After``), and to count what arrives.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class ScriptedServer:
    """Answers each POST with the next ``(status, headers)`` of ``script``, then 200.

    A 200 answers ``{"accepted": <rows>}``, the rows counted in the body.
    ``arrivals`` holds ``(monotonic time, path, idempotency key, status)`` per request.
    """

    def __init__(
        self, script: list[tuple[int, dict[str, str]]] | None = None, port: int = 0
    ) -> None:
        self.script = list(script or [])
        self.arrivals: list[tuple[float, str, str, int]] = []
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with owner.lock:
                    status, headers = owner.script.pop(0) if owner.script else (200, {})
                    key = self.headers.get("idempotency-key", "")
                    owner.arrivals.append((time.monotonic(), self.path, key, status))
                rows = _rows(body, self.headers.get("content-type", "")) if status == 200 else 0
                answer = json.dumps({"accepted": rows}).encode()
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"


def _rows(body: bytes, content_type: str) -> int:
    """Rows in a predictions body (Arrow IPC or JSON with timestamps)."""
    if "arrow" in content_type:
        import pyarrow as pa

        return int(pa.ipc.open_stream(pa.BufferReader(body)).read_all().num_rows)
    return len(json.loads(body).get("timestamps") or [])


@contextmanager
def scripted_server(
    script: list[tuple[int, dict[str, str]]] | None = None, port: int = 0
) -> Iterator[ScriptedServer]:
    """A started ``ScriptedServer`` (on ``port``, or any free one), shut down on exit."""
    server = ScriptedServer(script, port)
    thread = threading.Thread(target=server.httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()
        thread.join(10)
