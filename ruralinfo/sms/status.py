"""The status of an outgoing message as a state machine.

queued → sending → sent → delivered, or undelivered / failed. A final state
is never left, and a late or out-of-order callback never moves a message back.
``unknown`` (a send that timed out) sits beside ``sending``: a callback or the
reconciliation moves it on.
"""
from __future__ import annotations

from ruralinfo.sms.models import DELIVERED, FAILED, QUEUED, SENDING, SENT, UNDELIVERED, UNKNOWN

RANK = {QUEUED: 0, SENDING: 1, UNKNOWN: 1, SENT: 2, DELIVERED: 3, UNDELIVERED: 3, FAILED: 3}
FINAL = frozenset({DELIVERED, UNDELIVERED, FAILED})

# Provider words (Twilio's, and the common ones) in ours.
PROVIDER = {
    "accepted": SENDING, "scheduled": SENDING, "queued": SENDING, "sending": SENDING,
    "sent": SENT, "delivered": DELIVERED, "read": DELIVERED,
    "undelivered": UNDELIVERED, "failed": FAILED, "canceled": FAILED,
}


def can_move(current: str, new: str) -> bool:
    """True when ``new`` is further along than ``current`` and ``current`` is not final."""
    if current in FINAL or new not in RANK:
        return False
    if current == UNKNOWN and new == SENDING:
        return True  # the provider confirms it has the message
    return RANK[new] > RANK[current]


def from_provider(word: str) -> str | None:
    return PROVIDER.get((word or "").strip().lower())
