"""PostgreSQL out of reach for a few seconds: IMP answers a clear 503 meanwhile, recovers on its
own afterwards, leaves no change half done, and its sockets and background workers carry on."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest

import impserver.app
from impserver.demo import seed_demo
from tests.api.test_requests import queue_ids, set_topic_time, taken
from tests.api.test_rooms import new_room
from tests.faults.tools import TcpProxy, employee_tab, tabs, wait_until
from tests.harness import LiveServer, Session, free_port
from tests.widget import demo_site, visit

# An answer during the outage must come quickly, not after a client has given up.
PROMPT = 5.0
OUTAGE_SECONDS = 2.0


@pytest.fixture
def link() -> Iterator[TcpProxy]:
    """IMP's only way to PostgreSQL."""
    proxy = TcpProxy(5432).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def imp(settings_factory: object, link: TcpProxy) -> Iterator[LiveServer]:
    settings = settings_factory("postgres", timer_interval_seconds=0.2)  # type: ignore[operator]
    url = settings.database_url.replace("@127.0.0.1:5432/", f"@127.0.0.1:{link.port}/")
    assert url != settings.database_url
    # Without a statement cache every statement's text crosses the link, so that the proxy can
    # recognise the transaction it is asked to break.
    url += "?prepared_statement_cache_size=0"
    live = LiveServer(settings.model_copy(update={"database_url": url}), free_port()).start()
    try:
        live.run(seed_demo(live.services, site_origin="http://shop.example", language="en"))
        yield live
    finally:
        link.restore()
        live.stop()


def unavailable(response: httpx.Response, started: float, what: str) -> None:
    elapsed = time.monotonic() - started
    assert response.status_code == 503, f"{what}: {response.status_code} {response.text}"
    assert response.json()["code"] == "database_unavailable", what
    assert response.headers.get("Retry-After"), what
    assert elapsed < PROMPT, f"{what} took {elapsed:.1f}s"


def history_kinds(session_http: httpx.Client, request_id: int) -> list[str]:
    detail = session_http.get(f"/api/requests/{request_id}")
    assert detail.status_code == 200, detail.text
    return [h["kind"] for h in detail.json()["history"]]


def test_api_answers_503_while_the_database_is_out_of_reach_and_recovers(
    imp: LiveServer, link: TcpProxy
) -> None:
    anna = imp.login("anna")
    room = new_room(anna, "boris")
    visitor = visit(imp)
    assert visitor.send("до обрыва").status_code == 201
    key = demo_site(imp)["public_key"]

    calls: dict[str, Callable[[], httpx.Response]] = {
        "list rooms": lambda: anna.http.get("/api/rooms"),
        "send": lambda: anna.http.post(
            f"/api/rooms/{room['id']}/messages", json={"body": "в обрыв"}
        ),
        "log in": lambda: imp.client().post(
            "/api/auth/login", json={"login": "boris", "password": "boris-demo"}
        ),
        "widget send": lambda: visitor.send("клиент в обрыв"),
        "widget history": lambda: visitor.http.get("/api/widget/conversation"),
        "widget session": lambda: imp.client().post(
            "/api/widget/session",
            json={"public_key": key, "embedding_origin": "http://shop.example"},
        ),
    }
    # Nothing listening at all, then a link that takes connections and drops them at once.
    for refuse, rounds in ((True, 2), (False, 1)):
        link.cut(refuse=refuse)
        for round_ in range(rounds):
            if round_:
                time.sleep(OUTAGE_SECONDS)
            for what, call in calls.items():
                started = time.monotonic()
                unavailable(call(), started, what)
            # What needs no database still works.
            assert imp.client().get("/api/health").status_code == 200
        link.restore()
        # No restart: the pool replaces its dead connections by itself.
        for what, call in calls.items():
            response = call()
            assert response.status_code in (200, 201), f"{what}: {response.text}"

    bodies = [m["body"] for m in anna.http.get(f"/api/rooms/{room['id']}/messages").json()]
    assert bodies == ["в обрыв", "в обрыв"]
    widget_bodies = [m["body"] for m in visitor.conversation()["messages"]]
    assert widget_bodies.count("клиент в обрыв") == 2 and "до обрыва" in widget_bodies


@pytest.mark.parametrize("committed", [False, True], ids=["lost-commit", "lost-answer"])
def test_accept_cut_at_commit_is_all_or_nothing(
    imp: LiveServer, link: TcpProxy, committed: bool
) -> None:
    anna = imp.login("anna")
    visitor = visit(imp)
    visitor.pick(queue_ids(imp)["Sales"])
    assert visitor.send("Примите меня").status_code == 201
    request_id = visitor.conversation()["request"]["id"]

    link.break_at_commit(b"UPDATE requests SET status", committed=committed)
    started = time.monotonic()
    unavailable(anna.http.post(f"/api/requests/{request_id}/accept"), started, "accept")
    assert link.trips == 1
    time.sleep(0.5)
    link.restore()

    detail = anna.http.get(f"/api/requests/{request_id}").json()
    system = [
        m["meta"].get("transition")
        for m in anna.http.get(f"/api/requests/{request_id}/messages").json()
        if m["kind"] == "system"
    ]
    kinds = [h["kind"] for h in detail["history"]]
    if committed:
        # It all happened even though the answer was lost: state, history and room agree.
        assert detail["status"] == "assigned" and detail["assignee"]["id"] == anna.me["id"]
        assert kinds.count("accepted") == 1 and system.count("accepted") == 1
        again = anna.http.post(f"/api/requests/{request_id}/accept")
        assert again.status_code == 409, again.text
    else:
        assert detail["status"] == "waiting" and detail["assignee"] is None
        assert "accepted" not in kinds and "accepted" not in system
        again = anna.http.post(f"/api/requests/{request_id}/accept")
        assert again.status_code == 200, again.text
    assert history_kinds(anna.http, request_id).count("accepted") == 1
    assert visitor.conversation()["request"]["status"] == "assigned"


@pytest.mark.parametrize("committed", [False, True], ids=["lost-commit", "lost-answer"])
def test_send_cut_at_commit_then_retried_is_one_message(
    imp: LiveServer, link: TcpProxy, committed: bool
) -> None:
    anna, boris = imp.login("anna"), imp.login("boris")
    room = new_room(anna, "boris")
    key = str(uuid.uuid4())
    with tabs(employee_tab(boris)) as (tab,):
        link.break_at_commit(b"INSERT INTO messages", committed=committed)
        started = time.monotonic()
        first = anna.http.post(
            f"/api/rooms/{room['id']}/messages", json={"body": "одно", "client_message_id": key}
        )
        unavailable(first, started, "send")
        assert link.trips == 1
        time.sleep(0.5)
        link.restore()
        stored = anna.http.get(f"/api/rooms/{room['id']}/messages").json()
        assert [m["body"] for m in stored] == (["одно"] if committed else [])

        retry = anna.http.post(
            f"/api/rooms/{room['id']}/messages", json={"body": "одно", "client_message_id": key}
        )
        assert retry.status_code == (200 if committed else 201), retry.text
        message_id = retry.json()["id"]
        history = anna.http.get(f"/api/rooms/{room['id']}/messages").json()
        assert [m["id"] for m in history] == [message_id]
        if not committed:
            wait_until(lambda: tab.bodies(room["id"]) == {"одно"}, 5, "the message, live")
        # A tab that reconnects and resumes has the message exactly once either way.
        tab.reconnect()
        wait_until(lambda: tab.connects == 2, 10, "the tab to reconnect")
        wait_until(lambda: tab.bodies(room["id"]) == {"одно"}, 5, "the message after resuming")
        time.sleep(0.3)
        assert tab.message_counts(room["id"]) == {message_id: 1}


@pytest.fixture
def other_instance(imp: LiveServer, link: TcpProxy) -> Iterator[LiveServer]:
    """A second instance on the same database and Redis, whose own way to PostgreSQL holds."""
    direct = imp.settings.database_url.replace(f"@127.0.0.1:{link.port}/", "@127.0.0.1:5432/")
    assert direct != imp.settings.database_url
    other = LiveServer(imp.settings.model_copy(update={"database_url": direct}), free_port())
    other.start()
    yield other
    other.stop()


@pytest.mark.parametrize("socket_on", ["same instance", "other instance"])
def test_a_change_whose_commit_answer_was_lost_still_reaches_live_sockets(
    request: pytest.FixtureRequest, imp: LiveServer, link: TcpProxy, socket_on: str
) -> None:
    boris_server = (
        imp if socket_on == "same instance" else request.getfixturevalue("other_instance")
    )
    anna, boris = imp.login("anna"), boris_server.login("boris")
    room = new_room(anna, "boris")
    with tabs(employee_tab(boris)) as (tab,):
        link.break_at_commit(b"INSERT INTO messages", committed=True)
        response = anna.http.post(f"/api/rooms/{room['id']}/messages", json={"body": "тихо"})
        assert response.status_code == 503
        link.restore()
        assert [m["body"] for m in anna.http.get(f"/api/rooms/{room['id']}/messages").json()] == [
            "тихо"
        ]
        wait_until(lambda: tab.bodies(room["id"]) == {"тихо"}, 2, "the committed message, live")
        # Live on the open socket, not replayed to a new one.
        assert tab.connects == 1
        time.sleep(0.3)
        assert len(tab.message_counts(room["id"])) == 1
        assert set(tab.message_counts(room["id"]).values()) == {1}


def test_a_change_whose_commit_was_lost_reaches_no_socket(imp: LiveServer, link: TcpProxy) -> None:
    anna, boris = imp.login("anna"), imp.login("boris")
    room = new_room(anna, "boris")
    with tabs(employee_tab(boris)) as (tab,):
        link.break_at_commit(b"INSERT INTO messages", committed=False)
        response = anna.http.post(f"/api/rooms/{room['id']}/messages", json={"body": "не было"})
        assert response.status_code == 503
        link.restore()
        assert anna.http.get(f"/api/rooms/{room['id']}/messages").json() == []
        # The next message arrives, and nothing of the one that never happened came before it.
        send(anna, room["id"], "после")
        wait_until(lambda: tab.bodies(room["id"]) == {"после"}, 5, "the next message")
        time.sleep(1.0)
        assert tab.bodies(room["id"]) == {"после"}


@pytest.mark.parametrize("committed", [True, False], ids=["lost-answer", "lost-commit"])
def test_a_logout_whose_commit_is_in_doubt_still_closes_its_sockets(
    imp: LiveServer, link: TcpProxy, committed: bool
) -> None:
    anna = imp.login("anna")
    with tabs(employee_tab(anna)) as (tab,):
        link.break_at_commit(b"DELETE FROM employee_sessions", committed=committed)
        assert anna.http.post("/api/auth/logout").status_code == 503
        link.restore()

        def revoked() -> bool:
            return any(
                f.get("type") == "closed" and f.get("reason") == "session_revoked"
                for f in tab.snapshot()
            )

        # Whether the logout happened cannot be known: its socket is closed either way.
        wait_until(revoked, 3, "the socket of the logged-out session closed")
        still_signed_in = anna.http.get("/api/me").status_code == 200
        assert still_signed_in is not committed
        if not committed:
            # The session lives on, and its tab comes back on its own.
            wait_until(lambda: tab.connects == 2, 5, "the tab back on its session")


def test_sockets_ride_out_the_outage_or_resume_after_it(imp: LiveServer, link: TcpProxy) -> None:
    anna, boris = imp.login("anna"), imp.login("boris")
    room = new_room(anna, "boris")
    steady = employee_tab(boris)
    blinking = employee_tab(boris)
    with tabs(steady, blinking):
        anna.http.post(f"/api/rooms/{room['id']}/messages", json={"body": "до обрыва"})
        blinking.wait_for_bodies({"до обрыва"})
        link.cut()
        # This tab loses its socket during the outage, and one more tab is opened: neither can
        # be served before the database is back (who is asking is in the database).
        blinking.reconnect()
        late = employee_tab(boris, wait=False)
        with tabs(late):
            time.sleep(OUTAGE_SECONDS)
            assert (blinking.connects, late.connects) == (1, 0)
            link.restore()
            # Sent at once, before the tabs are back: the blinking one must resume with them.
            sent = [
                send(anna, room["id"], "после обрыва 1"),
                send(anna, room["id"], "после обрыва 2"),
            ]
            wait_until(lambda: late.connects == 1, 10, "the late tab")
            sent.append(send(anna, room["id"], "все на месте"))
            for tab in (steady, blinking):
                tab.wait_for_bodies({"после обрыва 1", "после обрыва 2", "все на месте"})
            late.wait_for_bodies({"все на месте"})
            time.sleep(0.5)
            for tab in (steady, blinking):
                counts = tab.message_counts(room["id"])
                assert [counts.get(i) for i in sent] == [1, 1, 1], tab.snapshot()
            assert late.message_counts(room["id"]).get(sent[-1]) == 1
        assert steady.connects == 1, "a socket that needed nothing from the database was cut"
        assert blinking.connects == 2


def send(session: Session, room_id: int, body: str) -> int:
    response = session.http.post(f"/api/rooms/{room_id}/messages", json={"body": body})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def background_tasks(imp: LiveServer) -> dict[str, bool]:
    async def running() -> dict[str, bool]:
        return {t.get_name(): not t.done() for t in asyncio.all_tasks()}

    tasks = imp.run(running())
    return {name: tasks.get(name, False) for name in ("timers", "deliveries", "maintenance")}


@pytest.fixture
def busy_maintenance(monkeypatch: pytest.MonkeyPatch) -> None:
    # The upkeep loop must meet the outage too, not sleep through it.
    monkeypatch.setattr(impserver.app, "MAINTENANCE_INTERVAL_SECONDS", 0.5)


def test_workers_survive_and_a_timer_due_during_the_outage_fires_after_it(
    busy_maintenance: None, imp: LiveServer, link: TcpProxy
) -> None:
    set_topic_time(imp, 1)
    anna = imp.login("anna")
    visitor = visit(imp)
    assert visitor.send("Без темы").status_code == 201
    request_id = visitor.conversation()["request"]["id"]
    assert visitor.conversation()["request"]["status"] == "choosing"
    link.cut()
    time.sleep(OUTAGE_SECONDS)
    assert background_tasks(imp) == {"timers": True, "deliveries": True, "maintenance": True}
    link.restore()
    wait_until(
        lambda: visitor.conversation()["request"]["status"] == "waiting", 10, "the topic timer"
    )
    assert history_kinds(anna.http, request_id).count("default_queue") == 1
    assert background_tasks(imp) == {"timers": True, "deliveries": True, "maintenance": True}
    # And the server writes again as before.
    employee, _, _ = taken(imp, "anna")
    assert employee.http.get("/api/requests/queue").status_code == 200
