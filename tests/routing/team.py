"""A team of its own for routing tests: a website with one queue, served by new employees, so
that nothing the demo data or other tests leave waiting takes part."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from tests.harness import Endpoint, Session
from tests.widget import Visitor, visit

ORIGIN = "http://routing.example"


@dataclass
class Team:
    server: Endpoint
    admin: Session
    site: dict[str, Any]
    queue_id: int
    members: dict[str, Session]
    ids: dict[str, int]

    def route(self, **routing: Any) -> None:
        response = self.admin.http.put(f"/api/admin/queues/{self.queue_id}/routing", json=routing)
        assert response.status_code == 200, response.text

    def capacity(self, default: int | None = None, **own: int | None) -> None:
        response = self.admin.http.put(
            "/api/admin/capacity",
            json={
                "default_capacity": default,
                "employees": [
                    {"employee_id": self.ids[name], "capacity": value}
                    for name, value in own.items()
                ],
            },
        )
        assert response.status_code == 200, response.text

    def status(self, name: str, status: str, by_hand: bool = True) -> dict[str, Any]:
        response = self.members[name].http.put(
            "/api/me/availability", json={"status": status, "by_hand": by_hand}
        )
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def client_writes(self, body: str = "Здравствуйте") -> tuple[Visitor, int]:
        visitor = visit(self.server, key=self.site["public_key"], origin=ORIGIN)
        response = visitor.send(body)
        assert response.status_code == 201, response.text
        return visitor, int(visitor.conversation()["request"]["id"])

    def request(self, request_id: int) -> dict[str, Any]:
        response = self.admin.http.get(f"/api/requests/{request_id}")
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def mine(self, name: str) -> list[int]:
        return [c["id"] for c in self.members[name].http.get("/api/requests/mine").json()]

    def waiting(self) -> list[int]:
        return [c["id"] for c in self.admin.http.get("/api/requests/queue").json()]


def new_team(server: Endpoint, *names: str) -> Team:
    admin = server.login("admin")
    tag = secrets.token_hex(3)
    site = admin.http.post(
        "/api/admin/resources",
        json={"name": f"Routing {tag}", "site_origins": [ORIGIN], "topic_choice_seconds": 0},
    ).json()
    queue = admin.http.post(
        f"/api/admin/resources/{site['id']}/queues", json={"name": "Orders"}
    ).json()
    me = next(e for e in admin.http.get("/api/admin/employees").json() if e["login"] == "admin")
    # The admin sees the queue (to look at it) but is never Online, so is never given requests.
    admin.http.put(
        f"/api/admin/employees/{me['id']}/queues",
        json={"queue_ids": [*me["queue_ids"], queue["id"]]},
    )
    members: dict[str, Session] = {}
    ids: dict[str, int] = {}
    for name in names:
        login = f"{name}{tag}"
        created = admin.http.post(
            "/api/admin/employees",
            json={"login": login, "name": name.title(), "password": f"{login}-secret-pw"},
        )
        assert created.status_code == 201, created.text
        ids[name] = created.json()["id"]
        admin.http.put(
            f"/api/admin/employees/{ids[name]}/queues", json={"queue_ids": [queue["id"]]}
        )
        members[name] = server.login(login, f"{login}-secret-pw")
    return Team(server, admin, site, queue["id"], members, ids)


def eventually(check: Any, timeout: float = 10, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.05)
