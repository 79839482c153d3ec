"""What a full garbage collection leaves is frozen; a sweep frees what died among it."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from impserver.core import heap


class Node:
    """An object in a reference cycle: only the collector frees it, never a refcount."""

    def __init__(self) -> None:
        self.me = self


@pytest.fixture
def settled() -> Iterator[None]:
    heap.settle_after_start()
    try:
        yield
    finally:
        heap.release()


@pytest.mark.usefixtures("settled")
def test_what_survives_a_full_collection_is_left_out_of_the_next_until_a_sweep() -> None:
    survivor = Node()
    kept = weakref.ref(survivor)
    gc.collect()
    assert gc.get_freeze_count() > 0
    del survivor
    gc.collect()
    # Frozen when it was alive: the ordinary full collection no longer scans it.
    assert kept() is not None
    heap.sweep()
    assert kept() is None


@pytest.mark.usefixtures("settled")
def test_garbage_that_dies_young_is_collected_as_usual() -> None:
    young = Node()
    dead = weakref.ref(young)
    del young
    gc.collect()
    assert dead() is None


def test_a_stopped_server_no_longer_freezes_what_survives() -> None:
    heap.settle_after_start()
    heap.release()
    # What was frozen stays frozen: thawing it would make every later full collection of this
    # process scan its whole heap.
    assert gc.get_freeze_count() > 0
    survivor = Node()
    kept = weakref.ref(survivor)
    gc.collect()
    del survivor
    gc.collect()
    # Not frozen by the first collection, which it survived: the second frees it.
    assert kept() is None
