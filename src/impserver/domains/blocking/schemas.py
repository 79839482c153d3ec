from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel

BlockPeriod = Literal["1d", "7d", "30d", "forever"]

PERIODS: dict[str, timedelta | None] = {
    "1d": timedelta(days=1),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "forever": None,
}
# Addresses are shared (mobile carriers, offices): their part is short unless chosen otherwise.
DEFAULT_ADDRESS_PERIOD: BlockPeriod = "1d"
DEFAULT_CLIENT_PERIOD: BlockPeriod = "forever"


class BlockPartRead(BaseModel):
    id: int
    part: str
    value: str
    until: datetime | None
    refused: int
    active: bool


class BlockRead(BaseModel):
    """A blocked client as the administrators' block list shows them (``id`` is the client's)."""

    id: int
    display_name: str
    resource_name: str
    blocked_at: datetime | None
    blocked_by: str | None
    reason: str
    parts: list[BlockPartRead]
