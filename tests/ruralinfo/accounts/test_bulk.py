"""The bulk registration service: one spreadsheet mixing every case a liaison meets,
as CSV (UTF-8 with BOM), GBK CSV and XLSX, reported line by line."""
import csv
import io
import re
from datetime import date, timedelta

import pytest
from flask_babel import force_locale
from openpyxl import Workbook
from sqlalchemy import event, func, select

from ruralinfo.accounts import bulk, identity, importing, roles
from ruralinfo.accounts import services as accounts
from ruralinfo.accounts.models import User
from ruralinfo.audit.models import AuditEntry
from ruralinfo.extensions import db
from ruralinfo.liaison.models import ImportBatch
from tests.conftest import BALI, CHANGXI, OTHER_TOWNSHIP, WUXINGDIAN

ENGLISH = dict(zip(importing.FIELDS, importing.FIELDS))
CHINESE = dict(zip(importing.FIELDS, ["姓名", "身份证号码", "手机", "村代码", "产业", "语言"]))
SCOPE = [CHANGXI, WUXINGDIAN, OTHER_TOWNSHIP]  # a liaison point without 巴里村


def pid(sequence: int) -> str:
    return identity.compose("330282", date(1980, 1, 1), sequence)


def wide(text: str) -> str:
    return text.translate(str.maketrans("0123456789", "０１２３４５６７８９"))


SAME = ("陈阿大", pid(900), "13900009001")      # registered before, the file says the same
CONFLICT = ("周大福", pid(902), "13900009002")  # registered before, the file gives another phone
BAD_CHECK = pid(5)[:17] + ("1" if pid(5)[17] == "0" else "0")


def mixed_rows(labels: dict[str, str] = ENGLISH) -> list[list]:
    """Row i is line i + 1 of the file, as Excel numbers it."""
    return [
        [labels[key] for key in importing.FIELDS],
        ["张伟", pid(1), "13900000001", CHANGXI, "葡萄;茶叶", "zh"],                     # 2 registered
        ["  李娜  ", wide(pid(3)[:6]) + " " + wide(pid(3)[6:]), " " + wide("139 0000 0003") + " ",
         wide(WUXINGDIAN), "蔬菜；水果、粮油", " EN "],                                     # 3 registered
        [],                                                                             # 4 blank
        ["王强", BAD_CHECK, "13900000005", CHANGXI, "", ""],                             # 5 check character
        ["赵敏", "330282198002300070", "13900000006", CHANGXI, "", ""],                  # 6 30 February
        ["钱进", "330282800101001", "13900000007", CHANGXI, "", ""],                     # 7 15 digits
        ["孙丽", pid(9), "12345", CHANGXI, "", ""],                                      # 8 bad phone
        ["周杰", pid(11), "13900000011", "330282104299", "", ""],                        # 9 unknown region
        ["吴昊", pid(13), "13900000013", "330282104", "", ""],                           # 10 township with villages
        ["郑洁", pid(15), "13900000015", OTHER_TOWNSHIP, "", ""],                         # 11 registered
        ["冯涛", pid(17), "13900000017", BALI, "", ""],                                  # 12 outside the scope
        ["张伟伟", pid(1), "13900000019", CHANGXI, "", ""],                               # 13 same person as 2
        ["何平", pid(21), "13900000001", CHANGXI, "", ""],                               # 14 same phone as 2
        [SAME[0], SAME[1], SAME[2], CHANGXI, "", ""],                                   # 15 skipped
        [CONFLICT[0], CONFLICT[1], "13900000023", CHANGXI, "", ""],                     # 16 registered, other phone
        ["林新", pid(25), CONFLICT[2], CHANGXI, "", ""],                                 # 17 周大福's phone
        ["  ", "  ", "", "", " ", ""],                                                  # 18 spaces only: blank
        ["", "", "13900000027", CHANGXI, "苹果", "fr"],                                  # 19 four problems
        ["王芳", pid(29), "13900000029", WUXINGDIAN, "", "", "", ""],                    # 20 registered
        [],                                                                             # 21 blank
    ]


def expected_lines(labels: dict[str, str] = ENGLISH, scoped: bool = True) -> list[str]:
    name, idn, phone, region, groups, language = (labels[key] for key in importing.FIELDS)
    reasons = {
        5: f"{idn}: The last character does not match the others: a digit is probably mistyped.",
        6: f"{idn}: Digits 7–14 are not a real date of birth.",
        7: f"{idn}: This is an old 15-digit ID number. Ask for the 18-digit number on the second-generation ID card.",
        8: f"{phone}: This is not a valid phone number.",
        9: f"{region}: Unknown region code.",
        10: f"{region}: Choose the village inside 掌起镇.",
        12: f"{region}: This village is not served by your liaison point.",
        13: "same person as line 2",
        14: "same phone number as line 2",
        15: "skipped: already registered, nothing changed",
        16: f"{idn}: A person with this ID number is already registered. The name or phone number on record "
            "is different: change the account in the liaison console, not by import.",
        17: f"{phone}: This mobile number already belongs to a registered account.",
        19: f"{name}: Enter the real name as on the ID card.; {idn}: Enter the ID number.; "
            f"{groups}: Unknown interest group: 苹果; {language}: Language must be zh or en.",
    }
    if not scoped:
        del reasons[12]
    return [f"line {line}: {reason}" for line, reason in sorted(reasons.items())]


def csv_bytes(rows: list[list], encoding: str = "utf-8-sig") -> bytes:
    return "".join(",".join(row) + "\r\n" for row in rows).encode(encoding)


def xlsx_bytes(rows: list[list]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def xlsx_mixed_rows() -> list[list]:
    """The mixed rows with number cells where Excel makes them, and two ID numbers
    that Excel stored as numbers."""
    rows = mixed_rows()
    rows[1][2] = 13900000001                  # phone as an integer
    rows[10][3] = int(OTHER_TOWNSHIP)         # region code as a number
    rows[19][2] = 13900000029.0               # phone as a float
    rows.append(["蒋华", int(pid(31)), "13900000031", CHANGXI])      # 22
    rows.append(["沈月", float(pid(33)), "13900000033", CHANGXI])    # 23
    return rows


@pytest.fixture
def english(app):
    """The service renders reasons in the current locale; outside a request, force one."""
    with force_locale("en"):
        yield


@pytest.fixture
def liaison(make_point, make_staff, make_farmer):
    make_farmer(name=SAME[0], id_number=SAME[1], phone="+86" + SAME[2])
    make_farmer(name=CONFLICT[0], id_number=CONFLICT[1], phone="+86" + CONFLICT[2])
    point = make_point("长溪村联络点", SCOPE)
    return make_staff(roles.LIAISON, point=point)


def run(data: bytes, filename: str, actor, scope=SCOPE) -> bulk.ImportReport:
    return bulk.import_file(data, filename, actor=actor, channel="web", scope=scope)


def user_count() -> int:
    return db.session.scalar(select(func.count(User.id)))


@pytest.mark.usefixtures("english")
def test_csv_with_bom_reported_line_by_line(liaison):
    before = user_count()
    report = run(csv_bytes(mixed_rows()), "farmers.csv", liaison)
    assert report.lines() == expected_lines()
    assert [line for line, _id in report.registered] == [2, 3, 11, 20]
    assert user_count() == before + 4
    li = db.session.get(User, dict(report.registered)[3])
    assert (li.name, li.phone, li.region_code, li.language) == ("李娜", "+8613900000003", WUXINGDIAN, "en")
    assert [g.name_zh for g in li.groups] == ["粮油", "蔬菜", "水果"]  # catalogue order
    assert identity.vault().decrypt(li.id_cipher) == pid(3)
    assert (li.consent_method, li.registration_channel, li.registered_by_id) == ("import", "web", liaison.id)
    assert li.has_role(roles.FARMER)


@pytest.mark.usefixtures("english")
def test_gbk_csv_with_chinese_headers(liaison):
    report = run(csv_bytes(mixed_rows(CHINESE), "gbk"), "农户名单.csv", liaison)
    assert report.lines() == expected_lines(CHINESE)
    assert [line for line, _id in report.registered] == [2, 3, 11, 20]


@pytest.mark.usefixtures("english")
def test_xlsx_with_number_cells(liaison):
    report = run(xlsx_bytes(xlsx_mixed_rows()), "farmers.xlsx", liaison)
    lost = ("id_number: Excel stored this column as a number and dropped digits. Format the column as Text, "
            "type the numbers again and import the file again.")
    assert report.lines() == expected_lines() + [f"line 22: {lost}", f"line 23: {lost}"]
    registered = dict(report.registered)
    assert sorted(registered) == [2, 3, 11, 20]
    assert db.session.get(User, registered[20]).phone == "+8613900000029"
    assert db.session.get(User, registered[11]).region_code == OTHER_TOWNSHIP


@pytest.mark.usefixtures("english")
def test_without_a_scope_every_region_is_open(liaison):
    report = run(csv_bytes(mixed_rows()), "farmers.csv", None, scope=accounts.ALL_REGIONS)
    assert report.lines() == expected_lines(scoped=False)
    assert [line for line, _id in report.registered] == [2, 3, 11, 12, 20]


@pytest.mark.usefixtures("english")
def test_rejects_file_gives_the_rows_back_with_reasons(liaison):
    rows = mixed_rows(CHINESE)
    report = run(csv_bytes(rows, "gbk"), "农户名单.csv", liaison)
    data = bulk.rejects_csv(report)
    assert data.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert table[0] == ["姓名", "身份证号码", "手机", "村代码", "产业", "语言", "reason"]
    rejected_lines = [5, 6, 7, 8, 9, 10, 12, 13, 14, 16, 17, 19]
    reasons = {int(text.split(":")[0][5:]): text.split(": ", 1)[1] for text in expected_lines(CHINESE)}
    assert len(table) == 1 + len(rejected_lines)
    for line, out in zip(rejected_lines, table[1:]):
        original = [cell.strip() for cell in rows[line - 1][:6]]
        for column in (1, 2):  # ID and mobile numbers: a tab so that Excel keeps every digit as text
            if original[column].isdigit() and len(original[column]) >= 11:
                original[column] = "\t" + original[column]
        assert out == original + [reasons[line]]
    batch = db.session.get(ImportBatch, report.batch_id)
    assert identity.vault().decrypt_bytes(batch.rejects_cipher) == data


@pytest.mark.usefixtures("english")
def test_rejects_file_imports_again_once_corrected(liaison):
    first = run(csv_bytes(mixed_rows()), "farmers.csv", liaison)
    corrected = bulk.rejects_csv(first).replace(BAD_CHECK.encode(), pid(5).encode())
    second = run(corrected, "farmers.csv.rejected.csv", liaison)
    assert [line for line, _id in second.registered] == [2]  # 王强, now with his right number
    assert "reason" in dict(second.columns)
    assert b"reason,reason" not in bulk.rejects_csv(second)


@pytest.mark.usefixtures("english")
def test_import_batch_and_audit(liaison):
    report = run(csv_bytes(mixed_rows()), "farmers.csv", liaison)
    batch = db.session.get(ImportBatch, report.batch_id)
    assert (batch.registered, batch.skipped, batch.rejected) == (4, 1, 12)
    assert (batch.actor_id, batch.point_id, batch.filename) == (liaison.id, liaison.liaison_point_id, "farmers.csv")
    assert (batch.status, batch.upload_cipher, batch.error) == ("done", None, "")  # read and imported at once
    assert batch.finished_at is not None
    assert batch.report == "\n".join(expected_lines())
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.details["batch"].as_integer() == batch.id)
                                 .order_by(AuditEntry.id)).all()
    assert [(e.action, e.target_id) for e in entries] == [("farmer.register", uid) for _line, uid in report.registered]
    assert entries[0].details["after"]["id"] == identity.mask(pid(1))
    summary = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "farmers.import"))
    assert (summary.target_type, summary.target_id, summary.actor_id) == ("import_batches", batch.id, liaison.id)
    assert summary.details == {"filename": "farmers.csv", "registered": 4, "skipped": 1, "rejected": 12}


@pytest.mark.usefixtures("english")
def test_importing_the_same_file_twice_registers_nobody_twice(liaison):
    data = csv_bytes(mixed_rows())
    run(data, "farmers.csv", liaison)
    after_first = user_count()
    again = run(data, "farmers.csv", liaison)
    assert user_count() == after_first
    assert again.registered == []
    skipped = [line for line, _reason in again.skipped]
    assert skipped == [2, 3, 11, 15, 20]
    assert [item.line for item in again.rejected] == [5, 6, 7, 8, 9, 10, 12, 13, 14, 16, 17, 19]


@pytest.mark.usefixtures("english")
def test_no_plain_id_number_in_the_batch_or_the_audit_log(liaison, db_dump):
    data = xlsx_bytes(xlsx_mixed_rows())
    run(data, "farmers.xlsx", liaison)
    numbers = set(re.findall(r"\d{14,17}[\dX]", csv_bytes(mixed_rows()).decode("utf-8-sig")))
    numbers |= {pid(n) for n in (1, 3, 15, 29, 31, 33)}
    dump = db_dump()
    assert [n for n in numbers if n in dump] == []
    assert identity.mask(pid(1)) in dump


@pytest.mark.usefixtures("english")
def test_a_conflict_found_at_insert_time_is_looked_at_again(liaison, monkeypatch, make_farmer):
    # Another import registers 张伟 between our look-up and our insert.
    real = bulk._existing
    calls = []

    def stale_first(checked):
        calls.append(1)
        if len(calls) == 1:
            make_farmer(name="张伟", id_number=pid(1), phone="+8613900000001")
            return ({}, {})
        return real(checked)

    monkeypatch.setattr(bulk, "_existing", stale_first)
    report = run(csv_bytes(mixed_rows()[:3]), "farmers.csv", liaison)
    assert report.skipped == [(2, "skipped: already registered, nothing changed")]
    assert [line for line, _id in report.registered] == [3]


@pytest.mark.usefixtures("english")
def test_lookups_do_not_grow_with_the_rows(liaison):
    def selects(count: int) -> int:
        born = [date(1960, 1, 1) + timedelta(days=n) for n in range(count)]
        rows = [importing.Row(line=n + 2, values={"name": "张三",
                                                  "id_number": identity.compose("330282", born[n], count),
                                                  "phone": f"1390001{n + count:04d}", "region_code": CHANGXI})
                for n in range(count)]
        seen = []

        def listener(_conn, _cursor, statement, *_args):
            if statement.lstrip().upper().startswith("SELECT"):
                seen.append(statement)

        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            report = bulk.import_farmers(rows, actor=liaison, channel="web", scope=SCOPE)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        assert len(report.registered) == count
        return len(seen)

    # 600 rows need a second chunk for each of the two IN look-ups, nothing more
    assert selects(600) - selects(10) <= 2


def test_the_rejects_file_never_holds_a_formula_and_reads_back_as_typed(app):
    import csv as csv_module

    report = bulk.ImportReport(filename="x.csv", columns=[("name", "name"), ("phone", "phone"),
                                                           ("id_number", "id_number"), ("region_code", "region_code")])
    row = {"name": "=HYPERLINK(\"http://x\",\"y\")", "phone": "13800138000", "id_number": "@SUM(1)",
           "region_code": CHANGXI}
    report.rejected.append(bulk.Rejected(line=2, reason="-bad", row=row))
    data = bulk.rejects_csv(report)
    [_header, cells] = list(csv_module.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert cells == ["'=HYPERLINK(\"http://x\",\"y\")", "\t13800138000", "'@SUM(1)", CHANGXI, "'-bad"]
    again = importing.read_table(data, "x.csv.rejected.csv").rows[0].values
    assert (again["name"], again["phone"], again["id_number"]) == (row["name"], row["phone"], row["id_number"])
