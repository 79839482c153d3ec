from typing import Any, Literal

from impserver.domains.calls.schemas import CallRead
from impserver.realtime.events import Event


class CallUpdated(Event):
    """The call's state changed; both parties receive it."""

    type: Literal["call.updated"] = "call.updated"
    call: CallRead


class CallSignal(Event):
    """WebRTC signalling (offer, answer, ICE candidate), relayed to the other party only."""

    type: Literal["call.signal"] = "call.signal"
    call_id: int
    data: dict[str, Any]
