"""How the server logs: plain text for people or one JSON object a line for log collectors, and
the id of the HTTP request each line was written during, so one request's lines can be found."""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS

from impserver.core.config import Settings

# The request being served in this task; empty outside a request (start-up, timers, sockets).
current_request_id: ContextVar[str] = ContextVar("current_request_id", default="")

# An incoming X-Request-ID is kept (a load balancer's id ties its log to ours) only when it looks
# like an id: anything else could forge log lines or bloat every line of the request.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")


def request_id_from(header_value: str | None) -> str:
    """The caller's request id when it is a sane one, otherwise a new one."""
    if header_value and _SANE_REQUEST_ID.fullmatch(header_value):
        return header_value
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on every record (the handlers' formats show it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = current_request_id.get()
        record.request_id = request_id
        record.request_tag = f" [{request_id}]" if request_id else ""
        return True


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s%(request_tag)s: %(message)s"
JSON_FIELDS = "%(levelname)s %(name)s %(message)s %(request_id)s"
# Attributes of a record that are not fields of a JSON line: the text format's decoration, and
# uvicorn's coloured copy of its message.
NOT_JSON_FIELDS = [*RESERVED_ATTRS, "request_tag", "color_message"]


def logging_config(settings: Settings) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for the whole process: IMP's loggers and uvicorn's.

    uvicorn applies it in every worker process too (each configures logging anew).
    """
    if settings.log_format == "json":
        formatter: dict[str, Any] = {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": JSON_FIELDS,
            "rename_fields": {"levelname": "level", "name": "logger"},
            "reserved_attrs": NOT_JSON_FIELDS,
            # ISO 8601, in UTC.
            "timestamp": "time",
        }
    else:
        formatter = {"format": TEXT_FORMAT}
    handler = {
        "class": "logging.StreamHandler",
        "formatter": "imp",
        "filters": ["request_id"],
        "stream": "ext://sys.stderr",
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "impserver.core.logs.RequestIdFilter"}},
        "formatters": {"imp": formatter},
        "handlers": {"imp": handler},
        "root": {"handlers": ["imp"], "level": "INFO"},
        # uvicorn's loggers write through the root's handler, so they share its format.
        "loggers": {
            name: {"handlers": [], "level": "INFO", "propagate": True}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
        },
    }
