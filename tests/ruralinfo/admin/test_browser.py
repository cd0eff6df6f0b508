"""An administrator, in a real browser, creates a liaison point in the admin view."""
import pytest
from sqlalchemy import select

from ruralinfo.accounts import roles
from ruralinfo.accounts import services as accounts
from ruralinfo.audit.models import AuditEntry
from ruralinfo.extensions import db
from ruralinfo.liaison.models import LiaisonPoint
from tests.conftest import CHANGXI, PASSWORD, WUXINGDIAN

pytestmark = pytest.mark.browser


def test_administrator_creates_a_liaison_point(live_server, page):
    admin = accounts.create_staff(name="周敏", phone="13900000001", password=PASSWORD, role_names=[roles.ADMIN],
                                  actor=None, channel="cli")
    page.goto(live_server.url + "/login")
    page.fill("input[name=phone]", "13900000001")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/**")
    assert page.locator("body.area-admin").count() == 1  # the admin view's own layout

    page.goto(live_server.url + "/admin/points/new")
    page.fill("input[name=name]", "长溪村联络点")
    page.fill("input[name=address]", "长溪村村民委员会")
    page.fill("input[name=phone]", "0574-63012345")
    page.fill("input[name=opening_hours]", "周一至周五 8:30-17:00")
    page.check(f"input[name=region_codes][value='{CHANGXI}']")
    page.check(f"input[name=region_codes][value='{WUXINGDIAN}']")
    page.locator("form.form button[name=save]").last.click()
    page.wait_for_url("**/admin/points/*")
    body = page.inner_text("main")
    assert "长溪村联络点" in body and "长溪村" in body and "五姓点村" in body

    point = db.session.scalar(select(LiaisonPoint).where(LiaisonPoint.name == "长溪村联络点"))
    assert sorted(point.region_codes) == [CHANGXI, WUXINGDIAN] and point.status == "active"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action.like("point.create%")))
    assert entry.actor_id == admin.id and entry.details["after"]["name"] == "长溪村联络点"

    page.goto(live_server.url + "/admin/points/")
    assert "长溪村联络点" in page.inner_text("table")
