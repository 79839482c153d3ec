"""The team's figures, checked against values worked out by hand on a small fixed dataset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from impserver.core.migrations import alembic_config
from impserver.domains.accounts.models import Employee
from impserver.domains.clients.models import Client
from impserver.domains.ratings.models import Rating
from impserver.domains.requests.models import ClientRequest, RequestTransition
from impserver.domains.resources.models import Queue, Resource
from impserver.domains.rooms.models import Message, Room
from tests.api.test_requests import taken, waiting_request
from tests.harness import LiveServer, Session
from tests.widget import demo_site, visit


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 1, day, hour, minute, second, tzinfo=UTC)


# Each request: created, entered a queue, assigned (who, how), first reply (who, when), closed
# (who, when), score.
REQUESTS = [
    # R1: waits 120 s, answered in 180 s, resolved in 3,600 s, rated 5, all by Anna.
    dict(
        created=at(5, 10),
        entered=at(5, 10, 0, 30),
        assigned=("accepted", "anna", at(5, 10, 2, 30)),
        reply=("anna", at(5, 10, 3)),
        closed=("anna", at(5, 11)),
        score=5,
    ),
    # R2: waits 600 s, answered in 900 s, resolved in 7,200 s, rated 3, by Boris.
    dict(
        created=at(5, 10, 30),
        entered=at(5, 10, 31),
        assigned=("auto_assigned", "boris", at(5, 10, 41)),
        reply=("boris", at(5, 10, 45)),
        closed=("boris", at(5, 12, 30)),
        score=3,
    ),
    # R3: never answered, closed by the administrator after 1,200 s: missed.
    dict(
        created=at(5, 14),
        entered=at(5, 14, 0, 10),
        assigned=None,
        reply=None,
        closed=("admin", at(5, 14, 20)),
        score=None,
    ),
    # R4 (Tuesday): waits 300 s, answered in 360 s, still open.
    dict(
        created=at(6, 9),
        entered=at(6, 9),
        assigned=("accepted", "anna", at(6, 9, 5)),
        reply=("anna", at(6, 9, 6)),
        closed=None,
        score=None,
    ),
    # R5: outside the period.
    dict(
        created=at(9, 9),
        entered=at(9, 9),
        assigned=None,
        reply=None,
        closed=("anna", at(9, 10)),
        score=1,
    ),
]


def seed(server: LiveServer) -> dict[str, int]:
    async def write() -> dict[str, int]:
        async with server.services.db.transaction() as uow:
            session = uow.session
            people = {e.login: e.id for e in await session.scalars(select(Employee))}
            resource = await session.scalar(select(Resource).where(Resource.kind == "website"))
            assert resource is not None
            queue = await session.scalar(select(Queue).where(Queue.name == "Sales"))
            assert queue is not None
            for number, spec in enumerate(REQUESTS, start=1):
                client = Client(
                    resource_id=resource.id, external_id=f"r{number}", display_name=f"R{number}"
                )
                room = Room(kind="request", created_at=spec["created"])
                session.add_all([client, room])
                await session.flush()
                closed = spec["closed"]
                request = ClientRequest(
                    resource_id=resource.id,
                    client_id=client.id,
                    room_id=room.id,
                    status="closed" if closed else "assigned",
                    queue_id=queue.id,
                    created_at=spec["created"],
                    closed_at=closed[1] if closed else None,
                    assignee_id=None if closed else people[spec["assigned"][1]],
                    # The milestones the request actions keep as it moves.
                    queued_at=spec["entered"],
                    first_assigned_at=spec["assigned"][2] if spec["assigned"] else None,
                    first_response_at=spec["reply"][1] if spec["reply"] else None,
                    first_responder_id=people[spec["reply"][0]] if spec["reply"] else None,
                    closed_by_id=people[closed[0]] if closed else None,
                )
                session.add(request)
                await session.flush()
                steps = [
                    ("created", None, spec["created"]),
                    ("topic_chosen", None, spec["entered"]),
                ]
                if spec["assigned"]:
                    kind, who, when = spec["assigned"]
                    steps.append((kind, people[who] if kind == "accepted" else None, when))
                if closed:
                    steps.append(("closed", people[closed[0]], closed[1]))
                session.add_all(
                    RequestTransition(
                        request_id=request.id, kind=kind, actor_employee_id=actor, created_at=when
                    )
                    for kind, actor, when in steps
                )
                session.add(
                    Message(
                        room_id=room.id,
                        author_client_id=client.id,
                        body="?",
                        created_at=spec["created"],
                    )
                )
                if spec["reply"]:
                    who, when = spec["reply"]
                    session.add_all(
                        Message(
                            room_id=room.id,
                            author_employee_id=people[who],
                            body=text,
                            created_at=moment,
                        )
                        for text, moment in (("ответ", when), ("ещё", when.replace(minute=59)))
                    )
                    # A note before the reply is no answer to the client.
                    session.add(
                        Message(
                            room_id=room.id,
                            author_employee_id=people["olga"],
                            kind="note",
                            body="заметка",
                            created_at=spec["created"],
                        )
                    )
                if spec["score"]:
                    session.add(
                        Rating(
                            request_id=request.id,
                            client_id=client.id,
                            score=spec["score"],
                            asked_at=closed[1],
                            rated_at=closed[1],
                        )
                    )
            return people

    return server.run(write())


def report(server: LiveServer, **params: object) -> dict:
    response = server.login("admin").http.get(
        "/api/reports/team", params={"date_from": "2026-01-05", "date_to": "2026-01-06", **params}
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_the_figures_match_the_ones_worked_out_by_hand(server: LiveServer) -> None:
    people = seed(server)
    figures = report(server)
    assert (figures["created"], figures["closed"], figures["missed"]) == (4, 3, 1)
    # First responses 180, 900, 360 s; resolutions 3,600, 7,200, 1,200 s; waits 120, 600, 300 s.
    assert figures["first_response"] == {"count": 3, "median_seconds": 360.0, "p90_seconds": 900.0}
    assert figures["resolution"] == {"count": 3, "median_seconds": 3600.0, "p90_seconds": 7200.0}
    assert figures["queue_wait"] == {"count": 3, "median_seconds": 300.0, "p90_seconds": 600.0}
    assert figures["ratings"] == {
        "count": 2,
        "average": 4.0,
        "distribution": [0, 0, 1, 0, 1],
        "satisfied_share": 0.5,
    }
    assert (
        figures["by_hour"][10] == 2 and figures["by_hour"][14] == 1 and figures["by_hour"][9] == 1
    )
    assert sum(figures["by_hour"]) == 4
    assert figures["by_weekday"] == [3, 1, 0, 0, 0, 0, 0]
    table = {row["name"]: row for row in figures["employees"]}
    assert [row["name"] for row in figures["employees"]] == [
        "Алексей Админов",
        "Анна Смирнова",
        "Борис Петров",
    ]
    assert table["Анна Смирнова"]["handled"] == 1
    assert table["Анна Смирнова"]["first_response"]["median_seconds"] == 180.0
    assert table["Анна Смирнова"]["resolution"]["median_seconds"] == 3600.0
    assert table["Анна Смирнова"]["rating_average"] == 5.0
    assert table["Борис Петров"]["first_response"]["median_seconds"] == 900.0
    assert table["Алексей Админов"]["first_response"]["count"] == 0
    assert table["Алексей Админов"]["rating_average"] is None

    # One person's share: Anna answered R1 and R4, and closed R1.
    hers = report(server, employee_id=people["anna"])
    assert (hers["created"], hers["closed"], hers["missed"]) == (2, 1, 0)
    assert hers["first_response"]["median_seconds"] == 270.0
    assert hers["ratings"]["distribution"] == [0, 0, 0, 0, 1]


def test_hours_and_days_are_counted_in_the_time_zone_asked_for(server: LiveServer) -> None:
    seed(server)
    moscow = report(server, tz="Europe/Moscow")
    assert moscow["created"] == 4
    assert moscow["by_hour"][13] == 2 and moscow["by_hour"][17] == 1 and moscow["by_hour"][12] == 1


MILESTONES = (
    "queued_at",
    "first_assigned_at",
    "first_response_at",
    "first_responder_id",
    "closed_by_id",
)


def milestones(server: LiveServer, request_id: int) -> dict[str, object]:
    """The request's milestones, read through a connection of their own (the schema may have
    changed under the server's)."""

    async def read() -> dict[str, object]:
        engine = create_async_engine(server.settings.resolved_database_url)
        try:
            async with engine.connect() as connection:
                row = (
                    await connection.execute(
                        select(*(getattr(ClientRequest, name) for name in MILESTONES)).where(
                            ClientRequest.id == request_id
                        )
                    )
                ).one()
        finally:
            await engine.dispose()
        return dict(zip(MILESTONES, row, strict=True))

    return server.run(read())


def test_a_request_keeps_its_milestones_as_it_moves_and_the_migration_finds_the_same(
    server: LiveServer,
) -> None:
    anna, _, request_id = taken(server, "anna")
    anna_id = anna.http.get("/api/me").json()["id"]
    kept = milestones(server, request_id)
    assert kept["queued_at"] is not None and kept["first_assigned_at"] is not None
    assert kept["first_response_at"] is None and kept["closed_by_id"] is None

    # A note is no answer to the client; the first reply is, and later ones change nothing.
    note = anna.http.post(f"/api/requests/{request_id}/notes", json={"body": "проверю"})
    assert note.status_code == 201, note.text
    assert milestones(server, request_id)["first_response_at"] is None
    first = anna.http.post(f"/api/requests/{request_id}/messages", json={"body": "Здравствуйте"})
    anna.http.post(f"/api/requests/{request_id}/messages", json={"body": "Готово"})
    assert anna.http.post(f"/api/requests/{request_id}/close").status_code == 204
    kept = milestones(server, request_id)
    assert kept["first_response_at"] == datetime.fromisoformat(first.json()["created_at"])
    assert (kept["first_responder_id"], kept["closed_by_id"]) == (anna_id, anna_id)

    # Databases from before the milestones get them from the requests' history.
    config = alembic_config(server.settings)
    command.downgrade(config, "0011_ratings")
    command.upgrade(config, "heads")
    found = milestones(server, request_id)
    # The same moments, give or take the instant between a row and its history line.
    for name, value in kept.items():
        if isinstance(value, datetime):
            assert abs(found[name] - value) < timedelta(seconds=1), name  # type: ignore[operator]
        else:
            assert found[name] == value, name


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"date_from": "2026-02-01", "date_to": "2026-01-01"}, "report_dates_inverted"),
        ({"date_from": "2024-01-01", "date_to": "2026-01-01"}, "report_range_too_long"),
        (
            {"date_from": "2026-01-01", "date_to": "2026-01-02", "tz": "Mars/Olympus"},
            "report_timezone_unknown",
        ),
        (
            {"date_from": "2026-01-01", "date_to": "2026-01-02", "queue_id": 999_999},
            "report_filter_unknown",
        ),
    ],
)
def test_bad_report_periods_and_filters_are_refused(
    server: LiveServer, params: dict, code: str
) -> None:
    refused = server.login("admin").http.get("/api/reports/team", params=params)
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == code


def olga_supervises_the_demo_website(admin: Session) -> dict:
    """Olga becomes a supervisor (she serves the demo website's queues); another website, not
    hers, appears. Returns that other website."""
    olga_id = next(
        e["id"] for e in admin.http.get("/api/admin/employees").json() if e["login"] == "olga"
    )
    promoted = admin.http.patch(f"/api/admin/employees/{olga_id}", json={"role": "supervisor"})
    assert promoted.status_code == 200, promoted.text
    return admin.http.post("/api/admin/resources", json={"name": "Второй сайт"}).json()  # type: ignore[no-any-return]


def test_reports_are_for_administrators_and_supervisors_of_their_resources(
    server: LiveServer,
) -> None:
    period = {"date_from": "2026-01-05", "date_to": "2026-01-06"}
    refused = server.login("anna").http.get("/api/reports/team", params=period)
    assert refused.status_code == 403 and refused.json()["code"] == "reports_not_allowed"

    seed(server)
    admin = server.login("admin")
    other = olga_supervises_the_demo_website(admin)
    olga = server.login("olga")
    # Her team's resource (she serves its queues): the same figures as the administrator's.
    assert olga.http.get("/api/reports/team", params=period).json()["created"] == 4
    # Another team's: refused, not emptied.
    forbidden = olga.http.get("/api/reports/team", params={**period, "resource_id": other["id"]})
    assert forbidden.status_code == 403 and forbidden.json()["code"] == "report_resource_forbidden"
    # Administration stays the administrators'.
    assert olga.http.get("/api/admin/employees").status_code == 403


def test_the_live_view_follows_queues_and_employees_and_only_overseers_are_told(
    server: LiveServer,
) -> None:
    admin = server.login("admin")
    anna = server.login("anna")
    refused = anna.http.get("/api/reports/live")
    assert refused.status_code == 403 and refused.json()["code"] == "reports_not_allowed"
    other = olga_supervises_the_demo_website(admin)
    added = admin.http.post(f"/api/admin/resources/{other['id']}/queues", json={"name": "Опт"})
    assert added.status_code == 201, added.text
    olga = server.login("olga")

    def live(session: Session) -> dict:
        response = session.http.get("/api/reports/live")
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def sales(view: dict) -> dict:
        return next(q for q in view["queues"] if q["name"] == "Sales")

    def held_by_anna(view: dict) -> int:
        return next(e["holding"] for e in view["employees"] if e["name"] == "Анна Смирнова")

    assert sales(live(admin))["waiting"] == 0 and sales(live(admin))["oldest_waiting_since"] is None
    with admin.socket() as admin_socket, olga.socket() as olga_socket, anna.socket() as anna_socket:
        visitor = visit(server)
        request_id = waiting_request(visitor, "Sales", server)
        for socket_ in (admin_socket, olga_socket):
            assert socket_.event("queue.load")["resource_id"] == demo_site(server)["id"]
        waiting = sales(live(admin))
        assert waiting["waiting"] == 1 and waiting["oldest_waiting_since"] is not None
        assert held_by_anna(live(admin)) == 0

        assert anna.http.post(f"/api/requests/{request_id}/accept").status_code == 200
        admin_socket.event("queue.load")
        after = live(admin)
        assert sales(after)["waiting"] == 0 and held_by_anna(after) == 1
        # The supervisor sees her team (the demo website) and not the other website's queues;
        # an employee is told nothing of the load.
        assert sales(live(olga))["waiting"] == 0
        assert not [q for q in live(olga)["queues"] if q["resource_id"] == other["id"]]
        assert [q for q in after["queues"] if q["resource_id"] == other["id"]]
        anna_socket.assert_silent("queue.load")
