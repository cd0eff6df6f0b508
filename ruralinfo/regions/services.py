"""Region codes, prefix queries and the loaders for the shipped tree and villages."""
from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable, Iterator
from pathlib import Path

from sqlalchemy import and_, false, or_, select
from sqlalchemy.sql.elements import ColumnElement

from ruralinfo.audit import services as audit
from ruralinfo.extensions import db
from ruralinfo.regions.models import COUNTY, LEVEL_DIGITS, PREFECTURE, PROVINCE, TOWNSHIP, VILLAGE, Region

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "regions"
BUILTIN_FILES = (
    ("provinces.csv", PROVINCE, None),
    ("cities.csv", PREFECTURE, "provinceCode"),
    ("areas.csv", COUNTY, "cityCode"),
    ("streets.csv", TOWNSHIP, "areaCode"),
    ("villages-330282104.csv", VILLAGE, "streetCode"),
)
VILLAGE_COLUMNS = ("code", "name", "streetCode")


class RegionFileError(ValueError):
    """A region file that cannot be loaded; the message names the line."""


def clean_code(code: str | int | None) -> str:
    """A division code as digits (full-width digits and spaces allowed on input)."""
    text = "".join(unicodedata.normalize("NFKC", str(code or "")).split())
    if not text.isdigit() or len(text) not in (2, 4, 6, 9, 12):
        raise ValueError(f"not a region code: {code!r}")
    return text


def candidates(code: str) -> list[str]:
    """Lookup forms of a code: as given, then without NBS zero padding
    (``330282104000`` names the township ``330282104``)."""
    forms = [code]
    for length in (9, 6, 4, 2):
        if len(code) > length and code[length:] == "0" * (len(code) - length):
            forms.append(code[:length])
    return forms


def within(column: ColumnElement, code: str) -> ColumnElement:
    """SQL condition "``column`` is ``code`` or lies inside it", as an index range.

    Codes are digit strings of 2–12 characters compared bytewise (the column has
    the "C" collation on PostgreSQL, SQLite compares bytes), so everything that
    starts with ``code`` sorts between ``code`` and ``code`` followed by nines.
    """
    return and_(column >= code, column <= code + "9" * (12 - len(code)))


def within_any(column: ColumnElement, codes: Iterable[str]) -> ColumnElement:
    codes = list(codes)
    if not codes:
        return false()
    return or_(*(within(column, code) for code in codes))


def contains(outer: str, inner: str | None) -> bool:
    """True when region ``inner`` is ``outer`` or lies inside it."""
    return bool(inner) and inner.startswith(outer)


def get(code: str) -> Region | None:
    """The region for a code as people type it, or None."""
    try:
        code = clean_code(code)
    except ValueError:
        return None
    for form in candidates(code):
        region = db.session.get(Region, form)
        if region is not None:
            return region
    return None


def children(code: str | None) -> list[Region]:
    query = select(Region).order_by(Region.code)
    if code is None:
        query = query.where(Region.level == PROVINCE)
    else:
        query = query.where(Region.parent_code == code)
    return list(db.session.scalars(query))


def has_children(code: str) -> bool:
    return db.session.scalar(select(Region.code).where(Region.parent_code == code).limit(1)) is not None


def path(region: Region | None) -> list[Region]:
    """The chain province → … → ``region``."""
    chain: list[Region] = []
    while region is not None:
        chain.append(region)
        region = db.session.get(Region, region.parent_code) if region.parent_code else None
    return list(reversed(chain))


def full_name(region: Region | None, start_level: int = COUNTY) -> str:
    """``掌起镇长溪村`` for a village (from the county down by default)."""
    return "".join(r.name for r in path(region) if r.level >= start_level)


def _rows(text: str, level: int, parent_column: str | None, source: str) -> Iterator[dict]:
    reader = csv.DictReader(io.StringIO(text))
    for line, row in enumerate(reader, start=2):
        if not any((value or "").strip() for value in row.values()):
            continue
        try:
            code = clean_code(row["code"])
            parent = clean_code(row[parent_column]) if parent_column else None
        except (KeyError, ValueError, TypeError):
            raise RegionFileError(f"{source} line {line}: bad or missing code") from None
        name = (row.get("name") or "").strip()
        if not name or len(code) != LEVEL_DIGITS[level]:
            raise RegionFileError(f"{source} line {line}: not a level-{level} region row")
        yield {"code": code, "name": name, "level": level, "parent_code": parent}


def builtin_rows() -> Iterator[dict]:
    """Every row of the tree shipped in ``ruralinfo/data/regions``."""
    for filename, level, parent_column in BUILTIN_FILES:
        text = (DATA_DIR / filename).read_text(encoding="utf-8-sig")
        yield from _rows(text, level, parent_column, filename)


def load_villages(data: bytes, source: str = "file", *, actor=None, channel: str = "cli") -> tuple[int, int]:
    """Add village rows (NBS layout: ``code,name,streetCode,…``). Returns
    (added, unchanged). Names that differ are updated; loading twice changes nothing."""
    text = _decode(data)
    header = next(csv.reader(io.StringIO(text)), [])
    missing = [col for col in VILLAGE_COLUMNS if col not in header]
    if missing:
        raise RegionFileError(f"{source}: missing column(s) {', '.join(missing)}")
    rows = list(_rows(text, VILLAGE, "streetCode", source))
    townships = {row["parent_code"] for row in rows}
    known = set(db.session.scalars(select(Region.code).where(Region.code.in_(townships))))
    unknown = sorted(townships - known)
    if unknown:
        raise RegionFileError(f"{source}: unknown township code(s) {', '.join(unknown)}")
    existing = {r.code: r for r in db.session.scalars(
        select(Region).where(Region.code.in_([row["code"] for row in rows])))}
    added = unchanged = renamed = 0
    for row in rows:
        current = existing.get(row["code"])
        if current is None:
            db.session.add(Region(**row))
            existing[row["code"]] = row  # a repeated line in one file adds once
            added += 1
        elif isinstance(current, Region) and current.name != row["name"]:
            current.name = row["name"]
            renamed += 1
        else:
            unchanged += 1
    if added or renamed:
        audit.record("regions.load", ("regions", None), actor=actor, channel=channel,
                     details={"file": source, "added": added, "renamed": renamed})
    db.session.commit()
    return added, unchanged


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise RegionFileError("the file is neither UTF-8 nor GBK text")
