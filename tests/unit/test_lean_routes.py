"""Lean routes: the ordinary request is answered by its handler, everything else reaches the
full stack with its body intact, and errors from the action are answered as the app would."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from impserver.core.errors import NotFound
from impserver.core.http import MAX_JSON_BODY_BYTES
from impserver.core.lean_routes import LeanCall, LeanRoute, LeanRoutes
from tests.unit.own_loop import run


class Note(BaseModel):
    body: str


class Echo(BaseModel):
    room: int
    body: str


async def lean_handler(call: LeanCall) -> Response:
    note = call.body(Note)
    if note.body == "missing":
        raise NotFound("No such room.", code="room_not_found")
    return call.json(Echo(room=call.ids["room_id"], body=note.body), 201)


async def full_stack(request: Request) -> Response:
    body = await request.body()
    return JSONResponse({"served_by": "full", "length": len(body), "head": body[:20].decode()})


def post(path: str, **kwargs: Any) -> httpx.Response:
    app = Starlette(routes=[Route("/api/rooms/{room_id}/messages", full_stack, methods=["POST"])])
    lean = LeanRoutes(app, [LeanRoute("POST", "/api/rooms/{room_id}/messages", lean_handler)])

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=lean)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            return await http.post(path, **kwargs)

    return run(send())


def test_an_ordinary_request_is_answered_by_the_lean_handler() -> None:
    response = post("/api/rooms/12/messages", json={"body": "hi"})
    assert response.status_code == 201
    assert response.json() == {"room": 12, "body": "hi"}
    assert response.headers["content-type"] == "application/json"


def test_an_error_of_the_action_is_answered_as_the_app_answers_it() -> None:
    response = post("/api/rooms/12/messages", json={"body": "missing"})
    assert response.status_code == 404
    assert response.json() == {"detail": "No such room.", "code": "room_not_found"}


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b'{"text": "the wrong field"}', "application/json"),  # does not validate
        (b'{"body": ', "application/json"),  # does not parse
        (b"body=hi", "application/x-www-form-urlencoded"),  # not JSON at all
    ],
)
def test_what_the_handler_cannot_read_reaches_the_full_stack_with_its_body(
    content: bytes, content_type: str
) -> None:
    response = post(
        "/api/rooms/12/messages", content=content, headers={"content-type": content_type}
    )
    assert response.json() == {
        "served_by": "full",
        "length": len(content),
        "head": content[:20].decode(),
    }


def test_an_oversized_body_reaches_the_full_stack_whole() -> None:
    """The lean route stops reading past the limit; the full stack (which refuses it in the
    app) still receives every byte, the part already read first."""
    body = json.dumps({"body": "x" * (MAX_JSON_BODY_BYTES + 10)}).encode()

    async def chunks():  # type: ignore[no-untyped-def]
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    response = post(
        "/api/rooms/12/messages", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.json() == {"served_by": "full", "length": len(body), "head": body[:20].decode()}


def test_other_paths_and_methods_pass_through() -> None:
    not_an_id = post("/api/rooms/abc/messages", json={"body": "hi"})
    longer = post("/api/rooms/12/messages/extra", json={"body": "hi"})
    assert not_an_id.json()["served_by"] == "full"
    assert longer.status_code == 404
