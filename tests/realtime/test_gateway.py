from __future__ import annotations

import time

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.harness import LiveServer


def test_preference_change_reaches_the_employees_other_tabs(server: LiveServer) -> None:
    anna = server.login("anna")
    other_tab = server.login("anna")
    boris = server.login("boris")
    with other_tab.socket() as tab, boris.socket() as boris_socket:
        anna.http.patch("/api/me", json={"theme": "dark"})
        event = tab.event("me.updated")
        assert event["employee"]["theme"] == "dark"
        assert isinstance(event["id"], int) and event["id"] > 0
        boris_socket.assert_silent("me.updated")


def test_event_ids_increase(server: LiveServer) -> None:
    anna = server.login("anna")
    with anna.socket() as tab:
        anna.http.patch("/api/me", json={"theme": "dark"})
        anna.http.patch("/api/me", json={"theme": "light"})
        first, second = tab.event("me.updated"), tab.event("me.updated")
        assert second["id"] > first["id"]


def test_reconnecting_tab_receives_what_it_missed(server: LiveServer) -> None:
    anna = server.login("anna")
    with anna.socket() as tab:
        anna.http.patch("/api/me", json={"language": "en"})
        last_id = tab.event("me.updated")["id"]
    # Socket dropped; changes happen meanwhile.
    anna.http.patch("/api/me", json={"theme": "dark"})
    anna.http.patch("/api/me", json={"language": "ru"})
    with anna.socket(last_event_id=last_id) as tab:
        # Recent events may be replayed again (clients ignore ids they have seen).
        missed = [f for f in tab.seen if f.get("type") == "me.updated" and f["id"] > last_id]
        assert [(m["employee"]["theme"], m["employee"]["language"]) for m in missed] == [
            ("dark", "en"),
            ("dark", "ru"),
        ]
        assert tab.ready["last_event_id"] == missed[-1]["id"]


def test_resume_survives_a_server_restart(server: LiveServer) -> None:
    anna = server.login("anna")
    with anna.socket() as tab:
        last_id = tab.ready["last_event_id"]
    anna.http.patch("/api/me", json={"theme": "dark"})
    server.stop()
    restarted = LiveServer(server.settings, server.port).start()
    try:
        client = restarted.client()
        client.cookies.update(anna.http.cookies)
        anna.http = client
        with anna.socket(last_event_id=last_id) as tab:
            missed = [f for f in tab.seen if f.get("type") == "me.updated"]
            assert missed and missed[0]["employee"]["theme"] == "dark"
    finally:
        restarted.stop()


def test_deactivation_closes_the_employees_sockets_at_once(server: LiveServer) -> None:
    admin = server.login("admin")
    boris = server.login("boris")
    with boris.socket() as tab:
        admin.http.patch(f"/api/admin/employees/{boris.me['id']}", json={"is_active": False})
        closed = tab.event("closed")
        assert closed["reason"] == "session_revoked"
        with pytest.raises(ConnectionClosed):
            for _ in range(10):
                tab.receive(timeout=3)


def test_logout_closes_only_that_sessions_sockets(server: LiveServer) -> None:
    first = server.login("olga")
    second = server.login("olga")
    with first.socket() as first_tab, second.socket() as second_tab:
        first.http.post("/api/auth/logout")
        assert first_tab.event("closed")["reason"] == "session_revoked"
        second.http.patch("/api/me", json={"theme": "dark"})
        assert second_tab.event("me.updated")["employee"]["theme"] == "dark"


def test_socket_without_session_is_refused(server: LiveServer) -> None:
    with connect(server.ws_url, open_timeout=5) as ws:
        assert '"not_authenticated"' in ws.recv(timeout=5)
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=5)


def test_socket_from_another_sites_page_is_refused(server: LiveServer) -> None:
    anna = server.login("anna")
    with (
        connect(
            server.ws_url,
            additional_headers={"Cookie": anna.cookie_header, "Origin": "https://evil.example"},
            open_timeout=5,
        ) as ws,
        pytest.raises(ConnectionClosed) as closed,
    ):
        ws.recv(timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


def test_server_pings_and_drops_a_silent_client(server: LiveServer) -> None:
    # Test settings: ping every second, dead after five seconds without any frame from the client.
    anna = server.login("anna")
    with anna.socket() as tab:
        assert tab.event("ping", timeout=3)
        started = time.monotonic()
        with pytest.raises(ConnectionClosed):
            while time.monotonic() - started < 15:
                tab.receive(timeout=3)
        assert time.monotonic() - started < 12


def test_client_answering_pings_stays_connected(server: LiveServer) -> None:
    anna = server.login("anna")
    with anna.socket() as tab:
        started = time.monotonic()
        while time.monotonic() - started < 7:
            tab.event("ping", timeout=3)
            tab.send({"type": "pong"})
        anna.http.patch("/api/me", json={"theme": "dark"})
        assert tab.event("me.updated")["employee"]["theme"] == "dark"


def test_unknown_command_gets_an_error_frame(server: LiveServer) -> None:
    anna = server.login("anna")
    with anna.socket() as tab:
        tab.send({"type": "launch-rockets"})
        assert "Unknown command" in tab.event("error")["detail"]
        tab.ws.send("{not json")
        assert tab.event("error")["detail"] == "Not JSON."


def test_http_login_is_needed_before_upgrade_even_with_forged_cookie(server: LiveServer) -> None:
    with connect(
        server.ws_url, additional_headers={"Cookie": "imp_session=forged"}, open_timeout=5
    ) as ws:
        assert "not_authenticated" in ws.recv(timeout=5)
