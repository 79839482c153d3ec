from typing import Any, Literal

from impserver.domains.calls.schemas import CallRead
from impserver.realtime.events import Event, RelayedEvent


class CallUpdated(Event):
    """The call's state changed; both parties receive it."""

    type: Literal["call.updated"] = "call.updated"
    call: CallRead


class CallSignal(RelayedEvent):
    """WebRTC signalling (offer, answer, ICE candidate), relayed to the other party only."""

    type: Literal["call.signal"] = "call.signal"
    call_id: int
    data: dict[str, Any]


class CobrowseFrames(RelayedEvent):
    """Recorded page changes from the client's browser, for the employee's replay window."""

    type: Literal["cobrowse.frames"] = "cobrowse.frames"
    call_id: int
    data: dict[str, Any]


class CobrowseControl(RelayedEvent):
    """An employee's action on the shared page (click, input, scroll, pointer), for the client."""

    type: Literal["cobrowse.control"] = "cobrowse.control"
    call_id: int
    data: dict[str, Any]
