"""Several worker processes on one port (IMP_WORKERS) behave as one server: whichever worker
holds a socket, it gets what is sent through any other."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from impserver.core.config import Settings
from tests.api.test_rooms import new_room, send
from tests.harness import PostgresDatabase, ServerProcess, Socket, free_port, server_settings


@pytest.fixture
def two_workers(
    postgres_database: PostgresDatabase, redis_available: None, tmp_path: Path
) -> Iterator[ServerProcess]:
    settings = server_settings(tmp_path, postgres_database, workers=2)
    server = ServerProcess(settings, free_port(), tmp_path / "server.log")
    server.command("demo", "--demo-language", "en")
    server.start()
    yield server
    server.stop()


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rpartition(")")[2].split()
            if int(fields[1]) == pid:
                found.append(int(stat.parent.name))
    return found


def _worker_holding(workers: list[int], server_port: int, socket: Socket) -> int:
    """The worker process whose file descriptors include the server end of ``socket``."""
    client_port = socket.ws.socket.getsockname()[1]
    inode = ""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = fields[1], fields[2]
        if int(local.split(":")[1], 16) == server_port and int(remote.split(":")[1], 16) == (
            client_port
        ):
            inode = fields[9]
    assert inode, "the server end of the socket was not found"
    for pid in workers:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                if os.readlink(fd) == f"socket:[{inode}]":
                    return pid
    raise AssertionError("no worker holds the socket")


def test_a_message_reaches_sockets_held_by_every_worker(two_workers: ServerProcess) -> None:
    assert two_workers.process is not None
    # The supervisor's children: the two workers (and possibly a helper of multiprocessing's,
    # which holds no sockets).
    workers = _children(two_workers.process.pid)
    anna = two_workers.login("anna")
    boris = two_workers.login("boris")
    room = new_room(anna, "boris")
    with contextlib.ExitStack() as stack:
        tabs: list[Socket] = []
        holders: set[int] = set()
        # The kernel hands each new connection to whichever worker accepts first.
        while len(holders) < 2:
            assert len(tabs) < 40, f"every socket went to one worker: {holders} of {workers}"
            tab = stack.enter_context(boris.socket())
            tabs.append(tab)
            holders.add(_worker_holding(workers, two_workers.port, tab))
        assert len(holders) == 2
        send(anna, room["id"], "всем процессам")
        for tab in tabs:
            assert tab.event("message.created")["message"]["body"] == "всем процессам"


def test_several_workers_need_postgresql_and_redis(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="IMP_WORKERS above 1 needs PostgreSQL"):
        Settings(data_dir=tmp_path, workers=2)
    with pytest.raises(ValidationError, match="and Redis"):
        Settings(
            data_dir=tmp_path,
            workers=2,
            database_url="postgresql+asyncpg://postgres@127.0.0.1:5432/imp",
        )
