"""A stopping server (SIGTERM, as a process manager or a rolling deploy sends) tells each of its
sockets to reconnect elsewhere before closing it, and finishes the HTTP requests in flight."""

from __future__ import annotations

import contextlib
import http.client
import json
import signal
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from websockets.exceptions import ConnectionClosed

from tests.faults.tools import wait_until
from tests.harness import PostgresDatabase, ServerProcess, Session, Socket, free_port
from tests.harness import server_settings as make_settings
from tests.realtime.test_workers import _children, _worker_holding
from tests.widget import visit

RESTARTING = {"type": "closed", "reason": "restarting"}
# uvicorn's line once it has stopped listening and waits for the requests still being served.
WAITING_FOR_REQUESTS = "Waiting for connections to close"
METRICS_TOKEN = "shutdown-test-scrape"


@pytest.fixture(params=[1, 2], ids=["one-process-sqlite", "two-workers-postgres"])
def stoppable_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServerProcess]:
    """``imp run`` as its own process, which the test stops."""
    if request.param == 1:
        settings = make_settings(tmp_path)
    else:
        postgres: PostgresDatabase = request.getfixturevalue("postgres_database")
        request.getfixturevalue("redis_available")
        settings = make_settings(tmp_path, postgres, workers=request.param)
    port = free_port()
    # The widget's embed origin: the demo website allows the server's own address.
    settings = settings.model_copy(
        update={"public_base_url": f"http://127.0.0.1:{port}", "metrics_token": METRICS_TOKEN}
    )
    server = ServerProcess(settings, port, tmp_path / "server.log")
    server.command("demo", "--demo-language", "en")
    server.start()
    yield server
    server.stop()


class UploadInFlight:
    """An upload whose body is held back until the test lets it go: the server has read its
    headers and is waiting in the handler for the file (it answered ``100 Continue``)."""

    BOUNDARY = "imp-shutdown-test"

    def __init__(self, session: Session, port: int) -> None:
        self.body = (
            f"--{self.BOUNDARY}\r\n"
            'Content-Disposition: form-data; name="file"; filename="in-flight.txt"\r\n'
            "Content-Type: text/plain\r\n\r\n"
            "sent while the server was stopping\n"
            f"\r\n--{self.BOUNDARY}--\r\n"
        ).encode()
        head = (
            "POST /api/files HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{port}\r\n"
            f"Cookie: {session.cookie_header}\r\n"
            f"X-CSRF-Token: {session.http.headers['X-CSRF-Token']}\r\n"
            f"Content-Type: multipart/form-data; boundary={self.BOUNDARY}\r\n"
            f"Content-Length: {len(self.body)}\r\n"
            "Expect: 100-continue\r\n\r\n"
        ).encode()
        self.connection = socket.create_connection(("127.0.0.1", port), timeout=15)
        self.connection.sendall(head)
        interim = self.connection.recv(4096)
        assert interim.startswith(b"HTTP/1.1 100"), interim

    def finish(self) -> tuple[int, dict[str, Any]]:
        self.connection.sendall(self.body)
        response = http.client.HTTPResponse(self.connection)
        response.begin()
        return response.status, json.loads(response.read())

    def close(self) -> None:
        self.connection.close()


def open_sockets(server: ServerProcess) -> dict[str, float]:
    response = httpx.get(
        f"{server.base_url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
    )
    assert response.status_code == 200, response.text
    return {
        sample.labels["kind"]: sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
        if sample.name == "imp_sockets_open"
    }


def assert_told_to_reconnect(tab: Socket) -> None:
    notice = tab.receive_until(lambda f: f.get("type") == "closed", timeout=15)
    assert notice == RESTARTING
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            frame = tab.receive(timeout=15)
            assert frame.get("type") == "ping", f"a frame after the notice: {frame}"
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1012


def test_a_stop_tells_every_socket_to_reconnect_and_finishes_requests_in_flight(
    stoppable_server: ServerProcess,
) -> None:
    server = stoppable_server
    assert server.process is not None
    anna = server.login("anna")
    visitor = visit(server, origin=server.base_url)
    worker_count = int(server.env["IMP_WORKERS"])
    # With several workers, their processes (and perhaps a helper of multiprocessing's).
    workers = _children(server.process.pid) if worker_count > 1 else [server.process.pid]
    with contextlib.ExitStack() as stack:
        tabs: list[Socket] = []
        holders: set[int] = set()
        # With several workers, sockets on each of them (the kernel spreads new connections).
        while len(holders) < worker_count:
            assert len(tabs) < 40, f"every socket went to one worker: {holders} of {workers}"
            tab = stack.enter_context(anna.socket())
            tabs.append(tab)
            holders.add(_worker_holding(workers, server.port, tab))
        widget = stack.enter_context(visitor.socket())
        # Whichever worker answers a scrape counts every worker's sockets (multiprocess mode).
        for _ in range(4):
            assert open_sockets(server) == {"employee": len(tabs), "visitor": 1}
        upload = UploadInFlight(anna, server.port)
        stack.callback(upload.close)

        server.process.send_signal(signal.SIGTERM)

        for tab in [*tabs, widget]:
            assert_told_to_reconnect(tab)
        log = Path(server.log_path)
        wait_until(lambda: WAITING_FOR_REQUESTS in log.read_text(), 15, "the server to stop")
        status, attachment = upload.finish()
    assert status == 201, attachment
    assert attachment["file_name"] == "in-flight.txt"
    server.process.wait(timeout=30)
