"""Widget visitors: who is calling, from the signed token the widget keeps."""

from __future__ import annotations

import time
from dataclasses import dataclass

from fastapi import Depends, Request
from sqlalchemy import bindparam, select

from impserver.core.errors import NotAuthenticated, TooManyRequests
from impserver.core.security import sign, unsign
from impserver.domains.clients.models import Client
from impserver.domains.resources.models import Resource
from impserver.services import Services, get_services

TOKEN_PURPOSE = "visitor"
# Every visit renews the token, so a visitor who comes back within this time keeps their
# history; a token copied out of a browser stops working after it.
TOKEN_MAX_AGE_SECONDS = 180 * 86400


@dataclass(frozen=True)
class Visitor:
    client: Client
    resource: Resource


def visitor_token(services: Services, client: Client) -> str:
    return sign(
        {"c": client.id, "r": client.resource_id, "t": int(time.time())},
        services.settings.resolved_secret_key,
        TOKEN_PURPOSE,
    )


@dataclass(frozen=True)
class VisitorClaims:
    """What a valid visitor token says: whose it is, for which site, and when it was issued."""

    client_id: int
    resource_id: int
    issued_at: int


def read_token(services: Services, token: str) -> VisitorClaims | None:
    data = unsign(token, services.settings.resolved_secret_key, TOKEN_PURPOSE)
    if not data or any(type(data.get(field)) is not int for field in ("c", "r", "t")):
        return None
    if time.time() - data["t"] > TOKEN_MAX_AGE_SECONDS:
        return None
    return VisitorClaims(int(data["c"]), int(data["r"]), int(data["t"]))


def visitor_admitted(claims: VisitorClaims, client: Client, resource: Resource) -> bool:
    """Whether the holder of a token with these claims is still this client of this site. The
    one rule every widget entry applies: the requests and sockets that look the visitor up
    (``visitor_from_token``), and the send path, which checks it on the rows it reads anyway."""
    return (
        client.id == claims.client_id
        and client.resource_id == resource.id == claims.resource_id
        and resource.deleted_at is None
    )


# Built once: every widget request runs it.
_CLIENT_AND_SITE = (
    select(Client, Resource)
    .join(Resource, Resource.id == Client.resource_id)
    .where(Client.id == bindparam("client_id"))
)


async def visitor_from_token(services: Services, token: str | None) -> Visitor | None:
    claims = read_token(services, token or "")
    if claims is None:
        return None
    async with services.db.read() as session:
        found = (await session.execute(_CLIENT_AND_SITE, {"client_id": claims.client_id})).first()
    if found is None or not visitor_admitted(claims, *found):
        return None
    client, resource = found
    return Visitor(client, resource)


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    return header[7:] if header.lower().startswith("bearer ") else ""


NOT_VALID = "Your chat session is not valid; please reload the page."


async def current_visitor(request: Request, services: Services = Depends(get_services)) -> Visitor:
    visitor = await visitor_from_token(services, bearer_token(request))
    if visitor is None:
        raise NotAuthenticated(NOT_VALID, code="visitor")
    return visitor


async def throttle(services: Services, key: str, limit: int, window: int) -> None:
    count, retry_after = await services.limiter.hit(key, window)
    if count > limit:
        raise TooManyRequests(
            "You are sending too fast. Please wait a moment and try again.", retry_after=retry_after
        )
