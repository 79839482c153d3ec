from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# "cobrowse": the client shares the page the widget runs on and the employee may act on it.
CallKind = Literal["voice", "video", "screen", "cobrowse"]


class CallRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    request_id: int
    kind: CallKind
    state: str
    outcome: str | None
    created_at: datetime
    connected_at: datetime | None
    ended_at: datetime | None


class CallInvite(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: CallKind


class CallConfig(BaseModel):
    """What a browser needs to set up the peer connection."""

    ice_servers: list[dict[str, Any]] = Field(default_factory=list)
