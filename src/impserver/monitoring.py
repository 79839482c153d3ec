"""What operators and load balancers ask an instance: is it alive (``/api/health``), can it serve
(``/api/ready``), and its figures for Prometheus (``/metrics``)."""

from __future__ import annotations

import asyncio
import hmac
import logging
from typing import Any

import redis.asyncio as aioredis
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.core import GaugeMetricFamily
from pydantic import BaseModel
from sqlalchemy import func, select, text

from impserver.channels.models import DELIVERY_PENDING, ChannelDelivery
from impserver.core.clock import utcnow
from impserver.core.errors import NotAuthenticated, NotFound
from impserver.core.metrics import Figures, exposition
from impserver.domains.calls.models import ACTIVE_STATES, Call
from impserver.domains.requests.models import STATUS_CHOOSING, ClientRequest
from impserver.domains.resources.models import Resource
from impserver.services import Services, get_services

log = logging.getLogger(__name__)

# A readiness probe answers within the balancer's probe timeout (often 1–5 s) even when a
# dependency hangs rather than refuses.
CHECK_TIMEOUT_SECONDS = 2.0

router = APIRouter(tags=["service"])


class HealthChecks:
    """The instance's own connection for asking Redis whether it answers (the bus's is busy
    listening, and a probe must not wait behind it)."""

    def __init__(self, redis_url: str) -> None:
        self._redis = (
            aioredis.from_url(
                redis_url,
                socket_connect_timeout=CHECK_TIMEOUT_SECONDS,
                socket_timeout=CHECK_TIMEOUT_SECONDS,
            )
            if redis_url
            else None
        )

    async def database(self, services: Services) -> None:
        async with services.db.read() as session:
            await session.execute(text("SELECT 1"))

    async def redis(self) -> None:
        if self._redis is not None:
            await self._redis.ping()

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()


def _checks(request: Request) -> HealthChecks:
    checks: HealthChecks = request.app.state.health_checks
    return checks


async def _outcome(check: Any) -> str:
    try:
        await asyncio.wait_for(check, CHECK_TIMEOUT_SECONDS)
    except TimeoutError:
        return f"unreachable: no answer within {CHECK_TIMEOUT_SECONDS:g} s"
    except Exception as exc:
        return f"unreachable: {type(exc).__name__}"
    return "ok"


class ReadinessRead(BaseModel):
    """``ready`` or ``unavailable``; each part's ``ok``, ``not used``, or why it failed."""

    status: str
    database: str
    redis: str
    stopping: bool


@router.get(
    "/api/ready",
    response_model=ReadinessRead,
    responses={503: {"model": ReadinessRead, "description": "Not ready: see which part failed"}},
)
async def ready(
    checks: HealthChecks = Depends(_checks), services: Services = Depends(get_services)
) -> JSONResponse:
    """Whether this instance can serve: its database and Redis answer, and it is not stopping.

    Load balancers send traffic only to ready instances; ``/api/health`` says only that the
    process is alive (restart it if not).
    """
    database, redis = await asyncio.gather(
        _outcome(checks.database(services)),
        _outcome(checks.redis()) if services.settings.redis_url else _not_used(),
    )
    stopping = services.gateway.stopping
    ok = database == "ok" and redis in ("ok", "not used") and not stopping
    body = ReadinessRead(
        status="ready" if ok else "unavailable", database=database, redis=redis, stopping=stopping
    )
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)


async def _not_used() -> str:
    return "not used"


def _authorize_scrape(request: Request, services: Services) -> None:
    token = services.settings.metrics_token
    if not token:
        raise NotFound("Not found.", code="not_found")
    scheme, _, offered = request.headers.get("authorization", "").partition(" ")
    # Compared as bytes: compare_digest refuses non-ASCII text, and a header may carry any.
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        offered.strip().encode(), token.encode()
    ):
        raise NotAuthenticated("A valid metrics token is required.", code="metrics_token")


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request, services: Services = Depends(get_services)) -> Response:
    _authorize_scrape(request, services)
    figures = Figures(await database_figures(services))
    return Response(exposition(figures), 200, media_type=CONTENT_TYPE_LATEST)


async def database_figures(services: Services) -> list[Any]:
    """Figures of the whole deployment, read from the database at scrape time."""
    up = GaugeMetricFamily("imp_database_up", "Whether the database answered this scrape's queries")
    queue = GaugeMetricFamily(
        "imp_channel_delivery_queue_depth",
        "Messages waiting to be delivered to messenger clients, by channel",
        labels=["channel"],
    )
    due = GaugeMetricFamily(
        "imp_timers_due",
        "Timers past their due time and not yet fired, by timer "
        "(topic_choice: a client's topic choice ran out; call_answer: an unanswered call)",
        labels=["timer"],
    )
    now = utcnow()
    try:
        async with services.db.read() as session:
            waiting = await session.execute(
                select(Resource.kind, func.count(ChannelDelivery.id))
                .join(ClientRequest, ClientRequest.id == ChannelDelivery.request_id)
                .join(Resource, Resource.id == ClientRequest.resource_id)
                .where(ChannelDelivery.status == DELIVERY_PENDING)
                .group_by(Resource.kind)
            )
            topic_choices = await session.scalar(
                select(func.count(ClientRequest.id))
                .where(ClientRequest.status == STATUS_CHOOSING)
                .where(ClientRequest.topic_due_at <= now)
            )
            calls = await session.scalar(
                select(func.count(Call.id))
                .where(Call.state.in_(ACTIVE_STATES))
                .where(Call.due_at <= now)
            )
    except Exception as exc:
        log.warning("metrics: the database did not answer: %s", exc)
        up.add_metric([], 0)
        return [up]
    up.add_metric([], 1)
    depths = dict.fromkeys(services.messengers, 0) | {kind: count for kind, count in waiting}
    for channel, depth in sorted(depths.items()):
        queue.add_metric([channel], depth)
    due.add_metric(["topic_choice"], topic_choices or 0)
    due.add_metric(["call_answer"], calls or 0)
    return [up, queue, due]
