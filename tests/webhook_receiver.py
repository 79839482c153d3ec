"""A webhook receiver for tests: an HTTP server on a local port that keeps what it is sent and
answers as the test says (a status, a redirect, or not before the test lets it)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.harness import free_port


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)  # type: ignore[no-any-return]

    @property
    def event(self) -> str:
        return str(self.json["event"])

    def signed_with(self, secret: str) -> bool:
        """The check the README tells receivers to make."""
        timestamp = self.headers["x-imp-timestamp"]
        expected = hmac.new(
            secret.encode(), timestamp.encode() + b"." + self.body, hashlib.sha256
        ).hexdigest()
        return hmac.compare_digest(self.headers["x-imp-signature"], f"v1={expected}")


class WebhookReceiver:
    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[Received] = []
        # Statuses to answer with, in turn; once used up, ``status``.
        self.next_statuses: deque[int] = deque()
        self.status = 200
        # Cleared: requests wait (the receiver is slow) until it is set again.
        self.open = threading.Event()
        self.open.set()
        self.waiting = threading.Semaphore(0)
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if not receiver.open.is_set():
                    receiver.waiting.release()
                    receiver.open.wait(30)
                with receiver._lock:
                    receiver.received.append(
                        Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                    )
                    status = (
                        receiver.next_statuses.popleft()
                        if receiver.next_statuses
                        else receiver.status
                    )
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", f"http://127.0.0.1:{receiver.port}/elsewhere")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/imp"

    def events(self) -> list[str]:
        with self._lock:
            return [r.event for r in self.received]

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.open.set()
        self._server.shutdown()
        self._server.server_close()
