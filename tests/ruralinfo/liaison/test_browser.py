"""A liaison, in a real browser, logs in, registers a farmer and finds them."""
from datetime import date

import pytest
from sqlalchemy import select

from ruralinfo.accounts import identity, roles
from ruralinfo.accounts import services as accounts
from ruralinfo.accounts.models import User
from ruralinfo.extensions import db
from ruralinfo.liaison.models import LiaisonPoint
from ruralinfo.regions.models import Region
from tests.conftest import CHANGXI, PASSWORD

pytestmark = pytest.mark.browser


def test_liaison_registers_a_farmer_and_finds_them(live_server, page):
    point = LiaisonPoint(name="长溪村联络点", address="村委会", phone="", opening_hours="")
    point.regions = [db.session.get(Region, CHANGXI)]
    db.session.add(point)
    db.session.commit()
    liaison = accounts.create_staff(name="张联络", phone="13900000101", password=PASSWORD,
                                    role_names=[roles.LIAISON], actor=None, channel="cli",
                                    liaison_point_id=point.id)
    number = identity.compose("330282", date(1968, 8, 8), 17)

    page.goto(live_server.url + "/login")
    page.fill("input[name=phone]", "139 0000 0101")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/liaison/")
    assert "长溪村联络点" in page.content()

    page.click("text=登记农户" if "登记农户" in page.content() else "text=Register a farmer")
    page.fill("input[name=name]", "陈阿毛")
    # a mistyped ID number is caught as soon as the liaison leaves the field
    page.fill("input[name=id_number]", number[:-1] + ("0" if number[-1] != "0" else "1"))
    page.fill("input[name=phone]", "13800138000")
    page.wait_for_selector("#field-id_number.has-error")
    page.fill("input[name=id_number]", number)
    page.focus("input[name=phone]")
    page.wait_for_selector("#field-id_number:not(.has-error) small.ok")
    page.check("input[name=groups] >> nth=0")
    page.check("input[name=consent]")
    page.click("form#farmer-form button[type=submit]")
    page.wait_for_url("**/liaison/farmers/*")
    assert identity.mask(number) in page.content() and number not in page.content()

    page.goto(live_server.url + "/liaison/")
    page.fill("input[name=q]", "陈阿毛")
    page.press("input[name=q]", "Enter")
    page.wait_for_load_state()
    row = page.locator("table tbody tr").first
    assert "陈阿毛" in row.inner_text() and identity.mask(number) in row.inner_text()
    farmer = db.session.scalar(select(User).where(User.name == "陈阿毛"))
    assert farmer.registered_by_id == liaison.id and farmer.phone == "+8613800138000"
