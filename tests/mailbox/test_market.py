"""The public market (/market): open posts for anyone, filters, the search in
Chinese, synonyms, English, pinyin and initials, nearest first for a logged-in
farmer, one page per post — and never a phone number, a full name or an ID number."""
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from mailbox import market
from mailbox import services as mailbox
from mailbox.models import BUY, SELL, Post, Product
from ruralinfo.accounts import services as accounts
from ruralinfo.accounts.models import User
from ruralinfo.extensions import db
from ruralinfo.timeutil import now_utc
from tests.conftest import BALI, CHANGXI, OTHER_TOWNSHIP, PASSWORD, WUXINGDIAN, ZHANGQI, next_id_number

CSS = Path(__file__).resolve().parents[2] / "ruralinfo/static/style.css"
POTATO = "0101049001"  # 土豆 (洋芋, 马铃薯 …), category vegetable
GIVEN = "甲乙丙丁戊己庚辛壬癸"
MOBILE = re.compile(r"(?<!\d)1[3-9]\d(?:[\s-]?\d{4}){2}(?!\d)")


class World:
    pass


def _post(user, kind, text, minutes_ago):
    """A post made ``minutes_ago``: the order of the market is the order of these."""
    post = mailbox.create_post(user, kind, text, channel="web")
    post.created_at = now_utc() - timedelta(minutes=minutes_ago)
    db.session.commit()
    return post


@pytest.fixture
def w(make_farmer):
    """Farmers of three villages of 掌起镇 and of another township, and their posts."""
    w = World()
    w.ids = {}

    def farmer(name, region, phone):
        w.ids[name] = next_id_number()
        return make_farmer(region_code=region, name=name, phone=phone, id_number=w.ids[name])

    w.zhang = farmer("张三丰", CHANGXI, "+8613800138010")
    w.li = farmer("李秀英", WUXINGDIAN, "+8613800138011")
    w.wang = farmer("王大明", BALI, "+8613800138012")
    w.zhao = farmer("赵四海", OTHER_TOWNSHIP, "+8613800138013")
    w.ouyang = farmer("欧阳春华", CHANGXI, "+8613800138014")
    # newest first: zhao's, wang's, li's, zhang's, the unclassified one
    w.yangyu = _post(w.zhang, SELL, "洋芋 500斤 1.2元/斤", 50)
    w.tudou = _post(w.li, SELL, "土豆 300斤 1.5元/斤", 40)
    w.seedlings = _post(w.wang, BUY, "葡萄苗 200株 3元/株", 30)
    w.tomato = _post(w.zhao, BUY, "番茄 1000斤", 20)
    w.odd = _post(w.ouyang, SELL, "怪味宝贝 10个", 60)
    return w


def listed(client, query="") -> list[int]:
    """The post numbers of a market page, in order."""
    response = client.get("/market/" + query)
    assert response.status_code == 200, query
    return [int(n) for n in re.findall(r'href="/market/posts/(\d+)"', response.get_data(as_text=True))]


def ids(*posts) -> list[int]:
    return [post.id for post in posts]


# --- the list -------------------------------------------------------------------------------

def test_anyone_sees_the_open_posts_newest_first(app, w):
    anonymous = app.test_client()
    assert anonymous.get("/market").status_code == 308  # /market → /market/
    assert listed(anonymous) == ids(w.tomato, w.seedlings, w.tudou, w.yangyu, w.odd)
    page = anonymous.get("/market/").get_data(as_text=True)
    assert "potato 500斤" in page and "掌起镇长溪村" in page and "张*" in page and "欧阳*" in page


def test_filters_by_supply_or_demand_category_product_and_township(client, w):
    assert listed(client, "?kind=sell") == ids(w.tudou, w.yangyu, w.odd)
    assert listed(client, "?kind=buy") == ids(w.tomato, w.seedlings)
    assert listed(client, "?category=vegetable") == ids(w.tomato, w.tudou, w.yangyu)
    assert listed(client, "?category=seeds_seedlings") == ids(w.seedlings)
    assert listed(client, f"?product={POTATO}") == ids(w.tudou, w.yangyu)
    assert listed(client, f"?township={ZHANGQI}") == ids(w.seedlings, w.tudou, w.yangyu, w.odd)
    assert listed(client, f"?township={OTHER_TOWNSHIP}") == ids(w.tomato)
    assert listed(client, f"?kind=buy&category=vegetable&township={OTHER_TOWNSHIP}") == ids(w.tomato)
    assert listed(client, f"?kind=sell&township={OTHER_TOWNSHIP}") == []
    # what does not exist is dropped: the page shows everything rather than an error
    everything = ids(w.tomato, w.seedlings, w.tudou, w.yangyu, w.odd)
    for junk in ("?kind=steal", "?category=nothing", "?product=99", "?township=110101001", "?township=x",
                 "?page=abc", "?page=-3"):
        assert listed(client, junk) == everything, junk


def test_the_filter_form_offers_categories_townships_and_the_products_on_offer(client, w):
    page = client.get(f"/market/?township={ZHANGQI}&kind=sell").get_data(as_text=True)
    assert f'<option value="{ZHANGQI}" selected>掌起镇</option>' in page
    assert f'<option value="{OTHER_TOWNSHIP}">观海卫镇</option>' in page
    assert '<option value="sell" selected>' in page and '<option value="vegetable">' in page
    products = re.search(r'<select name="product">(.*?)</select>', page, re.S).group(1)
    assert f'value="{POTATO}"' in products and "potato" in products and "grape" in products  # English page
    assert products.count("<option") == 1 + 3  # all, 土豆, 葡萄苗, 番茄: only products with open posts
    fruit = client.get("/market/?category=seeds_seedlings").get_data(as_text=True)
    assert re.search(r'<select name="product">(.*?)</select>', fruit, re.S).group(1).count("<option") == 2


@pytest.mark.parametrize("q", ["土豆", "洋芋", "马铃薯", "potato", "Potatoes", "tudou", "tu dou", "td", "TD", "ｔｕｄｏｕ"])
def test_search_finds_a_product_by_any_of_its_names(client, w, q):
    found = listed(client, f"?q={q}")
    assert w.tudou.id in found and w.yangyu.id in found, q
    assert w.seedlings.id not in found and w.tomato.id not in found and w.odd.id not in found, q


def test_search_by_initials_may_find_several_products(app, w):
    with app.test_request_context():
        named = set(db.session.scalars(select(Product.code).where(Product.id.in_(market.products_named("td")))))
    assert POTATO in named and all(code for code in named)


def test_search_reads_the_text_of_unclassified_posts_only(client, w):
    assert listed(client, "?q=怪味") == ids(w.odd)
    assert listed(client, "?q=500斤") == []  # a classified post's text is not searched
    assert listed(client, "?q=%") == [] and listed(client, "?q=_") == []  # no wildcard
    assert listed(client, "?q=没有这种东西") == []
    assert "No open post matches" in client.get("/market/?q=没有这种东西").get_data(as_text=True)
    assert listed(client, "?q=番茄&kind=buy") == ids(w.tomato)
    assert listed(client, "?q=fq") == ids(w.tomato) and listed(client, "?q=tomatoes") == ids(w.tomato)


def test_a_search_by_phone_number_finds_nothing(client, w, make_farmer):
    tells = _post(make_farmer(region_code=CHANGXI, name="钱多多"), SELL, "奇怪货 电话13900001234", 5)
    assert listed(client, "?q=奇怪货") == ids(tells)
    assert listed(client, "?q=13900001234") == [] and listed(client, "?q=139 0000") == []


# --- nearest first --------------------------------------------------------------------------

def test_a_logged_in_farmer_sees_the_nearest_posts_first(client, w, login):
    accounts.set_password(w.zhang, PASSWORD, actor=None, channel="cli")
    login(w.zhang)
    # 长溪村 (newest first) → the other villages of 掌起镇 (newest first) → 观海卫镇
    assert listed(client) == ids(w.yangyu, w.odd, w.seedlings, w.tudou, w.tomato)
    page = client.get("/market/").get_data(as_text=True)
    assert "nearest to your village first" in page
    assert 'href="/mailbox/"' in page  # back to the mailbox
    # filters keep the order
    assert listed(client, "?kind=sell") == ids(w.yangyu, w.odd, w.tudou)


def test_the_order_by_region_is_village_township_county_city_province(app, w, make_farmer):
    with app.test_request_context():
        far = _post(make_farmer(region_code="330203001", name="宁波人"), SELL, "大白菜 100斤", 1)  # same city
        other_province = _post(make_farmer(region_code="310101002", name="上海人"), SELL, "大白菜 100斤", 0)
        order = [p.id for p in market.search(near_region=WUXINGDIAN).items]
    assert order == ids(w.tudou, w.seedlings, w.yangyu, w.odd, w.tomato, far, other_province)
    with app.test_request_context():
        assert [p.id for p in market.search().items][:2] == ids(other_province, far)


def test_other_roles_and_visitors_see_newest_first(client, w, make_staff, login):
    from ruralinfo.accounts import roles

    login(make_staff(roles.LIAISON))
    assert listed(client) == ids(w.tomato, w.seedlings, w.tudou, w.yangyu, w.odd)
    assert 'href="/mailbox/"' not in client.get("/market/").get_data(as_text=True)


# --- one post -------------------------------------------------------------------------------

def test_a_post_has_its_own_page(client, w):
    page = client.get(f"/market/posts/{w.yangyu.id}").get_data(as_text=True)
    assert "Sell · potato" in page
    assert "500斤" in page and "1.2 yuan/斤" in page and "2.4 yuan/公斤" in page  # normalised for weights
    assert "长溪村" in page and "掌起镇" in page and "张*" in page
    assert "洋芋 500斤 1.2元/斤" in page  # as written
    assert w.yangyu.created_at.strftime("%Y") in page and "Open until" in page
    assert f'href="/market/?product={POTATO}"' in page
    per_plant = client.get(f"/market/posts/{w.seedlings.id}").get_data(as_text=True)
    assert "3 yuan/株" in per_plant and "公斤" not in per_plant  # count units stay as they are
    odd = client.get(f"/market/posts/{w.odd.id}").get_data(as_text=True)
    assert "not classified yet" in odd and "怪味宝贝" in odd and "欧阳*" in odd


def test_closed_expired_and_withdrawn_posts_leave_the_market(client, w, make_farmer):
    mailbox.close_post(w.tudou, actor=w.li, channel="web")
    w.tomato.expires_at = now_utc() - timedelta(minutes=1)
    gone_farmer = make_farmer(region_code=BALI, name="孙离开")
    left = _post(gone_farmer, SELL, "大白菜 100斤", 1)
    gone_farmer.active = False
    db.session.commit()
    assert listed(client) == ids(w.seedlings, w.yangyu, w.odd)
    assert listed(client, f"?product={POTATO}") == ids(w.yangyu)
    for post, says in ((w.tudou, "This post is closed"), (w.tomato, "This post has expired"),
                       (left, "This post is closed")):
        response = client.get(f"/market/posts/{post.id}")
        page = response.get_data(as_text=True)
        assert response.status_code == 410 and says in page, post.text
        assert "斤" not in page and "*" not in page  # nothing of the post is shown any more
    assert client.get("/market/posts/999999").status_code == 404
    # a post with no expiry stays
    w.seedlings.expires_at = None
    db.session.commit()
    assert client.get(f"/market/posts/{w.seedlings.id}").status_code == 200


# --- no phone number, no full name, no ID number --------------------------------------------

def test_no_page_shows_a_phone_number_a_full_name_or_an_id_number(app, client, w, make_farmer, login):
    chatty = make_farmer(region_code=BALI, name="周大福", phone="+8613800138099", id_number=next_id_number())
    told = _post(chatty, SELL, "周大福家 葡萄 500斤 3元/斤 电话138-0013-8099 或 0574 63001234 微信 zdf8099 "
                               "身份证330282197506010011 一三八零零一三八零九九", 1)
    people = db.session.scalars(select(User)).all()
    secrets = ([u.name for u in people] + [u.phone for u in people] + [u.phone[3:] for u in people]
               + [u.id_masked for u in people if u.id_masked] + list(w.ids.values())
               + ["63001234", "zdf8099", "330282197506010011", "一三八零零一三八零九九"])
    me = make_farmer(region_code=WUXINGDIAN, name="吴看看")
    accounts.set_password(me, PASSWORD, actor=None, channel="cli")
    farmer_client = app.test_client()
    farmer_client.get("/lang/en")
    assert farmer_client.post("/login", data={"phone": me.phone, "password": PASSWORD}).status_code == 302
    urls = ["/market/", "/market/?q=葡萄", f"/market/?township={ZHANGQI}", "/market/?kind=sell&page=1"]
    urls += [f"/market/posts/{post.id}" for post in db.session.scalars(select(Post))]
    for browser in (app.test_client(), client, farmer_client):
        for url in urls:
            body = browser.get(url).get_data(as_text=True)
            for secret in secrets:
                assert secret not in body, (url, secret)
            assert not MOBILE.search(body), url
            assert not re.search(r"\d{15,}", body), url
    page = client.get(f"/market/posts/{told.id}").get_data(as_text=True)
    assert "周*家 葡萄" in page and "***" in page


def test_masked_name():
    assert [market.masked_name(type("U", (), {"name": name})) for name in
            ("张三", "张三丰", "欧阳春华", "欧阳", "司马 光", "", " ")] == ["张*", "张*", "欧阳*", "欧*", "司马*", "*", "*"]
    assert market.masked_name(None) == "*"


@pytest.mark.parametrize("text, shown", [
    ("土豆 电话13800138000", "土豆 电话***"),
    ("手机：138 0013 8000 要货的来", "手机：*** 要货的来"),
    ("+86 138-0013-8000", "***"),
    ("Call 0574-63001234", "Call ***"),
    ("0574-63001234 张", "*** 张"),
    ("(0574)63001234", "***"),
    ("身份证33028219750601001X", "身份证***"),
    ("ｔｅｌ １３８００１３８０００", "ｔｅｌ ***"),
    ("一三八零零一三八零零零", "***"),
    ("微信 zdf8099 要货", "微信 *** 要货"),
    ("QQ:12345", "QQ:***"),
    ("联系人 张", "联系人 张"),
    ("500斤 1.5元/斤 2024年 10000株", "500斤 1.5元/斤 2024年 10000株"),  # figures of a post stay
])
def test_contact_numbers_are_hidden_in_a_posts_text(text, shown):
    assert market.public_text(text) == shown


# --- small pages ----------------------------------------------------------------------------

def test_pages_are_small_have_no_script_and_page_through(app, client, w, make_farmer, login):
    long_posts = []
    for n in range(25):  # long texts, classified (long notes) and unclassified
        farmer = make_farmer(region_code=(CHANGXI, WUXINGDIAN, BALI, OTHER_TOWNSHIP)[n % 4],
                             name="陈" + GIVEN[n % 10] + GIVEN[n // 10])
        text = ("土豆 500斤 1.5元/斤 " if n % 2 else "") + "很长的说明文字" * 70
        long_posts.append(_post(farmer, SELL, text[:500], n + 100))
    # older posts of many products: the product filter offers its most (40)
    names = db.session.scalars(select(Product.name_zh).where(Product.unit != "").order_by(Product.id).limit(60))
    for n, name in enumerate(names):
        _post(w.wang, BUY, f"{name} 100斤", 1000 + n)
    accounts.set_password(w.zhang, PASSWORD, actor=None, channel="cli")
    farmer_client = app.test_client()
    farmer_client.get("/lang/en")
    farmer_client.post("/login", data={"phone": w.zhang.phone, "password": PASSWORD})
    css = CSS.stat().st_size
    sizes = {}
    for who, browser in (("anonymous", client), ("farmer", farmer_client)):
        for url in ("/market/", "/market/?kind=sell", "/market/?page=2", f"/market/posts/{long_posts[0].id}",
                    f"/market/posts/{long_posts[1].id}"):
            response = browser.get(url)
            body = response.get_data(as_text=True)
            assert response.status_code == 200, url
            sizes[who, url] = len(response.get_data())
            assert len(response.get_data()) + css < 37_000, (who, url, len(response.get_data()), css)
            assert "<script" not in body and " style=" not in body and "<style" not in body, url
            assert not re.search(r'(?:src|href|action)="(?:https?:)?//', body), url
            assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    print(sizes)
    first = client.get("/market/").get_data(as_text=True)
    products = re.search(r'<select name="product">(.*?)</select>', first, re.S).group(1)
    assert products.count("<option") == 1 + market.PRODUCT_CHOICES
    assert first.count('<li>') == 20 and "Page 1 of 5" in first
    assert len(listed(client, "?page=2")) == 20 and len(listed(client, "?page=5")) == 10
    assert 'href="/market/?page=2&amp;kind=sell"' in client.get("/market/?kind=sell").get_data(as_text=True)
    assert listed(client, "?page=9") == [] and listed(client, "?page=99999999999999999999999") == []


def test_the_home_page_and_the_mailbox_link_to_the_market(app, client, make_farmer):
    assert 'href="/market/"' in app.test_client().get("/welcome").get_data(as_text=True)
    farmer = make_farmer()
    accounts.set_password(farmer, PASSWORD, actor=None, channel="cli")
    client.post("/login", data={"phone": farmer.phone, "password": PASSWORD})
    assert 'href="/market/"' in client.get("/mailbox/").get_data(as_text=True)


# --- in a real browser, 320 pixels, no JavaScript -------------------------------------------

@pytest.mark.browser
def test_the_market_on_a_320_pixel_phone_without_javascript(browser, live_server, make_farmer):
    for n, region in enumerate((CHANGXI, WUXINGDIAN, BALI, OTHER_TOWNSHIP) * 6):
        farmer = make_farmer(region_code=region, name="林" + GIVEN[n % 10] + GIVEN[n // 10])
        _post(farmer, SELL if n % 2 else BUY,
              ("洋芋 500斤 1.2元/斤 " if n % 3 else "") + "一个很长很长的没有空格的说明" * 8 + "abcdefghijklmnopqrstuvwxyz" * 3,
              n)
    other_hosts = []
    for javascript in (False, True):
        context = browser.new_context(locale="zh-CN", viewport={"width": 320, "height": 640},
                                      java_script_enabled=javascript)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.on("request", lambda request: None if request.url.startswith(live_server.url)
                else other_hosts.append(request.url))
        page.goto(live_server.url + "/market/")
        assert page.locator("ul.posts li").count() == 20
        page.fill("input[name=q]", "td")
        page.select_option("select[name=kind]", "sell")
        page.select_option("select[name=township]", ZHANGQI)
        page.click("form.filters button[type=submit]")
        page.wait_for_url("**/market/?q=td&kind=sell*")
        assert page.locator("ul.posts li").count() >= 1
        assert all("土豆" in text or "potato" in text for text in page.locator("ul.posts li .body").all_inner_texts())
        if javascript:  # the width is measured with a script; the JavaScript-less run is the same page
            assert page.evaluate("document.documentElement.scrollWidth") <= 320
        page.locator("ul.posts li a").first.click()
        page.wait_for_url("**/market/posts/*")
        assert page.locator("dl.facts").is_visible()
        if javascript:
            assert page.evaluate("document.documentElement.scrollWidth") <= 320
            page.goto(live_server.url + "/market/")
            assert page.evaluate("document.documentElement.scrollWidth") <= 320
        context.close()
    assert other_hosts == []


@pytest.mark.browser
def test_a_logged_in_farmers_market_at_320_pixels(browser, live_server, make_farmer):
    me = make_farmer(region_code=BALI, name="欧阳春华")
    accounts.set_password(me, PASSWORD, actor=None, channel="cli")
    near = _post(make_farmer(region_code=BALI, name="王大明"), SELL, "洋芋 500斤 1.2元/斤", 30)
    _post(make_farmer(region_code=OTHER_TOWNSHIP, name="赵四海"), SELL, "土豆 500斤", 1)
    context = browser.new_context(locale="zh-CN", viewport={"width": 320, "height": 640})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(live_server.url + "/login")
    page.fill("input[name=phone]", me.phone)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url("**/mailbox/")
    page.click("header.top .nav a[href='/market/']")
    page.wait_for_url("**/market/")
    assert page.locator("ul.posts li a").first.get_attribute("href") == f"/market/posts/{near.id}"
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    assert page.locator("header.top").bounding_box()["height"] <= 80
    assert "欧阳春华" not in page.locator("main").inner_text()
    page.click("header.top .nav a[href='/mailbox/']")
    page.wait_for_url("**/mailbox/")
    context.close()
