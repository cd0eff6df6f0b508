"""The embedded default backend: the outbox row is the message.

Nothing leaves the machine; the phone simulator and ``flask --app wsgi outbox``
show what would have been sent. Sending always succeeds at once.
"""
from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime

from ruralinfo.sms.gateways import SendResult, register
from ruralinfo.sms.models import SENT


class OutboxGateway:
    name = "outbox"

    def send(self, to: str, body: str, callback_url: str | None) -> SendResult:
        """Accept the text (the OutboundMessage row already holds it) with a local id."""
        return SendResult(provider_id=f"outbox-{uuid.uuid4().hex}", status=SENT)

    def find(self, to: str, body: str, since: datetime, *, exclude: Collection[str] = ()) -> SendResult | None:
        """Nothing is ever lost in flight here, so there is nothing to look up."""
        return None


def make(config) -> OutboxGateway:
    return OutboxGateway()


register("outbox", make)
