"""Redis dies for a few seconds under two instances: they keep serving, cross-instance delivery
resumes when it is back, and no acknowledged message is lost or doubled anywhere."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from impserver.core.config import Settings
from impserver.demo import seed_demo
from tests.api.test_requests import taken
from tests.api.test_rooms import new_room
from tests.faults.tools import (
    PrivateRedis,
    Tab,
    TcpProxy,
    employee_tab,
    tabs,
    visitor_tab,
    wait_until,
)
from tests.harness import LiveServer, Session, free_port
from tests.widget import Visitor

# Longer than the window in which the gateway replays recent events regardless of their id, so
# that only a correct resume point can bring back what an instance missed.
OUTAGE_SECONDS = 6.0
# A call during the outage may be a little slower, never stuck on Redis.
QUICK = 2.0

Pair = tuple[LiveServer, LiveServer]


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path / "redis").start()
    yield server
    server.stop()


@contextlib.contextmanager
def two_instances(
    settings: Settings, first_redis_url: str | None = None, second_redis_url: str | None = None
) -> Iterator[Pair]:
    """Two instances on one database; each may reach Redis by its own way."""
    first = LiveServer(via(settings, first_redis_url), free_port()).start()
    second: LiveServer | None = None
    try:
        first.run(seed_demo(first.services, site_origin="http://shop.example", language="en"))
        second = LiveServer(via(settings, second_redis_url), free_port()).start()
        yield first, second
    finally:
        first.stop()
        if second is not None:
            second.stop()


def via(settings: Settings, redis_url: str | None) -> Settings:
    return settings.model_copy(update={"redis_url": redis_url or settings.redis_url})


def subscribers(redis_port: int, settings: Settings) -> int:
    client = redis.Redis(port=redis_port, socket_connect_timeout=1)
    try:
        ((_, count),) = client.pubsub_numsub(f"{settings.redis_prefix}:events")
        return int(count)
    finally:
        client.close()


@pytest.fixture
def settings(settings_factory: object, private_redis: PrivateRedis) -> Settings:
    return settings_factory(  # type: ignore[operator]
        "postgres", redis_url=private_redis.url, timer_interval_seconds=0.2
    )


@pytest.fixture
def late_link(private_redis: PrivateRedis) -> Iterator[TcpProxy]:
    """The second instance's way to Redis, to make it come back later than the first."""
    link = TcpProxy(private_redis.port).start()
    yield link
    link.stop()


@pytest.fixture
def pair(settings: Settings, late_link: TcpProxy) -> Iterator[Pair]:
    with two_instances(settings, second_redis_url=f"redis://127.0.0.1:{late_link.port}/0") as both:
        yield both


class Ledger:
    """Every message the server acknowledged, by id, to check the history and the sockets."""

    def __init__(self) -> None:
        self.acknowledged: dict[str, int] = {}

    def record(self, body: str, response: httpx.Response, started: float) -> None:
        elapsed = time.monotonic() - started
        assert response.status_code == 201, response.text
        assert elapsed < QUICK, f"sending {body!r} took {elapsed:.1f}s"
        self.acknowledged[body] = response.json()["id"]

    def room_send(self, session: Session, room_id: int, body: str) -> None:
        started = time.monotonic()
        response = session.http.post(f"/api/rooms/{room_id}/messages", json={"body": body})
        self.record(body, response, started)

    def reply(self, session: Session, request_id: int, body: str) -> None:
        started = time.monotonic()
        response = session.http.post(f"/api/requests/{request_id}/messages", json={"body": body})
        self.record(body, response, started)

    def visitor_send(self, visitor: Visitor, body: str) -> None:
        started = time.monotonic()
        self.record(body, visitor.send(body), started)

    def ids(self, bodies: set[str]) -> set[int]:
        return {self.acknowledged[b] for b in bodies}


def assert_each_once(tab: Tab, ledger: Ledger, bodies: set[str]) -> None:
    counts = tab.message_counts()
    wanted = ledger.ids(bodies)
    missing = wanted - counts.keys()
    doubled = {i: n for i, n in counts.items() if i in wanted and n != 1}
    assert not missing and not doubled, f"missing {missing}, doubled {doubled}"


def test_instances_serve_through_a_redis_outage_and_lose_nothing(
    pair: Pair, private_redis: PrivateRedis, late_link: TcpProxy, settings: Settings
) -> None:
    first, second = pair
    anna, boris = first.login("anna"), second.login("boris")
    room = new_room(anna, "boris")
    # A widget visitor talking to anna; its page is served by the other instance.
    anna_requests, visitor, request_id = taken(first, "anna")
    visitor_on_second = Visitor(second, visitor.http, visitor.session)
    ledger = Ledger()
    team_bodies: set[str] = set()
    chat_bodies: set[str] = set()

    opened = employee_tab(anna), employee_tab(boris), visitor_tab(visitor_on_second)
    with tabs(*opened) as (anna_tab, boris_tab, widget):
        ledger.room_send(anna, room["id"], "до сбоя")
        ledger.visitor_send(visitor, "клиент до сбоя")
        team_bodies |= {"до сбоя"}
        chat_bodies |= {"клиент до сбоя"}
        boris_tab.wait_for_bodies({"до сбоя"})
        anna_tab.wait_for_bodies({"клиент до сбоя"})

        private_redis.kill()
        late_link.cut()
        outage_started = time.monotonic()

        # Instance one writes first, then instance two: the second instance's own, newer event
        # reaches its sockets at once, which must not make them skip the older one they missed.
        ledger.room_send(anna, room["id"], "анна во время сбоя")
        ledger.reply(anna_requests, request_id, "ответ во время сбоя")
        ledger.visitor_send(visitor, "клиент во время сбоя")
        ledger.room_send(boris, room["id"], "борис во время сбоя")
        team_bodies |= {"анна во время сбоя", "борис во время сбоя"}
        chat_bodies |= {"ответ во время сбоя", "клиент во время сбоя"}

        # Same instance: at once, Redis or not.
        anna_tab.wait_for_bodies({"анна во время сбоя", "клиент во время сбоя"}, timeout=QUICK)
        boris_tab.wait_for_bodies({"борис во время сбоя"}, timeout=QUICK)

        # The rest of the API keeps working, logging in (rate-limited through Redis) too.
        for server in (first, second):
            started = time.monotonic()
            olga = server.login("olga")
            assert olga.http.get("/api/rooms").status_code == 200
            assert time.monotonic() - started < QUICK
        wrong = first.client().post("/api/auth/login", json={"login": "olga", "password": "no"})
        assert wrong.status_code == 401

        time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - outage_started)))
        private_redis.start()
        # The first instance is back and republishes what it could not send while the second
        # still cannot hear it: the second must catch up from the database on its own.
        wait_until(lambda: subscribers(private_redis.port, settings) == 1, 10, "resubscription")
        time.sleep(0.5)
        late_link.restore()

        # The other instance catches up once its subscription is back.
        boris_tab.wait_for_bodies(team_bodies, timeout=15)
        anna_tab.wait_for_bodies(team_bodies | {"клиент во время сбоя"}, timeout=15)
        widget.wait_for_bodies(chat_bodies, timeout=15)

        # And live delivery across instances works again.
        ledger.room_send(boris, room["id"], "после сбоя")
        ledger.reply(anna_requests, request_id, "ответ после сбоя")
        team_bodies |= {"после сбоя"}
        chat_bodies |= {"ответ после сбоя"}
        anna_tab.wait_for_bodies({"после сбоя"})
        widget.wait_for_bodies({"ответ после сбоя"})
        time.sleep(0.5)

        assert_each_once(anna_tab, ledger, team_bodies | {"клиент до сбоя", "клиент во время сбоя"})
        assert_each_once(boris_tab, ledger, team_bodies)
        assert_each_once(widget, ledger, chat_bodies)
        # No socket had to reconnect: the outage is invisible to clients apart from latency.
        assert (anna_tab.connects, boris_tab.connects, widget.connects) == (1, 1, 1)

    team_history = anna.http.get(f"/api/rooms/{room['id']}/messages").json()
    assert sorted(m["id"] for m in team_history) == sorted(ledger.ids(team_bodies))
    chat_history = anna.http.get(f"/api/requests/{request_id}/messages").json()
    chat_ids = [m["id"] for m in chat_history if m["body"] in chat_bodies]
    assert sorted(chat_ids) == sorted(ledger.ids(chat_bodies))
    seen_by_visitor = [m["id"] for m in visitor.conversation()["messages"]]
    assert sorted(i for i in seen_by_visitor if i in ledger.ids(chat_bodies)) == sorted(
        ledger.ids(chat_bodies)
    )


def test_events_of_an_instance_cut_off_from_redis_reach_the_others_once_it_is_back(
    settings: Settings, private_redis: PrivateRedis
) -> None:
    # Only the first instance loses Redis: the second's subscription never breaks, so it has no
    # reason to resync and hears of the first one's events only if they are published late.
    link = TcpProxy(private_redis.port).start()
    try:
        with two_instances(settings, f"redis://127.0.0.1:{link.port}/0") as (first, second):
            anna, boris = first.login("anna"), second.login("boris")
            room = new_room(anna, "boris")
            ledger = Ledger()
            with tabs(employee_tab(anna), employee_tab(boris)) as (anna_tab, boris_tab):
                ledger.room_send(anna, room["id"], "до обрыва")
                boris_tab.wait_for_bodies({"до обрыва"})
                link.cut()
                ledger.room_send(anna, room["id"], "анна без Redis")
                ledger.room_send(boris, room["id"], "борис с Redis")
                anna_tab.wait_for_bodies({"анна без Redis"}, timeout=QUICK)
                boris_tab.wait_for_bodies({"борис с Redis"}, timeout=QUICK)
                assert first.login("olga").http.get("/api/rooms").status_code == 200
                time.sleep(1.0)
                link.restore()
                everything = {"до обрыва", "анна без Redis", "борис с Redis"}
                boris_tab.wait_for_bodies(everything, timeout=10)
                anna_tab.wait_for_bodies(everything, timeout=10)
                ledger.room_send(anna, room["id"], "снова вместе")
                boris_tab.wait_for_bodies({"снова вместе"})
                everything.add("снова вместе")
                time.sleep(0.5)
                assert_each_once(anna_tab, ledger, everything)
                assert_each_once(boris_tab, ledger, everything)
    finally:
        link.stop()
