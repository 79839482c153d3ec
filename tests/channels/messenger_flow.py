"""What the messenger channel tests share: IMP's live server talking to a fake messenger, a
connected resource's queues that Anna serves, her queue's cards, and waiting for what IMP does
in its own time."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from impserver.demo import seed_demo
from tests.harness import LiveServer, Session, free_port

T = TypeVar("T")

# The queues a messenger's tests connect their resource with: (name, offered as a topic).
TOPICS = (("Orders", True), ("Returns", True), ("Other", False))


def start_messenger_server(
    settings_factory: Any, backend: str = "sqlite", **settings: object
) -> LiveServer:
    """A live server with the demo data, its messenger settings given (the API's address, the
    mode); its public address is its own, so that webhooks reach it."""
    port = free_port()
    live = LiveServer(
        settings_factory(
            backend,
            public_base_url=f"http://127.0.0.1:{port}",
            timer_interval_seconds=0.2,
            **settings,
        ),
        port,
    ).start()
    live.run(seed_demo(live.services, site_origin="http://shop.example", language="en"))
    return live


def add_queues_for_anna(
    server: LiveServer, resource_id: int, queues: Iterable[tuple[str, bool]]
) -> None:
    """The resource's queues, (name, offered as a topic), all served by Anna."""
    admin = server.login("admin")
    for name, topic in queues:
        admin.http.post(
            f"/api/admin/resources/{resource_id}/queues",
            json={"name": name, "offered_as_topic": topic},
        )
    anna = next(e for e in admin.http.get("/api/admin/employees").json() if e["login"] == "anna")
    queue_ids = [
        q["id"]
        for r in admin.http.get("/api/admin/resources").json()
        if r["id"] == resource_id
        for q in r["queues"]
    ]
    admin.http.put(
        f"/api/admin/employees/{anna['id']}/queues",
        json={"queue_ids": anna["queue_ids"] + queue_ids},
    )


def queue_cards(server: LiveServer, kind: str) -> list[dict[str, Any]]:
    """The requests in Anna's queue that came through one messenger."""
    anna = server.login("anna")
    return [r for r in anna.http.get("/api/requests/queue").json() if r["resource_kind"] == kind]


def wait_until(condition: Callable[[], T], timeout: float = 10) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise TimeoutError("condition not met")


def failed_delivery(anna: Session, request_id: int, message_id: int) -> dict[str, Any]:
    """An employee's message of a request, once its delivery to the messenger failed for good
    (a delivery retried meanwhile takes a few seconds)."""

    def failed() -> dict[str, Any] | None:
        return next(
            (
                m
                for m in anna.http.get(f"/api/requests/{request_id}/messages").json()
                if m["id"] == message_id and m["meta"].get("delivery") == "failed"
            ),
            None,
        )

    return wait_until(failed, timeout=15)
