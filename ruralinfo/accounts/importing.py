"""Reading the spreadsheets liaisons and the bureau keep of their farmers (CSV or
XLSX) into numbered rows. Pure file handling: no database, no rules about people.

Real files are messy: Excel saves CSV as GBK on Chinese Windows, adds a BOM,
keeps blank lines and trailing empty columns, and turns long digit strings into
numbers that lose their last digits. Everything here is about those files.

Hostile files too: every file is read within ``Limits`` (size, rows, columns,
cells, unpacked size, time), checked before and while reading, never trusting
what the file says about itself. A refusal says which limit and what to do.
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from time import monotonic

from flask_babel import lazy_gettext as _l

from ruralinfo import exports

from ruralinfo.accounts import xlsx

FIELDS = ("name", "id_number", "phone", "region_code", "groups", "language")
REQUIRED = FIELDS[:4]
ALIASES = {
    "name": ("name", "姓名"),
    "id_number": ("id_number", "身份证号", "身份证号码"),
    "phone": ("phone", "手机号", "手机", "手机号码"),
    "region_code": ("region_code", "地区代码", "村代码", "区划代码"),
    "groups": ("groups", "产业", "兴趣组"),
    "language": ("language", "语言"),
}
REASON_COLUMN = "reason"  # added by the rejects file; ignored when that file is imported again
DIGIT_FIELDS = ("id_number", "phone")  # long digit strings that Excel may have turned into numbers
EXCEL_DIGITS = 15  # Excel keeps 15 significant digits of a number, no more
SCIENTIFIC = re.compile(r"[0-9](\.[0-9]+)?E\+?[0-9]+")
GROUP_SEPARATORS = re.compile(r"[;；、]")  # not ",": a comma inside a cell is too easily a CSV accident

LOST_DIGITS = _l("Excel stored this column as a number and dropped digits. Format the column as Text, "
                 "type the numbers again and import the file again.")


MAX_FILE_BYTES = 10 * 2 ** 20    # 20,000 rows of a liaison's list take 1–2 MB as CSV, less as .xlsx
MAX_ROWS = 20_000                # by Excel's row numbers, the header included; a village has far fewer people
MAX_COLUMNS = 50                 # the list has 6; room for notes, never a whole sheet's width
MAX_CELLS = 1_000_000            # every cell the file holds, empty formatted ones too: bounds the work
MAX_UNPACKED_BYTES = 32 * 2 ** 20  # an .xlsx of 20,000 rows × 7 columns unpacks to 8.5 MB
MAX_SECONDS = 30                 # reading 20,000 rows takes about 1 s


@dataclass(frozen=True)
class Limits:
    """What a file may hold; a file past any of them is refused, not cut short."""

    rows: int = MAX_ROWS
    columns: int = MAX_COLUMNS
    cells: int = MAX_CELLS
    file_bytes: int = MAX_FILE_BYTES
    unpacked_bytes: int = MAX_UNPACKED_BYTES
    seconds: float = MAX_SECONDS


LIMITS = Limits()


class ImportFileError(ValueError):
    """The file as a whole cannot be imported (unreadable, too big, or a required column is missing)."""


@dataclass
class Row:
    """One data row: ``line`` as Excel numbers it, ``values`` by column key
    (a field name, or the header text of an extra column), stripped text."""

    line: int
    values: dict[str, str]
    problems: dict[str, str] = field(default_factory=dict)  # field → why the cell can't be trusted


@dataclass
class Table:
    """The columns as (key, header as written) in file order, and the non-blank rows."""

    columns: list[tuple[str, str]]
    rows: list[Row]


def read_table(data: bytes, filename: str = "", limits: Limits = LIMITS) -> Table:
    """Read a CSV or XLSX file; raise ``ImportFileError`` when it can't be imported
    or passes one of ``limits``."""
    check_size(data, limits)
    deadline = monotonic() + limits.seconds
    if _is_zip(data):
        records = _xlsx_records(data, limits, deadline)
    else:
        records = _csv_records(data, filename, limits, deadline)
    header = _first_nonblank(records)
    columns, kept = _columns(header)
    rows = []
    for line, cells in records:
        if all(_blank(cell) for cell in cells):
            continue  # blank lines count as lines but are not rows
        rows.append(_row(line, cells, columns, kept))
    return Table(columns=[(key, header[i]) for i, key in zip(kept, columns)], rows=rows)


def check_size(data: bytes, limits: Limits = LIMITS) -> None:
    """Refuse a file larger than ``limits.file_bytes`` before anything else."""
    if len(data) > limits.file_bytes:
        raise refusal("file_bytes", limits)


def refusal(what: str, limits: Limits = LIMITS) -> ImportFileError:
    """The error for a file past one of ``limits`` (``what`` names the limit)."""
    if what == "rows":
        message = _l("This file has more than %(n)s rows: split it into smaller files.", n=f"{limits.rows:,}")
    elif what == "columns":
        message = _l("This file has more than %(n)s columns: delete the columns that are not part of the list.",
                     n=f"{limits.columns:,}")
    elif what == "cells":
        message = _l("This file holds more than %(n)s cells, counting empty cells that have a format: "
                     "copy just the list into a new file.", n=f"{limits.cells:,}")
    elif what == "file_bytes":
        message = _l("This file is larger than %(mb)s MB: split it into smaller files.", mb=_mb(limits.file_bytes))
    elif what == "unpacked":
        message = _l("This .xlsx file unpacks to more than %(mb)s MB: copy just the list into a new file, "
                     "or save it as CSV.", mb=_mb(limits.unpacked_bytes))
    elif what == "seconds":
        message = _l("Reading this file took more than %(n)s seconds: split it into smaller files, "
                     "or save it as CSV.", n=f"{limits.seconds:g}")
    else:
        message = _l("This .xlsx file is not an ordinary spreadsheet: copy just the list into a new file, "
                     "or save it as CSV.")
    return ImportFileError(str(message))


def _mb(size: int) -> str:
    return f"{size / 2 ** 20:.3g}"


def header_key(label: str) -> str:
    """The field a header names (any alias, any case, spaces or ``_`` or ``-`` anywhere),
    else the header itself."""
    compact = _compact(label)
    for key, names in ALIASES.items():
        if compact in {_compact(name) for name in names}:
            return key
    return label


def split_groups(text: str) -> list[str]:
    """``葡萄;茶叶``, ``葡萄；茶叶`` or ``葡萄、茶叶`` → ``["葡萄", "茶叶"]``."""
    return [part.strip() for part in GROUP_SEPARATORS.split(text or "") if part.strip()]


# --- the two formats ------------------------------------------------------------------------

def _is_zip(data: bytes) -> bool:
    return data[:4] == b"PK\x03\x04"


def _csv_records(data: bytes, filename: str, limits: Limits,
                 deadline: float) -> Iterator[tuple[int, list[object]]]:
    if data[:4] == b"\xd0\xcf\x11\xe0" or filename.lower().endswith(".xls"):
        raise ImportFileError(str(_l("Old Excel files (.xls) can't be read: save the file as .xlsx or CSV.")))
    if filename.lower().endswith(".xlsx"):
        raise ImportFileError(str(_l("This is not a readable .xlsx file.")))
    text = _decode(data)
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = "\t" if "\t" in first and "," not in first else ","  # Excel's "Unicode text" is tab-separated
    if text.count(delimiter) > limits.cells:
        raise refusal("cells", limits)  # before csv makes one list of a line of a million commas
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        # Excel shows one row per record (a quoted cell may span lines), so records are the line numbers
        for line, cells in enumerate(reader, start=1):
            yield line, _within(line, cells, limits, deadline)
    except csv.Error as err:
        raise ImportFileError(str(_l("This CSV file can't be read: %(error)s", error=str(err)))) from None


def _decode(data: bytes) -> str:
    if b"\x00" in data and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportFileError(str(_l("This is not a CSV or XLSX file.")))
    encodings = ("utf-16",) if data.startswith((b"\xff\xfe", b"\xfe\xff")) else ("utf-8-sig", "gb18030")
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError(str(_l("The file is neither UTF-8 nor GBK text: save it as CSV UTF-8 or as .xlsx.")))


def _within(line: int, cells: list[str], limits: Limits, deadline: float) -> list[object]:
    """A CSV record within the limits: blank cells past the last column are dropped
    (Excel writes them for a formatted area), a value there is refused."""
    if len(cells) > limits.columns:
        if any(cell.strip() for cell in cells[limits.columns:]):
            raise refusal("columns", limits)
        cells = cells[:limits.columns]
    if line > limits.rows and any(cell.strip() for cell in cells):
        raise refusal("rows", limits)
    if monotonic() > deadline:
        raise refusal("seconds", limits)
    return cells


def _xlsx_records(data: bytes, limits: Limits, deadline: float) -> Iterator[tuple[int, list[object]]]:
    try:
        # the sheet people see when they open the file, with Excel's row numbers
        yield from xlsx.rows(data, limits, deadline)
    except xlsx.TooMuch as err:
        raise refusal(err.what, limits) from None
    except Exception:  # a damaged file fails in many ways (zip, XML, a missing part, a bad number)
        raise ImportFileError(str(_l("This is not a readable .xlsx file."))) from None


# --- header and rows ------------------------------------------------------------------------

def _first_nonblank(records: Iterator[tuple[int, list[object]]]) -> list[str]:
    for _line, cells in records:
        if not all(_blank(cell) for cell in cells):
            return [_text(cell).lstrip("\ufeff").strip() for cell in cells]
    raise ImportFileError(str(_l("The file is empty.")))


def _columns(header: list[str]) -> tuple[list[str], list[int]]:
    """Column keys and the header positions they come from (empty headers dropped)."""
    keys, kept = [], []
    for index, label in enumerate(header):
        if not label:
            continue  # trailing (or stray) empty columns
        key = header_key(label)
        if key in keys:
            raise ImportFileError(str(_l("The column %(column)s appears twice.", column=label)))
        keys.append(key)
        kept.append(index)
    missing = [name for name in REQUIRED if name not in keys]
    if missing:
        raise ImportFileError(str(_l(
            "Missing column(s): %(missing)s. The first line must name the columns "
            "name, id_number, phone, region_code (and optionally groups, language).",
            missing=", ".join(missing))))
    return keys, kept


def _row(line: int, cells: list[object], keys: list[str], kept: list[int]) -> Row:
    row = Row(line=line, values={})
    for key, index in zip(keys, kept):
        cell = cells[index] if index < len(cells) else None
        row.values[key] = exports.unescape_cell(_text(cell).strip())  # our own rejects file, imported again
        if key in DIGIT_FIELDS and _lost_digits(cell):
            row.problems[key] = str(LOST_DIGITS)
    return row


def _lost_digits(cell: object) -> bool:
    """A number cell too long for Excel to keep exactly, or a number Excel wrote
    in scientific notation (``3.30282E+17``) when it saved a CSV."""
    if isinstance(cell, bool):
        return False
    if isinstance(cell, int):
        return len(str(abs(cell))) > EXCEL_DIGITS
    if isinstance(cell, float):
        return not cell.is_integer() or abs(cell) >= 10 ** EXCEL_DIGITS
    text = unicodedata.normalize("NFKC", str(cell or "")).strip().upper()
    return bool(SCIENTIFIC.fullmatch(text))


def _text(cell: object) -> str:
    """A cell as the text a person typed: ``13800138000`` (not ``1.38e10``) for a number."""
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer() and abs(cell) < 10 ** EXCEL_DIGITS:
        return str(int(cell))  # exact: a double holds every integer of up to 15 digits
    if isinstance(cell, datetime) and cell.time() == time(0):
        return cell.date().isoformat()
    if isinstance(cell, (date, datetime)):
        return cell.isoformat()
    return str(cell)


def _blank(cell: object) -> bool:
    return not _text(cell).strip()


def _compact(label: str) -> str:
    text = unicodedata.normalize("NFKC", label or "").lstrip("\ufeff").lower()
    return re.sub(r"[\s_\-]+", "", text)
