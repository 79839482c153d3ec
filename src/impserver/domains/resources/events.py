from typing import Literal

from impserver.domains.resources.schemas import ResourceRead
from impserver.realtime.events import Event


class ResourcesUpdated(Event):
    """A resource or its queues changed: pickers and queue names refresh."""

    type: Literal["resources.updated"] = "resources.updated"
    resource: ResourceRead
