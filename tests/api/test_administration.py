from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from impserver.cli import app as command_line
from tests.harness import LiveServer


def resource_of(admin_http, name: str = "Demo website") -> dict:  # type: ignore[no-untyped-def]
    return next(r for r in admin_http.get("/api/admin/resources").json() if r["name"] == name)


def test_admin_creates_employee_who_can_log_in(server: LiveServer) -> None:
    admin = server.login("admin")
    response = admin.http.post(
        "/api/admin/employees",
        json={
            "login": "Ivan",
            "name": "Иван Кузнецов",
            "password": "ivan-pass-1",
            "role": "employee",
        },
    )
    assert response.status_code == 201, response.text
    assert response.json()["login"] == "ivan"
    ivan = server.login("ivan", "ivan-pass-1")
    assert ivan.me["name"] == "Иван Кузнецов"


def test_duplicate_login_is_a_conflict(server: LiveServer) -> None:
    admin = server.login("admin")
    response = admin.http.post(
        "/api/admin/employees", json={"login": "ANNA", "name": "Other", "password": "12345678"}
    )
    assert response.status_code == 409
    assert "already taken" in response.json()["detail"]


def test_short_password_and_bad_login_are_refused(server: LiveServer) -> None:
    admin = server.login("admin")
    short = admin.http.post(
        "/api/admin/employees", json={"login": "petr", "name": "P", "password": "123"}
    )
    assert short.status_code == 422 and "password" in short.json()["detail"]
    bad = admin.http.post(
        "/api/admin/employees", json={"login": "<script>", "name": "P", "password": "12345678"}
    )
    assert bad.status_code == 422 and "login" in bad.json()["detail"]


def test_employees_cannot_use_administration(server: LiveServer) -> None:
    anna = server.login("anna")
    assert anna.http.get("/api/admin/employees").status_code == 403
    assert (
        anna.http.post(
            "/api/admin/employees", json={"login": "x1", "name": "X", "password": "12345678"}
        ).status_code
        == 403
    )
    assert anna.http.get("/api/admin/resources").status_code == 403
    assert (
        anna.http.patch(f"/api/admin/employees/{anna.me['id']}", json={"role": "admin"}).status_code
        == 403
    )


def test_deactivated_employee_is_logged_out_and_cannot_log_in(server: LiveServer) -> None:
    admin = server.login("admin")
    boris = server.login("boris")
    response = admin.http.patch(f"/api/admin/employees/{boris.me['id']}", json={"is_active": False})
    assert response.json()["is_active"] is False
    assert boris.http.get("/api/me").status_code == 401
    again = server.client().post(
        "/api/auth/login", json={"login": "boris", "password": "boris-demo"}
    )
    assert again.status_code == 401
    admin.http.patch(f"/api/admin/employees/{boris.me['id']}", json={"is_active": True})
    assert server.login("boris").me["login"] == "boris"


def test_last_admin_cannot_be_demoted_or_deactivated(server: LiveServer) -> None:
    admin = server.login("admin")
    me = admin.me["id"]
    assert (
        admin.http.patch(f"/api/admin/employees/{me}", json={"role": "employee"}).status_code == 409
    )
    assert (
        admin.http.patch(f"/api/admin/employees/{me}", json={"is_active": False}).status_code == 409
    )


def test_password_reset_revokes_sessions_and_sets_new_password(server: LiveServer) -> None:
    admin = server.login("admin")
    olga = server.login("olga")
    reset = admin.http.post(
        f"/api/admin/employees/{olga.me['id']}/password", json={"password": "new-secret-9"}
    )
    assert reset.status_code == 204
    assert olga.http.get("/api/me").status_code == 401
    assert server.login("olga", "new-secret-9").me["login"] == "olga"
    assert admin.http.get("/api/me").status_code == 200


def test_queue_access_controls_served_queues(server: LiveServer) -> None:
    admin = server.login("admin")
    site = resource_of(admin.http)
    sales = next(q for q in site["queues"] if q["name"] == "Sales")
    emma = server.login("emma")
    assert [q["name"] for q in emma.http.get("/api/queues").json()] == ["Technical support"]
    updated = admin.http.put(
        f"/api/admin/employees/{emma.me['id']}/queues", json={"queue_ids": [sales["id"]]}
    )
    assert updated.json()["queue_ids"] == [sales["id"]]
    served = emma.http.get("/api/queues").json()
    assert [(q["name"], q["resource_name"]) for q in served] == [("Sales", "Demo website")]
    unknown = admin.http.put(
        f"/api/admin/employees/{emma.me['id']}/queues", json={"queue_ids": [999]}
    )
    assert unknown.status_code == 404


def test_resource_and_queue_lifecycle(server: LiveServer) -> None:
    admin = server.login("admin")
    created = admin.http.post(
        "/api/admin/resources",
        json={
            "name": "Shop",
            "topic_choice_seconds": 45,
            "site_origins": ["https://Shop.example/ "],
        },
    )
    assert created.status_code == 201, created.text
    shop = created.json()
    assert shop["site_origins"] == ["https://shop.example"]
    assert shop["kind"] == "website" and len(shop["public_key"]) >= 16
    first = admin.http.post(
        f"/api/admin/resources/{shop['id']}/queues", json={"name": "Orders"}
    ).json()
    assert first["is_default"] is True  # a resource always has somewhere to send requests
    second = admin.http.post(
        f"/api/admin/resources/{shop['id']}/queues",
        json={"name": "Returns", "offered_as_topic": True, "is_default": True},
    ).json()
    queues = {q["name"]: q for q in resource_of(admin.http, "Shop")["queues"]}
    assert queues["Returns"]["is_default"] and not queues["Orders"]["is_default"]
    assert admin.http.delete(f"/api/admin/queues/{second['id']}").status_code == 409
    assert (
        admin.http.patch(
            f"/api/admin/queues/{second['id']}", json={"is_default": False}
        ).status_code
        == 422
    )
    dup = admin.http.post(f"/api/admin/resources/{shop['id']}/queues", json={"name": "orders"})
    assert dup.status_code == 409
    assert admin.http.delete(f"/api/admin/queues/{first['id']}").status_code == 204
    assert [q["name"] for q in resource_of(admin.http, "Shop")["queues"]] == ["Returns"]
    renamed = admin.http.patch(
        f"/api/admin/resources/{shop['id']}", json={"name": "Shop 2", "topic_choice_seconds": 10}
    )
    assert renamed.json()["topic_choice_seconds"] == 10
    assert admin.http.delete(f"/api/admin/resources/{shop['id']}").status_code == 204
    assert all(r["name"] != "Shop 2" for r in admin.http.get("/api/admin/resources").json())


@pytest.mark.parametrize("origin", ["not a url", "ftp://x.example", "https://x.example/path"])
def test_bad_site_origins_are_refused(server: LiveServer, origin: str) -> None:
    admin = server.login("admin")
    response = admin.http.post(
        "/api/admin/resources", json={"name": "Bad", "site_origins": [origin]}
    )
    assert response.status_code == 422
    assert "site origin" in response.json()["detail"]


def test_groups_and_members(server: LiveServer) -> None:
    admin = server.login("admin")
    site = resource_of(admin.http)
    employees = {e["login"]: e for e in admin.http.get("/api/admin/employees").json()}
    group = admin.http.post("/api/admin/groups", json={"name": "VIP", "resource_id": site["id"]})
    assert group.status_code == 201
    group_id = group.json()["id"]
    members = admin.http.put(
        f"/api/admin/groups/{group_id}/members",
        json={"employee_ids": [employees["olga"]["id"], employees["anna"]["id"]]},
    ).json()
    assert sorted(members["member_ids"]) == sorted(
        [employees["olga"]["id"], employees["anna"]["id"]]
    )
    assert (
        group_id
        in {e["login"]: e for e in admin.http.get("/api/admin/employees").json()}["olga"][
            "group_ids"
        ]
    )
    assert (
        admin.http.post(
            "/api/admin/groups", json={"name": "vip", "resource_id": site["id"]}
        ).status_code
        == 409
    )
    assert (
        admin.http.patch(f"/api/admin/groups/{group_id}", json={"name": "VIP clients"}).json()[
            "name"
        ]
        == "VIP clients"
    )
    assert admin.http.delete(f"/api/admin/groups/{group_id}").status_code == 204
    assert all(g["id"] != group_id for g in admin.http.get("/api/admin/groups").json())
    assert (
        admin.http.post("/api/admin/groups", json={"name": "X", "resource_id": 999}).status_code
        == 404
    )


def test_not_found_ids_are_404_with_message(server: LiveServer) -> None:
    admin = server.login("admin")
    response = admin.http.patch("/api/admin/employees/424242", json={"name": "X"})
    assert response.status_code == 404
    assert response.json()["detail"] == "Employee not found."
    assert admin.http.patch("/api/admin/queues/424242", json={"name": "X"}).status_code == 404


def test_ids_beyond_the_database_range_are_422_not_500(server: LiveServer) -> None:
    admin = server.login("admin")
    huge = 10**30
    for response in (
        admin.http.patch(f"/api/admin/employees/{huge}", json={"name": "X"}),
        admin.http.post(f"/api/clients/{huge}/unblock"),
        admin.http.post("/api/rooms", json={"member_ids": [huge]}),
        admin.http.put(f"/api/admin/groups/{huge}/members", json={"employee_ids": []}),
    ):
        assert response.status_code == 422, response.text
        assert response.json()["detail"].startswith("A ")


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (
            [],
            (
                "Демо-сайт",
                ["Продажи", "Техническая поддержка", "Общие вопросы"],
                "Команда поддержки",
            ),
        ),
        (
            ["--demo-language", "en"],
            ("Demo website", ["Sales", "Technical support", "General questions"], "Support team"),
        ),
    ],
)
def test_demo_command_names_things_in_the_chosen_language(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, options: list[str], expected: tuple
) -> None:
    monkeypatch.setenv("IMP_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("IMP_DATABASE_URL", raising=False)
    result = CliRunner().invoke(command_line, ["demo", *options])
    assert result.exit_code == 0, result.output
    website, queues, room = expected
    with sqlite3.connect(tmp_path / "imp.db") as db:
        assert [name for (name,) in db.execute("SELECT name FROM resources")] == [website]
        assert [name for (name,) in db.execute("SELECT name FROM queues ORDER BY id")] == queues
        assert [name for (name,) in db.execute("SELECT name FROM rooms")] == [room]


def test_block_reason_is_kept_in_the_block_list(server: LiveServer) -> None:
    from tests.api.test_requests import taken

    anna, _, request_id = taken(server, "anna")
    too_long = anna.http.post(f"/api/requests/{request_id}/block", json={"reason": "x" * 501})
    assert too_long.status_code == 422
    blocked = anna.http.post(
        f"/api/requests/{request_id}/block", json={"reason": "  Оскорбления в чате  "}
    )
    assert blocked.status_code == 204, blocked.text
    _, _, silent_id = taken(server, "anna")
    assert anna.http.post(f"/api/requests/{silent_id}/block").status_code == 204

    admin = server.login("admin")
    listed = admin.http.get("/api/admin/blocked-clients").json()
    assert sorted(c["reason"] for c in listed) == ["", "Оскорбления в чате"]
    reasoned = next(c for c in listed if c["reason"])
    assert admin.http.post(f"/api/clients/{reasoned['id']}/unblock").status_code == 204
    assert [c["reason"] for c in admin.http.get("/api/admin/blocked-clients").json()] == [""]
