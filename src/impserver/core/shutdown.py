"""A graceful stop: on SIGTERM or SIGINT the app gets to act before the server starts closing.

uvicorn, on the signal, stops listening, closes every WebSocket at once with code 1012, lets the
HTTP requests in flight finish, and only then runs the app's lifespan shutdown: too late to tell
the sockets anything. So while the app runs, the signal comes here first: ``before_stop`` runs
(the gateway tells each socket to reconnect elsewhere and closes it), and then the signal goes
on to uvicorn's own handler, which stops as it always does. This works the same in every worker
process of ``IMP_WORKERS``, where the supervisor passes SIGTERM on to each worker.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Awaitable, Callable
from types import FrameType
from typing import Any

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)

SignalHandler = Callable[[int, FrameType | None], Any]


class GracefulStop:
    def __init__(self, before_stop: Callable[[], Awaitable[None]]) -> None:
        self.before_stop = before_stop
        self._passed_on: dict[int, SignalHandler] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Task[None] | None = None

    def install(self) -> None:
        """Step in front of the running server's signal handlers (call from the app's loop).

        Only a server in the main thread has handlers to step in front of (Python delivers
        signals there); one run in another thread, as in the tests, is stopped by its owner.
        """
        if threading.current_thread() is not threading.main_thread():
            return
        self._loop = asyncio.get_running_loop()
        for sig in STOP_SIGNALS:
            current = signal.getsignal(sig)
            if callable(current):
                self._passed_on[sig] = current
                signal.signal(sig, self._received)

    def uninstall(self) -> None:
        for sig, handler in self._passed_on.items():
            if signal.getsignal(sig) == self._received:
                signal.signal(sig, handler)
        self._passed_on.clear()

    def _received(self, sig: int, frame: FrameType | None) -> None:
        handler = self._passed_on[sig]
        if self._stopping is not None or self._loop is None or self._loop.is_closed():
            # A second signal goes straight on (a second Ctrl+C makes uvicorn quit at once).
            handler(sig, frame)
            return
        # A signal handler may interrupt the loop anywhere: hand the work over thread-safely.
        self._loop.call_soon_threadsafe(self._begin, sig, frame, handler)

    def _begin(self, sig: int, frame: FrameType | None, handler: SignalHandler) -> None:
        if self._stopping is None:
            self._stopping = asyncio.get_running_loop().create_task(
                self._stop(sig, frame, handler), name="graceful-stop"
            )

    async def _stop(self, sig: int, frame: FrameType | None, handler: SignalHandler) -> None:
        log.info("stopping: telling realtime sockets to reconnect elsewhere")
        try:
            await self.before_stop()
        except Exception:
            log.exception("preparing to stop failed; stopping anyway")
        finally:
            handler(sig, frame)
