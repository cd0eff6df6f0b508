"""Posts as they are understood: product from the shipped taxonomy (synonyms,
English, pinyin), quantity and price normalised, the village as the place, expiry;
and the `posts parse` tool."""
from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from mailbox.models import Post
from ruralinfo.extensions import db
from ruralinfo.timeutil import now_utc
from tests.conftest import CHANGXI


@pytest.fixture
def farmer(make_point, make_farmer):
    make_point("长溪村联络点", (CHANGXI,))
    return make_farmer(region_code=CHANGXI, name="陈阿毛")


def only_post() -> Post:
    [post] = db.session.scalars(select(Post)).all()
    return post


def test_a_sell_text_is_understood_and_kept_with_the_village(app, farmer, text_in):
    _response, reply = text_in(farmer.phone, "卖 洋芋 五百斤 一块二一斤")
    post = only_post()
    assert post.product.name_zh == "土豆" and post.text == "洋芋 五百斤 一块二一斤"
    assert (post.quantity, post.unit, post.base_quantity, post.base_unit) == (500, "斤", 250, "公斤")
    assert (post.price, post.price_unit, post.base_price) == (Decimal("1.2"), "斤", Decimal("2.4"))
    assert post.region_code == CHANGXI
    assert abs(post.expires_at - (now_utc() + timedelta(days=app.config["POST_DAYS"]))) < timedelta(minutes=1)
    assert f"{post.id}" in reply and "土豆" in reply and "500斤" in reply


@pytest.mark.parametrize("text,product", [
    ("买 夏黑葡萄苗 两千株 3元/株", "葡萄苗"),   # the variety stays in the notes
    ("卖 西红柿 300斤 面议", "番茄"),
    ("SELL potatoes 500 jin 1.5 yuan/jin", "土豆"),
    ("卖 tudou 200斤", "土豆"),                 # pinyin typed on a feature phone
    ("买 苞谷 2吨", "玉米"),
])
def test_synonyms_english_and_pinyin_name_the_product(farmer, text_in, text, product):
    text_in(farmer.phone, text)
    assert only_post().product.name_zh == product


def test_an_unknown_product_is_kept_as_unclassified(farmer, text_in):
    _response, reply = text_in(farmer.phone, "卖 祖传秘方 十瓶")
    post = only_post()
    assert post.product_id is None and post.text == "祖传秘方 十瓶"
    assert "未分类" in reply and str(post.id) in reply  # farmers read Chinese by default


def test_posts_parse_shows_how_a_text_is_understood(app):
    result = app.test_cli_runner().invoke(args=["posts", "parse", "买", "夏黑葡萄苗", "两千株", "3元/株", "--json"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    assert (found["product"], found["quantity"], found["unit"], found["price"], found["notes"]) == \
        ("葡萄苗", "2000", "株", "3", "夏黑")
    lines = app.test_cli_runner().invoke(args=["posts", "parse", "卖 洋芋 五百斤 一块二一斤"]).output
    assert "土豆" in lines and "250 公斤" in lines and "2.4 yuan/公斤" in lines


@pytest.mark.parametrize("text, line", [
    ("卖 土豆 几百斤", "quantity:     几百 斤 (approximate, no figure)"),
    ("卖 土豆 上千 KG 2元/斤", "quantity:     上千 公斤 (approximate, no figure)"),
    ("卖 苹果 每箱几十斤 几百箱", "quantity:     几百 箱 (approximate, no figure)"),
])
def test_posts_parse_shows_a_vague_quantity_as_its_unit_and_approximate(app, text, line):
    result = app.test_cli_runner().invoke(args=["posts", "parse", text])
    assert result.exit_code == 0, result.output
    assert line in result.output.splitlines(), result.output
    found = json.loads(app.test_cli_runner().invoke(args=["posts", "parse", text, "--json"]).output)
    assert (found["quantity"], found["approximate"]) == (None, True)


@pytest.mark.parametrize("text,product", [
    ("夏黑葡萄苗 两千株 3元/株", "葡萄苗"), ("葡萄苗 3000株 每株8元 品种阳光玫瑰", "葡萄苗"), ("巨峰葡萄 500斤", "葡萄"),
    ("红富士苹果 2000斤 2.5元/斤", "苹果"), ("洋芋 五百斤 一块二一斤", "土豆"), ("马铃薯 1吨", "土豆"),
    ("西红柿 300斤 面议", "番茄"), ("苞谷 2吨 1.2元/斤", "玉米"), ("地瓜 800斤 八毛一斤", "红薯"),
    ("番薯 1000斤", "红薯"), ("大白菜 3000斤 0.4元/斤", "大白菜"), ("生猪 20头 每斤8块", "生猪"),
    ("小猪 30头 每头500元", "仔猪"), ("土鸡蛋 500个 一块五一个", "土鸡蛋"), ("鸭 500只 30元一只", "鸭"),
    ("草鱼 2000斤 6元/斤", "草鱼"), ("小龙虾 500斤", "小龙虾"), ("龙井 50斤 800元一斤", "龙井"),
    ("香菇 200斤 12元/斤", "香菇"), ("复合肥 2吨 3000元一吨", "复合肥"), ("拖拉机 1台 面议", "拖拉机"),
    ("杨梅 500斤 15元/斤", "杨梅"), ("猕猴桃 1000斤 4元/斤", "猕猴桃"), ("黄瓜 800斤 一块五", "黄瓜"),
    ("茄子 500斤 1元/斤", "茄子"), ("大蒜 1吨", "大蒜"), ("生姜 500斤 3块5一斤", "生姜"), ("花生 300斤", "花生"),
    ("小麦 5000斤 1.3元/斤", "小麦"), ("蜂蜜 100斤 30元/斤", "蜂蜜"),
    # local names that start with another product's name: 鸡毛菜 is a green, not a chicken
    ("鸡毛菜 200斤 2元/斤", "青菜"), ("奶白菜 300斤", "青菜"), ("牛心菜 1000斤 八毛", "包菜"),
    ("羊角椒 500斤 3块", "辣椒"), ("南美白虾 300斤 25元/斤", "南美白对虾"), ("牛奶 200公斤", "生鲜乳"),
])
def test_real_posts_name_the_right_product_of_the_shipped_list(app, text, product):
    from mailbox import products

    parsed = products.understand(text)
    found = products.by_code(parsed.product_code)
    assert found is not None and found.name_zh == product, (text, found and found.name_zh)


def test_posts_made_before_the_upgrade_are_understood_by_the_migration(app, farmer):
    """An installation that upgrades keeps its posts, now read and placed (the data migration)."""
    import importlib.util
    import pathlib

    from alembic.migration import MigrationContext
    from alembic.operations import Operations
    from sqlalchemy import update

    post = Post(user_id=farmer.id, kind="sell", text="洋芋 五百斤 一块二一斤", status="open", channel="sms")
    db.session.add(post)
    db.session.commit()
    db.session.execute(update(Post).where(Post.id == post.id).values(  # as an old post: nothing understood
        product_id=None, quantity=None, price=None, base_price=None, region_code=None))
    db.session.commit()
    path = next(pathlib.Path("migrations/versions").glob("d5b3e9a7c2f4_*.py"))
    spec = importlib.util.spec_from_file_location("understand_existing_posts", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    with db.engine.begin() as connection, Operations.context(MigrationContext.configure(connection)):
        migration.upgrade()
    db.session.expire_all()
    post = db.session.get(Post, post.id)
    assert (post.product.name_zh, post.base_quantity, post.base_price, post.region_code) == \
        ("土豆", 250, Decimal("2.4"), CHANGXI)


# --- English words for products (migration e9c5a1f3b7d2) ----------------------------------------

@pytest.mark.parametrize("text,product", [
    ("corn", "玉米"), ("Corn 5 tons 2000 yuan/ton", "玉米"), ("sweet corn", "甜玉米"), ("corn seed", "玉米种子"),
    ("paddy 10 tons", "稻谷"), ("rice", "大米"), ("chili", "辣椒"), ("chilies", "辣椒"), ("chillies", "辣椒"),
    ("hot peppers", "辣椒"), ("bell peppers", "甜椒"), ("capsicum", "甜椒"), ("aubergines", "茄子"),
    ("eggplants", "茄子"), ("cilantro", "香菜"), ("scallions", "小葱"), ("spring onions", "小葱"),
    ("green onion", "小葱"), ("bok choy", "青菜"), ("pak choi", "青菜"), ("napa cabbage", "大白菜"),
    ("chinese cabbage", "大白菜"), ("sweet potatoes", "红薯"), ("potatoes", "土豆"), ("peanuts", "花生"),
    ("groundnuts", "花生"), ("soybeans", "大豆"), ("soya", "大豆"), ("pigs", "生猪"), ("hogs", "生猪"),
    ("piglets", "仔猪"), ("cows", "牛"), ("beef cattle", "牛"), ("chickens", "鸡"), ("hens", "蛋鸡"),
    ("geese", "鹅"), ("fish fry", "鱼苗"), ("fingerlings", "鱼苗"), ("compound fertiliser", "复合肥"),
    ("npk fertilizer", "复合肥"), ("organic fertiliser", "有机肥"), ("tractors", "拖拉机"),
    ("shiitake mushrooms", "香菇"), ("enoki mushroom", "金针菇"), ("black fungus", "黑木耳"),
    ("oolong", "乌龙茶"), ("green tea", "绿茶"), ("kiwi", "猕猴桃"), ("tangerines", "橘子"),
    ("dragon fruit", "火龙果"), ("crawfish", "小龙虾"), ("hairy crabs", "大闸蟹"), ("goji", "枸杞"),
])
def test_common_english_words_name_the_product(app, text, product):
    from mailbox import products

    found = products.by_code(products.understand(text).product_code)
    assert found is not None and found.name_zh == product, (text, found and found.name_zh)


@pytest.mark.parametrize("text", ["tea", "mushrooms", "fertilizer", "pesticide", "yam", "pepper", "eggs"])
def test_english_words_for_a_group_or_several_products_name_none(app, text):
    """tea, mushrooms, eggs name a category, fertilizer and pesticide a group (化肥, 农药), yam
    and pepper several products (山药/红薯/芋头; 辣椒/甜椒/胡椒): left to the liaison point."""
    from mailbox import products

    assert products.understand(text).product_code is None


def test_find_corn_finds_the_maize_posts(make_point, make_farmer, text_in):
    make_point("长溪村联络点", (CHANGXI,))
    seller, buyer = make_farmer(region_code=CHANGXI), make_farmer(region_code=CHANGXI)
    text_in(seller.phone, "卖 玉米 5吨 2000元/吨")
    post = only_post()
    _response, reply = text_in(buyer.phone, "FIND corn")
    assert f"{post.id}" in reply and "5吨" in reply, reply


def _migration(name: str):
    import importlib.util
    import pathlib

    path = next(pathlib.Path("migrations/versions").glob(f"{name}_*.py"))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(step) -> None:
    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    with db.engine.begin() as connection, Operations.context(MigrationContext.configure(connection)):
        step()
    db.session.expire_all()


def _words() -> set[tuple[int, str, str]]:
    from mailbox.models import ProductWord

    return set(db.session.execute(select(ProductWord.product_id, ProductWord.word, ProductWord.kind)).all())


def _no_word_twice() -> None:
    from sqlalchemy import func

    from mailbox.models import ProductWord

    twice = db.session.execute(select(func.lower(ProductWord.word)).group_by(func.lower(ProductWord.word))
                               .having(func.count() > 1)).scalars().all()
    assert twice == []


@pytest.fixture
def keep_the_words(app):
    """On PostgreSQL the shipped taxonomy outlives a test: put its words back as they were."""
    from mailbox.models import ProductWord

    table = ProductWord.__table__
    with db.engine.connect() as conn:
        saved = [dict(row) for row in conn.execute(table.select()).mappings()]
    yield
    db.session.rollback()
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(table.delete())
            conn.execute(table.insert(), saved)


def test_a_new_database_has_the_english_words_once(app):
    """The taxonomy migration read the CSV with them; the English-words migration found
    nothing missing, so it added nothing and wrote no audit entry."""
    from mailbox.models import Product
    from ruralinfo.audit.models import AuditEntry

    migration = _migration("e9c5a1f3b7d2")
    codes = {code: pid for code, pid in db.session.execute(select(Product.code, Product.id))}
    words = {(pid, word) for pid, word, _kind in _words()}
    missing = [(code, word) for code, english in migration.WORDS.items() for word in english
               if (codes[code], word) not in words]
    assert missing == []
    _no_word_twice()
    assert db.session.scalars(select(AuditEntry).where(AuditEntry.channel == "system")).all() == []


def test_an_upgrade_adds_only_the_missing_words_and_the_downgrade_removes_exactly_them(app, keep_the_words):
    from sqlalchemy import delete

    from mailbox import products
    from mailbox.models import Product, ProductWord
    from ruralinfo.audit.models import AuditEntry

    migration = _migration("e9c5a1f3b7d2")
    english = {word for words in migration.WORDS.values() for word in words}
    db.session.execute(delete(ProductWord).where(ProductWord.word.in_(english)))  # as before the upgrade
    maize, dried_chili = (db.session.scalar(select(Product).where(Product.name_zh == name)) for name in ("玉米", "干辣椒"))
    db.session.add_all([ProductWord(product_id=maize.id, word="corn", kind="synonym"),  # an administrator's
                        ProductWord(product_id=dried_chili.id, word="Chili", kind="synonym")])  # another product's
    db.session.commit()
    before = _words()

    _run(migration.upgrade)
    after = _words()
    added = after - before
    assert before < after and len(added) == len(english) - 2
    assert not {word for _p, word, _k in added} & {"corn", "chili"}
    _no_word_twice()
    assert products.understand("sweet corn").product_code == "0101039001"
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "product.synonyms_add")).all()
    assert {e.target_id for e in entries} == {pid for pid, _w, _k in added} and all(e.channel == "system" for e in entries)

    _run(migration.upgrade)  # again: nothing is missing
    assert _words() == after

    _run(migration.downgrade)
    assert _words() == before  # the administrator's words stay
    _run(migration.downgrade)  # again: nothing left to remove
    assert _words() == before
    _run(migration.upgrade)
    assert _words() - before == {(pid, word, "synonym") for pid, word, _k in added}
