"""Spreadsheet-safe exports: a streamed CSV is the same file as a whole one, in pieces."""
from ruralinfo import exports


def test_a_streamed_csv_is_the_same_file_as_a_whole_one_in_pieces():
    header = ["姓名", "Phone"]
    rows = [[f"张{n}", "=1+1" if n == 3 else f"1380013{n:04d}"] for n in range(2500)]
    pieces = list(exports.csv_stream(header, iter(rows), every=1000))
    assert len(pieces) == 3  # rows 1–1000 (with the header), 1001–2000, and the last 500
    assert b"".join(pieces) == exports.csv_bytes(header, rows)
    assert b"'=1+1" in b"".join(pieces)  # no formula ever runs
