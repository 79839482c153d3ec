from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, StrictInt, StrictStr

from impserver.realtime.gateway import SocketCommand

# "cobrowse": the client shares the page the widget runs on and the employee may act on it.
CallKind = Literal["voice", "video", "screen", "cobrowse"]


class CallRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    request_id: int
    kind: CallKind
    state: str
    # "client": the client called (the employee answers); "employee": the employee invited.
    started_by: Literal["employee", "client"] = "employee"
    # During a voice or video call: the employee asked to see the client's screen ("asked"), or
    # the client shows it ("on") on the call's own connection.
    screen: Literal["asked", "on"] | None = None
    outcome: str | None
    created_at: datetime
    connected_at: datetime | None
    ended_at: datetime | None


class CallInvite(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: CallKind


class ClientCallStart(BaseModel):
    """A client calls the employee serving their request: by voice or by video."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["voice", "video"]


class CallAnswer(BaseModel):
    """The employee's answer to a client's call."""

    model_config = ConfigDict(extra="forbid")
    response: Literal["accept", "decline"]


class EmployeeScreenAction(BaseModel):
    """The employee asks to see the client's screen during the call, or stops seeing it."""

    model_config = ConfigDict(extra="forbid")
    action: Literal["ask", "stop"]


class ClientScreenAction(BaseModel):
    """The client shows their screen during the call (asked or not), declines, or stops."""

    model_config = ConfigDict(extra="forbid")
    action: Literal["share", "decline", "stop"]


class CallConfig(BaseModel):
    """What a browser needs to set up the peer connection."""

    ice_servers: list[dict[str, Any]] = Field(default_factory=list)


# -- socket commands (realtime/gateway.py checks each frame against its schema) ----------------

# Coordinates and scroll steps on a page: far beyond any screen, but never a huge number.
PageOffset = Annotated[StrictInt, Field(ge=-(10**7), le=10**7)]


class CallSignalCommand(SocketCommand):
    """WebRTC signalling for the other party: an offer, an answer or an ICE candidate."""

    refusal: ClassVar[str] = "call.signal needs call_id and data."
    type: Literal["call.signal"]
    call_id: StrictInt
    data: dict[str, JsonValue]


class CobrowseFramesData(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    # rrweb's recorded events, passed on as they are: the employee's replayer reads them.
    events: list[dict[str, Any]] = Field(max_length=10_000)


class CobrowseFramesCommand(SocketCommand):
    """A batch of page changes recorded in the client's page, for the employee's window."""

    refusal: ClassVar[str] = "cobrowse.frames needs call_id and data with events."
    type: Literal["cobrowse.frames"]
    call_id: StrictInt
    data: CobrowseFramesData


class CobrowseControlData(BaseModel):
    """What the employee does on the shared page; the client's page carries it out
    (web/src/widget/cobrowse.ts)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    action: Literal["click", "input", "scroll", "pointer", "snapshot"]
    # rrweb's id of the page element clicked or typed into.
    id: Annotated[StrictInt, Field(ge=0, le=2**31 - 1)] | None = None
    # Any text, half an emoji included (what a backspace leaves of one): the frame's own size
    # limit bounds it, and relayed frames are always encodable (realtime/outbox.render_frame).
    value: StrictStr | None = None
    dx: PageOffset | None = None
    dy: PageOffset | None = None
    x: PageOffset | None = None
    y: PageOffset | None = None


class CobrowseControlCommand(SocketCommand):
    refusal: ClassVar[str] = "cobrowse.control needs call_id and data with an action."
    type: Literal["cobrowse.control"]
    call_id: StrictInt
    data: CobrowseControlData
