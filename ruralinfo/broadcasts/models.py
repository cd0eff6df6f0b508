"""Broadcasts of agricultural notices: the topics they are about, the notice itself
with whom it is for, and its recipients, planned once as rows."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ruralinfo.extensions import db
from ruralinfo.timeutil import now_utc

# A broadcast's status (the API speaks these words too).
DRAFT, PENDING_APPROVAL, SCHEDULED, SENDING, PAUSED, DONE, CANCELLED = (
    "draft", "pending_approval", "scheduled", "sending", "paused", "done", "cancelled")
# A recipient's state before and besides its text's own status in the outbox.
PLANNED, OPTED_OUT, LEFT_TOPIC, QUEUED_TEXT = "planned", "opted_out", "left_topic", "queued"


class Topic(db.Model):
    """What a broadcast is about (天气, 病虫害 …): farmers can leave or join one."""

    __tablename__ = "broadcast_topics"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(32), unique=True)  # weather, pests …: for the API and STOP words
    name_zh: Mapped[str] = mapped_column(String(20), unique=True)
    name_en: Mapped[str] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def label(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_zh


class TopicOptOut(db.Model):
    """A person who left one topic (``退订 价格``): no notices of it until they join it
    again. Each change is also in the audit log, with its time: the proof of consent."""

    __tablename__ = "broadcast_topic_optouts"
    __table_args__ = (UniqueConstraint("user_id", "topic_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    topic_id: Mapped[int] = mapped_column(ForeignKey("broadcast_topics.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=now_utc)


class Broadcast(db.Model):
    """One notice to many: its text in Chinese (and English), its topic, whom it is
    for (``audience``, as chosen: see ``ruralinfo.broadcasts.audience``), and when."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    body_en: Mapped[str] = mapped_column(Text, default="")
    topic_id: Mapped[int] = mapped_column(ForeignKey("broadcast_topics.id"), index=True)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    audience: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default=DRAFT, index=True)
    send_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now_utc, index=True)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime)
    planned_at: Mapped[datetime | None] = mapped_column(DateTime)
    recipient_count: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime)  # a sender is at work until then
    # A sign-up (会议通知报名): the answers offered, numbered 1, 2 … in order (``["报名", "不参加"]``),
    # or none with ``free_reply`` for an answer in the farmer's words; open until ``replies_close_at``.
    reply_options: Mapped[list] = mapped_column(JSON, default=list)
    free_reply: Mapped[bool] = mapped_column(Boolean, default=False)
    replies_close_at: Mapped[datetime | None] = mapped_column(DateTime)
    # A reminder to those who have not answered: its answers count for the sign-up it reminds of.
    reminder_of_id: Mapped[int | None] = mapped_column(ForeignKey("broadcasts.id"))

    topic = relationship("Topic")
    created_by = relationship("User", foreign_keys=[created_by_id])
    approved_by = relationship("User", foreign_keys=[approved_by_id])

    @property
    def asks_reply(self) -> bool:
        return bool(self.reply_options) or self.free_reply


class Recipient(db.Model):
    """One phone a broadcast goes to: planned in one statement for all of them, then
    sent in batches. A person reached twice by the rules, or two rules naming one
    phone, is one row (unique per broadcast and phone)."""

    __tablename__ = "broadcast_recipients"
    # Found by (broadcast, phone) and, once it has one, by its text; never by account (a
    # million-row plan writes no index it does not need).
    __table_args__ = (UniqueConstraint("broadcast_id", "phone"),
                      Index("ix_broadcast_recipients_message_id", "message_id",
                            postgresql_where=text("message_id IS NOT NULL"),
                            sqlite_where=text("message_id IS NOT NULL")))

    id: Mapped[int] = mapped_column(primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcasts.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    phone: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(5), default="zh")
    state: Mapped[str] = mapped_column(String(16), default=PLANNED)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("sms_outbox.id"))
    held_until: Mapped[datetime | None] = mapped_column(DateTime)  # had today's routine notices: waits till then


class Reply(db.Model):
    """A recipient's answer to a sign-up: the option chosen (1, 2 …) or their own words.
    One per broadcast and phone: a later answer replaces the earlier one (a farmer may
    change their mind until sign-up closes)."""

    __tablename__ = "broadcast_replies"
    __table_args__ = (UniqueConstraint("broadcast_id", "phone"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcasts.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    phone: Mapped[str] = mapped_column(String(16))
    choice: Mapped[int | None] = mapped_column(Integer)  # 1-based option number; None for a free answer
    answer: Mapped[str] = mapped_column(String(160), default="")  # as the farmer wrote it
    channel: Mapped[str] = mapped_column(String(10), default="sms")
    at: Mapped[datetime] = mapped_column(DateTime, default=now_utc)


class Template(db.Model):
    """A reusable notice (frost warning, pest alert, meeting notice …): the bureau picks
    one and edits it. ``{name}`` and ``{village}`` are filled in for each recipient."""

    __tablename__ = "broadcast_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(40), unique=True)
    name_en: Mapped[str] = mapped_column(String(80))
    topic_id: Mapped[int] = mapped_column(ForeignKey("broadcast_topics.id"))
    body: Mapped[str] = mapped_column(Text)
    body_en: Mapped[str] = mapped_column(Text, default="")
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    reply_options: Mapped[list] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    topic = relationship("Topic")

    def label(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_zh
