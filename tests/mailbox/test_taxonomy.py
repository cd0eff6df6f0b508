"""Administrators edit the product taxonomy: add a product, add and remove synonyms,
rename, move, merge (the posts follow), retire and reactivate — through the service
and through the admin view; bureau staff may look but not change; every change is
audited and read by the next post at once."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from mailbox import match_alerts, services, taxonomy
from mailbox.models import BUY, MATCH, SELL, Letter, Post, PostMatch, Product, ProductWord
from ruralinfo import create_app
from ruralinfo.accounts import roles
from ruralinfo.audit.models import AuditEntry
from ruralinfo.extensions import db
from tests.conftest import BALI, CHANGXI, PASSWORD

POTATO = "0101049001"  # 土豆 (马铃薯, 洋芋 …)
TUBERS = "01010490"    # 薯类（扩展品目）: one of our branches, products of several categories
LEAFY = "010409"       # 叶菜类: a class of the standard, all vegetables
HERBS = "0190"         # 中药材: our branch, all herbs


@pytest.fixture(autouse=True)
def restore_taxonomy(app):
    """On PostgreSQL the shipped taxonomy outlives a test (the reset keeps its tables):
    put back every product and word a test added, changed or removed."""
    if db.engine.dialect.name != "postgresql":
        yield
        return
    products, words = Product.__table__, ProductWord.__table__
    with db.engine.connect() as conn:
        saved_products = {row["id"]: dict(row) for row in conn.execute(products.select()).mappings()}
        saved_words = {row["id"]: dict(row) for row in conn.execute(words.select()).mappings()}
    yield
    db.session.rollback()
    with db.engine.begin() as conn:
        now_words = {row["id"]: dict(row) for row in conn.execute(words.select()).mappings()}
        gone = [i for i, row in now_words.items() if saved_words.get(i) != row]
        conn.execute(words.delete().where(words.c.id.in_(gone)))
        now_products = {row["id"]: dict(row) for row in conn.execute(products.select()).mappings()}
        added = [i for i in now_products if i not in saved_products]
        conn.execute(Post.__table__.update().where(Post.product_id.in_(added)).values(product_id=None))
        conn.execute(products.update().where(products.c.id.in_(added)).values(merged_into_id=None))
        for i, row in saved_products.items():
            if now_products.get(i) != row:
                conn.execute(products.update().where(products.c.id == i).values(**row))
        conn.execute(products.delete().where(products.c.id.in_(added)))
        missing = [row for i, row in saved_words.items() if now_words.get(i) != row]
        if missing:
            conn.execute(words.insert(), missing)


@pytest.fixture
def admin(make_staff):
    return make_staff(roles.ADMIN, name="管理员")


@pytest.fixture
def farmer(make_point, make_farmer):
    make_point("长溪村联络点", (CHANGXI,))
    return make_farmer(region_code=CHANGXI, name="陈阿毛")


def code(code_: str) -> Product:
    return db.session.scalar(select(Product).where(Product.code == code_))


def post(farmer, text: str) -> Post:
    return services.create_post(farmer, SELL, text, channel="web")


def actions(product: Product) -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).where(
        AuditEntry.target_type == "products", AuditEntry.target_id == product.id).order_by(AuditEntry.id)))


def yacon(admin, **changes) -> Product:
    fields = {"parent_code": TUBERS, "name_zh": "雪莲果", "name_en": "yacon", "unit": "斤",
              "category_key": "vegetable", "synonyms": "菊薯、地参果"}
    fields.update(changes)
    return taxonomy.add_product(**fields, actor=admin, channel="web")


# --- the service ----------------------------------------------------------------------------------

def test_a_new_product_gets_the_next_free_extension_code_and_its_words_name_it(app, admin, farmer):
    product = yacon(admin)
    assert (product.code, product.parent_code, product.extended, product.active) == ("0101049008", TUBERS, True, True)
    assert (product.pinyin, product.initials, product.unit, product.category.key) == ("xuelianguo", "xlg", "斤",
                                                                                        "vegetable")
    assert [(w.word, w.kind) for w in product.words] == [("雪莲果", "name"), ("菊薯", "synonym"),
                                                         ("地参果", "synonym")]
    for text in ("雪莲果 300斤", "菊薯 50斤 2元一斤", "yacon 100 jin", "xuelianguo 20斤"):
        assert post(farmer, text).product_id == product.id, text
    # under a class of the standard the code extends it (90–98) and the category is the branch's
    lettuce = taxonomy.add_product(LEAFY, "油麦菜苗", "celtuce seedlings", "株", "", "", actor=admin, channel="web")
    assert (lettuce.code, lettuce.category.key, lettuce.extended) == ("01040991", "vegetable", True)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "product.create",
                                                       AuditEntry.target_id == product.id))
    assert entry.actor_id == admin.id and entry.details["after"]["code"] == "0101049008"
    assert entry.details["after"]["synonyms"] == ["菊薯", "地参果"]


@pytest.mark.parametrize("changes,field,message", [
    ({"name_zh": "洋芋"}, "name_zh", "“洋芋” already names 土豆 (0101049001)."),
    ({"name_zh": ""}, "name_zh", "Enter the Chinese name."),
    ({"synonyms": "菊薯、水果"}, "synonyms", "“水果” names the category 水果."),
    ({"synonyms": "斤"}, "synonyms", "“斤” is a unit"),
    ({"synonyms": "123"}, "synonyms", "has no letters"),
    ({"name_en": "potato"}, "name_en", "“potato” already names 土豆"),
    ({"synonyms": "tudou"}, "synonyms", "“tudou” already names 土豆"),
    ({"unit": "桶"}, "unit", "Choose the unit"),
    ({"parent_code": POTATO}, "parent_code", "not under another product"),
    ({"parent_code": "77"}, "parent_code", "Choose the class it goes under."),
    ({"parent_code": LEAFY, "category_key": "fruit"}, "category_key", "Everything under 叶菜类 is 蔬菜"),
    ({"parent_code": TUBERS, "category_key": ""}, "category_key", "Choose a category."),
])
def test_a_new_product_is_refused_with_a_clear_reason(app, admin, changes, field, message):
    count = db.session.scalar(select(func.count(Product.id)))
    with pytest.raises(taxonomy.TaxonomyError) as refused:
        yacon(admin, **changes)
    assert message in refused.value.errors[field]
    assert db.session.scalar(select(func.count(Product.id))) == count


def test_synonyms_are_added_and_removed_but_never_the_name(app, admin, farmer):
    product = yacon(admin)
    with pytest.raises(taxonomy.TaxonomyError) as refused:
        taxonomy.add_synonyms(product, "山雪莲、菊薯", actor=admin, channel="web")
    assert "“菊薯” is a word of this product already." in refused.value.errors["words"]
    assert taxonomy.add_synonyms(product, "山雪莲；雪莲薯", actor=admin, channel="web") == ["山雪莲", "雪莲薯"]
    assert post(farmer, "山雪莲 100斤").product_id == product.id
    word = next(w for w in product.words if w.word == "山雪莲")
    assert taxonomy.remove_synonym(product, word.id, actor=admin, channel="web") == "山雪莲"
    assert post(farmer, "山雪莲 100斤").product_id is None
    name = next(w for w in product.words if w.kind == "name")
    with pytest.raises(taxonomy.TaxonomyError, match="rename the product instead"):
        taxonomy.remove_synonym(product, name.id, actor=admin, channel="web")
    with pytest.raises(taxonomy.TaxonomyError):  # a word of another product
        taxonomy.remove_synonym(product, code(POTATO).words[1].id, actor=admin, channel="web")
    assert actions(product) == ["product.create", "product.synonyms_add", "product.synonym_remove"]


def test_renaming_remakes_the_pinyin_and_keeps_the_old_name_as_a_synonym(app, admin, farmer):
    product = yacon(admin)
    assert taxonomy.rename(product, "亚贡", "yacon tuber", actor=admin, channel="web")
    assert (product.name_zh, product.name_en, product.pinyin, product.initials) == ("亚贡", "yacon tuber",
                                                                                    "yagong", "yg")
    assert {w.word: w.kind for w in product.words} == {"雪莲果": "synonym", "菊薯": "synonym", "地参果": "synonym",
                                                       "亚贡": "name"}
    assert post(farmer, "雪莲果 10斤").product_id == product.id and post(farmer, "亚贡 10斤").product_id == product.id
    # a synonym becomes the name; a typo is dropped when asked
    assert taxonomy.rename(product, "菊薯", "yacon", actor=admin, channel="web", keep_old_name=False)
    assert {w.word: w.kind for w in product.words} == {"雪莲果": "synonym", "菊薯": "name", "地参果": "synonym"}
    assert not taxonomy.rename(product, "菊薯", "yacon", actor=admin, channel="web")  # nothing changed
    with pytest.raises(taxonomy.TaxonomyError, match="already names 土豆"):
        taxonomy.rename(product, "马铃薯", "yacon", actor=admin, channel="web")
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "product.rename")
                                 .order_by(AuditEntry.id)).all()
    assert entries[0].details["before"]["name_zh"] == "雪莲果" and entries[0].details["after"]["name_zh"] == "亚贡"
    assert len(entries) == 2


def test_a_move_keeps_the_code_and_takes_the_category_of_the_new_branch(app, admin):
    product = yacon(admin)
    taxonomy.move(product, HERBS, actor=admin, channel="web")
    assert (product.code, product.parent_code, product.category.key) == ("0101049008", HERBS, "herbs")
    taxonomy.move(product, TUBERS, actor=admin, channel="web")  # a branch of several categories: it stays herbs
    assert (product.parent_code, product.category.key) == (TUBERS, "herbs")
    with pytest.raises(taxonomy.TaxonomyError, match="already under"):
        taxonomy.move(product, TUBERS, actor=admin, channel="web")
    with pytest.raises(taxonomy.TaxonomyError, match="under what is under it"):
        taxonomy.move(code("01"), TUBERS, actor=admin, channel="web")
    with pytest.raises(taxonomy.TaxonomyError, match="not under another product"):
        taxonomy.move(product, POTATO, actor=admin, channel="web")
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "product.move")
                               .order_by(AuditEntry.id)).first()
    assert entry.details == {"before": {"parent": TUBERS, "category": "蔬菜"},
                             "after": {"parent": HERBS, "category": "中药材"}}
    # a class moves with what is under it, and its products take the branch's category
    tubers = code(TUBERS)
    taxonomy.move(tubers, HERBS, actor=admin, channel="web")
    assert (tubers.code, code(POTATO).parent_code, code(POTATO).category.key) == (TUBERS, TUBERS, "herbs")
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "product.move")
                               .order_by(AuditEntry.id.desc())).first()
    assert POTATO in entry.details["recategorised"] and product.code not in entry.details["recategorised"]


def test_a_merge_moves_the_posts_and_words_and_retires_the_source(app, admin, farmer):
    potato = code(POTATO)
    yangyu = next(w for w in potato.words if w.word == "洋芋")
    taxonomy.remove_synonym(potato, yangyu.id, actor=admin, channel="web")  # as if 洋芋 had been added apart
    source = taxonomy.add_product(TUBERS, "洋芋", "highland potato", "斤", "vegetable", "阳芋", actor=admin,
                                  channel="web")
    posts = [post(farmer, "洋芋 500斤"), post(farmer, "阳芋 200斤 1.5元一斤")]
    assert {p.product_id for p in posts} == {source.id}
    assert taxonomy.merge(source, potato, actor=admin, channel="web") == 2
    db.session.expire_all()
    assert {db.session.get(Post, p.id).product_id for p in posts} == {potato.id}
    assert (source.active, source.merged_into_id) == (False, potato.id)
    assert {"洋芋": "synonym", "阳芋": "synonym", "highland potato": "english"}.items() <= {
        w.word: w.kind for w in potato.words}.items()
    assert source.words == []
    assert post(farmer, "洋芋 300斤").product_id == potato.id
    assert post(farmer, "SELL highland potato 100 jin").product_id == potato.id
    merge = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "product.merge"))
    absorb = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "product.absorb"))
    assert (merge.target_id, merge.details["merged_into"], merge.details["posts_moved"]) == (source.id, POTATO, 2)
    assert merge.details["after"] == {"active": False, "merged_into": POTATO, "synonyms": []}
    assert (absorb.target_id, absorb.details["merged_from"], absorb.details["posts_moved"]) == (
        potato.id, source.code, 2)
    # a merged product stays as it is
    for change in (lambda: taxonomy.reactivate(source, actor=admin, channel="web"),
                   lambda: taxonomy.rename(source, "洋芋二", "x", actor=admin, channel="web"),
                   lambda: taxonomy.merge(source, potato, actor=admin, channel="web")):
        with pytest.raises(taxonomy.TaxonomyError, match="was merged into 土豆"):
            change()
    with pytest.raises(taxonomy.TaxonomyError, match="Choose another product"):
        taxonomy.merge(potato, potato, actor=admin, channel="web")
    with pytest.raises(taxonomy.TaxonomyError, match="is retired"):
        taxonomy.merge(code("0101049002"), source, actor=admin, channel="web")


def test_after_a_merge_the_moved_posts_are_matched_as_new_ones(app, admin, farmer, make_farmer):
    potato = code(POTATO)
    yangyu = next(w for w in potato.words if w.word == "洋芋")
    taxonomy.remove_synonym(potato, yangyu.id, actor=admin, channel="web")  # as if 洋芋 had been added apart
    source = taxonomy.add_product(TUBERS, "洋芋", "highland potato", "斤", "vegetable", "", actor=admin,
                                  channel="web")
    sold = post(farmer, "洋芋 500斤")
    buyer = make_farmer(region_code=BALI, name="李秀英")
    wanted = services.create_post(buyer, BUY, "土豆 300斤", channel="web")
    closed = post(make_farmer(region_code=CHANGXI, name="王五"), "洋芋 100斤")
    services.close_post(closed, actor=closed.user, channel="web")  # closed: not matched again

    def told() -> list[str]:
        return list(db.session.scalars(select(Letter.body).where(Letter.recipient_id == buyer.id,
                                                                 Letter.kind == MATCH)))

    assert (sold.product_id, wanted.product_id) == (source.id, potato.id) and told() == []  # apart, no match
    taxonomy.merge(source, potato, actor=admin, channel="web")
    assert len(told()) == 1 and f"#{sold.id} " in told()[0]  # the buyer's owner is told, as of a new post
    assert db.session.scalar(select(PostMatch.match_id).where(PostMatch.post_id == sold.id)) == wanted.id
    assert db.session.scalar(select(func.count(PostMatch.id)).where(PostMatch.post_id == closed.id)) == 0
    match_alerts.tell(sold.id)  # the job delivered twice
    assert len(told()) == 1


def test_a_retired_product_keeps_its_posts_and_no_longer_names_new_ones(app, admin, farmer):
    product = yacon(admin)
    before = post(farmer, "雪莲果 300斤")
    taxonomy.retire(product, actor=admin, channel="web")
    assert post(farmer, "雪莲果 100斤").product_id is None  # unclassified, kept as written
    assert post(farmer, "yacon 100 jin").product_id is None
    db.session.expire_all()
    assert db.session.get(Post, before.id).product_id == product.id
    with pytest.raises(taxonomy.TaxonomyError, match="retired already"):
        taxonomy.retire(product, actor=admin, channel="web")
    with pytest.raises(taxonomy.TaxonomyError):  # its words are still its own
        yacon(admin, name_zh="菊薯", parent_code=TUBERS)
    taxonomy.reactivate(product, actor=admin, channel="web")
    assert post(farmer, "雪莲果 100斤").product_id == product.id
    with pytest.raises(taxonomy.TaxonomyError, match="Move or retire what is under 薯类"):
        taxonomy.retire(code(TUBERS), actor=admin, channel="web")
    assert actions(product) == ["product.create", "product.retire", "product.reactivate"]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "product.retire"))
    assert entry.details == {"before": {"active": True}, "after": {"active": False}}


@pytest.mark.parametrize("who", [roles.STAFF, roles.APPROVER, roles.LIAISON, None])
def test_only_administrators_change_the_taxonomy(app, admin, make_staff, who):
    actor = make_staff(who) if who else None
    product = yacon(admin)
    potato = code(POTATO)
    changes = [
        lambda: taxonomy.add_product(TUBERS, "菊芋", "jerusalem artichoke", "斤", "vegetable", "", actor=actor,
                                     channel="web"),
        lambda: taxonomy.add_synonyms(product, "山雪莲", actor=actor, channel="web"),
        lambda: taxonomy.remove_synonym(product, product.words[1].id, actor=actor, channel="web"),
        lambda: taxonomy.rename(product, "亚贡", "yacon", actor=actor, channel="web"),
        lambda: taxonomy.move(product, HERBS, actor=actor, channel="web"),
        lambda: taxonomy.merge(product, potato, actor=actor, channel="web"),
        lambda: taxonomy.retire(product, actor=actor, channel="web"),
        lambda: taxonomy.reactivate(product, actor=actor, channel="web"),
    ]
    entries = db.session.scalar(select(func.count(AuditEntry.id)))
    for change in changes:
        with pytest.raises(taxonomy.NotAllowed):
            change()
    db.session.expire_all()
    assert (product.name_zh, product.parent_code, product.active, len(product.words)) == ("雪莲果", TUBERS, True, 3)
    assert db.session.scalar(select(func.count(AuditEntry.id))) == entries


# --- the admin view -------------------------------------------------------------------------------

def test_an_administrator_does_each_change_in_the_admin_view(client, login, admin, farmer):
    login(admin)
    page = client.get("/admin/products/").get_data(as_text=True)
    assert "土豆" in page and "洋芋" in page and "Add a product" in page and 'href="/admin/products/"' in page
    response = client.post("/admin/products/", data={
        "parent_code": TUBERS, "name_zh": "雪莲果", "name_en": "yacon", "unit": "斤", "category_key": "vegetable",
        "synonyms": "菊薯、地参果"})
    assert response.status_code == 302
    product = code("0101049008")
    url = f"/admin/products/{product.id}"
    assert response.headers["Location"] == url
    page = client.get(url).get_data(as_text=True)
    assert "雪莲果" in page and "菊薯" in page and "0101049008" in page and "Product added" in page

    assert client.post(f"{url}/synonyms", data={"words": "山雪莲"}).status_code == 302
    word = db.session.scalar(select(ProductWord).where(ProductWord.word == "地参果"))
    assert client.post(f"{url}/synonyms/{word.id}/remove").status_code == 302
    assert client.post(f"{url}/rename", data={"name_zh": "亚贡", "name_en": "yacon tuber",
                                              "keep_old_name": "y"}).status_code == 302
    assert client.post(f"{url}/move", data={"parent_code": HERBS}).status_code == 302
    assert client.post(f"{url}/retire").status_code == 302
    assert client.post(f"{url}/reactivate").status_code == 302
    db.session.expire_all()
    assert {w.word for w in product.words} == {"亚贡", "雪莲果", "菊薯", "山雪莲"}
    assert (product.name_en, product.parent_code, product.category.key, product.active) == (
        "yacon tuber", HERBS, "herbs", True)

    sold = post(farmer, "亚贡 100斤")
    response = client.post(f"{url}/merge", data={"target": "马铃薯"})  # any word of the target names it
    potato = code(POTATO)
    assert response.status_code == 302 and response.headers["Location"] == f"/admin/products/{potato.id}"
    assert "亚贡 merged into 土豆: 1 post moved." in client.get(response.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Post, sold.id).product_id == potato.id and product.merged_into_id == potato.id
    assert post(farmer, "山雪莲 5斤").product_id == potato.id

    assert actions(product) == ["product.create", "product.synonyms_add", "product.synonym_remove",
                                "product.rename", "product.move", "product.retire", "product.reactivate",
                                "product.merge"]
    log = client.get("/admin/audit/?target_type=products").get_data(as_text=True)
    for label in ("Product added", "Product synonyms added", "Product synonym removed", "Product renamed",
                  "Product moved", "Product merged into another", "Another product merged into this one",
                  "Product retired", "Product reactivated"):
        assert label in log, label


def test_the_list_finds_products_by_chinese_synonym_english_and_pinyin(client, login, admin):
    login(admin)
    for query in ("土豆", "洋芋", "Potato", "tudou", "td", "0101049001"):
        page = client.get("/admin/products/", query_string={"q": query}).get_data(as_text=True)
        assert "土豆" in page and "马铃薯" in page, query
        assert "苹果" not in page, query
    page = client.get("/admin/products/", query_string={"q": "没有这种东西"}).get_data(as_text=True)
    assert "No product matches." in page


def test_mistakes_are_shown_on_the_form_and_change_nothing(client, login, admin, db_dump):
    login(admin)
    before = db_dump()
    page = client.post("/admin/products/", data={"parent_code": TUBERS, "name_zh": "洋芋", "name_en": "potato",
                                                 "unit": "斤", "category_key": "vegetable"})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "“洋芋” already names 土豆 (0101049001)." in text and "“potato” already names 土豆" in text
    potato = code(POTATO)
    text = client.post(f"/admin/products/{potato.id}/merge", data={"target": "没有"}).get_data(as_text=True)
    assert "No product has this code or name." in text
    text = client.post(f"/admin/products/{potato.id}/move", data={"parent_code": POTATO}).get_data(as_text=True)
    assert "not under another product" in text
    response = client.post(f"/admin/products/{potato.id}/synonyms", data={"words": "红薯"})
    assert "“红薯” already names 红薯 (0101049002)." in response.get_data(as_text=True)
    name = next(w for w in potato.words if w.kind == "name")
    response = client.post(f"/admin/products/{potato.id}/synonyms/{name.id}/remove", follow_redirects=True)
    assert "The name cannot be removed" in response.get_data(as_text=True)
    assert db_dump() == before


def test_bureau_staff_look_but_every_change_is_refused(client, login, make_staff, admin, db_dump):
    product = yacon(admin)
    login(make_staff(roles.STAFF))
    page = client.get("/admin/products/").get_data(as_text=True)
    assert "雪莲果" in page and "Add a product" not in page
    page = client.get(f"/admin/products/{product.id}").get_data(as_text=True)
    assert "菊薯" in page and "Only administrators can change the product list." in page
    assert 'action="/admin/products/' not in page
    before = db_dump()
    url = f"/admin/products/{product.id}"
    for target, data in [("/admin/products/", {"parent_code": TUBERS, "name_zh": "菊芋", "name_en": "x",
                                                "unit": "斤", "category_key": "vegetable"}),
                         (f"{url}/synonyms", {"words": "山雪莲"}),
                         (f"{url}/synonyms/{product.words[1].id}/remove", {}),
                         (f"{url}/rename", {"name_zh": "亚贡", "name_en": "yacon"}),
                         (f"{url}/move", {"parent_code": HERBS}), (f"{url}/merge", {"target": POTATO}),
                         (f"{url}/retire", {}), (f"{url}/reactivate", {})]:
        assert client.post(target, data=data).status_code == 403, target
        assert client.get(target).status_code in (200, 302), target  # looking is allowed
    assert db_dump() == before


def test_the_admin_nav_links_the_products(client, login, make_staff):
    login(make_staff(roles.STAFF))
    page = client.get("/admin/groups/").get_data(as_text=True)
    assert 'href="/admin/products/"' in page
    page = client.get("/admin/products/").get_data(as_text=True)
    assert 'href="/admin/products/" class="current" aria-current="page"' in page


def test_with_csrf_on_every_form_carries_a_token(app_config, admin):
    """As in production: a change without the page's token is refused, with it it is made."""
    product = yacon(admin)
    browser = create_app({**app_config, "WTF_CSRF_ENABLED": True}).test_client()

    def token(html: str) -> str:
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)

    login = browser.get("/login").get_data(as_text=True)
    assert browser.post("/login", data={"phone": admin.phone, "password": PASSWORD,
                                        "csrf_token": token(login)}).status_code == 302
    page = browser.get(f"/admin/products/{product.id}").get_data(as_text=True)
    assert page.count('name="csrf_token"') >= 6  # rename, synonyms, remove ×2, move, merge, retire
    assert browser.post(f"/admin/products/{product.id}/retire").status_code == 400
    db.session.expire_all()
    assert product.active
    assert browser.post(f"/admin/products/{product.id}/retire", data={"csrf_token": token(page)}).status_code == 302
    index = browser.get("/admin/products/").get_data(as_text=True)
    assert browser.post("/admin/products/", data={
        "csrf_token": token(index), "parent_code": LEAFY, "name_zh": "油麦菜苗", "name_en": "celtuce seedlings",
        "unit": "株", "category_key": ""}).status_code == 302
    db.session.expire_all()
    assert not product.active and code("01040991").name_zh == "油麦菜苗"
