"""What operators see: /metrics behind its token, readiness naming the part that failed, and
JSON log lines carrying the id of the request they were written during."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from impserver.demo import seed_demo
from tests.api.test_rooms import new_room, send
from tests.harness import LiveServer, ServerProcess, free_port, server_settings

TOKEN = "scrape-secret-1"
SettingsFactory = Callable[..., object]
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
def observed(backend: str, settings_factory: SettingsFactory) -> Iterator[LiveServer]:
    """A running IMP with demo data and a metrics token."""
    live = LiveServer(settings_factory(backend, metrics_token=TOKEN), free_port()).start()  # type: ignore[arg-type]
    live.run(seed_demo(live.services, site_origin="http://shop.example", language="en"))
    yield live
    live.stop()


def scrape(server: LiveServer) -> Samples:
    client = server.client()
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_metrics_need_the_token(observed: LiveServer) -> None:
    client = observed.client()
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer scrape-secret-2"})
    assert wrong.status_code == 401
    assert wrong.json()["code"] == "metrics_token"
    not_bearer = client.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"})
    assert not_bearer.status_code == 401
    # Not ASCII: refused like any wrong token, not a server error.
    odd = client.get("/metrics", headers={"Authorization": "Bearer é".encode()})
    assert odd.status_code == 401
    assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_metrics_are_absent_without_a_token_setting(server: LiveServer) -> None:
    client = server.client()
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer anything"}).status_code == 404


def test_metrics_count_requests_sockets_and_events(observed: LiveServer) -> None:
    anna, boris = observed.login("anna"), observed.login("boris")
    room = new_room(anna, "boris")
    route = "/api/rooms/{room_id}/messages"
    with boris.socket() as boris_tab, anna.socket():
        before = scrape(observed)
        # Two sockets of this server: it may share the process's figures with other servers of
        # the test run, so the figures are compared, not read as totals.
        assert value(before, "imp_sockets_open", kind="employee") >= 2
        send(anna, room["id"], "раз")
        send(anna, room["id"], "два")
        boris_tab.event("message.created")
        boris_tab.event("message.created")
        after = scrape(observed)
    posted = {"method": "POST", "route": route, "status": "201"}
    assert value(after, "imp_http_requests_total", **posted) - value(
        before, "imp_http_requests_total", **posted
    ) == pytest.approx(2)
    timed = {"method": "POST", "route": route}
    assert value(after, "imp_http_request_duration_seconds_count", **timed) - value(
        before, "imp_http_request_duration_seconds_count", **timed
    ) == pytest.approx(2)
    # The raw path is never a label: one series per route, not one per room.
    assert not any(
        dict(labels).get("route") == f"/api/rooms/{room['id']}/messages" for _, labels in after
    )
    published = value(after, "imp_events_published_total", kind="durable") - value(
        before, "imp_events_published_total", kind="durable"
    )
    assert published >= 2
    delivered = value(after, "imp_events_delivered_total") - value(
        before, "imp_events_delivered_total"
    )
    # Each message reaches both of the sockets (anna's own tab too).
    assert delivered >= 4
    assert value(after, "imp_database_up") == 1
    assert ("imp_channel_delivery_queue_depth", frozenset({("channel", "telegram")})) in after
    assert ("imp_timers_due", frozenset({("timer", "topic_choice")})) in after
    assert ("imp_timers_due", frozenset({("timer", "call_answer")})) in after
    assert ("imp_database_pool_connections_in_use", frozenset()) in after
    assert value(after, "imp_database_pool_connections_open") >= 1


def test_readiness_names_the_parts_it_checked(server: LiveServer, backend: str) -> None:
    response = server.client().get("/api/ready")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "status": "ready",
        "database": "ok",
        "redis": "ok" if backend == "postgres" else "not used",
        "stopping": False,
    }


@pytest.mark.parametrize("backend", ["postgres"])
def test_readiness_is_503_when_redis_cannot_be_reached(
    backend: str, settings_factory: SettingsFactory
) -> None:
    # Nothing listens on a freshly freed port: connecting is refused.
    settings = settings_factory(backend, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    live = LiveServer(settings, free_port()).start()  # type: ignore[arg-type]
    try:
        response = live.client().get("/api/ready")
    finally:
        live.stop()
    assert response.status_code == 503, response.text
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["database"] == "ok"
    assert body["redis"].startswith("unreachable")


def test_json_log_lines_carry_the_request_id(tmp_path: Path, sqlite_template: object) -> None:
    settings = server_settings(tmp_path, log_format="json", access_log=True)
    server = ServerProcess(settings, free_port(), tmp_path / "server.log")
    server.start()
    try:
        given = httpx.get(f"{server.base_url}/api/ready", headers={"X-Request-ID": "lb-7f3a.9"})
        made_up = httpx.get(f"{server.base_url}/api/health", headers={"X-Request-ID": "x" * 300})
        plain = httpx.get(f"{server.base_url}/api/health")
    finally:
        server.stop()
    assert given.headers["x-request-id"] == "lb-7f3a.9"
    # Too long to be an id: replaced rather than copied into every line.
    generated = made_up.headers["x-request-id"]
    assert generated != "x" * 300 and 0 < len(generated) <= 128
    assert plain.headers["x-request-id"] not in ("", generated)
    lines = [line for line in server.log_path.read_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all({"time", "level", "logger", "message"} <= record.keys() for record in records)
    by_request = {
        request_id: [r["message"] for r in records if r.get("request_id") == request_id]
        for request_id in ("lb-7f3a.9", generated, plain.headers["x-request-id"])
    }
    assert any("GET /api/ready" in message for message in by_request["lb-7f3a.9"])
    assert any("GET /api/health" in message for message in by_request[generated])
    assert any(
        "GET /api/health" in message for message in by_request[plain.headers["x-request-id"]]
    )
    # Lines outside any request (start-up, shutdown) carry no id.
    assert any(r["message"].startswith("IMP is starting") and not r["request_id"] for r in records)
