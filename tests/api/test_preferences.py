from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.harness import LiveServer


def test_theme_and_language_persist_per_employee(server: LiveServer) -> None:
    anna = server.login("anna")
    updated = anna.http.patch("/api/me", json={"theme": "dark", "language": "en"}).json()
    assert (updated["theme"], updated["language"]) == ("dark", "en")
    again = server.login("anna").http.get("/api/me").json()
    assert (again["theme"], again["language"]) == ("dark", "en")
    boris = server.login("boris").http.get("/api/me").json()
    assert (boris["theme"], boris["language"]) == ("light", "ru")


def test_do_not_disturb_set_and_cleared(server: LiveServer) -> None:
    anna = server.login("anna")
    until = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0)
    me = anna.http.patch("/api/me", json={"dnd_until": until.isoformat()}).json()
    assert datetime.fromisoformat(me["dnd_until"]) == until
    assert anna.http.get("/api/me").json()["dnd_until"] is not None
    cleared = anna.http.patch("/api/me", json={"dnd_until": None}).json()
    assert cleared["dnd_until"] is None


def test_do_not_disturb_in_the_past_means_off(server: LiveServer) -> None:
    anna = server.login("anna")
    past = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    assert anna.http.patch("/api/me", json={"dnd_until": past}).json()["dnd_until"] is None


def test_invalid_preferences_are_refused(server: LiveServer) -> None:
    anna = server.login("anna")
    response = anna.http.patch("/api/me", json={"theme": "purple"})
    assert response.status_code == 422
    assert "theme" in response.json()["detail"]
    assert anna.http.patch("/api/me", json={"role": "admin"}).status_code == 422
    assert anna.http.get("/api/me").json()["role"] == "employee"


def test_summary_counts_unread_room_messages_by_others(server: LiveServer) -> None:
    # Demo data: in "Support team" Anna wrote first, then Boris and Olga answered.
    anna = server.login("anna")
    assert anna.http.get("/api/me/summary").json() == {
        "queue_waiting": 0,
        "requests_unread": 0,
        "rooms_unread": 2,
    }
    room = anna.http.get("/api/rooms").json()[0]
    anna.http.post(f"/api/rooms/{room['id']}/read", json={"message_id": room["last_message"]["id"]})
    assert anna.http.get("/api/me/summary").json()["rooms_unread"] == 0
