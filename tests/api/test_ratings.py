"""Satisfaction ratings: asked once a request is closed, where the site wants it; answered once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from impserver.core.clock import utcnow
from impserver.domains.ratings.models import Rating
from tests.api.test_requests import taken
from tests.harness import LiveServer
from tests.widget import demo_site


def ask_for_ratings(server: LiveServer, question: str = "") -> None:
    admin = server.login("admin")
    site = demo_site(server)
    changed = admin.http.patch(
        f"/api/admin/resources/{site['id']}",
        json={"rating_enabled": True, "rating_question": question},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["rating_enabled"] is True


def closed(server: LiveServer) -> tuple[object, object, int]:
    anna, visitor, request_id = taken(server, "anna")
    anna.http.post(f"/api/requests/{request_id}/messages", json={"body": "Готово"})
    assert anna.http.post(f"/api/requests/{request_id}/close").status_code == 204
    return anna, visitor, request_id


def test_no_question_unless_the_site_asks_for_ratings(server: LiveServer) -> None:
    _, visitor, request_id = closed(server)
    conversation = visitor.conversation()  # type: ignore[attr-defined]
    assert not [
        m for m in conversation["messages"] if m["meta"].get("transition") == "rating.asked"
    ]
    refused = visitor.http.post(  # type: ignore[attr-defined]
        "/api/widget/ratings", json={"request_id": request_id, "score": 5}
    )
    assert refused.status_code == 404 and refused.json()["code"] == "rating_not_asked"


def test_a_closed_request_is_rated_once_and_the_rating_is_in_its_history(
    server: LiveServer,
) -> None:
    ask_for_ratings(server, "Как мы справились?")
    anna, visitor, request_id = taken(server, "anna")
    with visitor.socket() as widget:
        assert anna.http.post(f"/api/requests/{request_id}/close").status_code == 204
        asked = widget.receive_until(
            lambda f: (
                f.get("type") == "message.created"
                and f["message"]["meta"].get("transition") == "rating.asked"
            )
        )["message"]
    assert asked["body"] == "Как мы справились?"
    assert asked["meta"]["request_id"] == request_id
    assert visitor.conversation()["ratings"] == {}

    rated = visitor.http.post(
        "/api/widget/ratings",
        json={"request_id": request_id, "score": 4, "comment": "Быстро, спасибо"},
    )
    assert rated.status_code == 200, rated.text
    assert rated.json() == {"accepted": True, "score": 4}
    # Once: a second answer is told it changed nothing.
    again = visitor.http.post("/api/widget/ratings", json={"request_id": request_id, "score": 1})
    assert again.status_code == 200 and again.json() == {"accepted": False, "score": 4}
    assert visitor.conversation()["ratings"] == {str(request_id): 4}

    history = anna.http.get(f"/api/requests/{request_id}/messages").json()
    (line,) = [m for m in history if m["meta"].get("transition") == "rating.received_with_comment"]
    assert (line["meta"]["score"], line["meta"]["comment"]) == (4, "Быстро, спасибо")
    # The client's side never sees the line about their own rating.
    assert "rating.received" not in str(visitor.conversation())
    assert "Быстро, спасибо" not in str(visitor.conversation()["messages"])


def test_the_standard_question_speaks_the_clients_language(server: LiveServer) -> None:
    ask_for_ratings(server)
    _, visitor, _ = closed(server)
    (asked,) = [
        m
        for m in visitor.conversation()["messages"]  # type: ignore[attr-defined]
        if m["meta"].get("transition") == "rating.asked"
    ]
    assert asked["body"] == "Пожалуйста, оцените, как мы вам помогли: от 1 до 5."


def test_a_late_answer_changes_nothing(server: LiveServer) -> None:
    ask_for_ratings(server)
    _, visitor, request_id = closed(server)

    async def a_week_ago() -> None:
        async with server.services.db.transaction() as uow:
            await uow.session.execute(
                update(Rating)
                .where(Rating.request_id == request_id)
                .values(asked_at=utcnow() - timedelta(days=8))
            )

    server.run(a_week_ago())
    late = visitor.http.post(  # type: ignore[attr-defined]
        "/api/widget/ratings", json={"request_id": request_id, "score": 5}
    )
    assert late.status_code == 200 and late.json() == {"accepted": False, "score": None}


def test_bad_ratings_are_refused_with_a_reason(server: LiveServer) -> None:
    ask_for_ratings(server)
    _, visitor, request_id = closed(server)
    for score in (0, 6, "пять"):
        refused = visitor.http.post(  # type: ignore[attr-defined]
            "/api/widget/ratings", json={"request_id": request_id, "score": score}
        )
        assert refused.status_code == 422, refused.text
    long = visitor.http.post(  # type: ignore[attr-defined]
        "/api/widget/ratings", json={"request_id": request_id, "score": 5, "comment": "а" * 1001}
    )
    assert long.status_code == 422
    # Someone else's request is nobody's to rate.
    _, stranger, _ = closed(server)
    other = stranger.http.post(  # type: ignore[attr-defined]
        "/api/widget/ratings", json={"request_id": request_id, "score": 5}
    )
    assert other.status_code == 404 and other.json()["code"] == "rating_not_asked"
    too_long_question = server.login("admin").http.patch(
        f"/api/admin/resources/{demo_site(server)['id']}", json={"rating_question": "?" * 301}
    )
    assert too_long_question.status_code == 422
