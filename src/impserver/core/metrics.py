"""The instance's Prometheus figures: counted where things happen, exposed at ``/metrics``.

With ``IMP_WORKERS`` above 1 the workers share one port, so a scrape reaches whichever worker
accepts it; ``imp run`` then sets ``PROMETHEUS_MULTIPROC_DIR`` and prometheus_client's
multiprocess mode adds up every worker's figures in each scrape (counters and histograms summed,
open sockets and pool connections summed over the live workers). Separate instances (one per port
or machine) are scraped one by one, as usual.
"""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.registry import Collector
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

# The *_created series (when each counter started) double the output for little use.
disable_created_metrics()

HTTP_REQUESTS = Counter(
    "imp_http_requests",
    "HTTP requests answered, by route template (not the raw path) and status",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "imp_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by route template",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
SOCKETS_OPEN = Gauge(
    "imp_sockets_open",
    "Realtime sockets open: employee (workspace tabs) and visitor (widgets)",
    ["kind"],
    multiprocess_mode="livesum",
)
EVENTS_PUBLISHED = Counter(
    "imp_events_published",
    "Events this instance published on the event bus: durable (stored, resumable) or ephemeral",
    ["kind"],
)
EVENTS_DELIVERED = Counter(
    "imp_events_delivered",
    "Event frames handed to this instance's sockets (one per receiving socket)",
)
CHANNEL_DELIVERIES = Counter(
    "imp_channel_deliveries",
    "Attempts to deliver messages to messenger clients, by channel and outcome "
    "(sent, retry: to be tried again, failed: given up and marked on the message)",
    ["channel", "outcome"],
)
DATABASE_CONNECTIONS_IN_USE = Gauge(
    "imp_database_pool_connections_in_use",
    "Database connections checked out of the pool",
    multiprocess_mode="livesum",
)
DATABASE_CONNECTIONS_OPEN = Gauge(
    "imp_database_pool_connections_open",
    "Database connections the pool holds open (in use or idle)",
    multiprocess_mode="livesum",
)

SOCKET_KINDS = ("employee", "visitor")
for _kind in SOCKET_KINDS:
    SOCKETS_OPEN.labels(_kind)  # shown as 0 rather than missing before the first socket


def socket_kind(*, employee: bool) -> str:
    return "employee" if employee else "visitor"


def watch_pool(engine: AsyncEngine) -> None:
    """Follow the engine's pool in the connection gauges."""
    pool = engine.sync_engine.pool
    event.listen(pool, "connect", lambda *_: DATABASE_CONNECTIONS_OPEN.inc())
    event.listen(pool, "close", lambda *_: DATABASE_CONNECTIONS_OPEN.dec())
    event.listen(pool, "checkout", lambda *_: DATABASE_CONNECTIONS_IN_USE.inc())
    event.listen(pool, "checkin", lambda *_: DATABASE_CONNECTIONS_IN_USE.dec())


def multiprocess_mode() -> bool:
    return bool(os.environ.get(MULTIPROCESS_DIR_VARIABLE))


def worker_stopped() -> None:
    """A worker leaving on its own takes its live gauges (open sockets, pool) out of the sum."""
    if multiprocess_mode():
        multiprocess.mark_process_dead(os.getpid())


def exposition(*scrape_time: Collector) -> bytes:
    """The text a scrape gets: the counted figures (every worker's, in multiprocess mode) and
    those measured now (``scrape_time``: figures of the database, the same for every worker)."""
    registry = CollectorRegistry(auto_describe=True)
    for collector in scrape_time:
        registry.register(collector)
    if multiprocess_mode():
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY) + generate_latest(registry)


class Figures(Collector):
    """Figures measured for one scrape, handed over ready-made (the collector protocol is
    synchronous; the database is asked beforehand, asynchronously)."""

    def __init__(self, families: list[Any]) -> None:
        self.families = families

    def collect(self) -> Any:
        return iter(self.families)
