"""Spreadsheet-safe exports: every CSV the platform writes for people goes through here.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
a formula to Excel and LibreOffice; a farmer's "name" could be one (OWASP's CSV
injection). Such cells get a leading apostrophe, so they show as typed and never
run. Phone numbers are written as people read them (``138 0013 8000``), which a
spreadsheet keeps as text instead of turning ``+8613800138000`` into a number.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from flask_babel import format_datetime
from flask_babel import gettext as _

from ruralinfo.accounts import phones
from ruralinfo.timeutil import to_local

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """``value`` as a spreadsheet will show it and never evaluate it."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def unescape_cell(text: str) -> str:
    """The value ``safe_cell`` wrote: a file we exported, imported again, reads as typed."""
    if text.startswith("'") and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text


def phone_cell(phone: str | None) -> str:
    """A phone number as text a spreadsheet keeps (the display form)."""
    return phones.display(phone) if phone else ""


def yes_no(value: bool) -> str:
    return _("yes") if value else _("no")


def local_time(value) -> str:
    """A stored UTC time as the bureau's local time, ``2026-12-01 09:30`` (the zone is in the header)."""
    return format_datetime(to_local(value), "yyyy-MM-dd HH:mm") if value else ""


def csv_bytes(header: Iterable[object], rows: Iterable[Iterable[object]]) -> bytes:
    """CSV in UTF-8 with a BOM (so that Excel reads the Chinese), every cell made safe."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([safe_cell(cell) for cell in header])
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def csv_stream(header: Iterable[object], rows: Iterable[Iterable[object]], every: int = 1000):
    """``csv_bytes`` in pieces of ``every`` rows, for a download too large to hold at once
    (a delivery report of a million people)."""
    out = io.StringIO()
    writer = csv.writer(out)
    out.write("\ufeff")
    writer.writerow([safe_cell(cell) for cell in header])
    for number, row in enumerate(rows, start=1):
        writer.writerow([safe_cell(cell) for cell in row])
        if number % every == 0:
            yield out.getvalue().encode("utf-8")
            out.seek(0)
            out.truncate()
    yield out.getvalue().encode("utf-8")


def xlsx_bytes(title: str, header: Iterable[object], rows: Iterable[Iterable[object]]) -> bytes:
    """One sheet named ``title``: the header, then the rows (written as they come), every
    cell through ``safe_cell``."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    sheet.append([safe_cell(cell) for cell in header])
    for row in rows:
        sheet.append([safe_cell(cell) for cell in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
