"""Envelopes on the bus: one per message, or a transaction's several in one."""

from __future__ import annotations

from impserver.realtime.outbox import Envelope


def test_a_bus_message_carries_one_envelope_or_several_in_order() -> None:
    message = Envelope(("e:1", "v:2"), '{"id":5,"type":"message.created"}', 5)
    control = Envelope(("e:1",), control="revoke:all")
    lane = Envelope(("e:3",), '{"type":"cobrowse.frames"}', lane="cobrowse:9")
    assert Envelope.decode_all(message.encode()) == [message]
    assert Envelope.decode_all(Envelope.encode_all([message, control, lane])) == [
        message,
        control,
        lane,
    ]
