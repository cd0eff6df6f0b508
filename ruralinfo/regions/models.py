"""Region rows, keyed by the 12-digit statistical division code."""
from __future__ import annotations

from sqlalchemy import SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from ruralinfo.extensions import db

PROVINCE, PREFECTURE, COUNTY, TOWNSHIP, VILLAGE = 1, 2, 3, 4, 5
LEVEL_DIGITS = {PROVINCE: 2, PREFECTURE: 4, COUNTY: 6, TOWNSHIP: 9, VILLAGE: 12}


def CodeType():  # noqa: N802 - a column type factory
    """Region codes compare bytewise ("C" collation on PostgreSQL) so that
    prefix ranges work the same on every database."""
    return String(12).with_variant(String(12, collation="C"), "postgresql")


class Region(db.Model):
    """One division. ``code`` has 2, 4, 6, 9 or 12 digits by level and nests by
    prefix: 33 → 3302 → 330282 → 330282104 → 330282104201."""

    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(CodeType(), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[int] = mapped_column(SmallInteger, index=True)
    parent_code: Mapped[str | None] = mapped_column(CodeType(), index=True)

    def __repr__(self) -> str:
        return f"<Region {self.code} {self.name}>"
