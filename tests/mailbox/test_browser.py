"""A farmer, in a real browser on a 320-pixel phone screen, logs in with a code
sent by SMS and reads a letter."""
import re

import pytest
from sqlalchemy import select

from mailbox import services as mailbox
from mailbox.models import Letter
from ruralinfo.accounts import services as accounts
from ruralinfo.extensions import db
from ruralinfo.sms.models import OTP, OutboundMessage
from tests.conftest import CHANGXI, next_id_number

pytestmark = pytest.mark.browser
NARROW = {"width": 320, "height": 640}


def farmer(name, phone):
    data = accounts.FarmerData(name=name, id_number=next_id_number(), phone=phone, region_code=CHANGXI,
                               groups=["葡萄"])
    return accounts.register_farmer(data, actor=None, channel="cli", scope=None, consent=True)


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]


def test_a_farmer_logs_in_by_code_and_reads_a_letter(live_server, page):
    me = farmer("陈阿毛", "+8613800138000")
    neighbour = farmer("李秀英", "+8613800138001")
    letter = mailbox.send_letter(sender=neighbour, recipient=me, channel="web",
                                 body="阿毛：你要的葡萄苗到了，两百株，明天上午来我家拿。Grape-seedlings-arrived-"
                                      "a-very-long-word-without-spaces-that-must-wrap-on-a-small-screen")
    other_hosts = []
    page.on("request", lambda request: None if request.url.startswith(live_server.url)
            else other_hosts.append(request.url))
    page.set_viewport_size(NARROW)

    page.goto(live_server.url + "/mailbox/")
    page.wait_for_url("**/login/code?next=*")
    assert no_horizontal_scroll(page)
    page.fill("input[name=phone]", "138 0013 8000")
    page.click("form button[type=submit]")
    page.wait_for_url("**/login/code/enter")
    assert "138 0013 8000" in page.content() and no_horizontal_scroll(page)

    db.session.rollback()  # see what the server committed
    body = db.session.scalars(select(OutboundMessage.body).where(OutboundMessage.to == me.phone,
                                                                OutboundMessage.kind == OTP)).one()
    page.fill("input[name=code]", re.search(r"\d{6}", body).group(0))
    page.click("form button[type=submit]")
    page.wait_for_url("**/mailbox/")
    row = page.locator("ul.letters li.unread").first
    assert "李秀英" in row.inner_text() and "葡萄苗到了" in row.inner_text()
    assert no_horizontal_scroll(page)

    row.locator("a").click()
    page.wait_for_url(f"**/mailbox/letters/{letter.id}")
    assert "明天上午来我家拿" in page.locator("ol.thread").inner_text()
    assert page.locator("textarea[name=body]").is_visible()
    assert no_horizontal_scroll(page)
    db.session.rollback()
    assert db.session.get(Letter, letter.id).read_at is not None
    page.goto(live_server.url + "/mailbox/")
    assert page.locator("ul.letters li.unread").count() == 0
    assert other_hosts == []


def test_the_farmers_header_is_compact_and_breaks_no_word_at_360_pixels(live_server, page):
    me = farmer("陈阿毛", "+8613800138000")

    page.set_viewport_size({"width": 360, "height": 640})
    page.goto(live_server.url + "/login/code")
    page.fill("input[name=phone]", "138 0013 8000")
    page.click("form button[type=submit]")
    page.wait_for_url("**/login/code/enter")
    db.session.rollback()
    body = db.session.scalars(select(OutboundMessage.body).where(OutboundMessage.to == me.phone,
                                                                OutboundMessage.kind == OTP)).one()
    page.fill("input[name=code]", re.search(r"\d{6}", body).group(0))
    page.click("form button[type=submit]")
    page.wait_for_url("**/mailbox/")
    header = page.locator("header.top").bounding_box()
    assert header["height"] <= 80, header
    for link in page.locator("header.top .nav a").all():
        box = link.bounding_box()
        line = page.evaluate("(el) => parseFloat(getComputedStyle(el).lineHeight) || 20", link.element_handle())
        assert box["height"] < 1.6 * line, link.inner_text()  # one line: no "收件/箱"
