"""Blocks that hold: a blocked website client cannot come back by clearing the browser, from
the same network or under a contact they gave, for the period chosen; other people are not
held back, and forged forwarding headers change nothing.

Clients reach these servers through a reverse proxy on 127.0.0.1 (IMP_TRUSTED_PROXIES), which
names each client's public address in X-Forwarded-For, as a deployment behind nginx does. A
peer the server does not trust is a real second loopback address, 127.0.0.2.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from impserver.core.clock import utcnow
from impserver.demo import seed_demo
from impserver.domains.blocking.actions import end_expired_visitor_blocks
from impserver.domains.blocking.models import BlockPart
from tests.api.test_requests import queue_ids
from tests.harness import LiveServer, Session, free_port
from tests.widget import Visitor, demo_site

SITE = "http://shop.example"
ABUSER = "203.0.113.7"
NEIGHBOUR = "198.51.100.20"


@pytest.fixture
def proxied(backend: str, settings_factory: Any) -> Iterator[LiveServer]:
    settings = settings_factory(backend, trusted_proxies="127.0.0.1")
    live = LiveServer(settings, free_port()).start()
    live.run(seed_demo(live.services, site_origin=SITE, language="en"))
    yield live
    live.stop()


def session_from(
    server: LiveServer,
    forwarded_for: str | None,
    *,
    peer: str = "127.0.0.1",
    token: str | None = None,
) -> httpx.Response:
    return _session(server, forwarded_for, peer=peer, token=token)[1]


def _session(
    server: LiveServer, forwarded_for: str | None, *, peer: str, token: str | None
) -> tuple[httpx.Client, httpx.Response]:
    key = demo_site(server)["public_key"]
    http = httpx.Client(
        base_url=server.base_url, timeout=15, transport=httpx.HTTPTransport(local_address=peer)
    )
    server.clients.append(http)
    if forwarded_for:
        http.headers["X-Forwarded-For"] = forwarded_for
    response = http.post(
        "/api/widget/session",
        json={
            "public_key": key,
            "visitor_token": token,
            "embedding_origin": SITE,
            "page_url": f"{SITE}/",
        },
    )
    if response.status_code == 200:
        http.headers["Authorization"] = f"Bearer {response.json()['visitor_token']}"
    return http, response


def visitor_from(server: LiveServer, forwarded_for: str | None, peer: str = "127.0.0.1") -> Visitor:
    http, response = _session(server, forwarded_for, peer=peer, token=None)
    assert response.status_code == 200, response.text
    return Visitor(server, http, response.json())


def request_taken(server: LiveServer, visitor: Visitor, anna: Session) -> int:
    assert visitor.pick(queue_ids(server)["Sales"]).status_code == 200
    assert visitor.send("Здравствуйте").status_code == 201
    request_id = int(visitor.conversation()["request"]["id"])
    assert anna.http.post(f"/api/requests/{request_id}/accept").status_code == 200
    return request_id


def assert_refused(response: httpx.Response) -> None:
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "blocked"


def block_list(server: LiveServer) -> list[dict[str, Any]]:
    listed = server.login("admin").http.get("/api/admin/blocked-clients")
    assert listed.status_code == 200, listed.text
    return listed.json()  # type: ignore[no-any-return]


def parts_of(server: LiveServer) -> dict[str, dict[str, Any]]:
    (blocked,) = block_list(server)
    return {part["part"]: part for part in blocked["parts"]}


def age_part(server: LiveServer, part_id: int) -> None:
    """Time passes for one part of a block: it ran out a minute ago."""

    async def run_out() -> None:
        async with server.services.db.transaction() as uow:
            await uow.session.execute(
                update(BlockPart)
                .where(BlockPart.id == part_id)
                .values(until=utcnow() - timedelta(minutes=1))
            )

    server.run(run_out())


def test_a_blocked_visitor_cannot_start_again_from_the_same_address(proxied: LiveServer) -> None:
    anna = proxied.login("anna")
    abuser = visitor_from(proxied, ABUSER)
    request_id = request_taken(proxied, abuser, anna)
    blocked = anna.http.post(f"/api/requests/{request_id}/block", json={"reason": "Спам"})
    assert blocked.status_code == 204, blocked.text

    # Site data cleared, or another browser: no token, same network.
    assert_refused(session_from(proxied, ABUSER))
    assert_refused(session_from(proxied, f"10.1.2.3, {ABUSER}"))  # their own proxy's header
    # Someone on another network is not held back.
    neighbour = visitor_from(proxied, NEIGHBOUR)
    assert neighbour.send("Добрый день").status_code == 201

    parts = parts_of(proxied)
    assert set(parts) == {"visitor", "address"}
    assert parts["address"]["value"] == f"{ABUSER}/32"
    assert parts["address"]["refused"] == 2
    until = parts["address"]["until"]
    assert until is not None and "T" in until  # the address part defaults to a day
    assert parts["visitor"]["until"] is None  # the visitor part, for ever
    (entry,) = block_list(proxied)
    assert (entry["reason"], entry["blocked_by"]) == ("Спам", "Анна Смирнова")


def test_an_ipv6_block_covers_the_clients_slash_64(proxied: LiveServer) -> None:
    anna = proxied.login("anna")
    abuser = visitor_from(proxied, "2001:db8:1:2:aaaa::1")
    request_id = request_taken(proxied, abuser, anna)
    assert anna.http.post(f"/api/requests/{request_id}/block").status_code == 204
    assert parts_of(proxied)["address"]["value"] == "2001:db8:1:2::/64"
    assert_refused(session_from(proxied, "2001:db8:1:2:bbbb::9"))
    assert session_from(proxied, "2001:db8:1:3::1").status_code == 200


def test_a_blocked_contact_refuses_a_new_request_from_another_visitor(
    proxied: LiveServer,
) -> None:
    anna = proxied.login("anna")
    abuser = visitor_from(proxied, ABUSER)
    request_id = request_taken(proxied, abuser, anna)
    client_id = anna.http.get(f"/api/requests/{request_id}").json()["client"]["id"]
    saved = anna.http.put(
        f"/api/clients/{client_id}/contacts",
        json={
            "contacts": [
                {"kind": "email", "value": "Troll@Example.com"},
                {"kind": "phone", "value": "+7 900 123-45-67"},
            ]
        },
    )
    assert saved.status_code == 200, saved.text
    assert anna.http.post(f"/api/requests/{request_id}/block").status_code == 204
    assert {p["value"] for p in block_list(proxied)[0]["parts"] if p["part"] == "contact"} == {
        "email:troll@example.com",
        "phone:79001234567",
    }

    # The same person on another network, recognised by the phone they give again.
    returning = visitor_from(proxied, NEIGHBOUR)
    first = request_taken(proxied, returning, anna)
    other_id = anna.http.get(f"/api/requests/{first}").json()["client"]["id"]
    assert (
        anna.http.put(
            f"/api/clients/{other_id}/contacts",
            json={"contacts": [{"kind": "phone", "value": "+7 (900) 123-45-67"}]},
        ).status_code
        == 200
    )
    assert anna.http.post(f"/api/requests/{first}/close").status_code == 204
    refused = returning.send("Это снова я")
    assert_refused(refused)
    assert returning.conversation()["request"] is None
    contact_parts = [p for p in block_list(proxied)[0]["parts"] if p["part"] == "contact"]
    assert sum(p["refused"] for p in contact_parts) == 1
    # Nothing of the refused request is kept: the queue has no new request.
    assert anna.http.get("/api/requests/queue").json() == []


def test_parts_run_out_and_the_address_is_remembered_as_a_hint(proxied: LiveServer) -> None:
    anna = proxied.login("anna")
    abuser = visitor_from(proxied, ABUSER)
    request_id = request_taken(proxied, abuser, anna)
    assert (
        anna.http.post(
            f"/api/requests/{request_id}/block",
            json={"address_period": "7d", "client_period": "30d"},
        ).status_code
        == 204
    )
    parts = parts_of(proxied)
    assert_refused(session_from(proxied, ABUSER))

    age_part(proxied, parts["address"]["id"])
    newcomer = visitor_from(proxied, ABUSER)
    hinted = request_taken(proxied, newcomer, anna)
    assert anna.http.get(f"/api/requests/{hinted}").json()["address_blocked_before"] is True
    fresh = request_taken(proxied, visitor_from(proxied, NEIGHBOUR), anna)
    assert anna.http.get(f"/api/requests/{fresh}").json()["address_blocked_before"] is False

    # The client's own block runs out too: their widget carries on with their history.
    assert_refused(session_from(proxied, NEIGHBOUR, token=abuser.token))
    age_part(proxied, parts["visitor"]["id"])
    assert proxied.run(end_expired_visitor_blocks(proxied.services)) == 1
    back = session_from(proxied, NEIGHBOUR, token=abuser.token)
    assert back.status_code == 200, back.text
    assert back.json()["client"]["id"] == abuser.session["client"]["id"]


def test_each_part_is_lifted_on_its_own_and_unblock_lifts_all(proxied: LiveServer) -> None:
    anna = proxied.login("anna")
    admin = proxied.login("admin")
    abuser = visitor_from(proxied, ABUSER)
    request_id = request_taken(proxied, abuser, anna)
    client_id = anna.http.get(f"/api/requests/{request_id}").json()["client"]["id"]
    assert anna.http.post(f"/api/requests/{request_id}/block").status_code == 204
    parts = parts_of(proxied)

    assert (
        anna.http.post(f"/api/admin/block-parts/{parts['address']['id']}/lift").status_code == 403
    )
    assert (
        admin.http.post(f"/api/admin/block-parts/{parts['address']['id']}/lift").status_code == 204
    )
    assert session_from(proxied, ABUSER).status_code == 200
    # The client themselves stays blocked.
    assert_refused(session_from(proxied, NEIGHBOUR, token=abuser.token))
    assert set(parts_of(proxied)) == {"visitor"}
    again = admin.http.post(f"/api/admin/block-parts/{parts['address']['id']}/lift")
    assert again.status_code == 404 and again.json()["code"] == "block_not_found"
    assert admin.http.post("/api/admin/block-parts/999999/lift").status_code == 404

    # Blocked again, then "Разблокировать": every part goes.
    renewed = session_from(proxied, ABUSER, token=abuser.token)
    assert_refused(renewed)
    assert admin.http.post(f"/api/clients/{client_id}/unblock").status_code == 204
    assert block_list(proxied) == []
    assert session_from(proxied, ABUSER).status_code == 200


def test_forwarding_headers_from_an_untrusted_peer_are_ignored(proxied: LiveServer) -> None:
    anna = proxied.login("anna")
    abuser = visitor_from(proxied, ABUSER)
    request_id = request_taken(proxied, abuser, anna)
    assert anna.http.post(f"/api/requests/{request_id}/block").status_code == 204
    assert_refused(session_from(proxied, ABUSER))
    # A peer that is not a trusted proxy cannot claim to be the blocked address (nor any other).
    assert session_from(proxied, ABUSER, peer="127.0.0.2").status_code == 200


def test_without_trusted_proxies_a_forged_header_names_no_address(server: LiveServer) -> None:
    anna = server.login("anna")
    abuser = visitor_from(server, ABUSER)  # from 127.0.0.1, which is no proxy here
    request_id = request_taken(server, abuser, anna)
    assert anna.http.post(f"/api/requests/{request_id}/block").status_code == 204
    # The block took the peer's own address, loopback, which names nobody: no address part.
    assert set(parts_of(server)) == {"visitor"}
    assert session_from(server, ABUSER).status_code == 200


def test_a_block_period_outside_the_choices_is_refused(proxied: LiveServer) -> None:
    anna = proxied.login("anna")
    request_id = request_taken(proxied, visitor_from(proxied, ABUSER), anna)
    for body in ({"address_period": "2d"}, {"client_period": "never"}, {"address_period": 1}):
        refused = anna.http.post(f"/api/requests/{request_id}/block", json=body)
        assert refused.status_code == 422, (body, refused.text)
    assert block_list(proxied) == []
