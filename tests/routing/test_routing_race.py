"""Two IMP instances (each its own ``imp run`` process) on one PostgreSQL and Redis give out an
Automatic queue's requests at the same time as clients write through both: no request is given
twice and nobody is given more than their capacity, whatever the timing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.harness import PostgresDatabase, ServerProcess, instance_pair
from tests.routing.team import ORIGIN, eventually, new_team
from tests.widget import visit

pytestmark = pytest.mark.xdist_group("routing-race")

Pair = tuple[ServerProcess, ServerProcess]


@pytest.fixture(scope="module")
def pair(
    postgres_database: PostgresDatabase,
    redis_available: None,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Pair]:
    tmp_path = tmp_path_factory.mktemp("routing-race")
    with instance_pair(tmp_path, postgres_database, timer_interval_seconds=0.05) as pair:
        yield pair


def test_fifty_requests_through_two_instances_fill_every_slot_once(pair: Pair) -> None:
    first, second = pair
    team = new_team(first, "ann", "bob", "cid")
    team.capacity(ann=5, bob=5, cid=5)
    team.route(mode="automatic")
    for name in ("ann", "bob", "cid"):
        team.status(name, "online")

    def client_writes(index: int) -> int:
        server = (first, second)[index % 2]
        # Fifty people, each from an address of their own (as many from one are refused).
        address = f"127.0.1.{index + 1}"
        visitor = visit(server, key=team.site["public_key"], origin=ORIGIN, address=address)
        response = visitor.send(f"Заказ {index}")
        assert response.status_code == 201, response.text
        return int(visitor.conversation()["request"]["id"])

    with ThreadPoolExecutor(max_workers=10) as pool:
        created = set(pool.map(client_writes, range(50)))
    assert len(created) == 50

    def held() -> dict[str, list[int]]:
        return {name: team.mine(name) for name in ("ann", "bob", "cid")}

    eventually(lambda: sum(len(v) for v in held().values()) == 15, what="15 given out")
    # Both instances' routers go on running (every 0.05 s): give them time to overfill.
    time.sleep(1)
    holdings = held()
    assert all(len(requests) == 5 for requests in holdings.values()), holdings
    given = [r for requests in holdings.values() for r in requests]
    assert len(set(given)) == 15
    queue = team.admin.http.get("/api/requests/queue").json()
    waiting = [card for card in queue if card["id"] in created]
    assert len(waiting) == 35
    since = [card["waiting_since"] for card in waiting]
    assert since == sorted(since)  # in arrival order
    # Those given out came first.
    oldest_waiting = since[0]
    for request_id in given:
        assert team.request(request_id)["waiting_since"] <= oldest_waiting

    ann = team.members["ann"]
    for request_id in holdings["ann"][:2]:
        assert ann.http.post(f"/api/requests/{request_id}/close").status_code == 204
    two_oldest = [card["id"] for card in waiting[:2]]
    eventually(lambda: set(two_oldest) <= set(team.mine("ann")), what="the two oldest go to ann")
    assert len(team.mine("ann")) == 5
    assert len(team.mine("bob")) == 5 and len(team.mine("cid")) == 5
