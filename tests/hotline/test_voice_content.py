"""What the hotline reads aloud: the latest notices for the caller, the market for a product
picked by key or named aloud, the caller's unread letters (with a spoken reply that
reaches the sender as a letter), a topic's common questions as a menu."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from hotline import menu
from hotline.models import Call, PublishedAnswer, Recording
from mailbox import services as mailbox
from mailbox.models import FROM_BUREAU, Letter
from ruralinfo.broadcasts.models import DONE, DRAFT, Broadcast, Topic
from ruralinfo.extensions import db
from ruralinfo.timeutil import now_utc
from tests.hotline.twiml_walker import CallWalker


def _call(walker: CallWalker) -> Call:
    db.session.expire_all()
    return db.session.scalar(select(Call).where(Call.call_sid == walker.sid))


def _english(user):
    user.language = "en"
    db.session.commit()
    return user


def _title(walker: CallWalker) -> str:
    return menu.published().node(_call(walker).node_id).titles["zh"]


# --- notices ---------------------------------------------------------------------------------

def _bureau_letter(user, body: str, days_ago: int = 0) -> None:
    db.session.add(Letter(kind=FROM_BUREAU, recipient_id=user.id, body=body, channel="broadcast",
                          created_at=now_utc() - timedelta(days=days_ago)))
    db.session.commit()


def _broadcast(body: str, *, regions=("330282",), status=DONE, exclude=None, body_en="") -> Broadcast:
    topic = db.session.scalar(select(Topic).order_by(Topic.id).limit(1))
    broadcast = Broadcast(body=body, body_en=body_en, topic_id=topic.id, status=status, planned_at=now_utc(),
                          audience={"include": {"regions": list(regions)}, "exclude": exclude or {}})
    db.session.add(broadcast)
    db.session.commit()
    return broadcast


def test_a_farmer_hears_the_latest_three_notices_sent_to_them_newest_first_then_the_menu(app, client, make_farmer):
    farmer = make_farmer()
    for number, days_ago in ((1, 4), (2, 3), (3, 2), (4, 1)):
        _bureau_letter(farmer, f"第{number}号通知：防霜冻", days_ago)
    mailbox.send_letter(sender=make_farmer(name="张三"), body="私信不是通知", channel="web", recipient=farmer)
    walker = CallWalker(client, phone=farmer.phone).dial_in().press("4").press("2")
    heard = walker.text
    assert heard.index("第4号通知") < heard.index("第3号通知") < heard.index("第2号通知")
    assert "第1号通知" not in heard and "私信不是通知" not in heard
    assert walker.gather is not None and _title(walker) == "供求与价格"


def test_a_caller_not_registered_hears_the_latest_county_wide_notices(app, client):
    _broadcast("全县：明早有霜冻，请做好防护。{name}注意")
    _broadcast("只发给掌起镇的通知", regions=("330282104",))
    _broadcast("还没发出的通知", status=DRAFT)
    _broadcast("除外了一些人的通知", exclude={"groups": ["葡萄"]})
    _broadcast("全省通知：补贴申报开始", regions=("33",))
    walker = CallWalker(client).dial_in().press("6").press("1")
    heard = walker.text
    assert "全省通知" in heard and "全县：明早有霜冻" in heard and heard.index("全省通知") < heard.index("全县")
    assert "{name}" not in heard
    for left_out in ("掌起镇", "还没发出", "除外"):
        assert left_out not in heard
    assert _title(walker) == "政策法规"


def test_an_english_caller_hears_the_english_notice_and_none_is_said_when_there_is_none(app, client, make_farmer):
    farmer = _english(make_farmer(name="Amy Lin"))
    walker = CallWalker(client, phone=farmer.phone).dial_in().press("4").press("2")
    assert walker.said[0] == "There are no notices now."
    _broadcast("霜冻预警", body_en="Frost tonight: cover your seedlings.")
    walker.press("2")
    assert "Frost tonight: cover your seedlings." in walker.said[0] and walker.said[0].startswith("Notice of ")


# --- the market ------------------------------------------------------------------------------

@pytest.fixture
def market(make_farmer):
    sellers = [make_farmer(name=name) for name in ("李秀英", "王建国", "欧阳修")]
    mailbox.create_post(sellers[0], "sell", "葡萄 500斤 3元/斤 电话13812345678", channel="web")
    mailbox.create_post(sellers[1], "sell", "葡萄 200斤 4元/斤", channel="web")
    mailbox.create_post(sellers[2], "sell", "葡萄 100斤 5元/斤", channel="web")
    mailbox.create_post(sellers[1], "buy", "土豆 1000斤", channel="web")
    return sellers


def test_the_market_offers_the_products_with_open_posts_and_reads_one_picked_by_key(app, client, market,
                                                                                       make_farmer):
    walker = CallWalker(client).dial_in().press("4").press("1")
    gather = walker.gather
    assert gather.get("input") == "dtmf speech" and gather.get("hints").split(", ") == ["葡萄", "土豆"]
    assert "/twilio/voice/step?n=3&at=market." in gather.get("action")
    walker.press("1")
    heard = walker.text
    assert heard.count("葡萄") >= 3 and "欧阳某" in heard and "王某" in heard and "李某" in heard and "*" not in heard  # 张* is read 张某
    for secret in ("13812345678", "李秀英", "王建国", "欧阳修", "电话"):
        assert secret not in heard
    assert walker.gather is not None and _title(walker) == "供求与价格"


def test_the_market_tells_the_median_asking_price_and_takes_a_product_said_aloud(app, client, market, make_farmer):
    caller = _english(make_farmer(name="Tom Wu"))
    walker = CallWalker(client, phone=caller.phone).dial_in().press("4").press("1")
    assert walker.said[-1].startswith("Say the product you want to hear about, or choose: for grape press 1")
    walker.say("巨峰")  # a grape variety: grapes
    assert walker.said[0] == "Open posts for grape:"
    assert "The median asking price of 3 posts is 8 yuan per 公斤." in walker.said  # read "per", not a slash
    assert "Supply, demand and prices" not in walker.text and "for Market prices press 1" in walker.said[-1]


def test_the_market_dialogue_takes_star_hash_zero_wrong_keys_and_words_it_does_not_know(app, client, market,
                                                                                         make_farmer):
    caller = _english(make_farmer(name="Tom Wu"))
    walker = CallWalker(client, phone=caller.phone).dial_in().press("4").press("1")
    offer = walker.said[-1]
    assert walker.press("*").said == [offer]
    assert walker.press("7").said == ["Sorry, that key is not in this menu.", offer]
    assert walker.say("moon rocks").said == ["Sorry, we did not understand.", offer]
    walker.press("2")
    assert walker.said[0] == "Open posts for potato:" and "is buying potato 1000斤." in walker.text
    walker.press("1").press("#")
    assert _title(walker) == "供求与价格"
    walker.press("1").press("0")
    assert walker.waiting_for == "Record" and _call(walker).topic == "general"


def test_with_no_open_posts_the_market_says_so_and_goes_back(app, client, make_farmer):
    caller = _english(make_farmer(name="Tom Wu"))
    walker = CallWalker(client, phone=caller.phone).dial_in().press("4").press("1")
    assert walker.said[0] == "There are no open posts now." and _title(walker) == "供求与价格"


# --- the mailbox -----------------------------------------------------------------------------

@pytest.fixture
def letters(make_farmer):
    farmer = _english(make_farmer(name="Liu Bei"))
    friend = make_farmer(name="关羽")
    read = mailbox.send_letter(sender=friend, body="旧信，已读", channel="web", recipient=farmer)
    read.read_at = now_utc()
    older = mailbox.send_letter(sender=friend, body="明天去看葡萄苗吗？", channel="web", recipient=farmer)
    newer = mailbox.send_letter(sender=friend, body="价格谈好了，周六交货。", channel="web", recipient=farmer)
    db.session.commit()
    return farmer, friend, older, newer


def test_the_mailbox_reads_unread_letters_newest_first_and_marks_them_read(app, client, letters):
    farmer, friend, older, newer = letters
    walker = CallWalker(client, phone=farmer.phone).dial_in().press("4").press("3")
    assert walker.said[0] == "You have 2 new letters."
    assert walker.said[1].startswith("Letter from 关羽") and walker.said[1].endswith("价格谈好了，周六交货。")
    assert walker.gather.get("action").endswith(f"at=mail.{newer.id}")
    assert db.session.get(Letter, newer.id).read_at is not None
    assert db.session.get(Letter, older.id).read_at is None
    walker.press("*")
    assert walker.said[0].endswith("价格谈好了，周六交货。")
    walker.press("1")
    assert walker.said[0].endswith("明天去看葡萄苗吗？") and db.session.get(Letter, older.id).read_at is not None
    walker.press("1")
    assert walker.said[0] == "There are no more new letters." and _title(walker) == "供求与价格"
    walker.press("3")
    assert walker.said[0] == "You have no new letters."


def test_a_spoken_reply_reaches_the_sender_as_a_letter_with_its_recording_once(app, client, letters):
    farmer, friend, older, newer = letters
    walker = CallWalker(client, phone=farmer.phone).dial_in().press("4").press("3").press("2")
    assert walker.waiting_for == "Record"
    walker.record(seconds=11)
    assert walker.said[0] == "Your answer is recorded: it goes to the sender as a letter."
    assert walker.said[1].endswith("明天去看葡萄苗吗？")  # on to the next letter
    walker.recording_callback()
    recording = db.session.scalar(select(Recording))
    reply = db.session.scalar(select(Letter).where(Letter.recording_id == recording.id))
    assert (reply.sender_id, reply.recipient_id, reply.thread_id) == (farmer.id, friend.id, newer.root_id)
    assert "spoken" in reply.body and reply.channel == "hotline"
    walker.recording_callback()
    assert db.session.scalar(select(func.count(Letter.id)).where(Letter.sender_id == farmer.id)) == 1
    assert _call(walker).outcome == "menu"  # a reply is not a question


def test_the_mailbox_dialogue_takes_hash_zero_and_wrong_keys(app, client, letters):
    farmer, *_rest = letters
    walker = CallWalker(client, phone=farmer.phone).dial_in().press("4").press("3")
    options = walker.said[-1]
    assert walker.press("5").said == ["Sorry, that key is not in this menu.", walker.said[1], options]
    walker.press("#")
    assert _title(walker) == "供求与价格"
    walker.press("3").press("0")
    assert walker.waiting_for == "Record"


def test_a_caller_not_registered_has_no_mailbox(app, client):
    walker = CallWalker(client).dial_in().press("4").press("3")
    assert walker.gather is not None and _title(walker) == "供求与价格" and len(walker.said) == 2


# --- common questions ------------------------------------------------------------------------

@pytest.fixture
def answers(app):
    now = now_utc()
    rows = [PublishedAnswer(topic="crops", question_zh="水稻叶子发黄怎么办？", answer_zh="多半缺氮，追施尿素。",
                            published_at=now - timedelta(days=3)),
            PublishedAnswer(topic="crops", question_zh="葡萄霜霉病怎么防？", answer_zh="雨前喷波尔多液。",
                            published_at=now - timedelta(days=1)),
            PublishedAnswer(topic="crops", question_zh="撤回的问题", answer_zh="不再读", published_at=now,
                            withdrawn_at=now),
            PublishedAnswer(topic="livestock", question_zh="猪不吃食", answer_zh="先量体温。", published_at=now)]
    db.session.add_all(rows)
    db.session.commit()
    return rows


def test_common_questions_are_a_menu_newest_first_and_a_key_hears_its_answer(app, client, answers):
    walker = CallWalker(client).dial_in().press("1").press("1")
    offer = walker.said[-1]
    assert offer.index("葡萄霜霉病怎么防") < offer.index("水稻叶子发黄怎么办")
    assert "撤回的问题" not in offer and "猪不吃食" not in offer
    assert walker.gather.get("action").endswith(f"at=faq.{answers[1].id}.{answers[0].id}")
    walker.press("2")
    assert "水稻叶子发黄怎么办？" in walker.said[0] and "多半缺氮，追施尿素。" in walker.said[1]
    assert walker.said[-1] == offer
    walker.press("1")
    assert "雨前喷波尔多液。" in walker.said[1]
    assert walker.press("3").said[-1] == offer and len(walker.said) == 2  # no third question: wrong key
    walker.press("#")
    assert _title(walker) == "种植业"
    assert _call(walker).path == "1 1 2 1 3 #"


def test_a_withdrawn_answer_is_no_longer_read(app, client, answers):
    walker = CallWalker(client).dial_in().press("1").press("1")
    answers[1].withdrawn_at = now_utc()
    db.session.commit()
    walker.press("1")
    assert "雨前喷波尔多液" not in walker.text


def test_a_topic_without_answers_says_so_and_goes_back(app, client, make_farmer):
    caller = _english(make_farmer(name="Tom Wu"))
    walker = CallWalker(client, phone=caller.phone).dial_in().press("6").press("2")
    assert walker.said[0] == "There are no common questions on this topic yet." and _title(walker) == "政策法规"


def test_silence_in_a_dialogue_is_met_twice_then_goodbye(app, client, answers):
    walker = CallWalker(client).dial_in().press("2").press("1")
    assert "猪不吃食" in walker.said[-1]
    walker.wait()
    assert "猪不吃食" in walker.said[-1] and len(walker.said) == 2
    walker.wait().wait()
    assert walker.ended and _call(walker).path == "2 1 - - -"


# --- recorded prompts and information nodes --------------------------------------------------

WELCOME, FROST, OGG = "0" * 32 + ".mp3", "1" * 32 + ".wav", "2" * 32 + ".ogg"


@pytest.fixture
def info_tree(app):
    """A published tree with information nodes, one with an uploaded recording (removed
    afterwards: on PostgreSQL the menu tables outlive a test)."""
    from hotline.models import INFO, MENU, PUBLISHED, MenuNode, MenuVersion

    version = MenuVersion(status=PUBLISHED, note="test")
    root = MenuNode(version=version, key="", title_zh="测试热线", title_en="Test line", action=MENU,
                    recording=WELCOME)
    MenuNode(version=version, parent=root, key="1", title_zh="霜冻", title_en="Frost", action=INFO,
             text_zh="今晚有霜冻。", text_en="Frost tonight.", recording=FROST)
    MenuNode(version=version, parent=root, key="2", title_zh="天气", title_en="Weather", action=INFO,
             text_zh="明天晴。", text_en="Sunny tomorrow.")
    MenuNode(version=version, parent=root, key="3", title_zh="防疫", title_en="Vaccines", action=INFO,
             text_zh="周五打疫苗。", text_en="Vaccines on Friday.", recording=OGG)
    db.session.add(version)
    db.session.commit()
    yield version
    db.session.rollback()
    db.session.delete(db.session.get(MenuVersion, version.id))
    db.session.commit()


def test_information_is_read_and_a_recording_played_for_chinese_callers(app, client, info_tree, make_farmer):
    walker = CallWalker(client).dial_in()
    served = "voice_prompts.audio" in app.view_functions
    base = app.config["PUBLIC_BASE_URL"]
    if served:  # played from the app, under PUBLIC_BASE_URL
        assert [item.text for item in walker.heard if item.verb == "Play"] == [f"{base}/voice/prompts/{WELCOME}"]
    else:  # the prompts' endpoint is not there: the prompt is said instead
        assert "霜冻请按1" in walker.said[-1]
    walker.press("1")
    if served:
        assert walker.last[0].verb == "Play" and walker.last[0].text == f"{base}/voice/prompts/{FROST}"
    else:
        assert walker.said[0] == "今晚有霜冻。"
    walker.press("2")
    assert walker.said[0] == "明天晴。" and walker.gather is not None
    walker.press("3")  # Twilio cannot play Ogg: the text is said
    assert walker.last[0].verb == "Say" and walker.said[0] == "周五打疫苗。"
    english = CallWalker(client, phone=_english(make_farmer(name="Ann")).phone).dial_in().press("1")
    assert english.said[0] == "Frost tonight." and not [item for item in english.heard if item.verb == "Play"]


def test_a_notice_with_nobody_to_answer_it_offers_no_spoken_answer(app, client, make_farmer):
    """A bureau notice to a farmer whose village has no liaison point: a spoken answer would
    reach nobody, so 2 is not offered (and is a wrong key)."""
    farmer = _english(make_farmer(name="Zhao Yun"))
    _bureau_letter(farmer, "明晨有霜冻，请注意茶园防冻。")
    walker = CallWalker(client, phone=farmer.phone).dial_in().press("4").press("3")
    assert "press 2" not in walker.said[-1]
    walker.press("2")
    assert walker.waiting_for != "Record" and walker.said[0] == "Sorry, that key is not in this menu."


def test_a_farmer_hears_the_notices_sent_to_their_township_before_they_registered(app, client, make_farmer):
    """Notices for the caller's region: one sent to their township (before they had an
    account, so never filed in their mailbox) is heard; one to a township elsewhere is not."""
    _broadcast("掌起镇：今晚有大风，请加固大棚。", regions=("330282104",))
    _broadcast("别的镇：明天停水。", regions=("330282105",))
    farmer = make_farmer(name="钱小红")  # 长溪村, in 330282104
    _bureau_letter(farmer, "第1号通知：防霜冻")
    walker = CallWalker(client, phone=farmer.phone).dial_in().press("4").press("2")
    heard = walker.text
    assert "请加固大棚" in heard and "第1号通知" in heard and "明天停水" not in heard


def test_a_notice_the_farmer_received_is_heard_once(app, client, make_farmer):
    """The mailbox has it as sent (with their name); the region's copy is not read again."""
    from ruralinfo.broadcasts.models import Recipient

    farmer = make_farmer(name="孙小梅")
    broadcast = _broadcast("{name}：明早有霜冻，请注意茶园防冻。", regions=("330282104",))
    db.session.add(Recipient(broadcast_id=broadcast.id, user_id=farmer.id, phone=farmer.phone, state="sent"))
    db.session.commit()
    _bureau_letter(farmer, "孙小梅：明早有霜冻，请注意茶园防冻。")
    walker = CallWalker(client, phone=farmer.phone).dial_in().press("4").press("2")
    assert walker.text.count("明早有霜冻") == 1 and "孙小梅" in walker.text
