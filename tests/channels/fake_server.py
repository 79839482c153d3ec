"""What the fake messenger servers share: an aiohttp app served from its own thread and event
loop (the tests and IMP's live server run on others), and the calls IMP made, which tests wait
for. Each fake adds its messenger's routes and wire format."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any, Generic, Self, TypeVar

from aiohttp import web

from tests.harness import free_port

Call = TypeVar("Call")


class FakeServer(Generic[Call]):
    # Named in the errors of a test that waits in vain ("fake VK did not start").
    messenger = "a messenger"
    # The largest request body the messenger takes (an upload of a file).
    largest_body = 50 * 1024 * 1024

    def __init__(self) -> None:
        self.port = free_port()
        # The calls IMP made, in order.
        self.sent: list[Call] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._started = threading.Event()
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> Self:
        self._thread.start()
        if not self._started.wait(10):
            raise RuntimeError(f"fake {self.messenger} did not start")
        return self

    def stop(self) -> None:
        async def shutdown() -> None:
            if self._runner is not None:
                await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._on_loop()
        app = web.Application(client_max_size=self.largest_body)
        self._add_routes(app)
        self._runner = web.AppRunner(app)
        self._loop.run_until_complete(self._runner.setup())
        self._loop.run_until_complete(web.TCPSite(self._runner, "127.0.0.1", self.port).start())
        self._started.set()
        self._loop.run_forever()

    def _on_loop(self) -> None:
        """Make what belongs to the server's event loop (conditions to wait on)."""

    def _add_routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def _in_loop(self, coroutine: Coroutine[Any, Any, Any], timeout: float = 30) -> Any:
        """Run a coroutine on the server's loop (to call IMP as the messenger does)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    # -- what tests do -------------------------------------------------------------------

    def wait_for(self, predicate: Callable[[Call], object], timeout: float = 10) -> Call:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for call in list(self.sent):
                if predicate(call):
                    return call
            time.sleep(0.05)
        shown = [self._shown(c) for c in self.sent][-10:]
        raise TimeoutError(f"no matching {self.messenger} call; sent: {shown}")

    def _shown(self, call: Call) -> object:
        """A call as a failed wait lists it."""
        return call
