"""A socket's outbox: frames in order, a writer that waits for the next one, a hard limit."""

from __future__ import annotations

import asyncio
import sys
from typing import TypeVar

import pytest

from impserver.realtime.gateway import Outbox
from tests.unit.own_loop import run

T = TypeVar("T")


def test_frames_come_out_in_the_order_they_went_in() -> None:
    async def scenario() -> list[object]:
        outbox = Outbox(10)
        for n in range(3):
            outbox.put_nowait((n, f"frame {n}", None))
        outbox.put_nowait(None)
        return [await outbox.get() for _ in range(4)]

    assert run(scenario()) == [
        (0, "frame 0", None),
        (1, "frame 1", None),
        (2, "frame 2", None),
        None,
    ]


def test_a_waiting_writer_wakes_for_the_next_frame() -> None:
    async def scenario() -> object:
        outbox = Outbox(10)
        writer = asyncio.create_task(outbox.get())
        await asyncio.sleep(0.01)
        assert not writer.done()
        outbox.put_nowait((7, "late", None))
        return await asyncio.wait_for(writer, 1)

    assert run(scenario()) == (7, "late", None)


def test_a_full_outbox_refuses_more_and_a_cancelled_writer_leaves_it_usable() -> None:
    async def scenario() -> object:
        outbox = Outbox(2)
        waiting = asyncio.create_task(outbox.get())
        await asyncio.sleep(0.01)
        waiting.cancel()
        await asyncio.gather(waiting, return_exceptions=True)
        outbox.put_nowait((1, "a", None))
        outbox.put_nowait((2, "b", None))
        with pytest.raises(asyncio.QueueFull):
            outbox.put_nowait((3, "c", None))
        return [await outbox.get(), await outbox.get()]

    assert run(scenario()) == [(1, "a", None), (2, "b", None)]


def test_the_outbox_holds_at_most_its_byte_limit() -> None:
    frame = "x" * 1000
    outbox = Outbox(1000, byte_limit=10 * sys.getsizeof(frame), lane_limit=10**9)
    for n in range(10):
        outbox.put_nowait((n, frame, None))
    with pytest.raises(asyncio.QueueFull):
        outbox.put_nowait((10, frame, None))
    assert outbox.size == 10 * sys.getsizeof(frame)


def test_a_lane_too_far_behind_is_dropped_and_everything_else_kept() -> None:
    """A co-browsing viewer that cannot keep up: its queued page changes are dropped instead
    of piling up (the page is then sent again whole), other frames stay, in order."""

    async def scenario() -> tuple[list[bool], list[object], int]:
        page = "p" * 10_000
        outbox = Outbox(1000, byte_limit=10**9, lane_limit=5 * sys.getsizeof(page))
        accepted = []
        outbox.put_nowait((1, "message", None))
        for _ in range(6):
            accepted.append(outbox.put_nowait((None, page, "cobrowse:1")))
        outbox.put_nowait((2, "another message", None))
        size_after = outbox.size
        outbox.put_nowait(None)
        items = []
        while (item := await outbox.get()) is not None:
            items.append(item)
        return accepted, items, size_after

    accepted, items, size_after = run(scenario())
    # The fifth page change would pass the lane's limit: it and the four queued before it are
    # dropped; the sixth starts the lane afresh (in practice, the whole page sent again).
    assert accepted == [True, True, True, True, False, True]
    assert [(item[0], item[2]) for item in items] == [  # type: ignore[index]
        (1, None),
        (None, "cobrowse:1"),
        (2, None),
    ]
    assert size_after < 5 * sys.getsizeof("p" * 10_000)


def test_a_single_lane_frame_beyond_the_lane_share_still_goes_when_nothing_of_it_waits() -> None:
    """Dropping a lane with nothing queued would only ask for the same big page again."""
    page = "p" * 100_000
    outbox = Outbox(1000, byte_limit=10**9, lane_limit=sys.getsizeof(page) // 2)
    outbox.put_nowait((1, "message", None))
    assert outbox.put_nowait((None, page, "cobrowse:1")) is True
    assert outbox.put_nowait((None, page, "cobrowse:1")) is False
    assert outbox.size == sys.getsizeof("message")
