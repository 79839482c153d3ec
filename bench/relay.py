"""A bare relay: the floor under IMP's send path, for the load benchmark to measure against.

What is left of a messenger without its product: one POST publishes a message to a room on
Redis pub/sub, and every instance hands it to that room's sockets. No authentication, no
storage, no event log, no audience rules. It is served by uvicorn with the same options as
``imp run``, so the difference between the two is what IMP does, not how it is served.

    uv run python bench/relay.py --port 8800 [--redis redis://127.0.0.1:6379/0]

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

import redis.asyncio as aioredis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect


def create_relay(redis_url: str, channel: str) -> Starlette:
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
        frame = {"type": "message.created", "room": room, "body": data["body"]}
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
        listener = asyncio.create_task(listen())
        try:
            yield
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
            await redis.aclose()

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
    args = parser.parse_args()
    # The options `imp run` serves IMP with (loop, HTTP parser, socket settings, no access log).
    options = serving_options(load_settings(host="127.0.0.1", port=args.port))
    uvicorn.run(create_relay(args.redis, args.channel), **options)


if __name__ == "__main__":
    main()
