"""The whole path of consent before contact by the web, in a real Chromium: a farmer
of 长溪村 posts grape seedlings, a buyer of another township finds the post in the
market and asks for contact, the seller agrees, and both see each other's phone
number in their mailbox — and not before."""
import re
import time

import pytest
from sqlalchemy import select

from mailbox.models import Post
from ruralinfo.accounts import phones
from ruralinfo.extensions import db
from ruralinfo.sms.models import OTP, OutboundMessage
from tests.conftest import CHANGXI, OTHER_TOWNSHIP

pytestmark = pytest.mark.browser
NARROW = {"width": 320, "height": 640}


def _code_for(phone: str, seen: int) -> str:
    """The newest log-in code texted to ``phone`` (it is sent once the page has answered)."""
    for _attempt in range(50):
        db.session.rollback()  # see what the server committed
        bodies = db.session.scalars(select(OutboundMessage.body).where(
            OutboundMessage.to == phone, OutboundMessage.kind == OTP).order_by(OutboundMessage.id)).all()
        if len(bodies) > seen:
            return re.search(r"\d{6}", bodies[-1]).group(0)
        time.sleep(0.1)
    raise AssertionError(f"no code texted to {phone}")


def _log_in(browser, live_server, farmer):
    """A new phone browser for ``farmer``, logged in through the real code page."""
    context = browser.new_context(locale="zh-CN", viewport=NARROW)
    page = context.new_page()
    page.set_default_timeout(10_000)
    db.session.rollback()
    seen = len(db.session.scalars(select(OutboundMessage.id).where(OutboundMessage.to == farmer.phone,
                                                                   OutboundMessage.kind == OTP)).all())
    page.goto(live_server.url + "/mailbox/")
    page.wait_for_url("**/login/code?next=*")
    page.fill("input[name=phone]", phones.display(farmer.phone))
    page.click("form button[type=submit]")
    page.wait_for_url("**/login/code/enter")
    page.fill("input[name=code]", _code_for(farmer.phone, seen))
    page.click("form button[type=submit]")
    page.wait_for_url("**/mailbox/")
    return context, page


def _numbers(person) -> list[str]:
    return [phones.display(person.phone), phones.display(person.phone).replace(" ", ""), person.phone[3:]]


def _shows_no_number_of(page, person) -> bool:
    text = page.content()
    return not any(number in text for number in _numbers(person))


def test_post_ask_agree_in_chromium_and_both_see_the_numbers(browser, live_server, make_farmer):
    seller = make_farmer(region_code=CHANGXI, name="张三丰", phone="+8613800138010")
    buyer = make_farmer(region_code=OTHER_TOWNSHIP, name="赵四海", phone="+8613800138013")
    other_hosts = []

    # the seller posts on the web
    seller_context, seller_page = _log_in(browser, live_server, seller)
    seller_page.on("request", lambda r: None if r.url.startswith(live_server.url) else other_hosts.append(r.url))
    seller_page.click("header.top .nav a[href='/mailbox/posts']")
    seller_page.wait_for_url("**/mailbox/posts")
    seller_page.check("input[name=kind][value=sell]")
    seller_page.fill("textarea[name=text]", "葡萄苗 500株 3元/株")
    seller_page.click("form.form button[type=submit]")
    seller_page.wait_for_url("**/mailbox/posts")
    db.session.rollback()
    post = db.session.scalars(select(Post).where(Post.user_id == seller.id)).one()
    assert str(post.id) in seller_page.locator("p.flash").inner_text()
    assert seller_page.locator("ul.posts li").first.locator(".body").inner_text() == "葡萄苗 500株 3元/株"

    # a buyer three villages away finds it in the market and asks for contact
    buyer_context, buyer_page = _log_in(browser, live_server, buyer)
    buyer_page.on("request", lambda r: None if r.url.startswith(live_server.url) else other_hosts.append(r.url))
    buyer_page.click("header.top .nav a[href='/market/']")
    buyer_page.wait_for_url("**/market/")
    buyer_page.fill("input[name=q]", "葡萄苗")
    buyer_page.click("form.filters button[type=submit]")
    buyer_page.wait_for_url("**/market/?q=*")
    buyer_page.click(f"ul.posts a[href='/market/posts/{post.id}']")
    buyer_page.wait_for_url(f"**/market/posts/{post.id}")
    assert "张*" in buyer_page.locator("dl.facts").inner_text() and _shows_no_number_of(buyer_page, seller)
    buyer_page.click("form.ask button[type=submit]")
    buyer_page.wait_for_url(f"**/market/posts/{post.id}")
    assert str(post.id) in buyer_page.locator("p.flash").first.inner_text()
    assert buyer_page.locator("form.ask").count() == 0  # asked: nothing more to press
    assert _shows_no_number_of(buyer_page, seller)
    buyer_page.goto(live_server.url + "/mailbox/")
    assert _shows_no_number_of(buyer_page, seller)
    assert buyer_page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]

    # the seller sees who asks (no number yet) and agrees
    seller_page.goto(live_server.url + "/mailbox/")
    assert _shows_no_number_of(seller_page, buyer)
    seller_page.goto(live_server.url + "/mailbox/posts")
    request = seller_page.locator("ul.requests li").first
    assert "赵四海" in request.inner_text() and _shows_no_number_of(seller_page, buyer)
    assert seller_page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
    request.locator("button[type=submit]").click()
    seller_page.wait_for_url("**/mailbox/")

    # both find the other's name and number in a letter in their mailbox
    for page, other in ((seller_page, buyer), (buyer_page, seller)):
        page.goto(live_server.url + "/mailbox/")
        page.locator("ul.letters li a").first.click()
        page.wait_for_url("**/mailbox/letters/*")
        thread = page.locator("ol.thread").inner_text()
        assert phones.display(other.phone) in thread and other.name in thread, thread
        assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
    assert other_hosts == []
    seller_context.close()
    buyer_context.close()
