"""Test harness: real IMP servers on loopback, over SQLite or PostgreSQL + Redis.

Tests talk to a running server over real HTTP and WebSocket connections, exactly as browsers do.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import uvicorn
from websockets.sync.client import ClientConnection, connect

from impserver.app import create_app
from impserver.cli import serving_options
from impserver.core.config import Settings
from impserver.core.migrations import upgrade_database
from impserver.services import Services

T = TypeVar("T")

POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/0"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def psql(sql: str, database: str = "postgres") -> None:
    subprocess.run(
        [
            "psql",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            database,
            "-v",
            "ON_ERROR_STOP=1",
            "-q",
            "-c",
            sql,
        ],
        check=True,
        capture_output=True,
    )


class PostgresDatabase:
    """One migrated database per test session; emptied between tests."""

    def __init__(self) -> None:
        self.name = f"imp_test_{uuid.uuid4().hex[:10]}"
        self.url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{self.name}"

    def create(self) -> None:
        psql(f'CREATE DATABASE "{self.name}"')
        upgrade_database(Settings(database_url=self.url, secret_key="x"))

    def truncate(self) -> None:
        psql(
            "DO $$ DECLARE t text; BEGIN "
            "SELECT string_agg(format('%I', tablename), ', ') INTO t FROM pg_tables "
            "WHERE schemaname = 'public' AND tablename <> 'alembic_version'; "
            "EXECUTE 'TRUNCATE ' || t || ' RESTART IDENTITY CASCADE'; END $$;",
            self.name,
        )

    def drop(self) -> None:
        psql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def server_settings(
    tmp_path: Path, postgres: PostgresDatabase | None = None, /, **overrides: object
) -> Settings:
    """Settings of a test's server, its files under ``tmp_path``.

    With ``postgres`` the database is emptied here and Redis keys get a prefix of their own;
    without it the caller provides the SQLite file in ``tmp_path / "data"``.
    """
    base: dict[str, object] = {
        "data_dir": tmp_path / "data",
        "secret_key": "test-secret",
        "web_dist": tmp_path / "no-dist",
        "ws_ping_seconds": 1.0,
        "ws_dead_after_seconds": 5.0,
        # Real Argon2, at its lowest cost: the suite hashes and checks thousands of passwords.
        "password_hash_time_cost": 1,
        "password_hash_memory_kib": 1024,
        # The servers of one test keep their files under its ``tmp_path``, which all of them see.
        "files_shared": True,
    }
    if postgres is not None:
        postgres.truncate()
        base["database_url"] = postgres.url
        base["redis_url"] = REDIS_URL
        base["redis_prefix"] = f"imp-test-{uuid.uuid4().hex[:12]}"
    base.update(overrides)
    return Settings(**base)  # type: ignore[arg-type]


class SqliteTemplate:
    """A migrated SQLite file, copied for each test (faster than migrating each time)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        settings = Settings(data_dir=directory, secret_key="x")
        upgrade_database(settings)
        self.path = directory / "imp.db"

    def copy_to(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy(self.path, data_dir / "imp.db")


@dataclass
class Endpoint:
    """Where a running IMP listens, and clients that talk to it."""

    port: int
    clients: list[httpx.Client] = field(default_factory=list, kw_only=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def client(self, address: str | None = None) -> httpx.Client:
        """A client; ``address``: connecting from that (loopback) address, as another person."""
        transport = httpx.HTTPTransport(local_address=address) if address else None
        client = httpx.Client(base_url=self.base_url, timeout=15, transport=transport)
        self.clients.append(client)
        return client

    def login(self, login: str, password: str | None = None) -> Session:
        client = self.client()
        response = client.post(
            "/api/auth/login", json={"login": login, "password": password or f"{login}-demo"}
        )
        assert response.status_code == 200, response.text
        client.headers["X-CSRF-Token"] = client.cookies["imp_csrf"]
        return Session(self, client, response.json())

    def close_clients(self) -> None:
        for client in self.clients:
            client.close()
        self.clients.clear()


class LiveServer(Endpoint):
    """An IMP app served by uvicorn in a thread with its own event loop."""

    def __init__(self, settings: Settings, port: int) -> None:
        super().__init__(port)
        self.settings = settings
        self._thread: threading.Thread | None = None
        self._server: uvicorn.Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def services(self) -> Services:
        assert self._server is not None
        app = self._server.config.app
        return app.state.services  # type: ignore[no-any-return, union-attr]

    def start(self) -> LiveServer:
        options = {**serving_options(self.settings), "host": "127.0.0.1", "port": self.port}
        config = uvicorn.Config(
            create_app(self.settings), **options, log_level="warning", lifespan="on"
        )
        self._server = uvicorn.Server(config)
        self._loop = asyncio.new_event_loop()

        def serve() -> None:
            assert self._loop is not None and self._server is not None
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(self._server.serve())

        self._thread = threading.Thread(target=serve, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("IMP test server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.close_clients()
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=15)
            if self._thread.is_alive():
                # Its loop cannot be closed while it runs; say what holds it instead.
                raise AssertionError(
                    "The test server did not stop within 15 s: a client (a browser tab left "
                    "open?) still holds a connection to it."
                )
        if self._loop is not None and not self._loop.is_closed():
            self._loop.close()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        """Run a coroutine on the server's own loop (e.g. an action, to set up data)."""
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)


SERVER_COMMAND = [sys.executable, "-c", "from impserver.cli import main; main()"]


def settings_environment(settings: Settings, **extra: str) -> dict[str, str]:
    """``IMP_*`` variables that make ``imp`` read these settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMP_")}
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        if isinstance(value, (list, dict)):
            text = json.dumps(value)
        elif isinstance(value, bool):
            text = "true" if value else "false"
        else:
            text = str(value)
        env[f"IMP_{name.upper()}"] = text
    env.update(extra)
    return env


class ServerProcess(Endpoint):
    """IMP started as its own process with ``imp run``, as an administrator would."""

    def __init__(self, settings: Settings, port: int, log_path: Path) -> None:
        super().__init__(port)
        self.env = settings_environment(
            settings, IMP_PORT=str(port), IMP_HOST="127.0.0.1", PYTHONUNBUFFERED="1"
        )
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def command(self, *args: str) -> None:
        """Run another ``imp`` command with this server's settings (e.g. ``demo``)."""
        subprocess.run([*SERVER_COMMAND, *args], env=self.env, check=True, capture_output=True)

    def start(self) -> ServerProcess:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [*SERVER_COMMAND, "run"], env=self.env, stdout=log, stderr=log
        )
        log.close()
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.base_url}/api/health", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"imp run did not start:\n{self.log_path.read_text()[-3000:]}")
            time.sleep(0.1)

    def stop(self) -> None:
        self.close_clients()
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class Session:
    """A logged-in employee: HTTP with cookie and CSRF header, and sockets on demand."""

    server: Endpoint
    http: httpx.Client
    me: dict[str, Any]

    @property
    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.http.cookies.items())

    @contextmanager
    def socket(self, last_event_id: int | None = None) -> Iterator[Socket]:
        with connect(
            self.server.ws_url,
            additional_headers={"Cookie": self.cookie_header},
            open_timeout=10,
        ) as ws:
            socket_ = Socket(ws)
            socket_.send({"type": "hello", "last_event_id": last_event_id})
            socket_.ready = socket_.receive_until(lambda f: f.get("type") == "ready")
            yield socket_


@dataclass
class Socket:
    ws: ClientConnection
    ready: dict[str, Any] = field(default_factory=dict)
    seen: list[dict[str, Any]] = field(default_factory=list)

    def send(self, frame: dict[str, Any]) -> None:
        self.ws.send(json.dumps(frame))

    def receive(self, timeout: float = 5) -> dict[str, Any]:
        frame = json.loads(self.ws.recv(timeout=timeout))
        self.seen.append(frame)
        return frame  # type: ignore[no-any-return]

    def receive_until(self, predicate: Any, timeout: float = 5) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no matching frame; saw {self.seen[-10:]}")
            frame = self.receive(remaining)
            if predicate(frame):
                return frame

    def event(self, event_type: str, timeout: float = 5) -> dict[str, Any]:
        return self.receive_until(lambda f: f.get("type") == event_type, timeout)

    def assert_silent(self, event_type: str, wait: float = 0.5) -> None:
        """No event of this type arrives within ``wait`` seconds."""
        deadline = time.monotonic() + wait
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                frame = self.receive(remaining)
            except TimeoutError:
                return
            assert frame.get("type") != event_type, f"unexpected {frame}"


@contextmanager
def instance_pair(
    tmp_path: Path, postgres: PostgresDatabase, **overrides: object
) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """Two ``imp run`` processes on one PostgreSQL and Redis, the demo data seeded in English."""
    settings = server_settings(tmp_path, postgres, **overrides)
    first = ServerProcess(settings, free_port(), tmp_path / "first.log")
    second = ServerProcess(settings, free_port(), tmp_path / "second.log")
    first.command("demo", "--demo-language", "en")
    try:
        first.start()
        second.start()
        yield first, second
    finally:
        first.stop()
        second.stop()
