"""The garbage collector on a long-lived server: what it pauses, and what it need not scan.

A full collection scans every object the collector tracks, and on a server holding thousands
of sockets that is a pause of a quarter of a second (measured with 2,000 sockets), every few
seconds under load: the HTTP connections and requests of a busy instance live long enough to
reach the oldest generation and bring the next full collection on. So what survives a full
collection is frozen (moved out of the collector's reach), and the next one scans only what
came since. Frozen objects that die in reference cycles (a closed socket's tasks and their
exceptions) are freed by a sweep over everything now and then: one such pause every
``SWEEP_SECONDS`` instead of one every few seconds.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from typing import Any

log = logging.getLogger(__name__)

# A collection that holds the event loop this long delays every socket's frames noticeably.
LONG_PAUSE_SECONDS = 0.1
SWEEP_SECONDS = 600.0

_started: float | None = None


def _time_full_collections(phase: str, info: dict[str, Any]) -> None:
    global _started
    if info.get("generation") != 2:
        return
    if phase == "start":
        _started = time.perf_counter()
    elif _started is not None:
        paused = time.perf_counter() - _started
        _started = None
        if paused > LONG_PAUSE_SECONDS:
            log.warning("a full garbage collection paused the server for %.0f ms", paused * 1000)


def _freeze_survivors(phase: str, info: dict[str, Any]) -> None:
    # Right after a full collection every generation has just been scanned, so what is left
    # was alive: no garbage of the moment is frozen with it.
    if phase == "stop" and info.get("generation") == 2:
        gc.freeze()


def settle_after_start() -> None:
    """Call once the server has started. What exists by then (modules, mappers, compiled
    statements) lives as long as the process and is frozen at once; from then on, so is what
    survives each full collection (see the module's description)."""
    gc.freeze()
    for callback in (_time_full_collections, _freeze_survivors):
        if callback not in gc.callbacks:
            gc.callbacks.append(callback)


def sweep() -> None:
    """A full collection over everything, frozen objects included; the survivors are frozen
    again."""
    gc.unfreeze()
    gc.collect()


async def sweep_now_and_then(interval: float = SWEEP_SECONDS) -> None:
    while True:
        await asyncio.sleep(interval)
        sweep()


def release() -> None:
    """Call when the server stops: what survives later collections of the process (a test run
    holding servers one after another, say) is no longer frozen. What is frozen stays so:
    thawing it would make every later full collection of a test process scan all of its heap,
    a pause of a second and more that the tests' own timings would feel."""
    if _freeze_survivors in gc.callbacks:
        gc.callbacks.remove(_freeze_survivors)
