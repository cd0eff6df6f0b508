"""Liaison points, the villages they serve, and bulk-import batches."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, ForeignKey, Integer, LargeBinary, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ruralinfo.extensions import db
from ruralinfo.regions.models import CodeType
from ruralinfo.timeutil import now_utc

point_regions = Table(
    "point_regions",
    db.metadata,
    Column("point_id", ForeignKey("liaison_points.id", ondelete="CASCADE"), primary_key=True),
    Column("region_code", CodeType(), ForeignKey("regions.code"), primary_key=True),
)

ACTIVE = "active"
SUSPENDED = "suspended"

# An import batch: pending (stored, waiting for a job) → running → done or failed.
PENDING, RUNNING, DONE, FAILED = "pending", "running", "done", "failed"


class LiaisonPoint(db.Model):
    """A village liaison point. It serves one or more villages (or townships
    where villages are not loaded) and is staffed by liaison accounts."""

    __tablename__ = "liaison_points"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    address: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(30), default="")
    opening_hours: Mapped[str] = mapped_column(String(100), default="")
    status: Mapped[str] = mapped_column(String(16), default=ACTIVE, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now_utc)

    regions = relationship("Region", secondary=point_regions, lazy="selectin",
                           order_by="Region.code")
    liaisons = relationship("User", back_populates="liaison_point",
                            foreign_keys="User.liaison_point_id", order_by="User.name")

    @property
    def region_codes(self) -> list[str]:
        return [region.code for region in self.regions]

    @property
    def is_suspended(self) -> bool:
        return self.status == SUSPENDED


class ImportBatch(db.Model):
    """One bulk registration. The uploaded file waits encrypted in ``upload_cipher``
    until the job has imported it; the rejected rows are kept encrypted (both hold
    ID numbers) so that only the liaison who uploaded them can download them."""

    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now_utc)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    point_id: Mapped[int | None] = mapped_column(ForeignKey("liaison_points.id"))
    filename: Mapped[str] = mapped_column(String(200))
    registered: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    report: Mapped[str] = mapped_column(Text, default="")
    rejects_cipher: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    upload_cipher: Mapped[bytes | None] = mapped_column(LargeBinary)
    locale: Mapped[str] = mapped_column(String(8), default="", server_default="")  # the report's language
    error: Mapped[str] = mapped_column(Text, default="", server_default="")  # why a failed file was not imported
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # claims by a job
    queued_at: Mapped[datetime | None] = mapped_column(DateTime)  # handed to the job queue
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)

    @property
    def is_finished(self) -> bool:
        return self.status in (DONE, FAILED)
