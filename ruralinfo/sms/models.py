"""Outgoing and incoming text messages, and the status callbacks received."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ruralinfo.extensions import db
from ruralinfo.timeutil import now_utc

# Status of an outgoing message (a state machine, see ruralinfo.sms.status).
QUEUED, SENDING, SENT, DELIVERED, UNDELIVERED, FAILED, UNKNOWN = (
    "queued", "sending", "sent", "delivered", "undelivered", "failed", "unknown")

# Why a message is sent: essential ones reach even people who opted out of broadcasts.
REPLY, OTP, LETTER, NOTICE, BROADCAST = "reply", "otp", "letter", "notice", "broadcast"
ESSENTIAL = (REPLY, OTP)


class OutboundMessage(db.Model):
    """One text to one phone. Written in the same transaction as whatever caused
    it, then handed to a gateway by a job."""

    __tablename__ = "sms_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    to: Mapped[str] = mapped_column(String(16), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    segments: Mapped[int] = mapped_column(Integer)
    encoding: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(16), index=True)
    cause: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(16), default=QUEUED, index=True)
    gateway: Mapped[str] = mapped_column(String(16), default="")
    provider_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now_utc, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=now_utc, onupdate=now_utc)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)

    user = relationship("User", foreign_keys=[user_id])


class InboundMessage(db.Model):
    """One text received. Stored before anything else is done with it; the
    unique provider id makes a repeated webhook a no-op that answers the same."""

    __tablename__ = "sms_inbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[str] = mapped_column(String(64), unique=True)
    gateway: Mapped[str] = mapped_column(String(16))
    from_phone: Mapped[str] = mapped_column(String(32), index=True)
    to: Mapped[str] = mapped_column(String(32), default="")
    body: Mapped[str] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    command: Mapped[str] = mapped_column(String(32), default="")
    reply: Mapped[str | None] = mapped_column(Text)
    handled_at: Mapped[datetime | None] = mapped_column(DateTime)
    error: Mapped[str] = mapped_column(String(255), default="")
    received_at: Mapped[datetime] = mapped_column(DateTime, default=now_utc, index=True)

    user = relationship("User", foreign_keys=[user_id])


class StatusEvent(db.Model):
    """Every status callback as received (the channel log), including the ones
    that could not move the message (late, out of order, unknown id)."""

    __tablename__ = "sms_status_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[str] = mapped_column(String(64), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("sms_outbox.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    error_code: Mapped[str] = mapped_column(String(16), default="")
    applied: Mapped[bool] = mapped_column(default=False)
    received_at: Mapped[datetime] = mapped_column(DateTime, default=now_utc)
