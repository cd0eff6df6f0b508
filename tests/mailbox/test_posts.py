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
