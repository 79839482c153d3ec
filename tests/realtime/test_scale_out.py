"""Two IMP instances, each its own ``imp run`` process, sharing one PostgreSQL and one Redis,
behave as one.

Starting the processes is most of the time these tests take, so the tests of this module share
one pair and its database. Each makes its own visitors, requests and rooms, and puts back what
it changes of the demo data, so none depends on another having run or not.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.test_rooms import new_room, send
from tests.harness import PostgresDatabase, ServerProcess, instance_pair
from tests.widget import demo_site, visit

Pair = tuple[ServerProcess, ServerProcess]
# On one test worker, so that the module starts its pair of processes once, not once a worker.
pytestmark = pytest.mark.xdist_group("scale-out")


@pytest.fixture(scope="module")
def pair(
    postgres_database: PostgresDatabase,
    redis_available: None,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Pair]:
    tmp_path = tmp_path_factory.mktemp("scale-out")
    with instance_pair(
        tmp_path,
        postgres_database,
        timer_interval_seconds=0.2,
        public_base_url="http://shop.example",
    ) as pair:
        yield pair


def test_message_sent_through_one_instance_reaches_a_socket_on_the_other(
    pair: Pair,
) -> None:
    first, second = pair
    anna = first.login("anna")
    boris_on_second = second.login("boris")
    room = new_room(anna, "boris")
    with boris_on_second.socket() as tab:
        send(anna, room["id"], "через другой экземпляр")
        assert tab.event("message.created")["message"]["body"] == "через другой экземпляр"


def test_a_logout_through_one_instance_ends_the_session_on_the_other_at_once(
    pair: Pair,
) -> None:
    """Each instance keeps the sessions it has checked for a few seconds; a logout must not
    leave the session alive in the other instance's copy."""
    first, second = pair
    anna = first.login("anna")
    same_session_on_second = second.client()
    same_session_on_second.cookies.update(anna.http.cookies)
    assert same_session_on_second.get("/api/me").status_code == 200
    assert anna.http.post("/api/auth/logout").status_code == 204
    assert same_session_on_second.get("/api/me").status_code == 401


def test_topic_timer_fires_once_across_instances(pair: Pair) -> None:
    first, second = pair
    admin = first.login("admin")
    site = demo_site(first)
    admin.http.patch(f"/api/admin/resources/{site['id']}", json={"topic_choice_seconds": 1})
    try:
        visitors = [visit(first) for _ in range(5)]
        for visitor in visitors:
            visitor.send("Жду")
        # The queue may hold other tests' requests too: only these visitors' are counted.
        mine = {visitor.conversation()["request"]["id"] for visitor in visitors}
        deadline = time.monotonic() + 15
        anna = second.login("anna")

        def queued() -> list[dict[str, Any]]:
            cards = anna.http.get("/api/requests/queue").json()
            return [card for card in cards if card["id"] in mine]

        while len(queued()) < len(visitors):
            assert time.monotonic() < deadline, "timers did not fire"
            time.sleep(0.2)
        time.sleep(1.0)
        for card in queued():
            history = anna.http.get(f"/api/requests/{card['id']}").json()["history"]
            assert [h["kind"] for h in history].count("default_queue") == 1
    finally:
        admin.http.patch(
            f"/api/admin/resources/{site['id']}",
            json={"topic_choice_seconds": site["topic_choice_seconds"]},
        )


def test_accept_race_across_instances_has_one_winner(pair: Pair) -> None:
    first, second = pair
    visitor = visit(first)
    visitor.pick(next(q["id"] for q in demo_site(first)["queues"] if q["name"] == "Sales"))
    visitor.send("Кто первый?")
    request_id = visitor.conversation()["request"]["id"]
    anna, boris = first.login("anna"), second.login("boris")
    results: list[int] = []
    barrier = threading.Barrier(2)

    def accept(session) -> None:  # type: ignore[no-untyped-def]
        barrier.wait()
        results.append(session.http.post(f"/api/requests/{request_id}/accept").status_code)

    threads = [threading.Thread(target=accept, args=(s,)) for s in (anna, boris)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [200, 409]
