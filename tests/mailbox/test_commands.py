"""The SMS command language, as farmers type it on feature phones."""
import random

import pytest
from sqlalchemy import func, select

from mailbox import services as mailbox
from mailbox.models import BUY, SELL, Letter, Post
from ruralinfo.accounts.models import User
from ruralinfo.extensions import db
from ruralinfo.sms import services as sms
from ruralinfo.sms.models import InboundMessage, OutboundMessage
from ruralinfo.accounts import roles
from tests.conftest import BALI, CHANGXI, OTHER_TOWNSHIP, PASSWORD


@pytest.fixture
def farmer(make_point, make_farmer):
    make_point("长溪村联络点", (CHANGXI,))
    return make_farmer(region_code=CHANGXI, name="陈阿毛", phone="+8613800138000")


def posts(kind=None):
    stmt = select(Post).order_by(Post.id)
    return db.session.scalars(stmt.where(Post.kind == kind) if kind else stmt).all()


@pytest.mark.parametrize("text,kind,stored", [
    ("卖 土豆 500斤 1.5元/斤", SELL, "土豆 500斤 1.5元/斤"),
    ("卖：土豆500斤", SELL, "土豆500斤"),
    ("  【卖】 土豆，500斤。 ", SELL, "土豆,500斤"),
    ("卖土豆 ５００斤", SELL, "土豆 500斤"),
    ("SELL potatoes 500 jin", SELL, "potatoes 500 jin"),
    ("ｓｅｌｌ， rice", SELL, "rice"),
    ("sell:rice", SELL, "rice"),
    ("买 葡萄苗 200株", BUY, "葡萄苗 200株"),
    ("买、葡萄苗", BUY, "葡萄苗"),
    ("BUY grape seedlings", BUY, "grape seedlings"),
    ("Buy. seeds", BUY, "seeds"),
])
def test_sell_and_buy_are_stored_and_confirmed_with_their_number(farmer, text_in, text, kind, stored):
    _, reply = text_in(farmer.phone, text)
    [post] = posts()
    assert (post.kind, post.text, post.channel) == (kind, stored, "sms")
    assert str(post.id) in reply


def test_sell_without_anything_explains_how(farmer, text_in):
    _, reply = text_in(farmer.phone, "卖")
    assert posts() == [] and "卖" in reply


def test_replies_come_in_the_accounts_language(english_farmer, text_in):
    _, reply = text_in(english_farmer.phone, "卖 土豆")
    assert "supply post" in reply


@pytest.mark.parametrize("text", ["帮助", "HELP", "help", "?", "？", " 帮助。", "ＨＥＬＰ"])
def test_help_lists_the_commands_whole_in_chinese(farmer, text_in, text):
    _, reply = text_in(farmer.phone, text)
    assert "卖" in reply and "回复" in reply and "TD" in reply and "订阅" in reply and "…" not in reply
    message = db.session.scalar(select(OutboundMessage).where(OutboundMessage.kind == "reply"))
    assert message.segments <= 6  # one long text, whole (SMS_MAX_SEGMENTS)
    assert db.session.scalar(select(func.count(Letter.id))) == 0  # not taken as a letter


@pytest.mark.parametrize("text", ["退订", "TD", "td", "T", "R", "STOP", "stop", "退订。", "Ｔ Ｄ".replace(" ", "")])
def test_opt_out_is_confirmed_and_holds_at_once(farmer, text_in, text):
    _, reply = text_in(farmer.phone, text)
    db.session.refresh(farmer)
    assert farmer.sms_opt_out is True and reply
    assert sms.queue_sms(farmer.phone, "天气预警", kind="broadcast", user=farmer) is None
    assert sms.queue_sms(farmer.phone, "验证码", kind="otp", user=farmer) is not None  # essential still goes


@pytest.mark.parametrize("text", ["订阅", "START", "start"])
def test_start_brings_them_back(farmer, text_in, text):
    text_in(farmer.phone, "TD")
    _, reply = text_in(farmer.phone, text)
    db.session.refresh(farmer)
    assert farmer.sms_opt_out is False and reply


def test_words_that_only_begin_like_a_command_are_not_one(farmer, text_in):
    text_in(farmer.phone, "Tomatoes are ready")  # not T (opt-out), not TD
    text_in(farmer.phone, "Seller here")         # not SELL
    db.session.refresh(farmer)
    assert farmer.sms_opt_out is False and posts() == []
    assert db.session.scalar(select(func.count(Letter.id))) == 2  # both went to the liaison point


def test_a_letter_to_the_point_for_anything_else(farmer, text_in):
    _, reply = text_in(farmer.phone, "我家的葡萄叶子发黄怎么办")
    letter = db.session.scalar(select(Letter))
    assert letter.recipient_point.name == "长溪村联络点" and letter.sender_id == farmer.id
    assert letter.body == "我家的葡萄叶子发黄怎么办" and "长溪村联络点" in reply


def test_no_point_still_keeps_the_text_for_the_bureau(make_farmer, make_staff, text_in, client):
    farmer = make_farmer(region_code=OTHER_TOWNSHIP, name="远方人", phone="+8613800138002")
    _, reply = text_in(farmer.phone, "有人吗")
    stored = db.session.scalar(select(InboundMessage))
    assert stored.body == "有人吗" and stored.user_id == farmer.id and stored.command == "unrouted" and reply
    clerk = make_staff(roles.STAFF)
    client.post("/login", data={"phone": clerk.phone, "password": PASSWORD})
    page = client.get("/bureau/texts").get_data(as_text=True)
    assert "有人吗" in page and "远方人" in page


def test_reply_to_a_letter_by_sms_lands_in_the_thread(farmer, make_farmer, text_in):
    neighbour = make_farmer(region_code=CHANGXI, name="王水根", phone="+8613800138003")
    letter = mailbox.send_letter(sender=neighbour, recipient=farmer, body="你的葡萄苗还有吗？", channel="web")
    mirror = db.session.scalar(select(OutboundMessage).where(OutboundMessage.cause == f"letter:{letter.id}"))
    assert mirror.to == farmer.phone and str(letter.id) in mirror.body and "王水根" in mirror.body
    for text in (f"回复 {letter.id} 还有200株", f"reply #{letter.id} ok", f"回复{letter.id}：好的"):
        _, reply = text_in(farmer.phone, text)
        assert "王水根" in reply
    answers = db.session.scalars(select(Letter).where(Letter.thread_id == letter.id).order_by(Letter.id)).all()
    assert [a.body for a in answers] == ["还有200株", "ok", "好的"]
    assert all(a.recipient_id == neighbour.id and a.sender_id == farmer.id for a in answers)


def test_reply_to_someone_elses_letter_is_refused(farmer, make_farmer, text_in):
    a, b = make_farmer(phone="+8613800138004"), make_farmer(phone="+8613800138005")
    letter = mailbox.send_letter(sender=a, recipient=b, body="私信", channel="web")
    _, reply = text_in(farmer.phone, f"回复 {letter.id} 偷看")
    assert str(letter.id) in reply
    assert db.session.scalar(select(func.count(Letter.id)).where(Letter.thread_id == letter.id)) == 0


def test_my_shows_open_posts_and_unread_letters_shortly(farmer, make_farmer, text_in):
    text_in(farmer.phone, "卖 土豆 500斤")
    text_in(farmer.phone, "买 葡萄苗")
    neighbour = make_farmer(region_code=CHANGXI, name="王水根", phone="+8613800138006")
    letter = mailbox.send_letter(sender=neighbour, recipient=farmer, body="在吗", channel="web")
    for text in ("我的", "MY", "my"):
        _, reply = text_in(farmer.phone, text)
        assert "土豆" in reply and "葡萄苗" in reply and str(letter.id) in reply and "王水根" in reply
    assert db.session.scalars(select(OutboundMessage.segments).where(OutboundMessage.kind == "reply")).all()
    assert max(db.session.scalars(select(OutboundMessage.segments).where(OutboundMessage.kind == "reply"))) <= 2


def test_an_unknown_number_is_told_where_to_register_once_a_day(text_in, app):
    _, first = text_in("+8613912345678", "卖 土豆")
    _, second = text_in("+8613912345678", "卖 土豆")
    assert "联络点" in first and app.config["HOTLINE_NUMBER"] in first
    assert second is None
    assert db.session.scalar(select(func.count(User.id))) == 0 and posts() == []


def test_a_thousand_deliveries_with_repeats_give_exactly_the_right_posts_and_letters(make_point, make_farmer,
                                                                                  text_in):
    make_point("长溪村联络点", (CHANGXI,))
    make_point("巴里村联络点", (BALI,))
    farmers = [make_farmer(region_code=CHANGXI if i % 2 else BALI, phone=f"+86137000000{i:02d}") for i in range(20)]
    rng = random.Random(7)
    originals, deliveries = [], []
    for n in range(700):
        sender = rng.choice(farmers)
        body = rng.choice(["卖 土豆 {n}斤", "买 葡萄苗 {n}株", "请联络点帮忙看看价格 {n}"]).format(n=n)
        originals.append((f"SM{n:032x}", sender.phone, body))
    deliveries = list(originals) + [rng.choice(originals) for _ in range(300)]  # 30% repeated
    rng.shuffle(deliveries)
    for sid, phone, body in deliveries:
        text_in(phone, body, sid=sid)
    expected_sell = sum(1 for _, _, b in originals if b.startswith("卖"))
    expected_buy = sum(1 for _, _, b in originals if b.startswith("买"))
    expected_letters = sum(1 for _, _, b in originals if b.startswith("请"))
    assert len(posts(SELL)) == expected_sell and len(posts(BUY)) == expected_buy
    assert db.session.scalar(select(func.count(Letter.id))) == expected_letters
    assert db.session.scalar(select(func.count(InboundMessage.id))) == 700
    assert sorted(p.text for p in posts()) == sorted(b[2:] for _, _, b in originals if b[0] in "卖买")


def test_my_shows_as_many_items_as_fit_in_a_few_tries():
    """`_most` finds what the one-by-one count found: every k up to the limit fits, and
    all n may fit when n−1 does not (no "and 1 more" to say)."""
    from mailbox.commands import _most

    for n in range(0, 30):
        for limit in range(0, n + 1):
            tried = []

            def fits(k, limit=limit, n=n, tried=tried):
                tried.append(k)
                return k <= limit or k == n == limit + 1

            expected = max(k for k in range(n + 1) if fits(k))
            tried.clear()
            assert _most(n, fits) == expected
            assert len(tried) <= 7
