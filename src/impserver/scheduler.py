"""Timers kept in the database, fired by a loop in every instance (each due row once)."""

from __future__ import annotations

import asyncio
import logging

from impserver.core.db import OutageLog
from impserver.domains.calls.actions import expire_unanswered
from impserver.domains.requests.actions import expire_topic_choices
from impserver.services import Services

log = logging.getLogger(__name__)


async def run_timers(services: Services) -> None:
    interval = services.settings.timer_interval_seconds
    outage = OutageLog(log, "timers")
    while True:
        try:
            while await expire_topic_choices(services) > 0:
                pass
            while await expire_unanswered(services) > 0:
                pass
        except Exception as exc:
            # A database hiccup must not stop the timers; the due rows are still there.
            outage.failed(exc)
        else:
            outage.succeeded()
        await asyncio.sleep(interval)
