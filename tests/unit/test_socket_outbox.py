"""A socket's outbox: frames in order, a writer that waits for the next one, a hard limit."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest

from impserver.realtime.gateway import Outbox

T = TypeVar("T")


def run(scenario: Coroutine[Any, Any, T]) -> T:
    """Run on a loop of its own, in its own thread: another test in this worker may have left
    a loop running in the main thread (Playwright's does)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, scenario).result(timeout=10)


def test_frames_come_out_in_the_order_they_went_in() -> None:
    async def scenario() -> list[object]:
        outbox = Outbox(10)
        for n in range(3):
            outbox.put_nowait((n, f"frame {n}"))
        outbox.put_nowait(None)
        return [await outbox.get() for _ in range(4)]

    assert run(scenario()) == [(0, "frame 0"), (1, "frame 1"), (2, "frame 2"), None]


def test_a_waiting_writer_wakes_for_the_next_frame() -> None:
    async def scenario() -> object:
        outbox = Outbox(10)
        writer = asyncio.create_task(outbox.get())
        await asyncio.sleep(0.01)
        assert not writer.done()
        outbox.put_nowait((7, "late"))
        return await asyncio.wait_for(writer, 1)

    assert run(scenario()) == (7, "late")


def test_a_full_outbox_refuses_more_and_a_cancelled_writer_leaves_it_usable() -> None:
    async def scenario() -> object:
        outbox = Outbox(2)
        waiting = asyncio.create_task(outbox.get())
        await asyncio.sleep(0.01)
        waiting.cancel()
        await asyncio.gather(waiting, return_exceptions=True)
        outbox.put_nowait((1, "a"))
        outbox.put_nowait((2, "b"))
        with pytest.raises(asyncio.QueueFull):
            outbox.put_nowait((3, "c"))
        return [await outbox.get(), await outbox.get()]

    assert run(scenario()) == [(1, "a"), (2, "b")]
