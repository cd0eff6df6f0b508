"""Letters in the farmers' mailbox, and supply and demand posts."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ruralinfo.extensions import db
from ruralinfo.timeutil import now_utc

# Who a letter comes from / what it is.
PERSONAL, FROM_POINT, FROM_BUREAU, MATCH, ANSWER, SYSTEM = (
    "personal", "point", "bureau", "match", "answer", "system")
SELL, BUY = "sell", "buy"
OPEN, CLOSED = "open", "closed"
NEW, READ, ANSWERED, CLOSED_UNANSWERED = "new", "read", "answered", "closed"  # a letter to a point


class Letter(db.Model):
    """A real-name letter to a user or to a liaison point. Replies share the
    ``thread_id`` of the first letter."""

    __tablename__ = "letters"

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("letters.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default=PERSONAL)
    sender_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    sender_point_id: Mapped[int | None] = mapped_column(ForeignKey("liaison_points.id"))
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    recipient_point_id: Mapped[int | None] = mapped_column(ForeignKey("liaison_points.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(16), default="web")
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("sms_inbox.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now_utc, index=True)
    read_at: Mapped[datetime | None] = mapped_column(DateTime)
    # A letter to a liaison point is new, read, answered (the point wrote in its thread
    # after it) or closed without an answer, with the reason.
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    close_reason: Mapped[str] = mapped_column(String(200), default="", server_default="")
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # How many characters of the body went out by SMS (a long letter goes in parts: READ N).
    sms_sent_upto: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    sender = relationship("User", foreign_keys=[sender_id])
    recipient = relationship("User", foreign_keys=[recipient_id])
    sender_point = relationship("LiaisonPoint", foreign_keys=[sender_point_id])
    recipient_point = relationship("LiaisonPoint", foreign_keys=[recipient_point_id])

    @property
    def root_id(self) -> int:
        return self.thread_id or self.id

    @property
    def state(self) -> str:
        """``new``, ``read``, ``answered`` or ``closed`` (letters to a point)."""
        if self.answered_at is not None:
            return ANSWERED
        if self.closed_at is not None:
            return CLOSED_UNANSWERED
        return READ if self.read_at is not None else NEW


class Post(db.Model):
    """A supply (卖) or demand (买) post, as the farmer wrote it."""

    __tablename__ = "posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=OPEN, index=True)
    channel: Mapped[str] = mapped_column(String(16), default="web")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("sms_inbox.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now_utc, index=True)

    user = relationship("User", foreign_keys=[user_id])
