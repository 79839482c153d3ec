"""Every table, imported in one place for migrations and schema creation."""

from impserver.channels.models import ChannelDelivery, ChannelReceipt
from impserver.channels.whatsapp.models import WhatsAppSent, WhatsAppTemplateSend
from impserver.core.db import Base
from impserver.domains.accounts.models import Employee, EmployeeSession
from impserver.domains.blocking.models import BlockPart
from impserver.domains.calls.models import Call
from impserver.domains.clients.models import Client, Contact
from impserver.domains.integrations.models import ApiToken, Webhook, WebhookDelivery
from impserver.domains.mentions.models import Mention
from impserver.domains.ratings.models import Rating
from impserver.domains.replies.models import CannedReply
from impserver.domains.reports.models import ReportChange, ReportTally
from impserver.domains.requests.models import ClientRequest, RequestDecline, RequestTransition
from impserver.domains.resources.models import Group, GroupMember, Queue, QueueAccess, Resource
from impserver.domains.rooms.models import Attachment, Message, Room, RoomMember
from impserver.domains.routing.models import (
    Availability,
    BusinessHours,
    QueueRouting,
    RoutingDefaults,
)
from impserver.domains.tags.models import RequestTag, Tag
from impserver.realtime.outbox import StoredEvent, StoredEventRecipient

__all__ = [
    "ApiToken",
    "Attachment",
    "Availability",
    "Base",
    "BlockPart",
    "BusinessHours",
    "Call",
    "CannedReply",
    "ChannelDelivery",
    "ChannelReceipt",
    "Client",
    "ClientRequest",
    "Contact",
    "Employee",
    "EmployeeSession",
    "Group",
    "GroupMember",
    "Mention",
    "Message",
    "Queue",
    "QueueAccess",
    "QueueRouting",
    "Rating",
    "ReportChange",
    "ReportTally",
    "RequestDecline",
    "RequestTag",
    "RequestTransition",
    "Resource",
    "Room",
    "RoomMember",
    "RoutingDefaults",
    "StoredEvent",
    "StoredEventRecipient",
    "Tag",
    "Webhook",
    "WebhookDelivery",
    "WhatsAppSent",
    "WhatsAppTemplateSend",
]
