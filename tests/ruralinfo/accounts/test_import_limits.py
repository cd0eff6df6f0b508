"""Hard limits on the spreadsheets people upload: issue 6, "a 5 KB spreadsheet takes the site down".

Each bad file is read under ``within(seconds)``: the old reader ran for minutes on
them, and a test must fail, not hang the suite.
"""
import zipfile

import pytest
from openpyxl.utils import get_column_letter

from ruralinfo.accounts import importing
from ruralinfo.accounts.importing import ImportFileError, Limits, read_table
from tests.ruralinfo.accounts.spreadsheets import (HEADER, ID, Bomb, header_row, inline, many_rows_csv,
                                                   many_rows_xlsx, person_row, sheet, within, xlsx)

TOO_MANY_ROWS = "This file has more than 20,000 rows: split it into smaller files."
TOO_MANY_COLUMNS = "This file has more than 50 columns: delete the columns that are not part of the list."
NOT_ORDINARY = ("This .xlsx file is not an ordinary spreadsheet: copy just the list into a new file, "
                "or save it as CSV.")


def refusal(data: bytes, filename: str, timeout: float = 2, **limits) -> str:
    with within(timeout), pytest.raises(ImportFileError) as err:
        read_table(data, filename, limits=Limits(**limits))
    return str(err.value)


# --- the file of the report: one cell far away --------------------------------------------------

@pytest.mark.parametrize("ref,message", [
    ("WCB200000", TOO_MANY_ROWS),     # the file of the report: row 200,000, column 15,628
    ("A20001", TOO_MANY_ROWS),
    ("WCB2", TOO_MANY_COLUMNS),
    ("AY2", TOO_MANY_COLUMNS),        # column 51
])
def test_one_cell_far_away_is_refused_at_once(ref, message):
    row = ref.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    # Excel writes the real extent in <dimension>; the old reader believed it and
    # produced 200,000 rows of 15,628 cells (killed after 100 s).
    data = xlsx(sheet(header_row() + f'<row r="{row}">{inline(ref, "x")}</row>', dimension=f"A1:{ref}"))
    assert len(data) < 5_000
    assert refusal(data, "farmers.xlsx", timeout=1) == message


def test_formatted_empty_cells_far_away_cost_nothing():
    # A template formatted down to the last row of Excel: the cells exist, empty.
    far = '<row r="900000"><c r="A900000" s="1"/><c r="XFD900000" s="1"/></row>'
    last = '<row r="1048576"><c r="XFD1048576" s="1"/></row>'
    data = xlsx(sheet(header_row() + person_row(2) + far + last, dimension="A1:XFD1048576"))
    with within(1):
        table = read_table(data, "farmers.xlsx")
    assert [(row.line, row.values["id_number"]) for row in table.rows] == [(2, ID)]


def test_the_declared_dimension_is_not_trusted():
    # A file that claims less than it holds: the old reader silently dropped lines 2 and 3.
    data = xlsx(sheet(header_row() + person_row(2) + person_row(3), dimension="A1:D1"))
    assert [row.line for row in read_table(data, "farmers.xlsx").rows] == [2, 3]


# --- zip bombs ---------------------------------------------------------------------------------

def test_zip_bomb_is_refused_without_inflating_it(monkeypatch):
    start = sheet(header_row()).split(b"</sheetData>")[0]
    bomb = Bomb(head=start, chunk=b"<row/>" * 100_000, times=1_800, tail=b"</sheetData></worksheet>")
    data = xlsx(bomb)
    assert bomb.size > 1_000_000_000 and len(data) < 2_000_000
    real_open = zipfile.ZipFile.open

    def guarded_open(self, name, *args, **kwargs):
        assert getattr(name, "filename", name) != "xl/worksheets/sheet1.xml", "the bomb is being inflated"
        return real_open(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", guarded_open)
    assert refusal(data, "farmers.xlsx") == ("This .xlsx file unpacks to more than 32 MB: copy just the list "
                                             "into a new file, or save it as CSV.")


def test_a_part_packed_like_a_bomb_is_refused():
    # 6 MB is within the budget, but no list of people compresses 600 times.
    data = xlsx(sheet(header_row() + person_row(2)), **{"xl/media/image1.png": Bomb(chunk=b"\0" * 60_000, times=100)})
    assert refusal(data, "farmers.xlsx") == NOT_ORDINARY


def test_a_million_empty_cells_in_one_row_are_refused_from_the_directory():
    # 20 KB that openpyxl builds into one row of a million cells (590 MB, 4.4 s): packed 500 times.
    data = xlsx(sheet(header_row().encode() + b'<row r="2">' + b'<c s="1"/>' * 1_000_001 + b"</row>"))
    assert len(data) < 25_000
    assert refusal(data, "farmers.xlsx", timeout=1) == NOT_ORDINARY


def test_too_many_formatted_cells_are_refused_as_they_stream():
    letters = [get_column_letter(column) for column in range(1, 16_385)]
    rows = "".join(f'<row r="{row}">' + "".join(f'<c r="{letter}{row}" s="1"/>' for letter in letters) + "</row>"
                   for row in range(2, 15))
    data = xlsx(sheet(header_row() + rows))
    assert refusal(data, "farmers.xlsx", cells=200_000) == (
        "This file holds more than 200,000 cells, counting empty cells that have a format: "
        "copy just the list into a new file.")


# --- 100,000 rows -------------------------------------------------------------------------------

@pytest.mark.parametrize("filename,make", [("farmers.csv", many_rows_csv), ("farmers.xlsx", many_rows_xlsx)])
def test_100000_rows_are_refused_before_the_end_of_the_file(filename, make):
    data = make(100_000)
    assert refusal(data, filename, timeout=3) == TOO_MANY_ROWS


@pytest.mark.parametrize("filename,make", [("farmers.csv", many_rows_csv), ("farmers.xlsx", many_rows_xlsx)])
def test_exactly_the_row_limit_is_read(filename, make):
    table = read_table(make(200), filename, limits=Limits(rows=200))
    assert len(table.rows) == 199 and table.rows[-1].line == 200
    with pytest.raises(ImportFileError, match="more than 199 rows"):
        read_table(make(200), filename, limits=Limits(rows=199))


# --- CSV ----------------------------------------------------------------------------------------

def test_csv_too_many_columns_but_trailing_empty_ones_are_fine():
    header = ",".join(HEADER)
    wide = f"{header}{',x' * 47}\n张伟,{ID},13800000001,330282104201\n"
    assert refusal(wide.encode(), "f.csv") == TOO_MANY_COLUMNS
    trailing = f"{header}{',' * 200}\n张伟,{ID},13800000001,330282104201{',' * 200}\n"
    assert [row.line for row in read_table(trailing.encode(), "f.csv").rows] == [2]


def test_csv_of_nothing_but_commas_is_refused_before_it_is_split():
    data = ",".join(HEADER).encode() + b"\n" + b"," * 5_000_000 + b"\n"
    assert refusal(data, "f.csv", timeout=1) == (
        "This file holds more than 1,000,000 cells, counting empty cells that have a format: "
        "copy just the list into a new file.")


def test_csv_blank_lines_past_the_row_limit_do_not_count():
    data = many_rows_csv(10) + b"\r\n" * 30_000
    assert len(read_table(data, "f.csv").rows) == 9


# --- size and time ------------------------------------------------------------------------------

@pytest.mark.parametrize("filename", ["f.csv", "f.xlsx"])
def test_a_file_over_the_size_limit_is_not_read(filename):
    assert refusal(b"x" * (2 ** 20 + 1), filename, file_bytes=2 ** 20) == (
        "This file is larger than 1 MB: split it into smaller files.")
    assert refusal(b"x" * (10 * 2 ** 20 + 1), filename) == (
        "This file is larger than 10 MB: split it into smaller files.")


@pytest.mark.parametrize("filename,make", [("farmers.csv", many_rows_csv), ("farmers.xlsx", many_rows_xlsx)])
def test_reading_stops_at_the_deadline(filename, make):
    assert refusal(make(50), filename, seconds=0) == (
        "Reading this file took more than 0 seconds: split it into smaller files, or save it as CSV.")


def test_the_limits_are_the_documented_ones():
    assert importing.LIMITS == Limits(rows=20_000, columns=50, cells=1_000_000, file_bytes=10 * 2 ** 20,
                                      unpacked_bytes=32 * 2 ** 20, seconds=30)


# --- XML that is not a spreadsheet's ------------------------------------------------------------

def test_a_sheet_with_a_doctype_is_refused():
    # Entity expansion ("billion laughs") needs a DOCTYPE; no spreadsheet program writes one.
    part = sheet(header_row() + person_row(2)).replace(
        b"<worksheet", b'<!DOCTYPE worksheet [<!ENTITY a "x">]><worksheet', 1)
    assert refusal(xlsx(part), "farmers.xlsx") == "This is not a readable .xlsx file."


def test_a_row_number_written_again_cannot_smuggle_in_more_rows():
    """Rows counted, not only numbered: 100,000 copies of row 2 are no list Excel writes."""
    repeated = header_row() + person_row(2) * 100_000
    assert refusal(xlsx(sheet(repeated)), "list.xlsx") == NOT_ORDINARY
    backwards = header_row() + person_row(3) + person_row(2)
    assert refusal(xlsx(sheet(backwards)), "list.xlsx") == NOT_ORDINARY


def test_rows_are_counted_as_well_as_numbered():
    rows = header_row() + "".join(person_row(line) for line in range(2, 12))
    assert "more than 5 rows" in refusal(xlsx(sheet(rows)), "list.xlsx", rows=5)
