"""The sheet an .xlsx file opens on, read as a stream of rows within hard limits.

openpyxl, even in read-only mode, trusts the ``<dimension>`` a sheet declares (a
1.4 KB file declaring A1:WCB200000 makes it produce 200,000 rows of 15,628 cells),
builds each row whole (a 20 KB file holding one row of a million empty cells:
590 MB) and parses styles.xml whole (18 MB: 17 s, 770 MB). Here the zip's
directory is checked before anything is inflated, the few parts that matter are
streamed through expat, only the cells the file holds are looked at, and the
limits are checked as the bytes come in. openpyxl still converts dates.
"""
from __future__ import annotations

import io
import posixpath
import time
import zipfile
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING
from xml.parsers import expat

from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel, from_ISO8601

if TYPE_CHECKING:
    from ruralinfo.accounts.importing import Limits

CHUNK = 64 * 1024
MAX_PARTS = 1_000       # a workbook with charts and pictures has a few dozen
MAX_STYLES = 65_536     # Excel's own limit on cell formats
MAX_RATIO = 100         # a list of people packs 5–15 times; deflate can reach 1,000
RATIO_FROM = 1 << 20    # small parts may pack as tightly as they like
EAST_ASIAN_DATES = frozenset(range(27, 37)) | frozenset(range(50, 59))  # built-in 年月日 formats


class Unreadable(ValueError):
    """Not an .xlsx file, or a damaged one."""


class TooMuch(ValueError):
    """A limit is reached. ``what``: rows, columns, cells, unpacked, structure or seconds."""

    def __init__(self, what: str):
        super().__init__(what)
        self.what = what


def rows(data: bytes, limits: Limits, deadline: float) -> Iterator[tuple[int, list[object]]]:
    """(row number, values from column A on) for each row holding a value, in file order.

    Raises ``TooMuch`` as soon as a limit is passed (``deadline`` is a
    ``time.monotonic()`` value), ``Unreadable`` for what is not an .xlsx file;
    other exceptions mean a damaged file too."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError):
        raise Unreadable("not a zip file") from None
    with archive:
        check_inventory(archive, limits)
        yield from _Book(archive, limits, deadline).rows()


def check_inventory(archive: zipfile.ZipFile, limits: Limits) -> None:
    """Refuse a zip bomb from its directory alone: zipfile never inflates a part
    past the size the directory gives (it stops there and fails the CRC)."""
    parts = archive.infolist()
    if len(parts) > MAX_PARTS:
        raise TooMuch("structure")
    if sum(part.file_size for part in parts) > limits.unpacked_bytes:
        raise TooMuch("unpacked")
    if any(part.file_size > RATIO_FROM and part.file_size > MAX_RATIO * part.compress_size for part in parts):
        raise TooMuch("structure")


class _Book:
    """The package's parts, each streamed once, with one budget of bytes and time."""

    def __init__(self, archive: zipfile.ZipFile, limits: Limits, deadline: float):
        self.archive, self.limits, self.deadline = archive, limits, deadline
        self.unpacked = 0

    def rows(self) -> Iterator[tuple[int, list[object]]]:
        book = self._office_document()
        sheet_path, parts, epoch = self._sheet(book)
        strings = self._shared_strings(parts.get("sharedStrings"))
        sheet = _Sheet(self.limits, strings, self._date_styles(parts.get("styles")), epoch)
        for _ in self._stream(sheet_path, sheet.start, sheet.end, sheet.text):
            yield from sheet.take_rows()
        yield from sheet.take_rows()

    # --- the package -------------------------------------------------------------------------

    def _office_document(self) -> str:
        for kind, target in self._relations("_rels/.rels", "").values():
            if kind.endswith("/officeDocument"):
                return target
        raise Unreadable("no workbook")

    def _sheet(self, book: str) -> tuple[str, dict[str, str], object]:
        """The path of the sheet the file opens on, the workbook's other parts by kind, its epoch."""
        sheets: list[str] = []  # relationship ids, in tab order
        active, epoch, views = 0, CALENDAR_WINDOWS_1900, 0

        def start(tag: str, attrs: dict[str, str]) -> None:
            nonlocal active, epoch, views
            if tag == "sheet":
                sheets.append(next((value for name, value in attrs.items() if name.endswith("}id")), ""))
            elif tag == "workbookView":
                views += 1
                if views == 1:
                    active = _int(attrs.get("activeTab", "0"))
            elif tag == "workbookPr" and attrs.get("date1904", "").lower() in ("1", "true"):
                epoch = CALENDAR_MAC_1904

        self._parse(book, start)
        relations = self._relations(_relations_path(book), posixpath.dirname(book))
        worksheets = [relations[rid][1] for rid in sheets if _is_worksheet(relations.get(rid))]
        if not worksheets:
            raise Unreadable("no worksheet")
        opened = relations.get(sheets[active]) if active < len(sheets) else None
        path = opened[1] if _is_worksheet(opened) else worksheets[0]  # a chart sheet is no list
        parts = {kind.rpartition("/")[2]: target for kind, target in relations.values()}
        return path, parts, epoch

    def _relations(self, path: str, base: str) -> dict[str, tuple[str, str]]:
        """A .rels part: id → (type, path of the target inside the zip)."""
        found: dict[str, tuple[str, str]] = {}

        def start(tag: str, attrs: dict[str, str]) -> None:
            if tag == "Relationship" and attrs.get("TargetMode") != "External":
                found[attrs.get("Id", "")] = (attrs.get("Type", ""), _resolve(base, attrs.get("Target", "")))

        if path in self.archive.NameToInfo:
            self._parse(path, start)
        return found

    def _shared_strings(self, path: str | None) -> list[str]:
        strings: list[str] = []
        if path is None:
            return strings
        text = _Text()

        def end(tag: str) -> None:
            text.end(tag)
            if tag == "si":
                strings.append(text.take())
                if len(strings) > self.limits.cells:
                    raise TooMuch("cells")

        self._parse(path, text.start, end, text.data)
        return strings

    def _date_styles(self, path: str | None) -> dict[int, bool]:
        """Cell style index → True for a duration, False for a date, absent otherwise."""
        custom: dict[int, str] = {}
        styles: list[int] = []  # the number format of each cell style
        in_cell_styles = False  # <cellXfs>, not <cellStyleXfs>

        def start(tag: str, attrs: dict[str, str]) -> None:
            nonlocal in_cell_styles
            if tag == "numFmt":
                custom[_int(attrs.get("numFmtId", "0"))] = attrs.get("formatCode", "")
            elif tag == "cellXfs":
                in_cell_styles = True
            elif tag == "xf" and in_cell_styles:
                styles.append(_int(attrs.get("numFmtId", "0")))
                if len(styles) > MAX_STYLES:
                    raise TooMuch("structure")

        def end(tag: str) -> None:
            nonlocal in_cell_styles
            if tag == "cellXfs":
                in_cell_styles = False

        if path is not None:
            self._parse(path, start, end)
        kinds = {}
        for index, number_format in enumerate(styles):
            code = custom.get(number_format) or BUILTIN_FORMATS.get(number_format, "")
            if is_date_format(code) or (number_format in EAST_ASIAN_DATES and number_format not in custom):
                kinds[index] = is_timedelta_format(code)
        return kinds

    # --- streaming -----------------------------------------------------------------------------

    def _parse(self, path: str, start: Callable, end: Callable | None = None, text: Callable | None = None) -> None:
        for _ in self._stream(path, start, end, text):
            pass

    def _stream(self, path: str, start: Callable, end: Callable | None, text: Callable | None) -> Iterator[None]:
        """Feed one part to expat a chunk at a time; yield after each chunk. Handlers
        get local names (``c``, not ``{namespace}c``) and may raise to stop."""
        parser = expat.ParserCreate(namespace_separator="}")
        parser.buffer_text = True
        parser.StartDoctypeDeclHandler = _no_doctype  # no DOCTYPE, so no entities to expand
        parser.StartElementHandler = lambda name, attrs: start(name.rpartition("}")[2], attrs)
        if end is not None:
            parser.EndElementHandler = lambda name: end(name.rpartition("}")[2])
        if text is not None:
            parser.CharacterDataHandler = text
        with self.archive.open(path) as part:
            while chunk := part.read(CHUNK):
                self._spend(len(chunk))
                parser.Parse(chunk, False)
                yield
        parser.Parse(b"", True)

    def _spend(self, size: int) -> None:
        self.unpacked += size
        if self.unpacked > self.limits.unpacked_bytes:
            raise TooMuch("unpacked")
        if time.monotonic() > self.deadline:
            raise TooMuch("seconds")


class _Text:
    """The text of a string item (``<si>`` or ``<is>``): its ``<t>`` runs, without
    the phonetic guide (``<rPh>``) that Excel adds to Chinese and Japanese text."""

    def __init__(self):
        self.parts: list[str] = []
        self.capturing = False
        self.phonetic = 0

    def start(self, tag: str, _attrs: dict | None = None) -> None:
        if tag == "rPh":
            self.phonetic += 1
        elif tag == "t" and not self.phonetic:
            self.capturing = True

    def end(self, tag: str) -> None:
        if tag == "rPh":
            self.phonetic -= 1
        elif tag == "t":
            self.capturing = False

    def data(self, text: str) -> None:
        if self.capturing:
            self.parts.append(text)

    def take(self) -> str:
        text, self.parts = "".join(self.parts), []
        return text


class _Sheet:
    """expat handlers for a worksheet: they keep only cells holding a value."""

    def __init__(self, limits: Limits, strings: list[str], date_styles: dict[int, bool], epoch):
        self.limits, self.strings, self.date_styles, self.epoch = limits, strings, date_styles, epoch
        self.ready: list[tuple[int, list[object]]] = []
        self.row = self.cells = 0
        self.last = 0  # the number of the last row that held a value
        self.held = 0  # how many rows held a value
        self.values: dict[int, object] = {}
        self.ref: str | None = None  # the row's last cell reference (``B7``) and the cells since
        self.after = 0
        self.cell: tuple[str | None, int, str, str] | None = None  # ref, after, type, style of the open <c>
        self.parts: list[str] | None = None  # its value's text, once <v> or <is> opened
        self.in_value = False
        self.inline: _Text | None = None

    def take_rows(self) -> list[tuple[int, list[object]]]:
        ready, self.ready = self.ready, []
        return ready

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        if tag == "c":
            self._start_cell(attrs)
        elif self.cell is None:
            if tag == "row":
                self.row = _int(attrs["r"]) if "r" in attrs else self.row + 1
                self.ref, self.after, self.values = None, 0, {}
        elif self.inline is not None:
            self.inline.start(tag)
        elif tag == "v":
            self.in_value, self.parts = True, []
        elif tag == "is":
            self.inline = _Text()

    def end(self, tag: str) -> None:
        if tag == "c":
            self._end_cell()
        elif self.cell is None:
            if tag == "row" and self.values:
                # Excel writes each row once, in order: a row number repeated or going back
                # would let a small file hold any number of rows under one number.
                if self.row <= self.last:
                    raise TooMuch("structure")
                self.last, self.held = self.row, self.held + 1
                if self.held > self.limits.rows:
                    raise TooMuch("rows")
                width = max(self.values)
                self.ready.append((self.row, [self.values.get(column) for column in range(1, width + 1)]))
                self.values = {}
        elif tag == "is" and self.inline is not None:
            self.parts, self.inline = [self.inline.take()], None
        elif self.inline is not None:
            self.inline.end(tag)
        elif tag == "v":
            self.in_value = False

    def text(self, data: str) -> None:
        if self.in_value:
            self.parts.append(data)
        elif self.inline is not None:
            self.inline.data(data)

    def _start_cell(self, attrs: dict[str, str]) -> None:
        self.cells += 1
        if self.cells > self.limits.cells:
            raise TooMuch("cells")
        # Where the cell is matters only if it holds a value: keep the reference as written.
        if "r" in attrs:
            self.ref, self.after = attrs["r"], 0
        else:
            self.after += 1
        self.cell = (self.ref, self.after, attrs.get("t", "n"), attrs.get("s", "0"))
        self.parts, self.in_value, self.inline = None, False, None

    def _end_cell(self) -> None:
        ref, after, kind, style = self.cell
        value = None if self.parts is None else self._convert("".join(self.parts), kind, style)
        self.cell = self.parts = None
        if value is None or (isinstance(value, str) and not value.strip()):
            return  # empty, or formatted only: costs nothing, wherever it is
        row, column = self.row, after
        if ref is not None:
            letters, row = coordinate_from_string(ref)
            column += column_index_from_string(letters)
        if row > self.limits.rows:
            raise TooMuch("rows")
        if column > self.limits.columns:
            raise TooMuch("columns")
        self.values[column] = value

    def _convert(self, text: str, kind: str, style: str) -> object:
        if kind == "s":
            index = int(text)
            if index < 0:
                raise IndexError(index)
            return self.strings[index]
        if kind in ("inlineStr", "str", "e"):
            return text
        if kind == "b":
            return text.strip() in ("1", "true")
        if kind == "d":
            return from_ISO8601(text.strip())
        text = text.strip()
        if not text:
            return None
        number = float(text) if any(mark in text for mark in ".eE") else int(text)
        duration = self.date_styles.get(_int(style))
        if duration is None:
            return number
        try:
            return from_excel(number, self.epoch, timedelta=duration)
        except (OverflowError, ValueError):
            return number


def _no_doctype(*_args) -> None:
    raise Unreadable("DOCTYPE")


def _is_worksheet(relation: tuple[str, str] | None) -> bool:
    return relation is not None and relation[0].endswith("/worksheet")


def _int(text: str) -> int:
    return int(text) if text.strip().isdigit() else 0


def _relations_path(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def _resolve(base: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(base, target))
