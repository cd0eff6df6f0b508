"""``flask --app wsgi users import FILE``: output, rejects file and exit status."""
import csv
import io

import pytest
from sqlalchemy import func, select

from ruralinfo.accounts import roles
from ruralinfo.accounts.cli import users_cli
from ruralinfo.accounts.models import User
from ruralinfo.audit.models import AuditEntry
from ruralinfo.extensions import db
from ruralinfo.liaison.models import ImportBatch
from tests.ruralinfo.accounts.spreadsheets import header_row, inline, many_rows_csv, sheet, within, xlsx
from tests.ruralinfo.accounts.test_bulk import (CHINESE, CONFLICT, SAME, csv_bytes, expected_lines, mixed_rows, pid,
                                                xlsx_bytes, xlsx_mixed_rows)


TOO_MANY_ROWS = "This file has more than 20,000 rows: split it into smaller files."


@pytest.fixture
def invoke(app):
    def run(*args: str):
        return app.test_cli_runner().invoke(users_cli, ["import", *map(str, args)])
    return run


@pytest.fixture
def registered_before(make_farmer):
    make_farmer(name=SAME[0], id_number=SAME[1], phone="+86" + SAME[2])
    make_farmer(name=CONFLICT[0], id_number=CONFLICT[1], phone="+86" + CONFLICT[2])


def user_count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(User.id)))


def good_rows() -> list[list]:
    return [mixed_rows()[0], *(row for row in mixed_rows() if row[:1] in (["张伟"], ["王芳"], ["郑洁"]))]


def test_every_row_registered_exits_0(invoke, tmp_path):
    path = tmp_path / "farmers.csv"
    path.write_bytes(csv_bytes(good_rows()))
    result = invoke(path)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["3 registered, 0 already registered, 0 rejected."]
    assert not (tmp_path / "farmers.csv.rejected.csv").exists()
    farmer = db.session.scalar(select(User).where(User.name == "张伟"))
    assert (farmer.registration_channel, farmer.consent_method, farmer.registered_by_id) == ("cli", "import", None)
    assert farmer.has_role(roles.FARMER)


@pytest.mark.usefixtures("registered_before")
def test_some_rows_rejected_exits_2_with_a_rejects_file(invoke, tmp_path):
    path = tmp_path / "农户.csv"
    path.write_bytes(csv_bytes(mixed_rows(CHINESE), "gbk"))
    before = user_count()
    result = invoke(path)
    assert result.exit_code == 2, result.output
    rejects = tmp_path / "农户.csv.rejected.csv"
    assert result.output.splitlines() == expected_lines(CHINESE, scoped=False) + [
        "5 registered, 1 already registered, 11 rejected.",
        f"The rejected rows, with the reasons, are in {rejects}."]
    assert user_count() == before + 5
    data = rejects.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert table[0] == [*CHINESE.values(), "reason"]
    assert [row[0] for row in table[1:]] == ["王强", "赵敏", "钱进", "孙丽", "周杰", "吴昊", "张伟伟", "何平",
                                             CONFLICT[0], "林新", ""]
    assert table[1][6].startswith("身份证号码: The last character does not match")


@pytest.mark.usefixtures("registered_before")
def test_xlsx_through_the_command(invoke, tmp_path):
    path = tmp_path / "farmers.xlsx"
    path.write_bytes(xlsx_bytes(xlsx_mixed_rows()))
    result = invoke(path)
    assert result.exit_code == 2, result.output
    assert "line 22: id_number: Excel stored this column as a number" in result.output
    assert (tmp_path / "farmers.xlsx.rejected.csv").exists()
    assert db.session.scalar(select(func.count(ImportBatch.id))) == 1


@pytest.mark.usefixtures("registered_before")
def test_the_same_file_twice_registers_nobody_twice(invoke, tmp_path):
    path = tmp_path / "farmers.csv"
    path.write_bytes(csv_bytes(mixed_rows()))
    before = user_count()
    assert invoke(path).exit_code == 2
    after_first = user_count()
    assert after_first == before + 5
    second = invoke(path)
    assert second.exit_code == 2
    assert user_count() == after_first
    assert "0 registered, 6 already registered, 11 rejected." in second.output


def test_a_rerun_of_a_good_file_only_skips_and_exits_0(invoke, tmp_path):
    path = tmp_path / "farmers.csv"
    path.write_bytes(csv_bytes(good_rows()))
    assert invoke(path).exit_code == 0
    again = invoke(path)
    assert again.exit_code == 0, again.output
    assert again.output.splitlines() == [
        "line 2: skipped: already registered, nothing changed",
        "line 3: skipped: already registered, nothing changed",
        "line 4: skipped: already registered, nothing changed",
        "0 registered, 3 already registered, 0 rejected."]


@pytest.mark.parametrize("name,data,message", [
    ("farmers.csv", b"name,phone,region_code\n\xe5\xbc\xa0\xe4\xbc\x9f,13900000001,330282104201\n",
     "Missing column(s): id_number."),
    ("farmers.xlsx", b"PK\x03\x04 not really a zip", "This is not a readable .xlsx file."),
    ("farmers.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, "Old Excel files (.xls)"),
    ("farmers.csv", b"", "The file is empty."),
])
def test_unreadable_file_or_missing_column_exits_1_registering_nobody(invoke, tmp_path, name, data, message):
    path = tmp_path / name
    path.write_bytes(data)
    before = user_count()
    result = invoke(path)
    assert result.exit_code == 1
    assert message in result.output
    assert str(path) in result.output
    assert user_count() == before
    assert db.session.scalar(select(func.count(ImportBatch.id))) == 0


@pytest.mark.parametrize("name,make,message", [
    ("farmers.xlsx", lambda: xlsx(sheet(header_row() + f'<row r="200000">{inline("WCB200000", "x")}</row>',
                                        dimension="A1:WCB200000")),
     TOO_MANY_ROWS),
    ("farmers.csv", lambda: many_rows_csv(100_000), TOO_MANY_ROWS),
    ("farmers.csv", lambda: b"x" * (10 * 2 ** 20 + 1), "This file is larger than 10 MB: split it into smaller files."),
])
def test_the_command_has_the_limits_of_the_upload_form(invoke, tmp_path, name, make, message):
    path = tmp_path / name
    path.write_bytes(make())
    with within(4):
        result = invoke(path)
    assert result.exit_code == 1
    assert f"{path}: {message}" in result.output
    assert user_count() == 0
    assert db.session.scalar(select(func.count(ImportBatch.id))) == 0


def test_missing_file_exits_1(invoke, tmp_path):
    result = invoke(tmp_path / "nowhere.csv")
    assert result.exit_code == 1
    assert "Can't read" in result.output and "nowhere.csv" in result.output


def test_a_directory_exits_1_not_2(invoke, tmp_path):
    result = invoke(tmp_path)
    assert result.exit_code == 1
    assert "Can't read" in result.output


def test_cli_output_and_log_hold_no_id_number(invoke, tmp_path, caplog, registered_before):
    path = tmp_path / "farmers.csv"
    path.write_bytes(csv_bytes(mixed_rows()))
    with caplog.at_level("DEBUG"):
        result = invoke(path)
    for number in (pid(1), pid(3), pid(5), SAME[1], CONFLICT[1]):
        assert number not in result.output
        assert number not in caplog.text
    summary = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "farmers.import"))
    assert (summary.channel, summary.actor_id) == ("cli", None)


@pytest.mark.usefixtures("registered_before")
def test_rejects_file_that_cannot_be_written_still_exits_2(invoke, tmp_path):
    path = tmp_path / "farmers.csv"
    path.write_bytes(csv_bytes(mixed_rows()))
    (tmp_path / "farmers.csv.rejected.csv").mkdir()  # in the way, even for root
    result = invoke(path)
    assert result.exit_code == 2
    assert "Can't write" in result.output
    assert "5 registered" in result.output
