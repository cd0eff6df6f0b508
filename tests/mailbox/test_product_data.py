"""The shipped product taxonomy (mailbox/data) and its pure loader."""
import re
from pathlib import Path

import pytest

from mailbox.product_data import DATA_DIR, ProductRow, load_categories, load_products, pinyin

UNITS = {
    "斤", "两", "公斤", "吨", "株", "棵", "头", "只", "羽", "尾", "条", "箱", "筐", "袋", "个", "枚",
    "亩", "台", "瓶", "盆", "枝",
}

# The roots of every subtree that is ours and not NY/T 3177-2018's (data/README.md, "Extension").
EXTENSION_PREFIXES = (
    "90", "91",
    "0190", "0191", "0192", "0193", "0290", "0390",
    "020190", "020191", "020192", "020290", "020291", "020292", "020390",
    "01010190", "01010290", "01010390", "01010490", "01010590", "01010690",
    "01020190", "01020290", "01020390", "01020490", "01020790",
    "01030190", "01030290", "01030390", "01030490", "01030590", "01030690", "01030790",
    "01030990", "01031090", "01031190",
    "01040190", "01040290", "01040390", "01040490", "01040590", "01040690", "01040790",
    "01040890", "01040990", "01041090", "01041190", "01041290", "01041390", "01041490",
    "01050190", "01050290",
    "01060190", "01060290", "01060390", "01060490", "01060590", "01060690",
    "01070190", "01070490", "01080290", "01090290",
    "03010190", "03010290", "03020190", "03020290", "03030190", "03030290",
    "03040190", "03040290", "03050190", "03060190", "03070190", "03070290",
)

# Codes of the standard used as products, not just as tree nodes (data/README.md).
STANDARD_PRODUCTS = {
    "010101": "稻谷", "010102": "小麦", "010103": "玉米", "010201": "大豆", "010202": "油菜籽",
    "010203": "花生", "010204": "芝麻", "010205": "葵花籽", "010801": "甜菜", "010802": "甘蔗",
    "010901": "棉花",
}


@pytest.fixture(scope="module")
def rows() -> list[ProductRow]:
    return load_products()


@pytest.fixture(scope="module")
def products(rows) -> list[ProductRow]:
    return [row for row in rows if row.is_product]


@pytest.fixture(scope="module")
def by_word(products) -> dict[str, ProductRow]:
    """Every product name and synonym → its product."""
    return {word: row for row in products for word in (row.name_zh, *row.synonyms)}


def test_files_are_utf8_without_bom_and_sorted_by_code():
    for name in ("categories.csv", "products.csv"):
        raw = (DATA_DIR / name).read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf"), name
        raw.decode("utf-8")
    codes = [row.code for row in load_products()]
    assert codes == sorted(codes)


def test_at_least_twelve_categories_with_unique_keys_and_words():
    categories = load_categories()
    assert len(categories) >= 12
    assert len({c.key for c in categories}) == len(categories)
    assert all(re.fullmatch(r"[a-z][a-z_]*", c.key) for c in categories)
    words = [w for c in categories for w in (c.name_zh, *c.synonyms)]
    assert len(words) == len(set(words))
    names = {c.name_zh for c in categories}
    for required in ("粮油", "蔬菜", "水果", "茶叶", "畜禽", "水产", "种子种苗", "苗木花卉", "食用菌",
                     "中药材", "农资", "农机"):
        assert required in names


def test_at_least_three_hundred_products(products):
    assert len(products) >= 300


def test_codes_are_unique_and_two_digits_a_level(rows):
    codes = [row.code for row in rows]
    assert len(codes) == len(set(codes))
    assert all(re.fullmatch(r"(\d\d)+", code) for code in codes)


def test_every_parent_exists_and_prefixes_its_children(rows):
    codes = {row.code for row in rows}
    for row in rows:
        if row.parent is None:
            assert len(row.code) == 2, row.code
        else:
            assert row.parent in codes, row.code
            assert row.code == row.parent + row.code[len(row.parent):]
            assert len(row.code) == len(row.parent) + 2, row.code


def test_every_category_exists(rows):
    keys = {c.key for c in load_categories()}
    for row in rows:
        if row.is_product:
            assert row.category in keys, row.code
        else:
            assert row.category in keys | {""}, row.code


def test_every_unit_is_one_farmers_use(products):
    assert {row.unit for row in products} <= UNITS


def test_names_are_filled_in(rows):
    for row in rows:
        assert row.name_zh and row.name_en, row.code
        assert row.name_en == row.name_en.lower(), row.code
        assert row.name_zh not in row.synonyms, row.code


def test_no_name_or_synonym_belongs_to_two_products(products):
    seen: dict[str, str] = {}
    for row in products:
        for word in (row.name_zh, *row.synonyms):
            assert word not in seen, f"{word} is both {seen[word]} and {row.code}"
            seen[word] = row.code


def test_no_tree_node_is_named_like_a_product(rows, by_word):
    for row in rows:
        if not row.is_product:
            assert row.name_zh not in by_word, row.code


def test_no_category_word_is_also_a_product_word(by_word):
    for category in load_categories():
        for word in (category.name_zh, *category.synonyms):
            assert word not in by_word, word


@pytest.mark.parametrize(("word", "product"), [
    ("马铃薯", "土豆"), ("洋芋", "土豆"), ("山药蛋", "土豆"),
    ("西红柿", "番茄"),
    ("苞米", "玉米"), ("苞谷", "玉米"), ("玉蜀黍", "玉米"),
    ("地瓜", "红薯"), ("番薯", "红薯"), ("山芋", "红薯"), ("甘薯", "红薯"),
    ("葡萄秧", "葡萄苗"),
    ("黄芽菜", "大白菜"), ("芋艿", "芋头"), ("落苏", "茄子"), ("包头鱼", "鳙鱼"), ("米仁", "薏米"),
])
def test_known_synonyms_resolve(by_word, word, product):
    assert by_word[word].name_zh == product


def test_the_products_the_field_talks_about_are_there(by_word):
    for word in ("葡萄", "葡萄苗", "茶苗", "秧苗", "生猪", "仔猪", "牛", "羊", "鸡", "鸭", "鹅", "鸡蛋",
                 "龙井", "大米", "面粉", "菜籽油", "复合肥", "有机肥", "地膜", "猪饲料", "拖拉机",
                 "收割机", "插秧机", "旋耕机"):
        assert word in by_word, word


def test_generic_words_are_tree_nodes(rows, by_word):
    """化肥, 农药, 饲料 name groups of products, not one product."""
    nodes = {row.name_zh for row in rows if not row.is_product}
    for word in ("化肥", "农药", "饲料", "中药材", "苗木花卉", "种子种苗"):
        assert word in nodes and word not in by_word, word


def test_units_fit_the_product(by_word):
    assert by_word["生猪"].unit == "头"
    assert by_word["鸡"].unit == "只"
    assert by_word["葡萄苗"].unit == "株"
    assert by_word["土豆"].unit == "斤"
    assert by_word["拖拉机"].unit == "台"


def test_extended_is_set_exactly_on_codes_outside_the_standard(rows):
    for row in rows:
        assert row.extended == row.code.startswith(EXTENSION_PREFIXES), row.code


def test_extension_codes_use_ninety_and_up_and_leave_ninety_nine_alone(rows):
    """Ours: a two-digit group 90–98 somewhere; 99 is the standard's 'other' bucket."""
    for prefix in EXTENSION_PREFIXES:
        assert 90 <= int(prefix[-2:]) <= 98, prefix
    for row in rows:
        groups = [int(row.code[i:i + 2]) for i in range(0, len(row.code), 2)]
        assert row.extended == any(90 <= g <= 98 for g in groups), row.code


def test_standard_codes_used_as_products(rows):
    named = {row.code: row.name_zh for row in rows if row.is_product and not row.extended}
    assert named == STANDARD_PRODUCTS


def test_pinyin_full_and_initials():
    assert pinyin("土豆") == ("tudou", "td")
    assert pinyin("洋芋")[1] == "yy"
    assert pinyin("绿豆") == ("lvdou", "ld")


@pytest.mark.parametrize(("name", "full"), [
    ("玄参", "xuanshen"), ("重楼", "chonglou"), ("长豇豆", "changjiangdou"), ("花蛤", "huage"),
    ("大黄鱼", "dahuangyu"), ("白术", "baizhu"), ("翘嘴鲌", "qiaozuibo"), ("茄子", "qiezi"),
])
def test_pinyin_reads_farm_words_right(name, full):
    assert pinyin(name)[0] == full


def test_every_name_has_ascii_pinyin(rows):
    for row in rows:
        if row.is_product:
            full, initials = pinyin(row.name_zh)
            assert re.fullmatch(r"[a-z0-9]+", full), row.name_zh
            assert len(initials) <= len(full)


def test_loader_rejects_a_file_with_other_columns(tmp_path: Path):
    bad = tmp_path / "products.csv"
    bad.write_text("code,name\n01,种植业产品\n", encoding="utf-8")
    with pytest.raises(ValueError):
        load_products(bad)
