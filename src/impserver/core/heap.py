"""The garbage collector on a long-lived server: what it pauses, and what it need not scan."""

from __future__ import annotations

import gc
import logging
import time
from typing import Any

log = logging.getLogger(__name__)

# A collection that holds the event loop this long delays every socket's frames noticeably.
LONG_PAUSE_SECONDS = 0.1

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


def settle_after_start() -> None:
    """Call once the server has started. What exists by then (modules, mappers, compiled
    statements) lives as long as the process; moved out of the collector's reach, it is not
    scanned again by every full collection, which keeps those pauses short on a large heap."""
    gc.freeze()
    if _time_full_collections not in gc.callbacks:
        gc.callbacks.append(_time_full_collections)
