"""Outgoing webhooks: each event a hook chose reaches it once, signed; failures are retried
with back-off until the hook is switched off and the administrators told; private addresses are
refused when saved and when delivering; a slow receiver holds nothing up."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any, get_args

import pytest
from sqlalchemy import update

from impserver.core.integration_events import CATALOGUE
from impserver.demo import seed_demo
from impserver.domains.integrations.models import Webhook
from impserver.domains.integrations.schemas import WebhookEvent
from tests.api.test_ratings import ask_for_ratings
from tests.api.test_requests import queue_ids, taken
from tests.faults.tools import wait_until
from tests.harness import LiveServer, free_port
from tests.webhook_receiver import WebhookReceiver
from tests.widget import demo_site, visit

ALL_EVENTS = list(CATALOGUE)


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as running:
        yield running


@pytest.fixture
def hooked(backend: str, settings_factory: Any) -> Iterator[LiveServer]:
    """IMP on an installation that allows private addresses (the receiver is on this machine),
    with retries a fraction of a second apart and hooks switched off after 4 failures."""
    settings = settings_factory(
        backend,
        webhook_allow_private_addresses=True,
        webhook_retry_first_seconds=0.2,
        webhook_disable_after_failures=4,
        webhook_timeout_seconds=5,
    )
    live = LiveServer(settings, free_port()).start()
    live.run(seed_demo(live.services, site_origin="http://shop.example", language="en"))
    yield live
    live.stop()


def register(server: LiveServer, url: str, events: list[str], **fields: Any) -> dict[str, Any]:
    made = server.login("admin").http.post(
        "/api/admin/webhooks", json={"url": url, "events": events, **fields}
    )
    assert made.status_code == 201, made.text
    return made.json()  # type: ignore[no-any-return]


def settled(server: LiveServer, hook_id: int) -> list[dict[str, Any]] | None:
    """The hook's delivery log once no delivery in it waits, else None."""
    log = deliveries(server, hook_id)
    return log if all(d["status"] != "pending" for d in log) else None


def deliveries(server: LiveServer, hook_id: int) -> list[dict[str, Any]]:
    log = server.login("admin").http.get(f"/api/admin/webhooks/{hook_id}/deliveries")
    assert log.status_code == 200, log.text
    return log.json()  # type: ignore[no-any-return]


def test_the_catalogue_and_the_api_name_the_same_events() -> None:
    assert list(get_args(WebhookEvent)) == ALL_EVENTS


def test_each_event_reaches_the_hook_once_signed_with_its_secret(
    hooked: LiveServer, receiver: WebhookReceiver
) -> None:
    hook = register(hooked, receiver.url, ALL_EVENTS, description="CRM")
    assert hook["secret"].startswith("whsec_") and hook["is_enabled"] is True
    ask_for_ratings(hooked)

    anna, visitor, request_id = taken(hooked, "anna")
    anna.http.post(f"/api/requests/{request_id}/notes", json={"body": "только для своих"})
    assert (
        anna.http.post(f"/api/requests/{request_id}/messages", json={"body": "Чем помочь?"})
    ).status_code == 201
    support = queue_ids(hooked)["Technical support"]
    moved = anna.http.post(f"/api/requests/{request_id}/transfer-queue", json={"queue_id": support})
    assert moved.status_code == 204, moved.text
    olga = hooked.login("olga")
    assert olga.http.post(f"/api/requests/{request_id}/accept").status_code == 200
    assert olga.http.post(f"/api/requests/{request_id}/close").status_code == 204
    rated = visitor.http.post(
        "/api/widget/ratings", json={"request_id": request_id, "score": 5, "comment": "Спасибо"}
    )
    assert rated.status_code == 200, rated.text
    _, spammer, spam_id = taken(hooked, "anna")
    blocked = anna.http.post(f"/api/requests/{spam_id}/block", json={"reason": "Спам"})
    assert blocked.status_code == 204

    expected = [
        "request.created",
        "message.created",
        "request.assigned",
        "message.created",
        "request.transferred",
        "request.assigned",
        "request.closed",
        "rating.received",
        "request.created",
        "message.created",
        "request.assigned",
        "client.blocked",
        "request.closed",
    ]
    wait_until(lambda: len(receiver.received) >= len(expected), 15, "every event delivered")
    got = sorted(receiver.received, key=lambda r: int(r.headers["x-imp-delivery"]))
    assert [r.event for r in got] == expected
    for delivery in got:
        assert delivery.path == "/hooks/imp"
        assert delivery.signed_with(hook["secret"]), delivery.headers
        assert not delivery.signed_with("whsec_" + "0" * 43)
        assert delivery.headers["x-imp-event"] == delivery.event
        assert delivery.headers["x-imp-event-id"] == delivery.json["id"]
        assert delivery.headers["content-type"] == "application/json"
    assert len({r.json["id"] for r in got}) == len(got)

    created, said, assigned, answered, transferred, reassigned, closed, rating = (
        r.json for r in got[:8]
    )
    site = demo_site(hooked)
    assert created["resource_id"] == site["id"]
    assert created["data"]["request"]["id"] == request_id
    assert created["data"]["request"]["status"] == "waiting"
    assert created["data"]["request"]["queue_id"] == queue_ids(hooked)["Sales"]
    assert said["data"]["message"]["author"]["kind"] == "client"
    assert said["data"]["message"]["body"] == "Здравствуйте, нужна помощь"
    assert assigned["data"]["employee_id"] == anna.me["id"]
    assert assigned["data"]["request"]["assignee_id"] == anna.me["id"]
    # The note was never told: only what the client sees too.
    assert answered["data"]["message"]["body"] == "Чем помочь?"
    assert answered["data"]["message"]["author"] == {
        "kind": "employee",
        "id": anna.me["id"],
        "name": anna.me["name"],
    }
    assert transferred["data"]["request"]["queue_id"] == support
    assert transferred["data"]["by_employee_id"] == anna.me["id"]
    assert reassigned["data"]["employee_id"] == olga.me["id"]
    assert closed["data"]["request"]["status"] == "closed"
    assert closed["data"]["by_employee_id"] == olga.me["id"]
    assert rating["data"] == {
        "request_id": request_id,
        "client_id": visitor.session["client"]["id"],
        "employee_id": olga.me["id"],
        "score": 5,
        "comment": "Спасибо",
        "rated_at": rating["data"]["rated_at"],
    }
    block = got[11].json["data"]
    assert block["client"]["id"] == spammer.session["client"]["id"]
    assert (block["reason"], block["by_employee_id"]) == ("Спам", anna.me["id"])

    # The receiver answers before the sender records the answer.
    log = wait_until(lambda: settled(hooked, hook["id"]), 10, "every answer recorded")
    assert len(log) == len(expected)
    assert {(d["status"], d["attempts"], d["response_status"]) for d in log} == {
        ("delivered", 1, 200)
    }
    assert json.loads(log[0]["body"]) == got[-1].json


def test_a_hook_hears_only_its_events_of_its_resource(
    hooked: LiveServer, receiver: WebhookReceiver
) -> None:
    site = demo_site(hooked)
    closing = register(
        hooked, receiver.url + "?closing", ["request.closed"], resource_id=site["id"]
    )
    elsewhere = hooked.login("admin").http.post(
        "/api/admin/resources", json={"kind": "website", "name": "Другой сайт"}
    )
    assert elsewhere.status_code == 201, elsewhere.text
    register(hooked, receiver.url + "?other", ALL_EVENTS, resource_id=elsewhere.json()["id"])
    anna, _, request_id = taken(hooked, "anna")
    anna.http.post(f"/api/requests/{request_id}/messages", json={"body": "Готово"})
    assert anna.http.post(f"/api/requests/{request_id}/close").status_code == 204
    wait_until(lambda: receiver.received, 10, "the closing delivered")
    [only] = receiver.received
    assert (only.path, only.event) == ("/hooks/imp?closing", "request.closed")
    assert [d["event"] for d in deliveries(hooked, closing["id"])] == ["request.closed"]


def test_a_failing_receiver_is_retried_then_the_hook_is_switched_off_and_admins_told(
    hooked: LiveServer, receiver: WebhookReceiver
) -> None:
    hook = register(hooked, receiver.url, ["message.created"])
    # Two failures, then taken: delivered at the third attempt, with the log saying so.
    receiver.next_statuses.extend([500, 302])
    visitor = visit(hooked)
    visitor.pick(queue_ids(hooked)["Sales"])
    assert visitor.send("первое").status_code == 201
    wait_until(lambda: len(receiver.received) == 3, 15, "two retries")
    [first] = wait_until(
        lambda: [d for d in deliveries(hooked, hook["id"]) if d["status"] == "delivered"],
        10,
        "the delivery recorded",
    )
    assert (first["attempts"], first["response_status"], first["last_error"]) == (3, 200, "")
    assert [r.json["id"] for r in receiver.received] == [first["event_id"]] * 3
    # Every attempt is signed anew.
    assert all(r.signed_with(hook["secret"]) for r in receiver.received)

    # From now on it refuses everything: after 4 failed attempts in a row the hook is off.
    receiver.status = 503
    admin = hooked.login("admin")
    with admin.socket() as admin_socket:
        assert visitor.send("второе").status_code == 201
        told = admin_socket.event("webhook.disabled", timeout=15)
    assert (told["webhook_id"], told["url"], told["failures"]) == (hook["id"], receiver.url, 4)
    listed = admin.http.get("/api/admin/webhooks").json()[0]
    assert (listed["is_enabled"], listed["disabled_reason"]) == (False, "failures")
    assert listed["pending"] == 1
    [waiting, _] = deliveries(hooked, hook["id"])
    assert waiting["status"] == "pending" and waiting["attempts"] == 4
    assert waiting["response_status"] == 503 and "503" in waiting["last_error"]
    assert (waiting["error_kind"], waiting["error_detail"]) == ("answered", "ok")
    # Switched off, it is owed nothing new, and the log's retry is refused until it is on.
    attempts = len(receiver.received)
    assert visitor.send("третье").status_code == 201
    assert len(deliveries(hooked, hook["id"])) == 2
    retry = admin.http.post(f"/api/admin/webhooks/{hook['id']}/deliveries/{waiting['id']}/retry")
    assert retry.status_code == 409 and retry.json()["code"] == "webhook_disabled"
    assert len(receiver.received) == attempts

    # Switched on with the receiver healthy again: the waiting delivery goes out.
    receiver.status = 200
    on = admin.http.patch(f"/api/admin/webhooks/{hook['id']}", json={"is_enabled": True})
    assert on.status_code == 200 and on.json()["failures_in_a_row"] == 0
    wait_until(lambda: deliveries(hooked, hook["id"])[0]["status"] == "delivered", 15, "the retry")
    assert receiver.received[-1].json["data"]["message"]["body"] == "второе"

    # "Retry" sends a delivered one again, the same event and body.
    again = admin.http.post(f"/api/admin/webhooks/{hook['id']}/deliveries/{first['id']}/retry")
    assert again.status_code == 200 and again.json()["status"] == "pending"
    wait_until(lambda: receiver.received[-1].json["id"] == first["event_id"], 10, "resent")
    assert receiver.received[-1].body == receiver.received[0].body


def test_deliveries_are_given_up_after_the_retry_period(
    backend: str, settings_factory: Any, receiver: WebhookReceiver
) -> None:
    settings = settings_factory(
        backend,
        webhook_allow_private_addresses=True,
        webhook_retry_first_seconds=0.2,
        # A second: tried at once, then after 0.2 s, 0.4 s… until the next wait would end past it.
        webhook_retry_hours=1.0 / 3600,
    )
    live = LiveServer(settings, free_port()).start()
    try:
        live.run(seed_demo(live.services, site_origin="http://shop.example", language="en"))
        hook = register(live, receiver.url, ["message.created"])
        receiver.status = 500
        visitor = visit(live)
        visitor.pick(queue_ids(live)["Sales"])
        assert visitor.send("первое").status_code == 201
        [failed] = wait_until(
            lambda: [d for d in deliveries(live, hook["id"]) if d["status"] == "failed"],
            15,
            "the delivery given up",
        )
        assert failed["attempts"] == len(receiver.received)
        assert failed["response_status"] == 500
        # Given up means no more attempts.
        time.sleep(1.5)
        assert len(receiver.received) == failed["attempts"]
        # Given up, it is not the hook's fault: it stays on.
        assert live.login("admin").http.get("/api/admin/webhooks").json()[0]["is_enabled"]
    finally:
        live.stop()


def test_a_slow_receiver_holds_nothing_up(hooked: LiveServer, receiver: WebhookReceiver) -> None:
    register(hooked, receiver.url, ["message.created"])
    receiver.open.clear()
    anna, visitor, request_id = taken(hooked, "anna")
    # The receiver is holding the first delivery; the workspace and the widget go on.
    assert receiver.waiting.acquire(timeout=10)
    for n in range(5):
        sent = anna.http.post(f"/api/requests/{request_id}/messages", json={"body": f"ответ {n}"})
        assert sent.status_code == 201
        assert visitor.send(f"вопрос {n}").status_code == 201
    assert receiver.received == []
    receiver.open.set()
    wait_until(lambda: len(receiver.received) == 11, 15, "everything delivered once let through")
    assert len({r.json["id"] for r in receiver.received}) == 11


def test_private_addresses_are_refused_when_saved_and_when_delivering(
    server: LiveServer, receiver: WebhookReceiver
) -> None:
    admin = server.login("admin")
    for url in (
        receiver.url,
        "http://localhost:8080/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://[::1]:9000/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/hook",
    ):
        refused = admin.http.post(
            "/api/admin/webhooks", json={"url": url, "events": ["request.created"]}
        )
        assert refused.status_code == 422, (url, refused.text)
        assert refused.json()["code"] == "webhook_address_forbidden"
        assert refused.json()["detail"].startswith("url:")
    unresolvable = admin.http.post(
        "/api/admin/webhooks",
        json={"url": "https://no-such-host.invalid/hook", "events": ["request.created"]},
    )
    assert unresolvable.status_code == 422
    assert unresolvable.json()["code"] == "webhook_host_unresolvable"

    # Saved with a public address that later points inside (as a name's DNS record may): the
    # delivery is refused before anything is sent.
    hook = register(server, "http://93.184.216.34/hook", ["message.created"])
    moved_to = admin.http.patch(f"/api/admin/webhooks/{hook['id']}", json={"url": receiver.url})
    assert moved_to.json()["code"] == "webhook_address_forbidden"

    async def dns_changed() -> None:
        async with server.services.db.transaction() as uow:
            await uow.session.execute(
                update(Webhook).where(Webhook.id == hook["id"]).values(url=receiver.url)
            )

    server.run(dns_changed())
    visitor = visit(server)
    visitor.pick(queue_ids(server)["Sales"])
    assert visitor.send("привет").status_code == 201
    [attempted] = wait_until(
        lambda: [d for d in deliveries(server, hook["id"]) if d["attempts"]], 10, "an attempt"
    )
    assert attempted["status"] == "pending" and attempted["response_status"] is None
    assert "private address" in attempted["last_error"]
    assert (attempted["error_kind"], attempted["error_detail"]) == (
        "address_forbidden",
        "127.0.0.1",
    )
    assert receiver.received == []


def test_only_administrators_keep_webhooks_and_bad_forms_name_the_field(
    server: LiveServer,
) -> None:
    hook = register(server, "https://93.184.216.34/imp", ["request.closed"])
    anna = server.login("anna")
    for method, path in [
        ("GET", "/api/admin/webhooks"),
        ("POST", "/api/admin/webhooks"),
        ("PATCH", f"/api/admin/webhooks/{hook['id']}"),
        ("DELETE", f"/api/admin/webhooks/{hook['id']}"),
        ("POST", f"/api/admin/webhooks/{hook['id']}/secret"),
        ("GET", f"/api/admin/webhooks/{hook['id']}/deliveries"),
        ("POST", f"/api/admin/webhooks/{hook['id']}/deliveries/1/retry"),
    ]:
        answer = anna.http.request(method, path, json={} if method != "GET" else None)
        assert answer.status_code == 403, (method, path, answer.text)
        assert server.client().request(method, path).status_code == 401
    assert hook["secret"] not in str(anna.http.get("/api/admin/resources").json())

    admin = server.login("admin")
    for body, field in [
        ({"url": "ftp://93.184.216.34/x", "events": ["request.closed"]}, "url"),
        ({"url": "93.184.216.34/x", "events": ["request.closed"]}, "url"),
        ({"url": "http://93.184.216.34:99999/x", "events": ["request.closed"]}, "url"),
        ({"url": "https://93.184.216.34/" + "x" * 2000, "events": ["request.closed"]}, "url"),
        ({"url": "https://93.184.216.34/x", "events": []}, "events"),
        ({"url": "https://93.184.216.34/x", "events": ["request.lost"]}, "events"),
        ({"url": "https://93.184.216.34/x", "events": ["request.closed"], "secret": "x"}, "secret"),
        (
            {"url": "https://93.184.216.34/x", "events": ["request.closed"], "resource_id": 0},
            "resource_id",
        ),
    ]:
        refused = admin.http.post("/api/admin/webhooks", json=body)
        assert refused.status_code == 422, (body, refused.text)
        assert field in [str(part) for part in refused.json()["errors"][0]["loc"]], refused.json()
    unknown = admin.http.post(
        "/api/admin/webhooks",
        json={"url": "https://93.184.216.34/x", "events": ["request.closed"], "resource_id": 9999},
    )
    assert unknown.status_code == 422 and unknown.json()["code"] == "webhook_resource_unknown"
    assert admin.http.patch("/api/admin/webhooks/9999", json={}).json()["code"] == (
        "webhook_not_found"
    )
    assert admin.http.get("/api/admin/webhooks/9999/deliveries").status_code == 404
    assert (
        admin.http.post(f"/api/admin/webhooks/{hook['id']}/deliveries/9999/retry").json()["code"]
        == "webhook_delivery_not_found"
    )

    renewed = admin.http.post(f"/api/admin/webhooks/{hook['id']}/secret").json()
    assert renewed["secret"].startswith("whsec_") and renewed["secret"] != hook["secret"]
    changed = admin.http.patch(
        f"/api/admin/webhooks/{hook['id']}",
        json={"events": ["request.closed", "request.created"], "is_enabled": False},
    ).json()
    assert changed["events"] == ["request.created", "request.closed"]
    assert (changed["is_enabled"], changed["disabled_reason"]) == (False, "admin")
    assert admin.http.delete(f"/api/admin/webhooks/{hook['id']}").status_code == 204
    assert admin.http.get("/api/admin/webhooks").json() == []
