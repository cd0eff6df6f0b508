"""The hotline's menu: versions of the whole tree (edited as a draft, published as a
whole, earlier ones kept to restore) and their nodes — each with its key under its
parent, what is said, and what it does."""
from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ruralinfo.extensions import db
from ruralinfo.timeutil import now_utc

# A version's status: one draft at most is edited; one version is published (callers hear it).
DRAFT, PUBLISHED, RETIRED = "draft", "published", "retired"

# What a node does.
MENU = "menu"          # a sub-menu: its children, one key each
INFO = "info"          # reads its text, then back to its menu
NOTICES = "notices"    # reads the latest notices for the caller's region
MARKET = "market"      # reads the latest posts and asking prices for a product the caller names or picks
MAILBOX = "mailbox"    # reads the caller's unread letters
QUESTION = "question"  # records a question for its topic
CONNECT = "connect"    # rings the experts on duty for its topic
FAQ = "faq"            # the published answers of its topic, as a menu
ACTIONS = (MENU, INFO, NOTICES, MARKET, MAILBOX, QUESTION, CONNECT, FAQ)
NEEDS_TOPIC = (QUESTION, CONNECT, FAQ)


class MenuVersion(db.Model):
    __tablename__ = "hotline_menu_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(12), default=DRAFT, index=True)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now_utc)
    # who made and who published it: account ids, as in the audit log (no foreign key: the
    # shipped tree outlives any account)
    created_by_id: Mapped[int | None] = mapped_column(Integer)
    published_at: Mapped[datetime | None] = mapped_column(DateTime)
    published_by_id: Mapped[int | None] = mapped_column(Integer)

    nodes = relationship("MenuNode", back_populates="version", cascade="all, delete-orphan",
                         order_by="MenuNode.key")


class MenuNode(db.Model):
    """One place in the menu. The root has no parent and no key."""

    __tablename__ = "hotline_menu_nodes"
    __table_args__ = (UniqueConstraint("version_id", "parent_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("hotline_menu_versions.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("hotline_menu_nodes.id", ondelete="CASCADE"),
                                                  index=True)
    key: Mapped[str] = mapped_column(String(1), default="")  # "0"–"9"; "" for the root
    title_zh: Mapped[str] = mapped_column(String(40))
    title_en: Mapped[str] = mapped_column(String(80), default="")
    prompt_zh: Mapped[str] = mapped_column(Text, default="")  # said on arriving; a menu without one lists its keys
    prompt_en: Mapped[str] = mapped_column(Text, default="")
    text_zh: Mapped[str] = mapped_column(Text, default="")  # what an information node reads
    text_en: Mapped[str] = mapped_column(Text, default="")
    recording: Mapped[str] = mapped_column(String(200), default="")  # an uploaded recording, played instead
    action: Mapped[str] = mapped_column(String(12), default=MENU)
    topic: Mapped[str] = mapped_column(String(32), default="")  # for questions, experts, answers
    position: Mapped[int] = mapped_column(Integer, default=0)

    version = relationship("MenuVersion", back_populates="nodes")
    parent = relationship("MenuNode", remote_side=[id], back_populates="children")
    children = relationship("MenuNode", back_populates="parent", order_by="MenuNode.key",
                            cascade="all, delete-orphan")

    def title(self, language: str) -> str:
        return (self.title_en or self.title_zh) if language == "en" else self.title_zh

    def prompt(self, language: str) -> str:
        return (self.prompt_en or self.prompt_zh) if language == "en" else self.prompt_zh

    def text(self, language: str) -> str:
        return (self.text_en or self.text_zh) if language == "en" else self.text_zh


# --- calls -------------------------------------------------------------------------------

# Where a call ended (its outcome, beside Twilio's own CallStatus).
IN_MENU, HUNG_UP, QUESTION_LEFT, CONNECTED, MISSED, CALLED_BACK = (
    "menu", "hung-up", "question", "connected", "missed", "callback")
INBOUND, CALLBACK = "inbound", "callback"  # a farmer calling in / the platform ringing an expert, then the farmer


class Call(db.Model):
    """One call to the hotline (or a call-back from the console): who, where in the menu
    they are now, the path they took, how long and how it ended."""

    __tablename__ = "hotline_calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)
    direction: Mapped[str] = mapped_column(String(10), default=INBOUND)
    from_phone: Mapped[str] = mapped_column(String(32), default="")
    to_phone: Mapped[str] = mapped_column(String(32), default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)  # a registered caller
    language: Mapped[str] = mapped_column(String(5), default="zh")
    version_id: Mapped[int | None] = mapped_column(Integer)  # the menu version heard (kept when retired)
    node_id: Mapped[int | None] = mapped_column(Integer)  # where the caller is now
    silences: Mapped[int] = mapped_column(Integer, default=0)  # keys missed in a row here
    steps: Mapped[int] = mapped_column(Integer, default=0)  # steps answered so far
    path: Mapped[str] = mapped_column(String(500), default="")  # keys pressed (and words said), in order
    topic: Mapped[str] = mapped_column(String(32), default="")  # the last topic reached
    status: Mapped[str] = mapped_column(String(16), default="in-progress")  # Twilio's CallStatus
    outcome: Mapped[str] = mapped_column(String(16), default=IN_MENU)
    question_id: Mapped[int | None] = mapped_column(Integer)  # a call-back: the question it is about
    expert_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # who took it / called back
    started_at: Mapped[datetime] = mapped_column(DateTime, default=now_utc, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
    duration: Mapped[int | None] = mapped_column(Integer)  # seconds, from Twilio's status callback

    user = relationship("User", foreign_keys=[user_id])
    expert = relationship("User", foreign_keys=[expert_id])


class CallStep(db.Model):
    """The answer given to step ``number`` of a call, kept so that a repeated request for
    the same step (Twilio retrying) gets the same answer and changes nothing twice."""

    __tablename__ = "hotline_call_steps"
    __table_args__ = (UniqueConstraint("call_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("hotline_calls.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    response: Mapped[str] = mapped_column(Text)  # what the driver rendered (TwiML, VoiceXML …)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now_utc)


class Recording(db.Model):
    """A recording: a question or a spoken reply. Twilio's (``url``, fetched through the
    app with the account's credentials, never shown to a browser) or kept here (``file``,
    under the instance folder: the call simulator's, or a prompt uploaded for the menu)."""

    __tablename__ = "hotline_recordings"

    id: Mapped[int] = mapped_column(primary_key=True)
    sid: Mapped[str] = mapped_column(String(64), unique=True)  # RecordingSid: a repeated callback finds it
    url: Mapped[str] = mapped_column(String(300), default="")
    file: Mapped[str] = mapped_column(String(200), default="")
    content_type: Mapped[str] = mapped_column(String(40), default="audio/mpeg")
    seconds: Mapped[int] = mapped_column(Integer, default=0)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("hotline_calls.id"), index=True)
    transcript: Mapped[str] = mapped_column(Text, default="")  # typed in the simulator, or recognised
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now_utc)


# --- questions ---------------------------------------------------------------------------

VOICE, SMS, WEB = "voice", "sms", "web"  # how a question came
WAITING, CLAIMED, ANSWERED = "waiting", "claimed", "answered"  # where it is
SATISFIED, UNSATISFIED = 1, 2  # the farmer's answer to "did it help?"


class Question(db.Model):
    """A farmer's question to the experts, whichever way it came, with its answer."""

    __tablename__ = "hotline_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(String(32), index=True)
    channel: Mapped[str] = mapped_column(String(8))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)  # None: a caller not registered
    phone: Mapped[str] = mapped_column(String(32), default="")  # where the answer goes by SMS
    language: Mapped[str] = mapped_column(String(5), default="zh")
    text: Mapped[str] = mapped_column(Text, default="")
    recording_id: Mapped[int | None] = mapped_column(ForeignKey("hotline_recordings.id"), unique=True)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("hotline_calls.id"), index=True)
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("sms_inbox.id"), unique=True)  # an ASK text: once
    status: Mapped[str] = mapped_column(String(10), default=WAITING, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now_utc, index=True)
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime)
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)
    letter_id: Mapped[int | None] = mapped_column(Integer)  # the answer in the farmer's mailbox
    rating_asked_at: Mapped[datetime | None] = mapped_column(DateTime)
    rating: Mapped[int | None] = mapped_column(Integer)  # SATISFIED or UNSATISFIED
    rated_at: Mapped[datetime | None] = mapped_column(DateTime)

    user = relationship("User", foreign_keys=[user_id])
    claimed_by = relationship("User", foreign_keys=[claimed_by_id])
    answered_by = relationship("User", foreign_keys=[answered_by_id])
    recording = relationship("Recording")


class PublishedAnswer(db.Model):
    """A question rewritten for everyone, with its answer: heard under its topic's
    常见问题 menu and read on the public answers page."""

    __tablename__ = "hotline_published_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(String(32), index=True)
    question_zh: Mapped[str] = mapped_column(String(300))
    answer_zh: Mapped[str] = mapped_column(Text)
    question_en: Mapped[str] = mapped_column(String(300), default="")
    answer_en: Mapped[str] = mapped_column(Text, default="")
    question_id: Mapped[int | None] = mapped_column(ForeignKey("hotline_questions.id"), index=True)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime] = mapped_column(DateTime, default=now_utc, index=True)
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime)  # no longer heard nor shown

    def question(self, language: str) -> str:
        return (self.question_en or self.question_zh) if language == "en" else self.question_zh

    def text(self, language: str) -> str:
        return (self.answer_en or self.answer_zh) if language == "en" else self.answer_zh


class DutyShift(db.Model):
    """An expert covers a topic on some weekdays between two local times (``ends`` before
    ``starts``: across midnight)."""

    __tablename__ = "hotline_duty_shifts"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    topic: Mapped[str] = mapped_column(String(32), index=True)
    weekdays: Mapped[str] = mapped_column(String(7), default="01234")  # Monday = 0
    starts: Mapped[time] = mapped_column(Time)
    ends: Mapped[time] = mapped_column(Time)

    user = relationship("User")
