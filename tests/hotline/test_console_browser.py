"""In a real Chromium on a 360-pixel phone: a farmer's question comes by SMS, an expert
logs in, finds it in the queue, takes it and answers it; meanwhile a second expert's
page says who holds it. The farmer's outbox then has the answer and the question
whether it helped."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from hotline import services
from hotline.models import ANSWERED, SMS, Question
from ruralinfo.accounts import roles
from ruralinfo.accounts import services as accounts
from ruralinfo.extensions import db
from ruralinfo.sms.models import OutboundMessage
from tests.conftest import CHANGXI, PASSWORD, next_id_number

pytestmark = pytest.mark.browser
PHONE = {"width": 360, "height": 640}
ANSWER = "发病初期用三环唑喷雾，间隔7天再喷一次。"


def log_in(page, url: str, phone: str) -> None:
    """Open the console, log in on the page it sends to, come back to the console."""
    page.goto(url + "/hotline/")
    page.wait_for_url("**/login?next=*")
    page.fill("input[name=phone]", phone)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/hotline/")


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def watch_csp(page) -> list[str]:
    """Messages of the page's console that say the Content Security Policy blocked something."""
    blocked = []
    page.on("console", lambda message: blocked.append(message.text)
            if "Content Security Policy" in message.text else None)
    return blocked


def second_expert_sees_who_holds_it(browser, url: str, question_id: int, holder: str) -> None:
    """Another expert, on another phone, opens the question: told who holds it, no answer form."""
    other = browser.new_context(locale="zh-CN", viewport=PHONE)
    second = other.new_page()
    second.set_default_timeout(10_000)
    try:
        log_in(second, url, "13911110002")
        assert second.locator(f"ul.queue.held li#q{question_id}").count() == 1
        second.goto(f"{url}/hotline/questions/{question_id}")
        assert holder in second.inner_text("#holder")
        assert second.locator("textarea[name=text]").count() == 0
        assert second.locator(f"form[action$='/questions/{question_id}/claim']").count() == 0
    finally:
        other.close()


def test_an_expert_takes_and_answers_a_question_on_a_phone_while_another_sees_who_holds_it(
        browser, live_server, page):
    farmer = accounts.register_farmer(accounts.FarmerData(
        name="陈桂兰", id_number=next_id_number(), phone="+8613800138000", region_code=CHANGXI, groups=["葡萄"]),
        actor=None, channel="cli", scope=None, consent=True)
    for phone, name in (("13911110001", "王立新"), ("13911110002", "赵春梅")):
        accounts.create_staff(name=name, phone=phone, password=PASSWORD, role_names=[roles.EXPERT], actor=None,
                              channel="cli")
    question = services.ask(topic="crops", channel=SMS, text="水稻稻瘟病用什么药？叶子上有褐色斑点。", user=farmer)
    blocked = watch_csp(page)
    page.set_viewport_size(PHONE)

    log_in(page, live_server.url, "13911110001")
    row = page.locator(f"ul.queue.waiting li#q{question.id}")
    assert "陈桂兰" in row.inner_text() and "稻瘟病" in row.inner_text()
    assert fits(page)
    row.locator("a").click()
    page.wait_for_url(f"**/hotline/questions/{question.id}")
    assert "叶子上有褐色斑点" in page.inner_text("#question-text") and fits(page)
    page.click(f"form[action$='/questions/{question.id}/claim'] button")
    page.wait_for_url(f"**/hotline/questions/{question.id}")
    assert page.get_attribute("#status", "data-status") == "claimed"
    assert page.locator("textarea[name=text]").is_visible()

    second_expert_sees_who_holds_it(browser, live_server.url, question.id, holder="王立新")

    page.fill("textarea[name=text]", ANSWER)
    page.click(f"form[action$='/questions/{question.id}/answer'] button")
    page.wait_for_url(f"**/hotline/questions/{question.id}")
    assert page.get_attribute("#status", "data-status") == ANSWERED
    assert page.inner_text("#answer-text") == ANSWER
    assert page.locator(f"form[action$='/questions/{question.id}/publish']").is_visible()  # may publish now
    assert fits(page)

    db.session.rollback()  # see what the server committed
    assert db.session.get(Question, question.id).status == ANSWERED
    texts = db.session.execute(select(OutboundMessage.body, OutboundMessage.cause)
                               .where(OutboundMessage.to == farmer.phone).order_by(OutboundMessage.id)).all()
    assert any(ANSWER in body for body, _cause in texts)
    assert [cause for _body, cause in texts].count(f"rating:{question.id}") == 1
    assert blocked == []


def test_the_console_and_the_public_answers_fit_a_small_phone(live_server, page):
    from hotline import answers

    expert = accounts.create_staff(name="王立新", phone="13911110001", password=PASSWORD, role_names=[roles.EXPERT],
                                   actor=None, channel="cli")
    answers.publish(None, expert, topic="crops", question_zh="水稻叶子发黄怎么办",
                    answer_zh="多半缺氮：每亩追施尿素5公斤，" * 8)
    blocked = watch_csp(page)
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + "/answers/?q=水稻")
    assert page.locator("ul.answers li").count() == 1 and fits(page)
    page.click("ul.answers li a")
    page.wait_for_url("**/answers/*")
    assert "追施尿素" in page.inner_text("#answer") and fits(page)
    log_in(page, live_server.url, "13911110001")
    assert fits(page)
    page.goto(live_server.url + "/hotline/published")
    assert fits(page)
    header = page.locator("header.top").bounding_box()
    assert header["height"] <= 80, header
    assert blocked == []


def test_a_farmer_asks_on_a_phone_and_reads_the_answer(live_server, page):
    farmer = accounts.register_farmer(accounts.FarmerData(
        name="陈桂兰", id_number=next_id_number(), phone="+8613800138000", region_code=CHANGXI, groups=["葡萄"]),
        actor=None, channel="cli", scope=None, consent=True)
    accounts.set_password(farmer, PASSWORD, actor=None, channel="cli")
    expert = accounts.create_staff(name="王立新", phone="13911110001", password=PASSWORD, role_names=[roles.EXPERT],
                                   actor=None, channel="cli")
    blocked = watch_csp(page)
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + "/login")
    page.fill("input[name=phone]", "13800138000")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/mailbox/")
    page.click("a[href='/mailbox/questions/']")
    page.wait_for_url("**/mailbox/questions/")
    page.select_option("select[name=topic]", "fisheries")
    page.fill("textarea[name=text]", "鱼塘里的鱼浮头怎么办？")
    page.click("form[action='/mailbox/questions/'] button[type=submit]")
    page.wait_for_url("**/mailbox/questions/*")
    db.session.rollback()
    question = db.session.scalar(select(Question))
    assert (question.topic, question.channel, question.user_id) == ("fisheries", "web", farmer.id)
    assert str(question.id) in page.inner_text("p.flash") and fits(page)

    services.claim(question.id, expert)
    services.answer(question.id, expert, "立即开增氧机，减少投喂。")
    page.goto(live_server.url + "/mailbox/questions/")
    item = page.locator(f"li#q{question.id}")
    assert "立即开增氧机" in item.inner_text() and fits(page)
    item.locator("button[name=rating][value='1']").click()
    page.wait_for_url("**/mailbox/questions/*")
    db.session.rollback()
    assert db.session.get(Question, question.id).rating == 1
    assert page.locator(f"li#q{question.id} [data-rating='1']").count() == 1
    assert blocked == []
