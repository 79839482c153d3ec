from typing import Literal

from impserver.realtime.events import Event


class WebhookDisabled(Event):
    """To administrators: a webhook's deliveries kept failing, so it was switched off."""

    type: Literal["webhook.disabled"] = "webhook.disabled"
    webhook_id: int
    url: str
    failures: int
