"""How much one co-browsing session may relay: token buckets of bytes and of frames per call.

A page being shared sends a batch of changes every few tens of milliseconds and now and then a
whole copy of the page; a client (or a script posing as one) sending more than that would make
the server and the employee's window carry it all. The buckets are per instance: a session's
frames all come through the socket of one widget page.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

# rrweb sends at most a batch every 40 ms (web/src/widget/cobrowse.ts); twice that is plenty.
FRAMES_PER_SECOND = 50.0
FRAMES_BURST = 100.0
# Sessions not heard from for this long are forgotten when the table is tidied.
IDLE_SECONDS = 300.0
TIDY_AT = 10_000


class Verdict(Enum):
    RELAY = "relay"
    # Relay it, and ask for a whole page: frames before it were refused, so the employee's
    # window has missed changes.
    RELAY_AND_RESYNC = "relay_and_resync"
    REFUSE = "refuse"


@dataclass(slots=True)
class _Bucket:
    bytes: float
    frames: float
    at: float
    refused: bool = False


class RelayBudget:
    def __init__(
        self,
        bytes_per_second: float,
        burst_bytes: float,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.bytes_per_second = bytes_per_second
        self.burst_bytes = burst_bytes
        self._clock = clock
        self._buckets: dict[int, _Bucket] = {}

    def spend(self, call_id: int, size: int) -> Verdict:
        now = self._clock()
        bucket = self._buckets.get(call_id)
        if bucket is None:
            if len(self._buckets) >= TIDY_AT:
                self._tidy(now)
            bucket = self._buckets[call_id] = _Bucket(self.burst_bytes, FRAMES_BURST, now)
        elapsed = max(0.0, now - bucket.at)
        bucket.at = now
        bucket.bytes = min(self.burst_bytes, bucket.bytes + elapsed * self.bytes_per_second)
        bucket.frames = min(FRAMES_BURST, bucket.frames + elapsed * FRAMES_PER_SECOND)
        if size > bucket.bytes or bucket.frames < 1:
            bucket.refused = True
            return Verdict.REFUSE
        bucket.bytes -= size
        bucket.frames -= 1
        if bucket.refused:
            bucket.refused = False
            return Verdict.RELAY_AND_RESYNC
        return Verdict.RELAY

    def _tidy(self, now: float) -> None:
        self._buckets = {
            call_id: bucket
            for call_id, bucket in self._buckets.items()
            if now - bucket.at < IDLE_SECONDS
        }
