"""Widget visitors: who is calling, from the signed token the widget keeps."""

from __future__ import annotations

import time
from dataclasses import dataclass

from fastapi import Depends, Request
from sqlalchemy import bindparam, select

from impserver.core.errors import DomainError, Forbidden, NotAuthenticated, TooManyRequests
from impserver.core.security import sign, unsign
from impserver.domains.clients.models import Client
from impserver.domains.requests.actions import BLOCKED_NOTICE, ClientFacts, SiteFacts
from impserver.domains.resources.models import Resource
from impserver.services import Services, get_services

TOKEN_PURPOSE = "visitor"
# Every visit renews the token, so a visitor who comes back within this time keeps their
# history; a token copied out of a browser stops working after it.
TOKEN_MAX_AGE_SECONDS = 180 * 86400
NOT_VALID = "Your chat session is not valid; please reload the page."


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
class VisitorClaims:
    """What a valid visitor token says: whose it is, for which site, when it was issued, and
    in which generation of the client's tokens (raising it revokes the older ones)."""

    client_id: int
    resource_id: int
    issued_at: int
    # Tokens from before revocation existed carry none: the first generation.
    generation: int


def read_token(services: Services, token: str) -> VisitorClaims | None:
    data = unsign(token, services.settings.resolved_secret_key, TOKEN_PURPOSE)
    if not data or any(type(data.get(field)) is not int for field in ("c", "r", "t")):
        return None
    if type(data.get("g", 0)) is not int:
        return None
    if time.time() - data["t"] > TOKEN_MAX_AGE_SECONDS:
        return None
    return VisitorClaims(int(data["c"]), int(data["r"]), int(data["t"]), int(data.get("g", 0)))


def visitor_admitted(
    claims: VisitorClaims, client: ClientFacts, resource: SiteFacts, *, revoked_too: bool = False
) -> bool:
    """Whether the holder of a token with these claims is still this client of this site. The
    one rule every widget entry applies: the requests and sockets that look the visitor up
    (``visitor_from_token``), and the send path, which checks it on the rows it reads anyway.
    ``revoked_too`` admits a token of an older generation (starting a session decides for
    itself what a revoked token gets)."""
    return (
        client.id == claims.client_id
        and client.resource_id == resource.id == claims.resource_id
        and resource.deleted_at is None
        and (revoked_too or client.token_generation == claims.generation)
    )


# Built once: every widget request runs it.
_CLIENT_AND_SITE = (
    select(Client, Resource)
    .join(Resource, Resource.id == Client.resource_id)
    .where(Client.id == bindparam("client_id"))
)


async def _client_of(services: Services, claims: VisitorClaims) -> tuple[Client, Resource] | None:
    async with services.db.read() as session:
        found = (
            await session.execute(
                _CLIENT_AND_SITE,
                {"client_id": claims.client_id, "resource_id": claims.resource_id},
            )
        ).first()
    return None if found is None else (found[0], found[1])


async def visitor_from_token(
    services: Services, token: str | None, *, revoked_too: bool = False
) -> Visitor | None:
    """The visitor a token names, or None if it is forged, expired or revoked (unless
    ``revoked_too``: starting a session, which decides for itself)."""
    claims = read_token(services, token or "")
    if claims is None:
        return None
    found = await _client_of(services, claims)
    if found is None or not visitor_admitted(claims, *found, revoked_too=revoked_too):
        return None
    client, resource = found
    return Visitor(client, resource)


async def refuse_token(services: Services, token: str | None) -> DomainError:
    """Why a token that let no one in is refused: a blocked client's (revoked by the block)
    is told so, for the widget to show its notice; anything else is a session to start again."""
    claims = read_token(services, token or "")
    found = await _client_of(services, claims) if claims is not None else None
    if found is not None and found[0].is_blocked:
        return Forbidden(BLOCKED_NOTICE, code="blocked")
    return NotAuthenticated(NOT_VALID, code="visitor")


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
    await throttle_all(services, [(key, limit, window)])


async def throttle_all(services: Services, limits: list[tuple[str, int, int]]) -> None:
    """Count one more against each (key, limit, window), in one round trip; refuse if any is
    over its limit, until the last of those windows ends."""
    counted = await services.limiter.hit_many([(key, window) for key, _, window in limits])
    over = [
        retry_after
        for (_, limit, _), (count, retry_after) in zip(limits, counted, strict=True)
        if count > limit
    ]
    if over:
        raise TooManyRequests(
            "You are sending too fast. Please wait a moment and try again.",
            retry_after=max(over),
        )
