"""Who is calling the public API: an integration, by the bearer token an administrator made.

Every call looks its token up (no cache), so a revoked token is refused from the next call on,
on every instance. Calls are counted per token (a shared count where Redis is configured).
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import bindparam, select

from impserver.core.clock import utcnow
from impserver.core.errors import Forbidden, NotAuthenticated, TooManyRequests
from impserver.core.security import token_digest
from impserver.domains.integrations import actions
from impserver.domains.integrations.models import ApiToken
from impserver.domains.integrations.schemas import Integration
from impserver.services import Services, get_services

RATE_WINDOW_SECONDS = 60
# Last-used time is written at most this often, so that reads stay reads.
USE_PRECISION = timedelta(minutes=1)

_TOKEN = select(ApiToken).where(ApiToken.token_hash == bindparam("token_hash"))


# Named in the OpenAPI document, so that /api/docs offers to "Authorize" with a token.
_bearer = HTTPBearer(
    scheme_name="ApiToken",
    description="An API token made in Administration → API tokens: `Authorization: Bearer imp_…`",
    auto_error=False,
)


async def _integration(
    credentials: HTTPAuthorizationCredentials | None, services: Services
) -> Integration:
    secret = credentials.credentials.strip() if credentials else ""
    if not secret:
        raise NotAuthenticated(
            "Send an API token as “Authorization: Bearer <token>”.", code="api_token_missing"
        )
    async with services.db.read() as session:
        token = await session.scalar(_TOKEN, {"token_hash": token_digest(secret)})
    if token is None or token.revoked_at is not None:
        raise NotAuthenticated(
            "The API token is not valid or has been revoked.", code="api_token_invalid"
        )
    admission = await services.limiter.take(
        f"api-token:{token.id}",
        services.settings.api_token_requests_per_minute,
        RATE_WINDOW_SECONDS,
    )
    if not admission.allowed:
        raise TooManyRequests(
            "Too many calls with this API token; try again after Retry-After seconds.",
            retry_after=admission.retry_after,
            code="api_rate_limited",
        )
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at >= USE_PRECISION:
        await actions.note_use(services, token.id)
    return Integration(token.id, token.name, token.can_read, token.can_write, token.resource_id)


async def api_reader(
    credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
    services: Services = Depends(get_services),
) -> Integration:
    """A token with the read scope."""
    caller = await _integration(credentials, services)
    if not caller.can_read:
        raise Forbidden("This API token may not read.", code="api_scope_read")
    return caller


async def api_writer(
    credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
    services: Services = Depends(get_services),
) -> Integration:
    """A token with the write scope."""
    caller = await _integration(credentials, services)
    if not caller.can_write:
        raise Forbidden("This API token may not write.", code="api_scope_write")
    return caller
