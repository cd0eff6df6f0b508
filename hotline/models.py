"""The hotline's menu: versions of the whole tree (edited as a draft, published as a
whole, earlier ones kept to restore) and their nodes — each with its key under its
parent, what is said, and what it does."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
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
