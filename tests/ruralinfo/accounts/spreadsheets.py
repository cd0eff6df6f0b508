"""Spreadsheets built byte by byte, for the files no spreadsheet program writes on
purpose: one cell at row 200,000, a zip bomb, 100,000 rows made in a blink."""
from __future__ import annotations

import io
import signal
import struct
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
HEADER = ("name", "id_number", "phone", "region_code")
ID = "330282198001010015"

SPREADSHEETML = "application/vnd.openxmlformats-officedocument.spreadsheetml."
CONTENT_TYPES = {"xl/workbook.xml": "sheet.main+xml", "xl/styles.xml": "styles+xml",
                 "xl/sharedStrings.xml": "sharedStrings+xml", "xl/worksheets/": "worksheet+xml"}
PACKAGE_RELS = (f'<Relationships xmlns="{RELS}"><Relationship Id="rId1" '
                f'Type="{DOC_RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
WORKBOOK = (f'<workbook xmlns="{MAIN}" xmlns:r="{DOC_RELS}"><sheets>'
            '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
WORKBOOK_RELS = (f'<Relationships xmlns="{RELS}"><Relationship Id="rId1" '
                 f'Type="{DOC_RELS}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')


@dataclass
class Bomb:
    """A part that inflates to ``head + chunk * times + tail``, stored as a few
    kilobytes: after a full flush, deflate writes the same bytes for the same chunk."""

    chunk: bytes
    times: int
    head: bytes = b""
    tail: bytes = b""

    @property
    def size(self) -> int:
        return len(self.head) + len(self.chunk) * self.times + len(self.tail)

    def deflated(self) -> bytes:
        packer = zlib.compressobj(9, zlib.DEFLATED, -15)
        start = packer.compress(self.head) + packer.flush(zlib.Z_FULL_FLUSH)
        block = packer.compress(self.chunk) + packer.flush(zlib.Z_FULL_FLUSH)
        return start + block * self.times + packer.compress(self.tail) + packer.flush()


def inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def header_row() -> str:
    return '<row r="1">' + "".join(inline(f"{col}1", text) for col, text in zip("ABCD", HEADER)) + "</row>"


def person_row(line: int) -> str:
    cells = (f"张{line}", ID, f"139{line:08d}", "330282104201")
    return f'<row r="{line}">' + "".join(inline(f"{col}{line}", text) for col, text in zip("ABCD", cells)) + "</row>"


def sheet(rows: str | bytes, dimension: str | None = None) -> bytes:
    """A worksheet part; ``dimension`` is what the file claims its extent is."""
    body = rows.encode() if isinstance(rows, str) else rows
    claim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return f'<worksheet xmlns="{MAIN}">{claim}<sheetData>'.encode() + body + b"</sheetData></worksheet>"


def xlsx(sheet_part: bytes | Bomb, *, book: str = WORKBOOK, book_rels: str = WORKBOOK_RELS,
         **extra: bytes | Bomb) -> bytes:
    """The smallest .xlsx that Excel and openpyxl open, with this sheet (and extra parts)."""
    parts: dict[str, bytes | Bomb] = {
        "_rels/.rels": PACKAGE_RELS.encode(), "xl/workbook.xml": book.encode(),
        "xl/_rels/workbook.xml.rels": book_rels.encode(), "xl/worksheets/sheet1.xml": sheet_part, **extra}
    return zip_bytes({"[Content_Types].xml": content_types(parts), **parts})


def content_types(parts) -> bytes:
    """[Content_Types].xml naming the parts present, as Excel writes it."""
    overrides = [f'<Override PartName="/{name}" ContentType="{SPREADSHEETML}{kind}"/>'
                 for name in parts for prefix, kind in CONTENT_TYPES.items() if name.startswith(prefix)]
    return ('<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>' + "".join(overrides) + "</Types>").encode()


def zip_bytes(parts: dict[str, bytes | Bomb]) -> bytes:
    """A zip file written by hand, so that a part can be a bomb. A bomb's CRC is
    left at 0: a reader that inflates it all has already lost."""
    out, central = io.BytesIO(), []
    for name, part in parts.items():
        if isinstance(part, Bomb):
            data, size, crc = part.deflated(), part.size, 0
        else:
            packer = zlib.compressobj(6, zlib.DEFLATED, -15)
            data, size, crc = packer.compress(part) + packer.flush(), len(part), zlib.crc32(part)
        encoded, offset = name.encode(), out.tell()
        out.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(data), size, len(encoded), 0))
        out.write(encoded + data)
        central.append(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, crc, len(data), size,
                                   len(encoded), 0, 0, 0, 0, 0, offset) + encoded)
    directory, start = b"".join(central), out.tell()
    out.write(directory)
    out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(parts), len(parts), len(directory), start, 0))
    return out.getvalue()


def many_rows_csv(count: int) -> bytes:
    """``count`` lines (the header included) of a plausible CSV, in a fraction of a second."""
    lines = [",".join(HEADER)]
    lines += [f"张{line},{ID},139{line:08d},330282104201" for line in range(2, count + 1)]
    return ("\r\n".join(lines) + "\r\n").encode()


def many_rows_xlsx(count: int) -> bytes:
    body = header_row() + "".join(person_row(line) for line in range(2, count + 1))
    return xlsx(sheet(body, dimension=f"A1:D{count}"))


@contextmanager
def within(seconds: float) -> Iterator[None]:
    """Fail (instead of hanging the suite, as the old reader did) when the block runs longer."""
    def expire(_signum, _frame):
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    started = time.monotonic()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert time.monotonic() - started < seconds
