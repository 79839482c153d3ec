from typing import Literal

from impserver.domains.accounts.schemas import MeRead, SummaryRead
from impserver.realtime.events import Event


class MeUpdated(Event):
    """The employee's own profile or preferences changed (e.g. in another tab)."""

    type: Literal["me.updated"] = "me.updated"
    employee: MeRead


class AccessUpdated(Event):
    """The set of queues the employee serves changed."""

    type: Literal["access.updated"] = "access.updated"
    queue_ids: list[int]


class SummaryUpdated(Event):
    type: Literal["summary.updated"] = "summary.updated"
    summary: SummaryRead
