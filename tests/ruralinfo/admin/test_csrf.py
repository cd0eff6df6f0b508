"""With CSRF protection on, as in production: every admin form carries a token,
a POST without one changes nothing, and the GET filters need none."""
from __future__ import annotations

import re

import pytest

from ruralinfo.accounts import roles
from ruralinfo.extensions import db
from tests.conftest import BALI, CHANGXI


@pytest.fixture
def app_config(app_config):
    return {**app_config, "WTF_CSRF_ENABLED": True}


def token_of(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def test_forms_carry_a_token_and_posts_without_one_are_refused(client, make_staff, make_point, db_dump):
    admin = make_staff(roles.ADMIN)
    point = make_point(region_codes=(CHANGXI,))
    login_page = client.get("/login").get_data(as_text=True)
    assert client.post("/login", data={"phone": admin.phone, "password": "correct-horse-42",
                                       "csrf_token": token_of(login_page)}).status_code == 302

    before = db_dump()
    assert client.post(f"/admin/points/{point.id}/suspend").status_code == 400
    assert db_dump() == before

    page = client.get(f"/admin/points/{point.id}").get_data(as_text=True)
    assert client.post(f"/admin/points/{point.id}/suspend", data={"csrf_token": token_of(page)}).status_code == 302
    db.session.expire_all()
    assert point.status == "suspended"

    form = client.get("/admin/points/new").get_data(as_text=True)
    response = client.post("/admin/points/new", data={"csrf_token": token_of(form), "name": "巴里村联络点",
                                                      "township": BALI[:9], "region_codes": [BALI], "save": "1"})
    assert response.status_code == 302

    for url in ("/admin/points/?q=巴里&status=active", "/admin/points/quiet?days=30",
                "/admin/audit/?action=point.create&since=2020-01-01", "/admin/accounts/?q=王&role=admin"):
        response = client.get(url)
        assert response.status_code == 200 and "csrf_token=" not in response.get_data(as_text=True), url
