"""Reading farmer spreadsheets: CSV in every encoding Excel saves, XLSX with number cells."""
import io
import zipfile

import pytest
from openpyxl import Workbook

from ruralinfo.accounts import importing
from ruralinfo.accounts.importing import ImportFileError, read_table
from tests.ruralinfo.accounts import spreadsheets
from tests.ruralinfo.accounts.spreadsheets import DOC_RELS, MAIN, RELS

ID = "330282198001010015"  # identity.compose("330282", date(1980, 1, 1), 1)
LOST = str(importing.LOST_DIGITS)


def xlsx(rows: list[list], patch: dict[str, str] | None = None) -> bytes:
    """An .xlsx file as openpyxl writes it; ``patch`` rewrites the sheet's XML (old → new)
    to get cells exactly as Excel stores them."""
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    if not patch:
        return buffer.getvalue()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as old, zipfile.ZipFile(out, "w") as new:
        for item in old.infolist():
            data = old.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                for before, after in patch.items():
                    data = data.replace(before.encode(), after.encode())
            new.writestr(item, data)
    return out.getvalue()


def lines_and_values(table, key):
    return [(row.line, row.values[key]) for row in table.rows]


def test_csv_with_bom_blank_lines_spaces_and_trailing_columns():
    text = ("\ufeffname,id_number,phone,region_code,,\r\n"
            "\r\n"
            "  张伟 , 330282198001010015 ,13800000001,330282104201,,\r\n"
            " , ,,  ,,\r\n"
            "李娜,１１０１０５,13800000002,330282104202,,,,\r\n")
    table = read_table(text.encode("utf-8"), "farmers.csv")
    assert table.columns == [("name", "name"), ("id_number", "id_number"), ("phone", "phone"),
                             ("region_code", "region_code")]
    assert [row.line for row in table.rows] == [3, 5]
    assert table.rows[0].values == {"name": "张伟", "id_number": ID, "phone": "13800000001",
                                    "region_code": "330282104201"}
    assert table.rows[1].values["id_number"] == "１１０１０５"  # full-width digits are the checks' business


def test_gbk_csv_with_chinese_headers():
    text = "姓名,身份证号码,手机,村代码,产业,语言\r\n张伟,%s,13800000001,330282104201,葡萄；茶叶,zh\r\n" % ID
    table = read_table(text.encode("gbk"), "农户.csv")
    assert [key for key, _label in table.columns] == list(importing.FIELDS)
    assert [label for _key, label in table.columns] == ["姓名", "身份证号码", "手机", "村代码", "产业", "语言"]
    assert table.rows[0].values["name"] == "张伟"
    assert importing.split_groups(table.rows[0].values["groups"]) == ["葡萄", "茶叶"]


@pytest.mark.parametrize("label,key", [
    (" Name ", "name"), ("ID_Number", "id_number"), ("id number", "id_number"), ("ID-NUMBER", "id_number"),
    ("身份证号", "id_number"), ("身份证号码", "id_number"), ("手机号", "phone"), ("手机号码", "phone"),
    ("手机", "phone"), ("地区代码", "region_code"), ("村代码", "region_code"), ("区划代码", "region_code"),
    ("Region Code", "region_code"), ("产业", "groups"), ("兴趣组", "groups"), ("语言", "language"),
    ("姓名", "name"), ("\ufeffname", "name"), ("备注", "备注"),
])
def test_header_aliases(label, key):
    assert importing.header_key(label) == key


def test_split_groups_on_semicolons_and_enumeration_comma_but_not_comma():
    assert importing.split_groups(" 葡萄; 茶叶；生猪、 蔬菜 ;;") == ["葡萄", "茶叶", "生猪", "蔬菜"]
    assert importing.split_groups("葡萄,茶叶") == ["葡萄,茶叶"]
    assert importing.split_groups("") == []


def test_extra_columns_are_kept_for_the_rejects_file():
    table = read_table(f"备注,name,id_number,phone,region_code\n老户,张伟,{ID},1,2\n".encode(), "f.csv")
    assert table.columns[0] == ("备注", "备注")
    assert table.rows[0].values["备注"] == "老户"


def test_xlsx_numbers_become_the_digits_people_typed():
    data = xlsx([
        ["Name", "ID Number", "Phone", "Region_Code", None, None],
        [],
        ["张伟", ID, 13800000001, 330282104201],
        ["李娜", ID, 13800000002.0, 330282107.0],   # rewritten below to Excel's 1.3800000002E10
        ["王强", ID, "13800000003", "330282104203", None, None],
    ], patch={"<v>13800000002</v>": "<v>1.3800000002E10</v>"})
    table = read_table(data, "farmers.xlsx")
    assert [key for key, _label in table.columns] == ["name", "id_number", "phone", "region_code"]
    assert [(row.line, row.values["phone"], row.values["region_code"]) for row in table.rows] == [
        (3, "13800000001", "330282104201"), (4, "13800000002", "330282107"), (5, "13800000003", "330282104203")]
    assert all(not row.problems for row in table.rows)


def test_xlsx_id_number_stored_as_a_number_is_flagged():
    data = xlsx([
        ["name", "id_number", "phone", "region_code"],
        ["张伟", 330282198001010015, "13800000001", "330282104201"],  # openpyxl, like Excel, keeps 15 digits
        ["李娜", 2, "13800000002", "330282104201"],                    # rewritten to Excel's own notation
        ["钱进", 330282800101001, "13800000003", "330282104201"],     # 15 digits survive: the checks say why
    ], patch={"<v>2</v>": "<v>3.3028219800101E+17</v>"})
    table = read_table(data, "farmers.xlsx")
    assert [row.problems for row in table.rows] == [{"id_number": LOST}, {"id_number": LOST}, {}]
    assert table.rows[0].values["id_number"] != ID
    assert table.rows[2].values["id_number"] == "330282800101001"


def test_xlsx_exact_18_digit_integer_is_still_flagged():
    # A program (not Excel) may write all 18 digits; Excel would have lost them on the way.
    data = xlsx([["name", "id_number", "phone", "region_code"], ["张伟", 1, "13800000001", "330282104201"]],
                patch={"<v>1</v>": f"<v>{ID}</v>"})
    row = read_table(data, "farmers.xlsx").rows[0]
    assert row.values["id_number"] == ID
    assert row.problems == {"id_number": LOST}


def test_xlsx_as_excel_writes_it():
    """Shared strings with a phonetic guide, a formula's result, dates by built-in, custom
    and Chinese built-in formats, a boolean, and the list on the sheet the file opens on."""
    book = (f'<workbook xmlns="{MAIN}" xmlns:r="{DOC_RELS}"><bookViews><workbookView activeTab="1"/></bookViews>'
            '<sheets><sheet name="说明" sheetId="1" r:id="rId1"/><sheet name="名单" sheetId="2" r:id="rId2"/></sheets>'
            '</workbook>')
    book_rels = (f'<Relationships xmlns="{RELS}">'
                 f'<Relationship Id="rId1" Type="{DOC_RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
                 f'<Relationship Id="rId2" Type="{DOC_RELS}/worksheet" Target="/xl/worksheets/sheet2.xml"/>'
                 f'<Relationship Id="rId3" Type="{DOC_RELS}/styles" Target="styles.xml"/>'
                 f'<Relationship Id="rId4" Type="{DOC_RELS}/sharedStrings" Target="sharedStrings.xml"/>'
                 '</Relationships>')
    styles = (f'<styleSheet xmlns="{MAIN}"><numFmts count="1">'
              '<numFmt numFmtId="176" formatCode="yyyy&quot;年&quot;m&quot;月&quot;d&quot;日&quot;"/></numFmts>'
              '<cellStyleXfs count="1"><xf numFmtId="0"/></cellStyleXfs>'
              '<cellXfs count="4"><xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="176"/><xf numFmtId="31"/>'
              '</cellXfs></styleSheet>')
    labels = ["name", "id_number", "phone", "region_code", "备注", "生日", "登记日", "核实"]
    strings = (f'<sst xmlns="{MAIN}">' + "".join(f"<si><t>{label}</t></si>" for label in labels)
               + '<si><r><t>张</t></r><r><rPr><b/></rPr><t xml:space="preserve">伟 </t></r>'
               '<rPh sb="0" eb="2"><t>zhāng wěi</t></rPh></si></sst>')
    header = '<x:row r="1">' + "".join(f'<x:c r="{col}1" t="s"><x:v>{i}</x:v></x:c>'
                                      for i, col in enumerate("ABCDEFGH")) + "</x:row>"
    person = ('<x:row r="3"><x:c r="A3" t="s"><x:v>8</x:v></x:c>'
              f'<x:c r="B3" t="str"><x:f>TEXT(I3,"0")</x:f><x:v>{ID}</x:v></x:c>'
              '<x:c r="C3"><x:v>13800000001</x:v></x:c>'
              '<x:c r="D3" t="inlineStr"><x:is><x:r><x:t>3302821</x:t></x:r><x:r><x:t>04201</x:t></x:r></x:is></x:c>'
              '<x:c r="E3" s="1"><x:v>45352</x:v></x:c><x:c r="F3" s="2"><x:v>45352</x:v></x:c>'
              '<x:c r="G3" s="3"><x:v>45352.5</x:v></x:c><x:c r="H3" t="b"><x:v>1</x:v></x:c></x:row>')
    listing = f'<x:worksheet xmlns:x="{MAIN}"><x:sheetData>{header}{person}</x:sheetData></x:worksheet>'
    data = spreadsheets.xlsx(spreadsheets.sheet('<row r="1"><c r="A1" t="inlineStr"><is><t>看第二页</t></is></c></row>'),
                             book=book, book_rels=book_rels, **{"xl/worksheets/sheet2.xml": listing.encode(),
                                                               "xl/styles.xml": styles.encode(),
                                                               "xl/sharedStrings.xml": strings.encode()})
    table = read_table(data, "farmers.xlsx")
    assert [label for _key, label in table.columns] == labels
    assert [row.line for row in table.rows] == [3]
    assert list(table.rows[0].values.values()) == ["张伟", ID, "13800000001", "330282104201", "2024-03-01",
                                                   "2024-03-01", "2024-03-01T12:00:00", "True"]


def test_csv_saved_by_excel_with_scientific_notation_is_flagged():
    text = "name,id_number,phone,region_code\n张伟,3.30282E+17,1.38E+10,330282104201\n李娜,%s,13800000002,1\n" % ID
    table = read_table(text.encode("gbk"), "farmers.csv")
    assert table.rows[0].problems == {"id_number": LOST, "phone": LOST}
    assert table.rows[1].problems == {}


def test_tab_separated_utf16_from_excel_unicode_text():
    text = f"name\tid_number\tphone\tregion_code\r\n张伟\t{ID}\t13800000001\t330282104201\r\n"
    table = read_table(text.encode("utf-16"), "farmers.txt")
    assert table.rows[0].values["id_number"] == ID


def test_header_may_follow_blank_lines_and_line_numbers_stay_real():
    text = f"\n\nname,id_number,phone,region_code\n\n张伟,{ID},13800000001,330282104201\n"
    table = read_table(text.encode(), "f.csv")
    assert [row.line for row in table.rows] == [5]


def test_quoted_cell_spanning_lines_is_one_excel_row():
    text = f'name,id_number,phone,region_code,备注\n张伟,{ID},13800000001,330282104201,"两行\n备注"\n李娜,{ID},1,2,\n'
    table = read_table(text.encode(), "f.csv")
    assert [row.line for row in table.rows] == [2, 3]


@pytest.mark.parametrize("data,filename,message", [
    (b"name,phone\nA,1\n", "f.csv", "Missing column(s): id_number, region_code."),
    ("姓名,手机\n".encode("gbk"), "f.csv", "Missing column(s): id_number, region_code."),
    (b"", "f.csv", "The file is empty."),
    (b"\n , ,\n\n", "f.csv", "The file is empty."),
    (b"name,id_number,phone,region_code,Phone\n", "f.csv", "The column Phone appears twice."),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "f.xls", "Old Excel files (.xls)"),
    (b"PK\x03\x04garbage", "f.xlsx", "This is not a readable .xlsx file."),
    (b"name,id_number\x00\x01\x02", "f.csv", "This is not a CSV or XLSX file."),
    (b"\x80\x80\xff\xfe\xff", "f.csv", "The file is neither UTF-8 nor GBK text"),
    (b"name,id_number,phone,region_code\n", "f.xlsx", "This is not a readable .xlsx file."),
])
def test_unreadable_files_and_missing_columns(data, filename, message):
    with pytest.raises(ImportFileError) as err:
        read_table(data, filename)
    assert message in str(err.value)


def test_empty_xlsx_sheet():
    with pytest.raises(ImportFileError, match="The file is empty"):
        read_table(xlsx([]), "f.xlsx")


def test_header_only_has_no_rows():
    assert read_table(b"name,id_number,phone,region_code\n", "f.csv").rows == []
