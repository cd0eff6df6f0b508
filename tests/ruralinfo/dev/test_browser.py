"""In a real browser: a trainer texts as a farmer in the phone simulator."""
import pytest
from sqlalchemy import select

from mailbox import services as mailbox
from mailbox.models import Post
from ruralinfo.accounts import roles
from ruralinfo.accounts import services as accounts
from ruralinfo.extensions import db
from tests.conftest import CHANGXI, PASSWORD, next_id_number

pytestmark = pytest.mark.browser


def test_the_phone_simulator_shows_replies_and_later_texts_live(live_server, page):
    accounts.create_staff(name="陈晓", phone="13900000002", password=PASSWORD, role_names=[roles.STAFF],
                          actor=None, channel="cli")
    farmer = accounts.register_farmer(accounts.FarmerData(name="陈阿毛", id_number=next_id_number(),
                                                          phone="13800138000", region_code=CHANGXI),
                                      actor=None, channel="cli", scope=None, consent=True)
    page.goto(live_server.url + "/login")
    page.fill("input[name=phone]", "13900000002")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(live_server.url + "/dev/phone")
    page.click("text=陈阿毛")
    page.fill("input[name=body]", "卖 土豆 500斤")
    page.press("input[name=body]", "Enter")
    page.wait_for_selector(".bubble.in")
    post = db.session.scalar(select(Post))
    assert post.user_id == farmer.id
    assert str(post.id) in page.inner_text("#bubbles")
    # a letter written elsewhere reaches the phone while the page is open
    neighbour = accounts.register_farmer(accounts.FarmerData(name="王水根", id_number=next_id_number(),
                                                             phone="13800138001", region_code=CHANGXI),
                                         actor=None, channel="cli", scope=None, consent=True)
    mailbox.send_letter(sender=neighbour, recipient=farmer, body="你的土豆怎么卖？", channel="web")
    page.wait_for_selector("text=你的土豆怎么卖", timeout=8000)
