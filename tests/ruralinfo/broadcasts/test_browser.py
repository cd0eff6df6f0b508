"""In a real Chromium: a clerk composes a frost warning from its template for a
township, previews it, submits it; an approver approves it and watches the progress
bar fill while the texts go out (the page updates itself, it is never reloaded)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from ruralinfo.accounts import roles
from ruralinfo.accounts import services as accounts
from ruralinfo.broadcasts.models import Broadcast
from ruralinfo.extensions import db
from ruralinfo.sms.models import BROADCAST, OutboundMessage
from tests.conftest import CHANGXI, PASSWORD, WUXINGDIAN, ZHANGQI, next_id_number

pytestmark = pytest.mark.browser
NAMES = ("赵春生", "钱秀兰", "孙建华", "李桂芳", "周志强", "吴海燕")


def log_in(page, url, phone):
    page.goto(url + "/login")
    page.fill("input[name=phone]", phone)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/bureau/**")


def test_the_bureau_composes_previews_gets_approval_and_watches_the_progress_bar(live_server, page):
    live_server.app.config.update(QUIET_HOURS="", SMS_RATE=2, BROADCAST_APPROVAL_THRESHOLD=500)
    for number, name in enumerate(NAMES):
        accounts.register_farmer(accounts.FarmerData(
            name=name, id_number=next_id_number(), phone=f"+86138001390{number:02d}",
            region_code=(CHANGXI, WUXINGDIAN)[number % 2], groups=["茶叶"]), actor=None, channel="cli", scope=None,
            consent=True)
    for phone, role in (("13911110001", roles.STAFF), ("13911110002", roles.APPROVER)):
        accounts.create_staff(name="王晓" if role == roles.STAFF else "刘敏", phone=phone, password=PASSWORD,
                              role_names=[role], actor=None, channel="cli")
    page.on("dialog", lambda dialog: dialog.accept())  # "send this notice to 6 people?" — yes

    log_in(page, live_server.url, "13911110001")
    page.goto(live_server.url + "/bureau/broadcasts/new")
    page.click("a[href*='template=1']")  # 霜冻预警: urgent, with {name} and {village}
    assert "{name}" in page.input_value("#body")
    page.locator(f"input[name=regions][value='{ZHANGQI}']").first.check()
    page.click("button[value=preview]")
    assert page.inner_text("#preview-people") == "6"
    preview = page.inner_text("#preview")
    assert "赵春生您好：今晚到明晨长溪村一带有霜冻" in preview  # the first recipient's own text
    page.click("button[value=send]")
    page.wait_for_url("**/bureau/broadcasts/*")
    broadcast = db.session.scalar(select(Broadcast))
    assert broadcast.status == "pending_approval" and page.locator("form[action$='/approve']").count() == 0

    page.click("header .account button.link")  # log out
    log_in(page, live_server.url, "13911110002")
    page.goto(f"{live_server.url}/bureau/broadcasts/{broadcast.id}")
    page.click("form[action$='/approve'] button")
    page.wait_for_url(f"**/bureau/broadcasts/{broadcast.id}")
    page.evaluate("window.notReloaded = true")
    # 6 texts at 2 a second: the bar fills over about three seconds, the page updating itself
    seen = []
    for _ in range(100):  # up to 20 s; the page's own script fetches and redraws
        seen.append(int(page.inner_text("[data-count=sent]")))
        if seen[-1] == 6:
            break
        page.wait_for_timeout(200)
    assert seen[-1] == 6 and seen[0] < 6  # it filled while we watched
    assert page.evaluate("window.notReloaded") is True
    width = page.evaluate("document.querySelector('.part-sent').style.width")
    assert width == "100%"
    sent = db.session.scalars(select(OutboundMessage.body).where(OutboundMessage.kind == BROADCAST)).all()
    assert len(sent) == 6 and any("钱秀兰您好：今晚到明晨五姓点村一带有霜冻" in body for body in sent)
    assert db.session.scalar(select(func.count(OutboundMessage.id)).where(OutboundMessage.kind == BROADCAST)) == 6
