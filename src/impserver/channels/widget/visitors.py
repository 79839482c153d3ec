"""Widget visitors: who is calling, from the signed token the widget keeps."""

from __future__ import annotations

import time
from dataclasses import dataclass

from fastapi import Depends, Request
from sqlalchemy import bindparam, select

from impserver.core.errors import DomainError, Forbidden, NotAuthenticated, TooManyRequests
from impserver.core.security import sign, unsign
from impserver.domains.clients.models import Client
from impserver.domains.requests.actions import BLOCKED_NOTICE
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


# The widget's socket offers this subprotocol and the token as a second one: a browser cannot set
# headers on a WebSocket, and a token in the address would be written to every access log.
SOCKET_PROTOCOL = "imp.visitor"


def visitor_token(services: Services, client: Client) -> str:
    return sign(
        {
            "c": client.id,
            "r": client.resource_id,
            "t": int(time.time()),
            "g": client.token_generation,
        },
        services.settings.resolved_secret_key,
        TOKEN_PURPOSE,
    )


@dataclass(frozen=True)
class TokenIds:
    client_id: int
    resource_id: int
    # Tokens from before revocation existed carry none: the first generation.
    generation: int


def read_token(services: Services, token: str) -> TokenIds | None:
    data = unsign(token, services.settings.resolved_secret_key, TOKEN_PURPOSE)
    if not data or any(type(data.get(field)) is not int for field in ("c", "r", "t")):
        return None
    if type(data.get("g", 0)) is not int:
        return None
    if time.time() - data["t"] > TOKEN_MAX_AGE_SECONDS:
        return None
    return TokenIds(int(data["c"]), int(data["r"]), int(data.get("g", 0)))


# Built once: every widget request runs it.
_CLIENT_AND_SITE = (
    select(Client, Resource)
    .join(Resource, Resource.id == Client.resource_id)
    .where(Client.id == bindparam("client_id"), Resource.id == bindparam("resource_id"))
    .where(Resource.deleted_at.is_(None))
)


async def _client_of(services: Services, ids: TokenIds) -> tuple[Client, Resource] | None:
    async with services.db.read() as session:
        found = (
            await session.execute(
                _CLIENT_AND_SITE, {"client_id": ids.client_id, "resource_id": ids.resource_id}
            )
        ).first()
    return None if found is None else (found[0], found[1])


async def visitor_from_token(
    services: Services, token: str | None, *, revoked_too: bool = False
) -> Visitor | None:
    """The visitor a token names, or None if it is forged, expired or revoked (unless
    ``revoked_too``: starting a session, which decides for itself)."""
    ids = read_token(services, token or "")
    if ids is None:
        return None
    found = await _client_of(services, ids)
    if found is None:
        return None
    client, resource = found
    if client.token_generation != ids.generation and not revoked_too:
        return None
    return Visitor(client, resource)


async def refuse_token(services: Services, token: str | None) -> DomainError:
    """Why a token that let no one in is refused: a blocked client's (revoked by the block)
    is told so, for the widget to show its notice; anything else is a session to start again."""
    ids = read_token(services, token or "")
    found = await _client_of(services, ids) if ids is not None else None
    if found is not None and found[0].is_blocked:
        return Forbidden(BLOCKED_NOTICE, code="blocked")
    return NotAuthenticated(
        "Your chat session is not valid; please reload the page.", code="visitor"
    )


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    return header[7:] if header.lower().startswith("bearer ") else ""


async def current_visitor(request: Request, services: Services = Depends(get_services)) -> Visitor:
    token = bearer_token(request)
    visitor = await visitor_from_token(services, token)
    if visitor is None:
        raise await refuse_token(services, token)
    return visitor


async def throttle(services: Services, key: str, limit: int, window: int) -> None:
    count, retry_after = await services.limiter.hit(key, window)
    if count > limit:
        raise TooManyRequests(
            "You are sending too fast. Please wait a moment and try again.", retry_after=retry_after
        )
