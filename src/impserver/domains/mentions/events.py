from typing import Literal

from impserver.domains.mentions.schemas import MentionRead
from impserver.realtime.events import Event


class MentionCreated(Event):
    """Someone named the recipient in a message they may read."""

    type: Literal["mention.created"] = "mention.created"
    mention: MentionRead


class MentionsRead(Event):
    """The recipient read these mentions (in any of their tabs): the badge counts down."""

    type: Literal["mention.read"] = "mention.read"
    mention_ids: list[int]
