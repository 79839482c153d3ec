"""A send whose answer never reached the client is retried with the same idempotency key: the
server keeps one message, hands the same one back, and announces it once."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.api.test_requests import taken
from tests.api.test_rooms import new_room
from tests.faults.tools import TcpProxy, employee_tab, tabs, visitor_tab
from tests.harness import LiveServer, Session
from tests.widget import Visitor

# The client gives up on an answer after this long (the real ones wait longer; the server
# answers a send in milliseconds, so this still leaves it ample time to commit first).
CLIENT_TIMEOUT = 1.0


@pytest.fixture
def network(server: LiveServer) -> Iterator[TcpProxy]:
    """The way from the client to IMP, which can lose an answer."""
    proxy = TcpProxy(server.port).start()
    yield proxy
    proxy.stop()


def through(network: TcpProxy, http: httpx.Client) -> httpx.Client:
    """The same client (cookies, headers), reaching IMP through the network, quick to give up."""
    return httpx.Client(
        base_url=f"http://127.0.0.1:{network.port}",
        headers=http.headers,
        cookies=http.cookies,
        timeout=CLIENT_TIMEOUT,
    )


def send_losing_the_answer(
    network: TcpProxy, client: httpx.Client, path: str, body: dict[str, str]
) -> None:
    network.swallow_next_reply()
    with pytest.raises(httpx.ReadTimeout):
        client.post(path, json=body)
    # The server did answer: the send was received, done and replied to, then lost on the way.
    assert network.swallowed == 1


def test_employee_retry_after_a_lost_answer_is_one_message(
    server: LiveServer, network: TcpProxy
) -> None:
    anna, boris = server.login("anna"), server.login("boris")
    room = new_room(anna, "boris")
    path = f"/api/rooms/{room['id']}/messages"
    body = {"body": "Отправлено один раз", "client_message_id": str(uuid.uuid4())}
    with (
        tabs(employee_tab(anna), employee_tab(boris)) as (anna_tab, boris_tab),
        through(network, anna.http) as client,
    ):
        send_losing_the_answer(network, client, path, body)
        retry = client.post(path, json=body)
        assert retry.status_code == 200, retry.text
        message = retry.json()
        assert message["body"] == "Отправлено один раз"
        assert message["client_message_id"] == body["client_message_id"]
        history = anna.http.get(path).json()
        assert [m["id"] for m in history] == [message["id"]]
        boris_tab.wait_for_bodies({"Отправлено один раз"})
        anna_tab.wait_for_bodies({"Отправлено один раз"})
        time.sleep(0.3)
        for tab in (anna_tab, boris_tab):
            assert tab.message_counts(room["id"]) == {message["id"]: 1}
            assert len(tab.messages(room["id"])) == 1


# The same path as the employee's on SQLite; PostgreSQL is where widget traffic scales out.
@pytest.mark.parametrize("backend", ["postgres"])
def test_visitor_retry_after_a_lost_answer_is_one_message(
    server: LiveServer, network: TcpProxy
) -> None:
    anna, visitor, request_id = taken(server, "anna")
    path = "/api/widget/messages"
    body = {"body": "Где мой заказ?", "client_message_id": str(uuid.uuid4())}
    with (
        tabs(employee_tab(anna), visitor_tab(visitor)) as (anna_tab, widget),
        through(network, visitor.http) as client,
    ):
        send_losing_the_answer(network, client, path, body)
        retry = client.post(path, json=body)
        assert retry.status_code in (200, 201), retry.text
        message = retry.json()
        assert message["body"] == "Где мой заказ?"
        in_history = [
            m["id"]
            for m in anna.http.get(f"/api/requests/{request_id}/messages").json()
            if m["body"] == "Где мой заказ?"
        ]
        assert in_history == [message["id"]]
        assert [m["id"] for m in visitor.conversation()["messages"]].count(message["id"]) == 1
        anna_tab.wait_for_bodies({"Где мой заказ?"})
        widget.wait_for_bodies({"Где мой заказ?"})
        time.sleep(0.3)
        for tab in (anna_tab, widget):
            counts = tab.message_counts()
            assert counts.get(message["id"]) == 1
            assert [m["id"] for m in tab.messages()].count(message["id"]) == 1


# Only PostgreSQL runs two writes at once; SQLite takes them one after the other.
@pytest.mark.parametrize("backend", ["postgres"])
def test_simultaneous_retries_are_one_message(server: LiveServer) -> None:
    # A client that gave up early may retry while the first attempt is still being written.
    anna = server.login("anna")
    boris = server.login("boris")
    room = new_room(anna, "boris")
    body = {"body": "Гонка", "client_message_id": str(uuid.uuid4())}
    results = race(anna, f"/api/rooms/{room['id']}/messages", body, attempts=6)
    assert all(code in (200, 201) for code, _ in results), results
    assert len({message_id for _, message_id in results}) == 1
    history = boris.http.get(f"/api/rooms/{room['id']}/messages").json()
    assert [m["body"] for m in history] == ["Гонка"]


@pytest.mark.parametrize("backend", ["postgres"])
@pytest.mark.parametrize("sender", ["visitor", "employee"])
def test_simultaneous_retries_in_a_request_are_one_message(server: LiveServer, sender: str) -> None:
    anna, visitor, request_id = taken(server, "anna")
    body = {"body": "Гонка в обращении", "client_message_id": str(uuid.uuid4())}
    if sender == "visitor":
        results = race(visitor, "/api/widget/messages", body, attempts=6)
    else:
        results = race(anna, f"/api/requests/{request_id}/messages", body, attempts=6)
    # Whoever loses the race gets the message the winner wrote, not an error.
    assert all(code in (200, 201) for code, _ in results), results
    assert len({message_id for _, message_id in results}) == 1
    bodies = [m["body"] for m in anna.http.get(f"/api/requests/{request_id}/messages").json()]
    assert bodies.count("Гонка в обращении") == 1


def race(
    sender: Session | Visitor, path: str, body: dict[str, str], attempts: int
) -> list[tuple[int, int | None]]:
    barrier = threading.Barrier(attempts)
    results: list[tuple[int, int | None]] = []

    def attempt() -> None:
        with httpx.Client(
            base_url=sender.server.base_url,
            headers=sender.http.headers,
            cookies=sender.http.cookies,
            timeout=15,
        ) as client:
            barrier.wait()
            response = client.post(path, json=body)
            ok = response.status_code in (200, 201)
            results.append((response.status_code, response.json()["id"] if ok else None))

    threads = [threading.Thread(target=attempt) for _ in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
