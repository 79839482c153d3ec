"""The request archive: who sees which requests, the filters, paging and one request read whole."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from impserver.domains.reports import archive as archive_module
from tests.api.test_ratings import ask_for_ratings
from tests.api.test_requests import taken
from tests.harness import LiveServer, Session


def archive(session: Session, **filters: object) -> dict:
    response = session.http.get("/api/archive", params=filters)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def ids(page: dict) -> list[int]:
    return [row["id"] for row in page["items"]]


def test_the_archive_shows_each_reader_what_they_may_see_and_filters_it(
    server: LiveServer,
) -> None:
    ask_for_ratings(server)
    admin = server.login("admin")
    # Anna's request: answered, closed, rated 5; its client named Иван Петров.
    anna, visitor, closed_id = taken(server, "anna")
    client_id = anna.http.get(f"/api/requests/{closed_id}").json()["client"]["id"]
    anna.http.patch(f"/api/clients/{client_id}", json={"display_name": "Иван Петров"})
    # A contact of theirs finds the request, even once hidden (no longer valid, kept for the
    # record).
    saved = anna.http.put(
        f"/api/clients/{client_id}/contacts",
        json={"contacts": [{"kind": "email", "value": "Ivan.Petrov@Example.com"}]},
    )
    assert saved.status_code == 200, saved.text
    assert ids(archive(admin, client="ivan.petrov@")) == [closed_id]
    [contact] = saved.json()["contacts"]
    hidden = anna.http.post(f"/api/clients/{client_id}/contacts/{contact['id']}/hide")
    assert hidden.json()["contacts"][0]["is_hidden"] is True
    assert ids(archive(admin, client="IVAN.PETROV@example")) == [closed_id]
    assert archive(admin, client="ivan.petrov@other")["items"] == []
    anna.http.post(f"/api/requests/{closed_id}/notes", json={"body": "Проверить оплату"})
    anna.http.post(f"/api/requests/{closed_id}/messages", json={"body": "Готово"})
    anna.http.post(f"/api/requests/{closed_id}/close")
    visitor.http.post("/api/widget/ratings", json={"request_id": closed_id, "score": 5})
    # Boris's request, tagged; and one nobody has taken.
    boris, _, held_id = taken(server, "boris")
    tag = admin.http.post("/api/admin/tags", json={"name": "Возврат", "color": "#cc3300"}).json()
    boris.http.put(f"/api/requests/{held_id}/tags", json={"tag_ids": [tag["id"]]})
    _, _, untouched_id = taken(server, "admin")
    admin.http.post(f"/api/requests/{untouched_id}/return")

    everything = archive(admin)
    assert {closed_id, held_id, untouched_id} <= set(ids(everything))
    # Newest first.
    assert ids(everything)[:3] == [untouched_id, held_id, closed_id]
    assert ids(archive(anna)) == [closed_id]
    assert ids(archive(boris)) == [held_id]

    row = archive(admin, status="closed")["items"][0]
    assert (row["id"], row["rating"], row["client"]["name"]) == (closed_id, 5, "Иван Петров")
    assert row["assignee"] is None and row["closed_at"] is not None
    assert ids(archive(admin, rating=5)) == [closed_id]
    # The client's name in another letter case, on either database.
    assert ids(archive(admin, client="иВАН")) == [closed_id]
    assert ids(archive(admin, tag_id=tag["id"])) == [held_id]
    assert closed_id in ids(archive(admin, employee_id=anna.me["id"]))
    assert held_id not in ids(archive(admin, employee_id=anna.me["id"]))
    today = date.today()
    assert closed_id in ids(
        archive(
            admin, date_from=str(today - timedelta(days=1)), date_to=str(today + timedelta(days=1))
        )
    )
    assert archive(admin, date_from=str(today + timedelta(days=2)))["items"] == []

    # Paged on the server.
    first = archive(admin, page_size=1)
    second = archive(admin, page_size=1, page=2)
    assert first["total"] == second["total"] == everything["total"]
    assert ids(first) == [untouched_id] and ids(second) == [held_id]


def test_one_request_read_whole_with_its_notes_and_rating(server: LiveServer) -> None:
    ask_for_ratings(server)
    anna, visitor, request_id = taken(server, "anna")
    anna.http.post(f"/api/requests/{request_id}/notes", json={"body": "Заметка для своих"})
    anna.http.post(f"/api/requests/{request_id}/close")
    visitor.http.post(
        "/api/widget/ratings", json={"request_id": request_id, "score": 3, "comment": "Долго"}
    )
    detail = anna.http.get(f"/api/archive/{request_id}")
    assert detail.status_code == 200, detail.text
    body = detail.json()
    assert body["rating"]["score"] == 3 and body["rating"]["comment"] == "Долго"
    kinds = {m["kind"] for m in body["messages"]}
    assert {"text", "note", "system"} <= kinds
    assert body["has_older"] is False
    older = anna.http.get(
        f"/api/archive/{request_id}/messages", params={"before_id": body["messages"][-1]["id"]}
    )
    assert older.status_code == 200 and len(older.json()) == len(body["messages"]) - 1
    # Someone who took no part finds nothing; an administrator reads it.
    assert server.login("olga").http.get(f"/api/archive/{request_id}").status_code == 404
    assert server.login("admin").http.get(f"/api/archive/{request_id}").status_code == 200


def test_bad_archive_filters_are_refused_with_a_reason(server: LiveServer) -> None:
    admin = server.login("admin")
    cases = {
        "archive_dates_inverted": {"date_from": "2026-03-10", "date_to": "2026-03-01"},
        "archive_range_too_long": {"date_from": "2024-01-01", "date_to": "2026-01-01"},
        "archive_filter_unknown": {"queue_id": 999_999},
    }
    for code, filters in cases.items():
        refused = admin.http.get("/api/archive", params=filters)
        assert refused.status_code == 422, refused.text
        assert refused.json()["code"] == code
    for filters in ({"rating": 6}, {"page_size": 101}, {"status": "lost"}, {"date_from": "вчера"}):
        assert admin.http.get("/api/archive", params=filters).status_code == 422
    unknown = admin.http.get("/api/archive", params={"tag_id": 999_999}).json()
    assert unknown["params"] == {"field": "tag_id"}


def test_a_supervisor_sees_the_archive_of_their_teams_resources(server: LiveServer) -> None:
    _, _, request_id = taken(server, "anna")
    admin = server.login("admin")
    olga_id = next(
        e["id"] for e in admin.http.get("/api/admin/employees").json() if e["login"] == "olga"
    )
    emma = server.login("emma")
    assert request_id not in ids(archive(emma))
    admin.http.patch(f"/api/admin/employees/{olga_id}", json={"role": "supervisor"})
    olga = server.login("olga")
    # Anna's request in Sales is of the website whose queues Olga serves: her team's.
    assert request_id in ids(archive(olga))
    assert olga.http.get(f"/api/archive/{request_id}").status_code == 200
    choices = olga.http.get("/api/archive/choices").json()
    assert "Анна Смирнова" in {e["name"] for e in choices["employees"]}
    assert "Sales" in {q["name"] for q in choices["queues"]}


def test_the_filters_offer_what_the_viewer_may_choose(server: LiveServer) -> None:
    admin = server.login("admin").http.get("/api/archive/choices").json()
    emma = server.login("emma")
    mine = emma.http.get("/api/archive/choices").json()
    assert {e["name"] for e in mine["employees"]} == {"Emma Wilson"}
    assert {q["name"] for q in mine["queues"]} == {"Technical support"}
    assert len(admin["employees"]) > 1
    assert {q["name"] for q in admin["queues"]} >= {"Sales", "Technical support"}
    assert [r["name"] for r in mine["resources"]] == [r["name"] for r in admin["resources"]][:1]


def test_the_total_is_counted_up_to_a_limit_then_more_than_it(
    server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A small limit stands for the real one: beyond it a page says "more than".
    monkeypatch.setattr(archive_module, "TOTAL_COUNTED_UP_TO", 3)
    admin = server.login("admin")
    made = [taken(server, "anna")[2] for _ in range(5)]
    everything = len(ids(archive(admin, page_size=100)))
    assert everything >= 5

    first = archive(admin, page_size=2)
    assert (first["total"], first["total_exact"]) == (3, False)
    assert ids(first) == made[::-1][:2]
    # Reading further counts as far as the page read, and exactly once the end is in sight.
    last = archive(admin, page_size=2, page=(everything + 1) // 2)
    assert (last["total"], last["total_exact"]) == (everything, True)
    # A search with fewer matches than the limit is counted exactly.
    one = archive(admin, page_size=2, employee_id=admin.me["id"], status="closed")
    assert one["total_exact"] is True and one["total"] == len(ids(one))
