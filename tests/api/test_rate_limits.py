"""Throttling of the public endpoints: per address and per visitor, without touching others.

"Another address" is a real second loopback address (127.0.0.2): the server sees the connection
come from it, exactly as it would see a second computer.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from impserver.channels.widget.api import (
    MESSAGES_PER_IP_PER_MINUTE,
    MESSAGES_PER_VISITOR_PER_MINUTE,
    SESSIONS_PER_IP_PER_MINUTE,
    TOPIC_CHOICES_PER_VISITOR_PER_MINUTE,
    UPLOADS_PER_IP_PER_MINUTE,
    UPLOADS_PER_VISITOR_PER_MINUTE,
)
from impserver.demo import seed_demo
from tests.api.test_requests import queue_ids
from tests.harness import LiveServer, free_port
from tests.widget import Visitor, demo_site

SITE = "http://shop.example"


def from_address(server: LiveServer, address: str) -> httpx.Client:
    client = httpx.Client(
        base_url=server.base_url,
        timeout=15,
        transport=httpx.HTTPTransport(local_address=address),
    )
    server.clients.append(client)
    return client


def start_session(http: httpx.Client, key: str) -> httpx.Response:
    return http.post(
        "/api/widget/session",
        json={"public_key": key, "embedding_origin": SITE, "page_url": f"{SITE}/"},
    )


def visitor_at(server: LiveServer, key: str, address: str = "127.0.0.1") -> Visitor:
    http = from_address(server, address)
    response = start_session(http, key)
    assert response.status_code == 200, response.text
    http.headers["Authorization"] = f"Bearer {response.json()['visitor_token']}"
    return Visitor(server, http, response.json())


def assert_throttled(response: httpx.Response, what: str, code: str = "too_many_requests") -> None:
    assert response.status_code == 429, f"{what}: {response.status_code} {response.text}"
    assert 0 < int(response.headers["Retry-After"]) <= 900, what
    body = response.json()
    assert body["code"] == code, what
    assert "try again" in body["detail"].lower(), what


def upload(visitor: Visitor) -> httpx.Response:
    return visitor.http.post(
        "/api/widget/files", files={"file": ("note.txt", b"a note", "text/plain")}
    )


def test_new_visitors_are_limited_per_address(server: LiveServer) -> None:
    key = demo_site(server)["public_key"]
    here = from_address(server, "127.0.0.1")
    for number in range(SESSIONS_PER_IP_PER_MINUTE):
        assert start_session(here, key).status_code == 200, number
    assert_throttled(start_session(here, key), "one session too many")
    # Another computer is not held back by this one.
    assert start_session(from_address(server, "127.0.0.2"), key).status_code == 200


def test_messages_are_limited_per_visitor(server: LiveServer) -> None:
    key = demo_site(server)["public_key"]
    chatty, quiet = visitor_at(server, key), visitor_at(server, key)
    for number in range(MESSAGES_PER_VISITOR_PER_MINUTE):
        assert chatty.send(f"message {number}").status_code == 201, number
    assert_throttled(chatty.send("one too many"), "visitor's messages")
    assert quiet.send("Здравствуйте").status_code == 201
    # The refused message was not stored.
    bodies = [m["body"] for m in chatty.conversation()["messages"]]
    assert "one too many" not in bodies


def test_messages_are_limited_per_address(server: LiveServer) -> None:
    key = demo_site(server)["public_key"]
    senders = MESSAGES_PER_IP_PER_MINUTE // MESSAGES_PER_VISITOR_PER_MINUTE
    visitors = [visitor_at(server, key) for _ in range(senders + 1)]
    elsewhere = visitor_at(server, key, "127.0.0.2")
    for visitor in visitors[:senders]:
        for number in range(MESSAGES_PER_VISITOR_PER_MINUTE):
            assert visitor.send(f"message {number}").status_code == 201
    # A visitor who has not written yet, but from the same address.
    assert_throttled(visitors[-1].send("first message"), "address's messages")
    assert elsewhere.send("first message").status_code == 201


def test_uploads_are_limited_per_visitor_and_per_address(server: LiveServer) -> None:
    key = demo_site(server)["public_key"]
    per_address = UPLOADS_PER_IP_PER_MINUTE // UPLOADS_PER_VISITOR_PER_MINUTE
    visitors = [visitor_at(server, key) for _ in range(per_address + 1)]
    elsewhere = visitor_at(server, key, "127.0.0.2")
    first = visitors[0]
    for number in range(UPLOADS_PER_VISITOR_PER_MINUTE):
        assert upload(first).status_code == 201, number
    assert_throttled(upload(first), "visitor's uploads")
    for visitor in visitors[1:per_address]:
        for number in range(UPLOADS_PER_VISITOR_PER_MINUTE):
            assert upload(visitor).status_code == 201, number
    assert_throttled(upload(visitors[-1]), "address's uploads")
    assert upload(elsewhere).status_code == 201


def test_topic_choices_are_limited_per_visitor(server: LiveServer) -> None:
    key = demo_site(server)["public_key"]
    sales = queue_ids(server)["Sales"]
    fickle, decided = visitor_at(server, key), visitor_at(server, key)
    for number in range(TOPIC_CHOICES_PER_VISITOR_PER_MINUTE):
        assert fickle.pick(sales).status_code == 200, number
    assert_throttled(fickle.pick(sales), "topic choices")
    assert decided.pick(sales).status_code == 200


def test_failed_logins_are_limited_per_address(server: LiveServer) -> None:
    here = from_address(server, "127.0.0.1")
    attempts = server.settings.login_attempts_per_ip
    per_login = server.settings.login_attempts_per_login

    def log_in(http: httpx.Client, login: str, password: str) -> httpx.Response:
        return http.post("/api/auth/login", json={"login": login, "password": password})

    for number in range(attempts):
        # Different logins each time, so that only the address's count reaches its limit.
        login = f"guess{number // (per_login - 1)}"
        assert log_in(here, login, "wrong").status_code == 401, number
    blocked = log_in(here, "anna", "anna-demo")
    assert_throttled(blocked, "failed logins from one address", "login_throttled")
    assert "Too many login attempts" in blocked.json()["detail"]
    assert log_in(from_address(server, "127.0.0.2"), "anna", "anna-demo").status_code == 200


def test_limits_hold_across_a_visitors_new_session(server: LiveServer) -> None:
    """A visitor cannot shake off the per-visitor limit by asking for a fresh token."""
    key = demo_site(server)["public_key"]
    visitor = visitor_at(server, key)
    for number in range(MESSAGES_PER_VISITOR_PER_MINUTE):
        assert visitor.send(f"message {number}").status_code == 201, number
    renewed = visitor.http.post(
        "/api/widget/session",
        json={"public_key": key, "embedding_origin": SITE, "visitor_token": visitor.token},
    )
    assert renewed.status_code == 200
    payload: dict[str, Any] = renewed.json()
    assert payload["client"]["id"] == visitor.session["client"]["id"]
    visitor.http.headers["Authorization"] = f"Bearer {payload['visitor_token']}"
    assert_throttled(visitor.send("still too many"), "renewed token")


# -- logging in ---------------------------------------------------------------------------------


def log_in(http: httpx.Client, login: str, password: str) -> httpx.Response:
    return http.post("/api/auth/login", json={"login": login, "password": password})


def simultaneous_logins(
    servers: list[LiveServer], login: str, password: str, count: int
) -> list[httpx.Response]:
    """``count`` login attempts released at the same moment, spread over ``servers``, each on
    its own connection from 127.0.0.1."""
    clients = [from_address(servers[n % len(servers)], "127.0.0.1") for n in range(count)]
    start = threading.Barrier(count)

    def attempt(http: httpx.Client) -> httpx.Response:
        start.wait()
        return log_in(http, login, password)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(attempt, clients))


def assert_only_the_limit_was_checked(responses: list[httpx.Response], limit: int) -> None:
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {401: limit, 429: len(responses) - limit}, statuses
    for refused in (r for r in responses if r.status_code == 429):
        assert_throttled(refused, "simultaneous wrong passwords", "login_throttled")
        assert "Too many login attempts" in refused.json()["detail"]


def test_simultaneous_wrong_passwords_are_counted_before_they_are_checked(
    server: LiveServer,
) -> None:
    """40 guesses at once for one login from one address: only the allowed number reach the
    password check; the rest are refused without it."""
    limit = server.settings.login_attempts_per_login
    responses = simultaneous_logins([server], "boris", "wrong", 40)
    assert_only_the_limit_was_checked(responses, limit)
    # Refused and checked alike count: the right password from here now waits too.
    assert_throttled(
        log_in(from_address(server, "127.0.0.1"), "boris", "boris-demo"),
        "right password after the limit",
        "login_throttled",
    )


@pytest.mark.parametrize("backend", ["postgres"])
def test_simultaneous_wrong_passwords_are_limited_across_instances(
    backend: str, settings_factory: Any
) -> None:
    """Two instances sharing PostgreSQL and Redis admit the allowed number between them."""
    settings = settings_factory(backend)
    first = LiveServer(settings, free_port()).start()
    second = LiveServer(settings, free_port()).start()
    try:
        first.run(seed_demo(first.services, site_origin=SITE, language="en"))
        responses = simultaneous_logins([first, second], "boris", "wrong", 40)
        assert_only_the_limit_was_checked(responses, settings.login_attempts_per_login)
    finally:
        first.stop()
        second.stop()


def test_a_colleagues_wrong_passwords_do_not_lock_the_employee_out(server: LiveServer) -> None:
    limit = server.settings.login_attempts_per_login
    colleague = from_address(server, "127.0.0.2")
    for number in range(limit):
        assert log_in(colleague, "anna", "guess").status_code == 401, number
    assert log_in(colleague, "anna", "guess").status_code == 429
    # Anna at her own computer logs in, and then again after a typo of her own.
    anna = from_address(server, "127.0.0.1")
    assert log_in(anna, "anna", "anna-demo").status_code == 200
    assert log_in(anna, "anna", "typo").status_code == 401
    assert log_in(anna, "anna", "anna-demo").status_code == 200
    # The colleague's address stays held back for this login.
    assert_throttled(log_in(colleague, "anna", "anna-demo"), "colleague", "login_throttled")


def test_guesses_from_many_addresses_slow_a_login_down_without_locking_it(
    backend: str, settings_factory: Any
) -> None:
    """Past the per-login threshold for all addresses together, attempts at that login are
    paced (a wait of seconds, growing) rather than refused for the whole window."""
    settings = settings_factory(
        backend, login_backoff_after=6, login_backoff_max_seconds=8, login_window_seconds=900
    )
    live = LiveServer(settings, free_port()).start()
    try:
        live.run(seed_demo(live.services, site_origin=SITE, language="en"))
        addresses = ["127.0.0.2", "127.0.0.3", "127.0.0.4"]
        for address in addresses[:2]:
            http = from_address(live, address)
            for number in range(3):
                assert log_in(http, "olga", "guess").status_code == 401, (address, number)
        # The threshold is reached: from a third address, which has no failures of its own, the
        # first attempt is let in and the next one at once must wait its pace.
        third = from_address(live, addresses[2])
        responses = [log_in(third, "olga", "guess") for _ in range(5)]
        refused = [r for r in responses if r.status_code == 429]
        assert refused, [r.status_code for r in responses]
        for response in refused:
            assert response.json()["code"] == "login_throttled"
            assert 1 <= int(response.headers["Retry-After"]) <= 8
        # Other logins are not slowed down.
        assert log_in(third, "boris", "boris-demo").status_code == 200
    finally:
        live.stop()
