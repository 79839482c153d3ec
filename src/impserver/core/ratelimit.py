"""Fixed-window counters for throttling (login attempts, public widget endpoints).

In memory for one process; in Redis when instances share the limits.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Protocol

import redis.asyncio as aioredis

log = logging.getLogger(__name__)


class RateLimiter(Protocol):
    async def count(self, key: str, window_seconds: int) -> tuple[int, int]:
        """Current count for ``key`` in its window and the seconds until the window ends."""
        ...

    async def hit(self, key: str, window_seconds: int) -> tuple[int, int]:
        """Add one to ``key`` and return the new count and the seconds until the window ends."""
        ...

    async def reset(self, key: str) -> None: ...


class MemoryRateLimiter:
    def __init__(self) -> None:
        self._windows: dict[str, tuple[float, int]] = {}
        self._lock = asyncio.Lock()

    def _current(self, key: str, window_seconds: int) -> tuple[float, int]:
        now = time.monotonic()
        started, count = self._windows.get(key, (now, 0))
        if now - started >= window_seconds:
            started, count = now, 0
        return started, count

    async def count(self, key: str, window_seconds: int) -> tuple[int, int]:
        started, count = self._current(key, window_seconds)
        return count, max(1, int(window_seconds - (time.monotonic() - started)))

    async def hit(self, key: str, window_seconds: int) -> tuple[int, int]:
        async with self._lock:
            started, count = self._current(key, window_seconds)
            self._windows[key] = (started, count + 1)
            if len(self._windows) > 100_000:
                self._windows = {
                    k: v for k, v in self._windows.items() if time.monotonic() - v[0] < 3600
                }
        return count + 1, max(1, int(window_seconds - (time.monotonic() - started)))

    async def reset(self, key: str) -> None:
        self._windows.pop(key, None)


class RedisRateLimiter:
    def __init__(self, url: str, prefix: str) -> None:
        self._redis = aioredis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        self._prefix = f"{prefix}:rl:"
        # While Redis is unreachable, limits fall back to this process's own counters.
        self._fallback = MemoryRateLimiter()

    async def count(self, key: str, window_seconds: int) -> tuple[int, int]:
        try:
            pipe = self._redis.pipeline()
            pipe.get(self._prefix + key)
            pipe.ttl(self._prefix + key)
            raw, ttl = await pipe.execute()
            return int(raw or 0), max(1, int(ttl if ttl and ttl > 0 else window_seconds))
        except (aioredis.ConnectionError, aioredis.TimeoutError, OSError):
            return await self._fallback.count(key, window_seconds)

    async def hit(self, key: str, window_seconds: int) -> tuple[int, int]:
        try:
            pipe = self._redis.pipeline()
            pipe.incr(self._prefix + key)
            pipe.expire(self._prefix + key, window_seconds, nx=True)
            pipe.ttl(self._prefix + key)
            count, _, ttl = await pipe.execute()
            return int(count), max(1, int(ttl if ttl and ttl > 0 else window_seconds))
        except (aioredis.ConnectionError, aioredis.TimeoutError, OSError) as exc:
            log.warning("rate limiter falling back to memory: %s", exc)
            return await self._fallback.hit(key, window_seconds)

    async def reset(self, key: str) -> None:
        try:
            await self._redis.delete(self._prefix + key)
        except (aioredis.ConnectionError, aioredis.TimeoutError, OSError):
            await self._fallback.reset(key)

    async def close(self) -> None:
        await self._redis.aclose()
