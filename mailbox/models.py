"""Letters in the farmers' mailbox, and supply and demand posts."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import DateTime, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy import false as sa_false
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ruralinfo.extensions import db
from ruralinfo.regions.models import CodeType
from ruralinfo.timeutil import now_utc

# Who a letter comes from / what it is.
PERSONAL, FROM_POINT, FROM_BUREAU, MATCH, ANSWER, SYSTEM = (
    "personal", "point", "bureau", "match", "answer", "system")
SELL, BUY = "sell", "buy"
OPEN, CLOSED = "open", "closed"
TRADED, WITHDRAWN, EXPIRED = "traded", "withdrawn", "expired"  # how a post ended
PUBLISHED, HELD, REJECTED, HIDDEN = "published", "held", "rejected", "hidden"  # a post's moderation
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
    # A reply spoken on the hotline: its recording (the hotline's, heard through the app).
    recording_id: Mapped[int | None] = mapped_column(Integer)

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
    """A supply (卖) or demand (买) post: the text as the farmer wrote it, and how it
    was understood (``mailbox.post_parsing``) — product, quantity and price, with
    weights in 公斤 and weight prices in 元/公斤 so that posts compare. Its place is
    the farmer's village when it was posted."""

    __tablename__ = "posts"
    __table_args__ = (Index("ix_posts_matching", "product_id", "kind", "status",  # what matching reads (PostgreSQL)
                            postgresql_include=["expires_at", "user_id", "region_code", "base_price",
                                                "base_price_unit", "base_quantity", "base_unit", "created_at", "id",
                                                "moderation"]),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=OPEN, index=True)
    channel: Mapped[str] = mapped_column(String(16), default="web")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("sms_inbox.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now_utc, index=True)

    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"), index=True)  # None: unclassified
    notes: Mapped[str] = mapped_column(String(500), default="", server_default="")
    quantity: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    unit: Mapped[str | None] = mapped_column(String(8))
    base_quantity: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    base_unit: Mapped[str | None] = mapped_column(String(8))
    price: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))
    price_unit: Mapped[str | None] = mapped_column(String(8))
    base_price: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))
    negotiable: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    region_code: Mapped[str | None] = mapped_column(CodeType(), ForeignKey("regions.code"), index=True)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    base_price_unit: Mapped[str | None] = mapped_column(String(8))  # what base_price is per (公斤, 株 …)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("product_categories.id"), index=True)  # 买 水果
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    outcome: Mapped[str] = mapped_column(String(16), default="", server_default="")  # TRADED | WITHDRAWN | EXPIRED
    expiry_warned_at: Mapped[datetime | None] = mapped_column(DateTime)
    moderation: Mapped[str] = mapped_column(String(16), default=PUBLISHED, server_default=PUBLISHED, index=True)
    review_reason: Mapped[str] = mapped_column(String(200), default="", server_default="")
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime)

    user = relationship("User", foreign_keys=[user_id])
    product = relationship("Product", foreign_keys=[product_id])
    category = relationship("ProductCategory", foreign_keys=[category_id])
    # Set when the post is made (not stored): how many posts match it, and the best ones.
    matches_found = 0
    best_matches: tuple = ()
    place_names = None  # dict: its township's and village's names, when read with it
    region = relationship("Region", foreign_keys=[region_code])


class ProductCategory(db.Model):
    """A market category farmers and buyers think in (水果, 蔬菜, 农资 …): what
    ``买 水果`` asks for."""

    __tablename__ = "product_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(40), unique=True)
    name_en: Mapped[str] = mapped_column(String(60))
    synonyms: Mapped[str] = mapped_column(String(200), default="")  # ";"-separated

    def label(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_zh


class Product(db.Model):
    """A product of the taxonomy (NY/T 3177-2018 codes, extended where it has none),
    or one of its inner nodes (``unit`` empty: not posted, only a parent)."""

    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    parent_code: Mapped[str | None] = mapped_column(String(16), index=True)
    name_zh: Mapped[str] = mapped_column(String(40))
    name_en: Mapped[str] = mapped_column(String(80))
    pinyin: Mapped[str] = mapped_column(String(120), index=True)  # "tudou"
    initials: Mapped[str] = mapped_column(String(40), index=True)  # "td"
    unit: Mapped[str] = mapped_column(String(8), default="")
    category_id: Mapped[int | None] = mapped_column(ForeignKey("product_categories.id"), index=True)
    extended: Mapped[bool] = mapped_column(default=False)  # our own code, not from NY/T 3177
    active: Mapped[bool] = mapped_column(default=True)  # retired products keep their posts
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))

    category = relationship("ProductCategory")
    words = relationship("ProductWord", back_populates="product", cascade="all, delete-orphan",
                         order_by="ProductWord.id")

    @property
    def is_product(self) -> bool:
        return bool(self.unit)

    def label(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_zh


class ProductWord(db.Model):
    """A word that names a product: its name, a synonym or local name (洋芋 for 土豆).
    A word names one product only."""

    __tablename__ = "product_words"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    word: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(8), default="synonym")  # name | synonym | english

    product = relationship("Product", back_populates="words")


class PostMatch(db.Model):
    """A match found for a new post (``post``): an open post of the other side
    (``match``), its rank, and whether its owner was told (a letter, and a text
    within the daily limit). One row a pair: nobody is told twice about one match.
    ``user_id`` is the owner of ``match``, the person told: their texts of the day are
    counted by it, in a short index range however many matches the county makes."""

    __tablename__ = "post_matches"
    __table_args__ = (UniqueConstraint("post_id", "match_id"),
                      # the texts of the day, by whom they went to: a few rows a person, however many matches
                      # (the condition written as SQLAlchemy writes `.where(texted)` on each engine)
                      Index("ix_post_matches_texted", "user_id", "created_at", postgresql_where=sql_text("texted"),
                            sqlite_where=sql_text("texted = 1")))

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"))
    match_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    rank: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now_utc, index=True)
    letter_id: Mapped[int | None] = mapped_column(ForeignKey("letters.id"))
    texted: Mapped[bool] = mapped_column(default=False)

    post = relationship("Post", foreign_keys=[post_id])
    match = relationship("Post", foreign_keys=[match_id])


PENDING, AGREED, LAPSED = "pending", "agreed", "lapsed"  # a contact request


class ContactRequest(db.Model):
    """Someone asks for contact about a post. Nobody's number is shown until the
    owner agrees (同意 N); then both get each other's name and number."""

    __tablename__ = "contact_requests"
    __table_args__ = (UniqueConstraint("post_id", "requester_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"))
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    channel: Mapped[str] = mapped_column(String(16), default="sms")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now_utc, index=True)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)
    followed_up_at: Mapped[datetime | None] = mapped_column(DateTime)

    post = relationship("Post")
    requester = relationship("User", foreign_keys=[requester_id])
    owner = relationship("User", foreign_keys=[owner_id])


class Deal(db.Model):
    """A trade someone reported (成交 N, optionally with quantity and price)."""

    __tablename__ = "deals"
    __table_args__ = (UniqueConstraint("post_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact_requests.id"))
    quantity: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    unit: Mapped[str | None] = mapped_column(String(8))
    price: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))
    price_unit: Mapped[str | None] = mapped_column(String(8))
    channel: Mapped[str] = mapped_column(String(16), default="sms")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now_utc, index=True)


class Follow(db.Model):
    """关注 X: a person wants a text when a new post for product X appears in their county."""

    __tablename__ = "follows"
    __table_args__ = (UniqueConstraint("user_id", "product_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now_utc)

    product = relationship("Product")


class FollowAlert(db.Model):
    """A follower told of a new post: once a post, and a text only within the daily limit."""

    __tablename__ = "follow_alerts"
    __table_args__ = (UniqueConstraint("post_id", "user_id"),
                      Index("ix_follow_alerts_texted", "user_id", "created_at", postgresql_where=sql_text("texted"),
                            sqlite_where=sql_text("texted = 1")))

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    texted: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now_utc, index=True)
