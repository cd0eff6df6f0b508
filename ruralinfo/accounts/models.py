"""Accounts, their roles and interest groups."""
from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import (Boolean, Column, DateTime, ForeignKey, Integer, LargeBinary, String, Table,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ruralinfo.extensions import db
from ruralinfo.regions.models import CodeType
from ruralinfo.timeutil import now_utc

user_groups = Table(
    "user_groups",
    db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", ForeignKey("interest_groups.id", ondelete="CASCADE"), primary_key=True),
)


class InterestGroup(db.Model):
    """An industry farmers sign up to (产业: 葡萄, 茶叶, 生猪 …); administrators edit the list."""

    __tablename__ = "interest_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(40), unique=True)
    name_en: Mapped[str] = mapped_column(String(60))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def label(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_zh


class UserRole(db.Model):
    __tablename__ = "user_roles"
    __table_args__ = (UniqueConstraint("user_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16), index=True)


class User(UserMixin, db.Model):
    """A real-name account. Farmers have no password: they log in with an SMS code.

    The ID number is never stored in the clear: ``id_cipher`` is AES-GCM under
    ``IDENTITY_KEY``, ``id_digest`` a keyed hash that finds duplicates, and
    ``id_masked`` the only form shown on screen.
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), index=True)
    phone: Mapped[str] = mapped_column(String(16), unique=True)
    region_code: Mapped[str | None] = mapped_column(CodeType(), ForeignKey("regions.code"), index=True)
    language: Mapped[str] = mapped_column(String(5), default="zh")
    sms_opt_out: Mapped[bool] = mapped_column(Boolean, default=False)
    sms_opt_out_at: Mapped[datetime | None] = mapped_column(DateTime)

    id_cipher: Mapped[bytes | None] = mapped_column(LargeBinary)
    id_digest: Mapped[str | None] = mapped_column(String(64), unique=True)
    id_masked: Mapped[str | None] = mapped_column(String(18))

    password_hash: Mapped[str | None] = mapped_column(String(255))
    # Part of every session's user id: raising it ends every session of the account.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)

    liaison_point_id: Mapped[int | None] = mapped_column(ForeignKey("liaison_points.id"), index=True)

    registered_at: Mapped[datetime] = mapped_column(DateTime, default=now_utc, index=True)
    registered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    registration_channel: Mapped[str] = mapped_column(String(16), default="web")
    consent_at: Mapped[datetime | None] = mapped_column(DateTime)
    consent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    consent_method: Mapped[str | None] = mapped_column(String(16))
    verified_at: Mapped[datetime | None] = mapped_column(DateTime)
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    deactivated_at: Mapped[datetime | None] = mapped_column(DateTime)

    # Loaded when used (an SMS needs neither); lists that show them use selectinload.
    role_rows: Mapped[list[UserRole]] = relationship(cascade="all, delete-orphan", lazy="select")
    groups: Mapped[list[InterestGroup]] = relationship(secondary=user_groups, lazy="select",
                                                       order_by=InterestGroup.id)
    region = relationship("Region", lazy="joined")
    liaison_point = relationship("LiaisonPoint", back_populates="liaisons",
                                 foreign_keys=[liaison_point_id])
    registered_by = relationship("User", remote_side=[id], foreign_keys=[registered_by_id])
    consent_by = relationship("User", remote_side=[id], foreign_keys=[consent_by_id])
    verified_by = relationship("User", remote_side=[id], foreign_keys=[verified_by_id])

    @property
    def roles(self) -> set[str]:
        return {row.role for row in self.role_rows}

    def has_role(self, *names: str) -> bool:
        return bool(self.roles.intersection(names))

    def add_role(self, name: str) -> None:
        if name not in self.roles:
            self.role_rows.append(UserRole(role=name))

    def remove_role(self, name: str) -> None:
        self.role_rows = [row for row in self.role_rows if row.role != name]

    @property
    def is_active(self) -> bool:  # Flask-Login: deactivated accounts cannot log in
        return self.active

    def get_id(self) -> str:
        """Flask-Login keeps this in the session: ``id.version``, so that a session
        made before the version was raised (log-out, new password, new roles,
        deactivation) no longer loads the user."""
        return f"{self.id}.{self.session_version or 0}"

    def __repr__(self) -> str:
        return f"<User {self.id} {self.name}>"


class LoginThrottle(db.Model):
    """Wrong passwords for one mobile number, registered or not, so that an
    unknown number answers exactly like a real account. Counted by one atomic
    UPDATE per try (``ruralinfo.accounts.throttle``)."""

    __tablename__ = "login_throttles"

    phone: Mapped[str] = mapped_column(String(16), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)  # tries since the last success or lock
    locks: Mapped[int] = mapped_column(Integer, default=0)  # lock-outs in a row: each one lasts twice as long
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)


class LoginCode(db.Model):
    """A one-time SMS code for a farmer's web log-in: only its keyed hash is kept."""

    __tablename__ = "login_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(16), index=True)
    code_digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now_utc, index=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    address: Mapped[str] = mapped_column(String(45), default="")
    # Keyed hash of the browser that asked: only that browser may try the code, so a
    # stranger's wrong guesses cannot spend it. Empty for a code a liaison issued in person.
    requester: Mapped[str] = mapped_column(String(64), default="", server_default="")
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
