"""Timers kept in the database, fired by a loop in every instance (each due row once)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from impserver.core.db import OutageLog
from impserver.domains.calls.actions import expire_unanswered
from impserver.domains.requests.actions import expire_topic_choices
from impserver.domains.routing import actions as routing
from impserver.services import Services

log = logging.getLogger(__name__)


async def run_timers(services: Services) -> None:
    interval = services.settings.timer_interval_seconds
    # Often enough that a connected employee is never taken for gone.
    seen_every = min(30.0, services.settings.offline_grace_seconds / 3)
    last_seen_report = 0.0
    loop = asyncio.get_running_loop()
    outage = OutageLog(log, "timers")
    while True:
        services.routing_wanted.clear()
        try:
            while await expire_topic_choices(services) > 0:
                pass
            while await expire_unanswered(services) > 0:
                pass
            if loop.time() - last_seen_report >= seen_every:
                await routing.still_seen(services, services.gateway.employee_ids())
                last_seen_report = loop.time()
            while await routing.mark_gone_offline(services) > 0:
                pass
            while await routing.reassign_silent(services) > 0:
                pass
            while await routing.assign_next(services):
                pass
        except Exception as exc:
            # A database hiccup must not stop the timers; the due rows are still there.
            outage.failed(exc)
        else:
            outage.succeeded()
        # A request that may now be given out wakes the loop before its time.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(services.routing_wanted.wait(), interval)
