"""A bare relay: the floor under IMP's send path, for the load benchmark to measure against.

What is left of a messenger without its product: one POST publishes a message to a room on
Redis pub/sub, and every instance hands it to that room's sockets. No authentication, no
storage, no event log, no audience rules. It is served by uvicorn with the same options as
``imp run``, so the difference between the two is what IMP does, not how it is served.

With ``--store``, the relay first keeps each message, as any messenger must: one INSERT of
the message (returning its id, which the frame carries) in a transaction of its own, on
PostgreSQL through asyncpg or on SQLite through aiosqlite with IMP's settings (WAL,
synchronous=NORMAL). That is the floor under a send that survives a restart: nothing of IMP's
own (authentication, validation, an event log, audiences, read marks) is in it.

    uv run python bench/relay.py --port 8800 [--redis redis://127.0.0.1:6379/0]
        [--store postgresql://postgres@127.0.0.1:5432/db | sqlite:///path/to/file.db]

    POST /rooms/{room}/messages   {"body": "..."}  → 201 {"room": ..., "body": ...}
    WS   /rooms/{room}/socket     receives {"type":"message.created","room":...,"body":...}
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any, Protocol

import redis.asyncio as aioredis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect


class Store(Protocol):
    async def open(self) -> None: ...
    async def keep(self, room: str, body: str) -> int: ...
    async def close(self) -> None: ...


class PostgresStore:
    def __init__(self, url: str) -> None:
        self.url = url
        self.pool: Any = None

    async def open(self) -> None:
        import asyncpg

        self.pool = await asyncpg.create_pool(self.url, min_size=2, max_size=10)
        await self.pool.execute(_CREATE_TABLE.format(key="BIGSERIAL"))

    async def keep(self, room: str, body: str) -> int:
        return int(await self.pool.fetchval(_INSERT.format("$1", "$2"), room, body))

    async def close(self) -> None:
        await self.pool.close()


class SqliteStore:
    def __init__(self, path: str) -> None:
        self.path = path
        self.connection: Any = None
        self.writing = asyncio.Lock()

    async def open(self) -> None:
        import aiosqlite

        self.connection = await aiosqlite.connect(self.path)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=10000"):
            await self.connection.execute(f"PRAGMA {pragma}")
        await self.connection.execute(_CREATE_TABLE.format(key="INTEGER"))
        await self.connection.commit()

    async def keep(self, room: str, body: str) -> int:
        # One connection, one transaction at a time: SQLite has a single writer (IMP serialises
        # its writes the same way).
        async with self.writing:
            cursor = await self.connection.execute(_INSERT.format("?", "?"), (room, body))
            row = await cursor.fetchone()
            await self.connection.commit()
        return int(row[0])

    async def close(self) -> None:
        await self.connection.close()


_CREATE_TABLE = """
    CREATE TABLE IF NOT EXISTS relay_messages (
        id {key} PRIMARY KEY, room TEXT NOT NULL, body TEXT NOT NULL,
        created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)
"""
_INSERT = "INSERT INTO relay_messages (room, body) VALUES ({}, {}) RETURNING id"


def store_at(url: str) -> Store:
    if url.startswith("sqlite:///"):
        return SqliteStore(url.removeprefix("sqlite:///"))
    return PostgresStore(url)


def create_relay(redis_url: str, channel: str, store: Store | None = None) -> Starlette:
    redis = aioredis.from_url(redis_url)
    sockets: dict[str, set[WebSocket]] = defaultdict(set)

    async def listen() -> None:
        pubsub = redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(channel)
        while True:
            message = await pubsub.get_message(timeout=30.0)
            if message is None or message.get("type") != "message":
                continue
            # "room\nframe": the frame is sent as it came, encoded once for every socket.
            room, _, frame = message["data"].decode().partition("\n")
            for websocket in list(sockets.get(room, ())):
                with contextlib.suppress(Exception):
                    await websocket.send_text(frame)

    async def publish(request: Request) -> Response:
        room = request.path_params["room"]
        data = json.loads(await request.body())
        frame: dict[str, Any] = {"type": "message.created", "room": room, "body": data["body"]}
        if store is not None:
            frame["id"] = await store.keep(room, data["body"])
        text = json.dumps(frame, separators=(",", ":"), ensure_ascii=False)
        await redis.publish(channel, f"{room}\n{text}")
        return JSONResponse(frame, status_code=201)

    async def socket(websocket: WebSocket) -> None:
        room = websocket.path_params["room"]
        await websocket.accept()
        sockets[room].add(websocket)
        try:
            while True:
                await websocket.receive_text()
        except WebSocketDisconnect:
            pass
        finally:
            sockets[room].discard(websocket)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if store is not None:
            await store.open()
        listener = asyncio.create_task(listen())
        try:
            yield
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
            await redis.aclose()
            if store is not None:
                await store.close()

    return Starlette(
        routes=[
            Route("/api/health", health),
            Route("/rooms/{room}/messages", publish, methods=["POST"]),
            WebSocketRoute("/rooms/{room}/socket", socket),
        ],
        lifespan=lifespan,
    )


def main() -> None:
    import uvicorn

    from impserver.cli import serving_options
    from impserver.core.config import load_settings

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--channel", default="imp-bench-relay")
    parser.add_argument("--store", default="", help="keep each message in this database")
    args = parser.parse_args()
    # The options `imp run` serves IMP with (loop, HTTP parser, socket settings, no access log).
    options = serving_options(load_settings(host="127.0.0.1", port=args.port))
    store = store_at(args.store) if args.store else None
    uvicorn.run(create_relay(args.redis, args.channel, store), **options)


if __name__ == "__main__":
    main()
