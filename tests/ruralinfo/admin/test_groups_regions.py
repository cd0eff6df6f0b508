"""Interest groups and the region tree in the admin view."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from ruralinfo.accounts import roles
from ruralinfo.accounts.models import InterestGroup
from ruralinfo.audit.models import AuditEntry
from ruralinfo.extensions import db
from tests.conftest import BALI, CHANGXI, OTHER_TOWNSHIP


@pytest.fixture
def admin(make_staff, login):
    user = make_staff(roles.ADMIN)
    login(user)
    return user


def test_interest_groups_add_rename_deactivate_with_audit(client, admin, make_farmer):
    page = client.get("/admin/groups/").get_data(as_text=True)
    assert "葡萄" in page and "Grapes" in page

    assert client.post("/admin/groups/", data={"name_zh": "蜂蜜", "name_en": "Honey"}).status_code == 302
    group = db.session.scalar(select(InterestGroup).where(InterestGroup.name_zh == "蜂蜜"))
    duplicate = client.post("/admin/groups/", data={"name_zh": "蜂蜜", "name_en": "honey"})
    assert duplicate.status_code == 200 and "There is already a group with this name." in duplicate.get_data(
        as_text=True)

    assert client.get(f"/admin/groups/{group.id}").status_code == 200
    assert client.post(f"/admin/groups/{group.id}", data={"name_zh": "蜂产品",
                                                          "name_en": "Bee products"}).status_code == 302
    assert client.post(f"/admin/groups/{group.id}/deactivate").status_code == 302
    db.session.expire_all()
    assert (group.name_zh, group.name_en, group.active) == ("蜂产品", "Bee products", False)
    assert client.post(f"/admin/groups/{group.id}/reactivate").status_code == 302

    log = list(db.session.scalars(select(AuditEntry).where(AuditEntry.target_type == "interest_groups")
                                  .order_by(AuditEntry.id)))
    assert [e.action for e in log] == ["group.create", "group.rename", "group.deactivate", "group.reactivate"]
    assert log[1].details == {"before": {"name_zh": "蜂蜜", "name_en": "Honey"},
                              "after": {"name_zh": "蜂产品", "name_en": "Bee products"}}
    assert log[2].details == {"before": {"active": True}, "after": {"active": False}}
    assert all(e.actor_id == admin.id for e in log)


def test_staff_see_groups_but_cannot_change_them(client, login, make_staff, db_dump):
    login(make_staff(roles.STAFF))
    group = db.session.scalar(select(InterestGroup).limit(1))
    assert client.get("/admin/groups/").status_code == 200
    assert "Add an interest group" not in client.get("/admin/groups/").get_data(as_text=True)
    before = db_dump()
    for url, data in [("/admin/groups/", {"name_zh": "蜂蜜", "name_en": "Honey"}),
                      (f"/admin/groups/{group.id}", {"name_zh": "x", "name_en": "x"}),
                      (f"/admin/groups/{group.id}/deactivate", {}), (f"/admin/groups/{group.id}/reactivate", {})]:
        response = client.post(url, data=data)
        assert response.status_code == 302 and response.headers["Location"].startswith("/admin/groups/"), url
    assert "Only an administrator can make this change." in client.get("/admin/groups/").get_data(as_text=True)
    assert db_dump() == before


def test_region_tree_starts_at_the_county_and_counts_farmers(client, admin, make_farmer, make_point):
    make_farmer(region_code=CHANGXI)
    make_farmer(region_code=CHANGXI)
    make_farmer(region_code=BALI)
    make_farmer(region_code=OTHER_TOWNSHIP)
    make_point(name="长溪村联络点", region_codes=(CHANGXI,))

    county = client.get("/admin/regions/").get_data(as_text=True)
    assert "慈溪市" in county and "浙江省" in county and "宁波市" in county
    assert "flask --app wsgi regions load FILE.csv" in county
    row = county[county.index("掌起镇"):]
    assert '<td class="num">3</td>' in row[:row.index("</tr>")]
    row = county[county.index("观海卫镇"):]
    assert '<td class="num">1</td>' in row[:row.index("</tr>")]

    township = client.get("/admin/regions/?code=330282104").get_data(as_text=True)
    row = township[township.index(">长溪村<"):]
    row = row[:row.index("</tr>")]
    assert '<td class="num">2</td>' in row and "长溪村联络点" in row
    assert "古窑浦村" in township

    assert "not loaded" in client.get(f"/admin/regions/?code={OTHER_TOWNSHIP}").get_data(as_text=True)
    assert "浙江省" in client.get("/admin/regions/?code=all").get_data(as_text=True)
    assert client.get("/admin/regions/?code=99").status_code == 404
    assert client.post("/admin/regions/").status_code == 405
