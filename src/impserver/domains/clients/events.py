from typing import Literal

from impserver.domains.clients.schemas import ClientRead
from impserver.realtime.events import Event


class ClientUpdated(Event):
    type: Literal["client.updated"] = "client.updated"
    client: ClientRead
