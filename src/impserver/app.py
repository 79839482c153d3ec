"""The one ASGI application: HTTP API, realtime socket, workspace files."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta

from fastapi import FastAPI

from impserver.channels.delivery import run_deliveries
from impserver.channels.telegram import api as telegram_api
from impserver.channels.telegram.channel import TelegramChannel
from impserver.channels.vk import api as vk_api
from impserver.channels.vk.adapter import VkChannel
from impserver.channels.whatsapp import api as whatsapp_api
from impserver.channels.whatsapp.adapter import WhatsAppChannel
from impserver.channels.widget import api as widget_api
from impserver.channels.widget import pages as widget_pages
from impserver.core import heap
from impserver.core.auth_cache import AuthCache
from impserver.core.clock import utcnow
from impserver.core.config import Settings, load_settings
from impserver.core.db import OutageLog, build_engine, build_sessionmaker
from impserver.core.errors import install_error_handlers
from impserver.core.http import RefuseCrossSiteWrites, SecurityHeaders
from impserver.core.lean_routes import LeanRoutes
from impserver.core.metrics import watch_pool, worker_stopped
from impserver.core.observability import ObserveRequests
from impserver.core.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from impserver.core.security import configure_password_hashing
from impserver.core.shutdown import GracefulStop
from impserver.core.storage import build_storage
from impserver.core.unit_of_work import Database
from impserver.domains.accounts import api as accounts_api
from impserver.domains.accounts.auth import session_expiry
from impserver.domains.blocking import actions as blocking_actions
from impserver.domains.blocking import api as blocking_api
from impserver.domains.calls import api as calls_api
from impserver.domains.integrations import api as integrations_api
from impserver.domains.integrations.delivery import WebhookSender
from impserver.domains.integrations.outbox import WebhookOutbox
from impserver.domains.mentions import api as mentions_api
from impserver.domains.replies import api as replies_api
from impserver.domains.reports import api as reports_api
from impserver.domains.reports.tallies import roll_up
from impserver.domains.requests import api as requests_api
from impserver.domains.resources import api as resources_api
from impserver.domains.resources.models import KIND_TELEGRAM, KIND_VK, KIND_WHATSAPP
from impserver.domains.rooms import api as rooms_api
from impserver.domains.routing import api as routing_api
from impserver.domains.tags import api as tags_api
from impserver.monitoring import HealthChecks
from impserver.monitoring import router as monitoring_router
from impserver.realtime import routes as realtime_routes
from impserver.realtime.bus import ControlTap, EventBus, MemoryBus, RedisBus
from impserver.realtime.gateway import Connection, Gateway
from impserver.realtime.outbox import Envelope, prune_events
from impserver.scheduler import run_timers
from impserver.services import Services
from impserver.web import mount_workspace

log = logging.getLogger(__name__)

MAINTENANCE_INTERVAL_SECONDS = 600
# On a stop, how long the sockets get to hear that they should reconnect elsewhere and close
# (well under a second normally: the notice is one frame, the close one round trip).
SOCKET_DRAIN_SECONDS = 5.0


def build_services(settings: Settings) -> Services:
    configure_password_hashing(settings.password_hash_time_cost, settings.password_hash_memory_kib)
    engine = build_engine(settings)
    watch_pool(engine)
    bus: EventBus
    limiter: RateLimiter
    if settings.redis_url:
        bus = RedisBus(settings.redis_url, settings.redis_prefix)
        limiter = RedisRateLimiter(settings.redis_url, settings.redis_prefix)
    else:
        bus = MemoryBus()
        limiter = MemoryRateLimiter()
    auth_cache = AuthCache()
    webhook_outbox = WebhookOutbox()

    def on_control(envelope: Envelope) -> None:
        auth_cache.apply(envelope)
        webhook_outbox.apply(envelope)

    def on_resync() -> None:
        # Instructions may have been missed while the bus was away.
        auth_cache.clear()
        webhook_outbox.forget()

    db = Database(engine, build_sessionmaker(engine), ControlTap(bus, on_control, on_resync))
    db.integration_listener = webhook_outbox
    gateway = Gateway(settings, db)
    services = Services(
        settings=settings,
        db=db,
        limiter=limiter,
        gateway=gateway,
        files=build_storage(settings),
        auth_cache=auth_cache,
    )

    async def session_still_valid(connection: Connection) -> bool:
        expires_at = await session_expiry(services, connection.session_token_hash)
        if expires_at is None:
            return False
        connection.session_expires_at = expires_at.timestamp()
        return True

    gateway.session_check = session_still_valid
    services.messengers[KIND_TELEGRAM] = TelegramChannel(services)
    services.messengers[KIND_VK] = VkChannel(services)
    services.messengers[KIND_WHATSAPP] = WhatsAppChannel(services)
    rooms_api.register_socket_commands(gateway, services)
    calls_api.register_socket_commands(gateway, services)
    requests_api.register_socket_commands(gateway, services)
    routing_api.register_socket_hooks(gateway, services)
    return services


async def _maintenance(services: Services) -> None:
    """Periodic upkeep: drop realtime events older than the resume window; let clients whose
    block ran out write again."""
    while True:
        try:
            cutoff = utcnow() - timedelta(hours=services.settings.event_retention_hours)
            async with services.db.transaction() as uow:
                await prune_events(uow.session, cutoff)
            await blocking_actions.end_expired_visitor_blocks(services)
        except Exception:
            log.exception("maintenance failed")
        await asyncio.sleep(MAINTENANCE_INTERVAL_SECONDS)


async def _roll_up_reports(services: Services) -> None:
    """Keep the reports' tallies up to date: the days marked as changed, a few at a time."""
    outage = OutageLog(log, "report roll-up")
    while True:
        try:
            while await roll_up(services) > 0:
                pass
        except Exception as exc:
            # The marks stay: the days are tallied again on the next round.
            outage.failed(exc)
        else:
            outage.succeeded()
        await asyncio.sleep(services.settings.report_roll_up_seconds)


async def _send_webhooks(services: Services) -> None:
    outbox = services.db.integration_listener
    assert isinstance(outbox, WebhookOutbox)
    await WebhookSender(services, outbox).run()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = build_services(settings)
        app.state.services = services
        app.state.health_checks = HealthChecks(settings.redis_url)
        await services.gateway.start()
        graceful_stop = GracefulStop(
            lambda: services.gateway.announce_restart(SOCKET_DRAIN_SECONDS)
        )
        graceful_stop.install()
        background = [
            asyncio.create_task(_maintenance(services), name="maintenance"),
            asyncio.create_task(run_timers(services), name="timers"),
            asyncio.create_task(run_deliveries(services, services.messengers), name="deliveries"),
            asyncio.create_task(_send_webhooks(services), name="webhooks"),
            asyncio.create_task(_roll_up_reports(services), name="report roll-up"),
            asyncio.create_task(heap.sweep_now_and_then(), name="heap sweep"),
        ]
        for messenger in services.messengers.values():
            await messenger.start()
        heap.settle_after_start()
        try:
            yield
        finally:
            graceful_stop.uninstall()
            for task in background:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            for messenger in services.messengers.values():
                await messenger.stop()
            await services.gateway.stop()
            if isinstance(services.limiter, RedisRateLimiter):
                await services.limiter.close()
            await services.db.close()
            await services.files.close()
            await app.state.health_checks.close()
            heap.release()
            worker_stopped()

    app = FastAPI(
        title="IMP — Instant Messaging Platform",
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/api/docs",
        redoc_url=None,
        openapi_tags=[
            {
                "name": integrations_api.PUBLIC_API_TAG,
                "description": integrations_api.PUBLIC_API_DESCRIPTION,
            }
        ],
    )
    install_error_handlers(app)
    # Innermost: lean routes answer inside every check and header the middleware below adds.
    app.add_middleware(
        LeanRoutes,
        routes=[*rooms_api.LEAN_ROUTES, *requests_api.LEAN_ROUTES, *widget_api.LEAN_ROUTES],
    )
    app.add_middleware(RefuseCrossSiteWrites, public_base_url=settings.public_base_url)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(
        realtime_routes.SocketEndpoints,
        handlers={
            "/ws": realtime_routes.employee_socket,
            "/ws/widget": widget_api.visitor_socket,
        },
    )
    # Outermost: the request id is set before anything else can log, and the time measured
    # is the whole answer's.
    app.add_middleware(ObserveRequests)
    for router in (
        accounts_api.router,
        accounts_api.admin_router,
        resources_api.router,
        resources_api.admin_router,
        rooms_api.router,
        requests_api.router,
        replies_api.router,
        tags_api.router,
        mentions_api.router,
        reports_api.router,
        tags_api.admin_router,
        blocking_api.admin_router,
        integrations_api.admin_router,
        integrations_api.public_router,
        routing_api.router,
        routing_api.admin_router,
        widget_api.router,
        widget_pages.router,
        telegram_api.router,
        vk_api.router,
        vk_api.admin_router,
        whatsapp_api.router,
        whatsapp_api.admin_router,
        calls_api.router,
        monitoring_router,
    ):
        app.include_router(router)

    @app.get("/api/health", tags=["service"])
    async def health() -> dict[str, str]:
        """Liveness: the process answers (restart it if not). Readiness is ``/api/ready``."""
        return {"status": "ok"}

    mount_workspace(app, settings.resolved_web_dist)
    return app
