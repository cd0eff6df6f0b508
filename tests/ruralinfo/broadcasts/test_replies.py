"""Sign-up replies (会议通知报名): a farmer's answer by SMS (``1``, ``报名``, ``YES``,
``报名 N``, an option's name, a free answer) is attributed to the latest open sign-up
they received, confirmed in their language and counted; a later answer replaces the
earlier one; answers after the closing time are told so and not counted; with no
sign-up open, texts go where they went before. A reminder reaches those who have
not answered, and its answers count for the sign-up. The tally, the list and its
CSV and XLSX exports."""
from __future__ import annotations

import io
import threading
import time
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from mailbox.models import Letter, Post
from ruralinfo.accounts import phones, roles
from ruralinfo.audit.models import AuditEntry
from ruralinfo.broadcasts import audience as audiences
from ruralinfo.broadcasts import replies, services
from ruralinfo.broadcasts.audience import Rules
from ruralinfo.broadcasts.models import DONE, Broadcast, Recipient, Reply
from ruralinfo.extensions import db
from ruralinfo.sms.models import BROADCAST, InboundMessage, OutboundMessage
from ruralinfo.timeutil import now_utc, to_local
from tests.conftest import CHANGXI

NOTICE = "12月10日上午9点在长溪村委会举办葡萄冬季修剪培训，请报名。"
NOTICE_EN = "Grape pruning training, 10 Dec 9:00 at Changxi village hall."
OPTIONS = ["报名|sign up", "不参加|not attending"]


@pytest.fixture
def county(app, make_point, make_staff, make_farmer, monkeypatch):
    """A clerk, the 长溪村 liaison point, grape growers (one reads English, one opted out)
    and a tea grower; broadcasts are sent at once, in the test's own thread."""
    app.config.update(QUIET_HOURS="", SMS_RATE=100_000, BROADCAST_APPROVAL_THRESHOLD=100)
    monkeypatch.setattr(services, "start", services.send)
    point = make_point()
    people = {
        "clerk": make_staff(roles.STAFF, name="王晓燕", phone="+8613911112001"),
        "zhang": make_farmer(name="张桂芳", region_code=CHANGXI, groups=("葡萄",)),
        "li": make_farmer(name="李建华", region_code=CHANGXI, groups=("葡萄",)),
        "chen": make_farmer(name="陈志强", region_code=CHANGXI, groups=("葡萄",)),
        "liu": make_farmer(name="刘德明", region_code=CHANGXI, groups=("葡萄",)),
        "wang": make_farmer(name="王秀兰", region_code=CHANGXI, groups=("茶叶",)),
        "point": point,
    }
    people["li"].language = "en"
    people["liu"].sms_opt_out = True
    db.session.commit()
    return people


def send_signup(county, *, options=OPTIONS, free=False, closes_in=timedelta(days=3), body=NOTICE,
                body_en=NOTICE_EN, groups=("葡萄",)) -> Broadcast:
    """A sign-up, made and sent the way the bureau sends one: every recipient has a text."""
    closes = (now_utc() + closes_in).replace(second=0, microsecond=0) if closes_in else None
    broadcast = services.create(actor=county["clerk"], body=body, body_en=body_en, topic="meetings",
                                audience=audiences.clean(Rules(groups=list(groups))),
                                reply_options=[] if free else list(options), free_reply=free,
                                replies_close_at=closes)
    services.submit(broadcast, actor=county["clerk"])
    assert broadcast.status == DONE
    return broadcast


def answer_of(broadcast, farmer) -> Reply | None:
    db.session.expire_all()
    return db.session.scalar(select(Reply).where(Reply.broadcast_id == broadcast.id, Reply.phone == farmer.phone))


def letters_to_point(county) -> list[str]:
    return list(db.session.scalars(select(Letter.body).where(Letter.recipient_point_id == county["point"].id)
                                   .order_by(Letter.id)))


def command_of_last_text() -> str:
    return db.session.scalar(select(InboundMessage.command).order_by(InboundMessage.id.desc()).limit(1))


# --- answering ------------------------------------------------------------------------------

def test_a_chinese_and_an_english_farmer_answer_by_number_in_their_language(county, text_in):
    signup = send_signup(county)
    _response, zh_reply = text_in(county["zhang"].phone, "1")
    assert "报名" in zh_reply and "12月10日" in zh_reply  # the option and which notice, in Chinese
    _response, en_reply = text_in(county["li"].phone, "2")
    assert "not attending" in en_reply and "Grape pruning" in en_reply and "报名" not in en_reply
    zhang, li = answer_of(signup, county["zhang"]), answer_of(signup, county["li"])
    assert (zhang.choice, zhang.answer, zhang.channel, zhang.user_id) == (1, "1", "sms", county["zhang"].id)
    assert (li.choice, li.answer) == (2, "2")
    assert replies.tally(signup.id) == {"报名": 1, "不参加": 1}
    assert command_of_last_text() == "signup-digit"
    proof = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "broadcast.reply")).all()
    assert len(proof) == 2 and {entry.channel for entry in proof} == {"sms"}


def test_the_confirmation_is_one_short_text(county, text_in):
    from ruralinfo.sms import segments

    send_signup(county)
    for farmer in ("zhang", "li"):
        _response, reply = text_in(county[farmer].phone, "1")  # as the phone shows it, with the signature
        assert segments.count(reply).segments <= 2 and "…" in reply, reply  # the notice, cut


@pytest.mark.parametrize("text", ["报名", "报名。", "YES", "yes", "Y", "是", "１", " 1 ", "SIGN UP", "signup",
                                  "报名参加"])
def test_words_for_signing_up(county, text_in, text):
    signup = send_signup(county)
    _response, reply = text_in(county["zhang"].phone, text)
    assert "报名" in reply
    assert answer_of(signup, county["zhang"]).choice == 1


@pytest.mark.parametrize("text", ["报名我不去了", "报名参加不了"])
def test_words_after_the_keyword_that_refuse_sign_nobody_up(county, text_in, text):
    """Only 报名 alone, 报名参加 or 报名 YES mean option 1: other words get the choices again."""
    signup = send_signup(county)
    _response, reply = text_in(county["zhang"].phone, text)
    assert answer_of(signup, county["zhang"]) is None
    assert "1" in reply and "2" in reply  # the choices, to answer by number


def test_a_long_letter_asks_nothing_of_the_sign_ups(county, text_in, app):
    """Every text no command takes passes the option-name check: a letter longer than any
    option's name goes to the liaison point without a query of the recipients."""
    from sqlalchemy import event

    send_signup(county)
    seen = []

    def note(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        text_in(county["zhang"].phone, "我家的葡萄叶子背面发白，是不是霜霉病，应该用什么药，什么时候打")
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    assert letters_to_point(county) == ["我家的葡萄叶子背面发白，是不是霜霉病，应该用什么药，什么时候打"]
    assert not any("broadcast_recipients" in statement for statement in seen)


def test_an_options_name_chooses_it_and_a_change_of_mind_replaces_the_answer(county, text_in):
    signup = send_signup(county)
    text_in(county["zhang"].phone, "报名")
    _response, reply = text_in(county["zhang"].phone, "不参加")
    assert "不参加" in reply
    assert db.session.scalar(select(func.count(Reply.id))) == 1
    assert answer_of(signup, county["zhang"]).choice == 2
    text_in(county["zhang"].phone, "报名 不参加")  # the keyword and the name
    text_in(county["zhang"].phone, "1")
    assert replies.tally(signup.id) == {"报名": 1, "不参加": 0}
    assert letters_to_point(county) == []  # none of it went to the liaison point


def test_words_after_the_keyword_that_ask_something_are_still_a_letter(county, text_in):
    signup = send_signup(county)
    text_in(county["zhang"].phone, "报名的人多吗？")
    text_in(county["wang"].phone, "回答一下我的问题")  # 王秀兰 has no sign-up
    assert letters_to_point(county) == ["报名的人多吗？", "回答一下我的问题"]
    assert answer_of(signup, county["zhang"]) is None and command_of_last_text() == "fallback"


def test_an_option_named_like_a_keyword_is_that_option(county, text_in):
    signup = send_signup(county, options=["否|no", "是|yes"])
    text_in(county["zhang"].phone, "是")
    text_in(county["li"].phone, "YES")
    assert replies.tally(signup.id) == {"否": 0, "是": 2}


def test_a_number_out_of_range_says_what_to_reply(county, text_in):
    signup = send_signup(county)
    for text in ("3", "0", "9"):
        _response, reply = text_in(county["zhang"].phone, text)
        assert "1" in reply and "2" in reply and "报名" in reply and "不参加" in reply
    _response, reply = text_in(county["li"].phone, "5")
    assert "1 sign up" in reply and "2 not attending" in reply
    assert replies.tally(signup.id) == {"报名": 0, "不参加": 0}


def test_the_latest_open_sign_up_takes_the_answer_and_报名_N_names_another(county, text_in):
    first = send_signup(county)
    second = send_signup(county, body="12月20日在村文化礼堂召开葡萄种植户大会。", body_en="Grape growers' meeting, 20 Dec.")
    text_in(county["zhang"].phone, "1")
    assert answer_of(second, county["zhang"]).choice == 1 and answer_of(first, county["zhang"]) is None
    _response, reply = text_in(county["zhang"].phone, f"报名 {first.id}")
    assert "12月10日" in reply and answer_of(first, county["zhang"]).choice == 1
    text_in(county["zhang"].phone, f"报名 {first.id} 2")
    assert answer_of(first, county["zhang"]).choice == 2
    text_in(county["li"].phone, f"SIGNUP {first.id} not attending")
    assert answer_of(first, county["li"]).choice == 2
    assert replies.tally(first.id) == {"报名": 0, "不参加": 2} and replies.tally(second.id) == {"报名": 1, "不参加": 0}


def test_a_sign_up_the_phone_never_received_is_not_theirs(county, text_in):
    tea = send_signup(county, groups=("茶叶",))  # only 王秀兰
    grapes = send_signup(county)
    _response, reply = text_in(county["li"].phone, "报名 99999")
    assert reply.endswith("You have no sign-up notice no. 99999.")
    _response, reply = text_in(county["zhang"].phone, f"报名 {tea.id} 1")
    assert answer_of(tea, county["zhang"]) is None
    assert answer_of(grapes, county["zhang"]).choice == 1  # read as an answer to their own sign-up
    text_in(county["liu"].phone, "1")  # opted out: planned, but no text went to them
    assert answer_of(grapes, county["liu"]) is None and letters_to_point(county) == ["1"]
    assert latest(county["wang"]) == tea.id and replies.latest_open(county["zhang"], number=tea.id) is None


def latest(user) -> int | None:
    found = replies.latest_open(user)
    return found.id if found is not None else None


# --- free answers -----------------------------------------------------------------------------

def test_a_free_answer_needs_its_keyword(county, text_in):
    signup = send_signup(county, free=True, body="请回复参加12月10日培训的人数。", body_en="How many of you will come?")
    notice = db.session.scalar(select(OutboundMessage.body).where(OutboundMessage.to == county["li"].phone,
                                                                  OutboundMessage.kind == BROADCAST))
    assert notice.endswith("How many of you will come? To answer, reply ANSWER and your answer.")
    _response, reply = text_in(county["zhang"].phone, f"回答 {signup.id} 2人")
    assert "2人" in reply and answer_of(signup, county["zhang"]).answer == "2人"
    text_in(county["chen"].phone, "报名 3人")  # the latest free-answer sign-up
    _response, reply = text_in(county["li"].phone, f"ANSWER {signup.id} two of us")
    assert "two of us" in reply and answer_of(signup, county["li"]).choice is None
    _response, reply = text_in(county["chen"].phone, "我们家去两个人")  # no keyword: a letter, as always
    assert letters_to_point(county) == ["我们家去两个人"] and answer_of(signup, county["chen"]).answer == "3人"
    _response, reply = text_in(county["chen"].phone, "2")
    assert f"回答 {signup.id}" in reply and answer_of(signup, county["chen"]).answer == "3人"  # the how-to, in Chinese
    text_in(county["chen"].phone, f"回答 {signup.id} 3人")
    text_in(county["zhang"].phone, "回答 3人")  # a change of mind
    assert replies.tally(signup.id) == {"3人": 2, "two of us": 1}
    _response, reply = text_in(county["zhang"].phone, "回答")
    assert f"回答 {signup.id}" in reply  # how to
    text_in(county["zhang"].phone, "YES")
    assert answer_of(signup, county["zhang"]).answer == "报名"


# --- after closing; nothing open --------------------------------------------------------------

def test_answers_after_the_closing_time_are_told_so_and_not_counted(county, text_in, monkeypatch):
    signup = send_signup(county, closes_in=timedelta(hours=20))
    text_in(county["zhang"].phone, "1")
    monkeypatch.setattr(replies, "now_utc", lambda: signup.replies_close_at + timedelta(minutes=1))
    closing = to_local(signup.replies_close_at).strftime("%m-%d %H:%M")  # in the bureau's time
    for farmer, text in (("zhang", "2"), ("li", "1"), ("chen", f"报名 {signup.id}"), ("chen", "不参加"),
                         ("chen", "是"), ("li", "SIGNUP")):
        _response, reply = text_in(county[farmer].phone, text)
        assert closing in reply, (text, reply)
    assert replies.tally(signup.id) == {"报名": 1, "不参加": 0} and answer_of(signup, county["zhang"]).choice == 1
    with pytest.raises(replies.SignUpClosed):
        replies.record(signup, phone=county["chen"].phone, user=county["chen"], choice=1)
    monkeypatch.setattr(replies, "now_utc", lambda: signup.replies_close_at + replies.LATE + timedelta(hours=1))
    text_in(county["zhang"].phone, "2")  # long after: a text like any other
    assert letters_to_point(county) == ["2"] and answer_of(signup, county["zhang"]).choice == 1


def test_with_no_sign_up_a_digit_is_a_letter_and_yes_is_the_mailboxs(county, text_in):
    farmer, english = county["zhang"], county["li"]
    _response, reply = text_in(farmer.phone, "1")
    assert letters_to_point(county) == ["1"] and "长溪村联络点" in reply and command_of_last_text() == "fallback"
    text_in(farmer.phone, "不参加")
    assert letters_to_point(county) == ["1", "不参加"] and command_of_last_text() == "fallback"
    _response, reply = text_in(farmer.phone, "YES")
    assert reply.endswith("没有人在等您的答复。") and command_of_last_text() == "agree"  # the mailbox's own answer
    _response, reply = text_in(english.phone, "YES")
    assert reply.endswith("Nobody is waiting for your answer.")
    _response, reply = text_in(english.phone, "YES 12")
    assert reply.endswith("Nobody is waiting for your answer about post no. 12.")
    _response, reply = text_in(english.phone, "报名")
    assert reply.endswith("You have no sign-up open now.")
    _response, reply = text_in(english.phone, "报名 999")
    assert reply.endswith("You have no sign-up notice no. 999.")
    assert db.session.scalar(select(func.count(Reply.id))) == 0


def test_yes_agrees_to_a_contact_request_when_no_sign_up_is_open_and_yes_N_always(county, text_in):
    seller, buyer = county["zhang"], county["wang"]
    text_in(seller.phone, "卖 葡萄苗 500株")
    post = db.session.scalar(select(Post))
    text_in(buyer.phone, f"联系 {post.id}")
    _response, reply = text_in(seller.phone, "YES")
    assert "王秀兰" in reply  # agreed: each gets the other's number
    text_in(buyer.phone, "卖 茶叶 50斤")
    tea = db.session.scalar(select(Post).where(Post.id != post.id))
    text_in(seller.phone, f"联系 {tea.id}")
    signup = send_signup(county)  # a sign-up open: YES N is still the contact's
    _response, reply = text_in(buyer.phone, f"YES {tea.id}")
    assert "张桂芳" in reply
    assert answer_of(signup, buyer) is None and answer_of(signup, seller) is None


# --- reminders --------------------------------------------------------------------------------

def test_a_reminder_reaches_who_has_not_answered_and_counts_for_the_sign_up(county, text_in):
    signup = send_signup(county)
    text_in(county["zhang"].phone, "1")
    assert set(replies.not_answered_phones(signup.id)) == {county["li"].phone, county["chen"].phone}
    reminder = replies.remind(signup, actor=county["clerk"])
    assert reminder.reminder_of_id == signup.id and reminder.status == DONE
    assert reminder.reply_options == signup.reply_options and reminder.replies_close_at == signup.replies_close_at
    assert reminder.body.endswith(NOTICE) and reminder.topic_id == signup.topic_id
    reached = set(db.session.scalars(select(Recipient.phone).where(Recipient.broadcast_id == reminder.id)))
    assert reached == {county["li"].phone, county["chen"].phone}
    text_in(county["chen"].phone, "2")  # answering the reminder
    text_in(county["li"].phone, f"SIGNUP {reminder.id}")  # naming the reminder
    assert db.session.scalar(select(func.count(Reply.id)).where(Reply.broadcast_id == reminder.id)) == 0
    assert replies.tally(signup.id) == replies.tally(reminder.id) == {"报名": 2, "不参加": 1}
    assert replies.not_answered_phones(signup.id) == []
    with pytest.raises(services.BroadcastError) as nobody:
        replies.remind(signup, actor=county["clerk"])
    assert "audience" in nobody.value.errors


def test_no_reminder_after_closing(county, monkeypatch):
    signup = send_signup(county, closes_in=timedelta(hours=20))
    monkeypatch.setattr(replies, "now_utc", lambda: signup.replies_close_at + timedelta(minutes=1))
    with pytest.raises(services.BroadcastError) as closed:
        replies.remind(signup, actor=county["clerk"])
    assert "replies_close_at" in closed.value.errors
    assert db.session.scalar(select(func.count(Broadcast.id))) == 1


# --- the list and its exports -----------------------------------------------------------------

def test_the_list_and_its_csv_and_xlsx(county, text_in):
    signup = send_signup(county)
    text_in(county["zhang"].phone, "1")
    text_in(county["li"].phone, "not attending")  # an English name: by number, in English (see reply_commands)
    text_in(county["li"].phone, "2")
    rows = replies.answers(signup.id)
    assert [(row.name, row.answer, row.written, row.village, row.channel) for row in rows] == [
        ("张桂芳", "报名", "1", "长溪村", "sms"), ("李建华", "不参加", "2", "长溪村", "sms")]
    assert rows[0].phone == phones.display(county["zhang"].phone)
    local = to_local(rows[0].at).strftime("%Y-%m-%d %H:%M")
    csv_text = replies.answers_csv(signup.id).decode("utf-8-sig")
    lines = csv_text.splitlines()
    assert lines[0].startswith("Name,Phone,Village,Answer")
    assert lines[1] == f"张桂芳,{phones.display(county['zhang'].phone)},长溪村,报名,1,{local},SMS"
    book = load_workbook(io.BytesIO(replies.answers_xlsx(signup.id)))
    sheet = book.active
    values = [[cell for cell in row] for row in sheet.iter_rows(values_only=True)]
    assert values[0][0] == "Name" and values[1][:5] == ["张桂芳", phones.display(county["zhang"].phone), "长溪村",
                                                          "报名", "1"]
    assert values[2][3] == "不参加" and len(values) == 3


def test_a_formula_in_a_free_answer_is_never_run(county, text_in):
    signup = send_signup(county, free=True, body="您家的葡萄种植面积是多少亩？", body_en="")
    text_in(county["zhang"].phone, f"回答 {signup.id} =1+2")
    assert replies.tally(signup.id) == {"=1+2": 1}
    assert ",'=1+2," in replies.answers_csv(signup.id).decode("utf-8-sig")
    sheet = load_workbook(io.BytesIO(replies.answers_xlsx(signup.id))).active
    assert [row for row in sheet.iter_rows(values_only=True)][1][3] == "'=1+2"


# --- two answers at once --------------------------------------------------------------------

def test_two_answers_at_once_from_one_phone_leave_one_row(app, county):
    """The second answer's insert meets the first one's row, not yet committed: it waits
    for it and replaces it — no second row, no IntegrityError for the farmer."""
    signup_id = send_signup(county).id
    farmer_id, phone = county["zhang"].id, county["zhang"].phone
    first_wrote, errors, said = threading.Event(), [], {}

    def answer(choice: int, hold: bool) -> None:
        with app.app_context():
            try:
                if not hold:
                    first_wrote.wait(10)
                signup = db.session.get(Broadcast, signup_id)
                from ruralinfo.accounts.models import User

                user = db.session.get(User, farmer_id)
                said[choice] = replies.record(signup, phone=phone, user=user, choice=choice, commit=False)
                if hold:
                    first_wrote.set()
                    time.sleep(0.5)  # the other one's insert runs into this uncommitted row
                db.session.commit()
            except Exception as err:  # noqa: BLE001 - reported below
                errors.append(err)
                first_wrote.set()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=answer, args=(1, True)), threading.Thread(target=answer, args=(2, False))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors and set(said) == {1, 2}
    db.session.expire_all()
    rows = db.session.scalars(select(Reply).where(Reply.broadcast_id == signup_id)).all()
    assert len(rows) == 1 and rows[0].choice == 2  # the later one counts


def test_two_texts_at_once_through_the_webhook_path(app, county):
    from ruralinfo.sms import inbound

    signup_id = send_signup(county).id
    phone = county["zhang"].phone
    start, errors, answered = threading.Barrier(2), [], []

    def text(sid: str, body: str) -> None:
        with app.app_context():
            try:
                start.wait(10)
                answered.append(inbound.receive(provider_id=sid, from_phone=phone, to="+8610690000", body=body,
                                                gateway="twilio"))
            except Exception as err:  # noqa: BLE001 - reported below
                errors.append(err)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=text, args=(f"SM{n:032x}", body)) for n, body in ((901, "1"), (902, "2"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    db.session.expire_all()
    assert not errors and len(answered) == 2 and all(answer and "Sorry" not in answer for answer in answered)
    assert db.session.scalar(select(func.count(Reply.id)).where(Reply.broadcast_id == signup_id)) == 1
    assert db.session.scalar(select(func.count(InboundMessage.id)).where(InboundMessage.command == "error")) == 0
