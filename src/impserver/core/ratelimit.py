"""Fixed-window counters for throttling (login attempts, public widget endpoints).

In memory for one process; in Redis when instances share the limits.

Two ways to count. ``hit`` adds one and tells the new count, for limits where going past is
harmless to record (a widget message too many is refused either way). ``take`` is an admission:
it adds one only while the count is below the limit, in one atomic step, so that of any number of
simultaneous attempts exactly ``limit`` are let through, however many instances serve them.
``give_back`` returns an admission that turned out not to count (a login that succeeded).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Protocol

import redis.asyncio as aioredis

log = logging.getLogger(__name__)

REDIS_DOWN = (aioredis.ConnectionError, aioredis.TimeoutError, OSError)


@dataclass(frozen=True)
class Admission:
    allowed: bool
    # The count after this attempt (unchanged when refused).
    count: int
    # Seconds until the window ends and the count starts again from zero.
    retry_after: int


class RateLimiter(Protocol):
    async def count(self, key: str, window_seconds: int) -> tuple[int, int]:
        """Current count for ``key`` in its window and the seconds until the window ends."""
        ...

    async def hit(self, key: str, window_seconds: int) -> tuple[int, int]:
        """Add one to ``key`` and return the new count and the seconds until the window ends."""
        ...

    async def hit_many(self, keys: list[tuple[str, int]]) -> list[tuple[int, int]]:
        """``hit`` for several (key, window) at once: one round trip to a shared store."""
        ...

    async def take(self, key: str, limit: int, window_seconds: int) -> Admission:
        """Add one to ``key`` if it is below ``limit``, atomically; refuse otherwise."""
        ...

    async def give_back(self, key: str) -> None:
        """Take one off ``key`` (never below zero): an admission that should not count."""
        ...

    async def reset(self, key: str) -> None: ...


class MemoryRateLimiter:
    """Counters of this process. Each operation reads and writes without awaiting in between,
    so on the one event loop each is atomic."""

    def __init__(self) -> None:
        self._windows: dict[str, tuple[float, int]] = {}

    def _current(self, key: str, window_seconds: int) -> tuple[float, int]:
        now = time.monotonic()
        started, count = self._windows.get(key, (now, 0))
        if now - started >= window_seconds:
            started, count = now, 0
        return started, count

    @staticmethod
    def _left(started: float, window_seconds: int) -> int:
        return max(1, int(window_seconds - (time.monotonic() - started)))

    def _store(self, key: str, started: float, count: int) -> None:
        self._windows[key] = (started, count)
        if len(self._windows) > 100_000:
            self._windows = {
                k: v for k, v in self._windows.items() if time.monotonic() - v[0] < 3600
            }

    async def count(self, key: str, window_seconds: int) -> tuple[int, int]:
        started, count = self._current(key, window_seconds)
        return count, self._left(started, window_seconds)

    async def hit(self, key: str, window_seconds: int) -> tuple[int, int]:
        started, count = self._current(key, window_seconds)
        self._store(key, started, count + 1)
        return count + 1, self._left(started, window_seconds)

    async def hit_many(self, keys: list[tuple[str, int]]) -> list[tuple[int, int]]:
        return [await self.hit(key, window_seconds) for key, window_seconds in keys]

    async def take(self, key: str, limit: int, window_seconds: int) -> Admission:
        started, count = self._current(key, window_seconds)
        if count >= limit:
            return Admission(False, count, self._left(started, window_seconds))
        self._store(key, started, count + 1)
        return Admission(True, count + 1, self._left(started, window_seconds))

    async def give_back(self, key: str) -> None:
        started, count = self._windows.get(key, (0.0, 0))
        if count > 0:
            self._windows[key] = (started, count - 1)

    async def reset(self, key: str) -> None:
        self._windows.pop(key, None)


# KEYS[1] the counter; ARGV[1] the limit, ARGV[2] the window in seconds.
# Returns {allowed (1|0), count, seconds left}. A script runs atomically in Redis.
_TAKE = """
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
local ttl = redis.call('TTL', KEYS[1])
if count >= tonumber(ARGV[1]) then
  if ttl < 1 then ttl = tonumber(ARGV[2]) end
  return {0, count, ttl}
end
count = redis.call('INCR', KEYS[1])
if ttl < 1 then
  redis.call('EXPIRE', KEYS[1], ARGV[2])
  ttl = tonumber(ARGV[2])
end
return {1, count, ttl}
"""

# ``hit`` for each of KEYS, its window in the ARGV of the same place: each key's new count and
# the seconds left of its window, in one command (a pipeline of three commands a key costs the
# server several times as much CPU on the client side, on the busiest path: a visitor's send).
_HIT = """
local answers = {}
for i, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  redis.call('EXPIRE', key, ARGV[i], 'NX')
  answers[#answers + 1] = count
  answers[#answers + 1] = redis.call('TTL', key)
end
return answers
"""

_GIVE_BACK = """
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count > 0 then redis.call('DECR', KEYS[1]) end
return 0
"""


class RedisRateLimiter:
    def __init__(self, url: str, prefix: str) -> None:
        self._redis = aioredis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        self._prefix = f"{prefix}:rl:"
        self._take = self._redis.register_script(_TAKE)
        self._hit = self._redis.register_script(_HIT)
        self._give_back = self._redis.register_script(_GIVE_BACK)
        # While Redis is unreachable, limits fall back to this process's own counters.
        self._fallback = MemoryRateLimiter()

    async def count(self, key: str, window_seconds: int) -> tuple[int, int]:
        try:
            pipe = self._redis.pipeline()
            pipe.get(self._prefix + key)
            pipe.ttl(self._prefix + key)
            raw, ttl = await pipe.execute()
            return int(raw or 0), max(1, int(ttl if ttl and ttl > 0 else window_seconds))
        except REDIS_DOWN:
            return await self._fallback.count(key, window_seconds)

    async def hit(self, key: str, window_seconds: int) -> tuple[int, int]:
        return (await self.hit_many([(key, window_seconds)]))[0]

    async def hit_many(self, keys: list[tuple[str, int]]) -> list[tuple[int, int]]:
        try:
            answers = await self._hit(
                keys=[self._prefix + key for key, _ in keys],
                args=[window_seconds for _, window_seconds in keys],
            )
        except REDIS_DOWN as exc:
            log.warning("rate limiter falling back to memory: %s", exc)
            return await self._fallback.hit_many(keys)
        return [
            (int(count), max(1, int(ttl if ttl and ttl > 0 else window_seconds)))
            for (_, window_seconds), count, ttl in zip(
                keys, answers[0::2], answers[1::2], strict=True
            )
        ]

    async def take(self, key: str, limit: int, window_seconds: int) -> Admission:
        try:
            allowed, count, ttl = await self._take(
                keys=[self._prefix + key], args=[limit, window_seconds]
            )
            return Admission(bool(allowed), int(count), max(1, int(ttl)))
        except REDIS_DOWN as exc:
            log.warning("rate limiter falling back to memory: %s", exc)
            return await self._fallback.take(key, limit, window_seconds)

    async def give_back(self, key: str) -> None:
        try:
            await self._give_back(keys=[self._prefix + key])
        except REDIS_DOWN:
            await self._fallback.give_back(key)

    async def reset(self, key: str) -> None:
        try:
            await self._redis.delete(self._prefix + key)
        except REDIS_DOWN:
            await self._fallback.reset(key)

    async def close(self) -> None:
        await self._redis.aclose()
