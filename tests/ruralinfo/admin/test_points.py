"""Liaison points through the admin view's HTTP forms."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from ruralinfo.accounts import roles
from ruralinfo.accounts.models import User
from ruralinfo.audit.models import AuditEntry
from ruralinfo.extensions import db
from ruralinfo.liaison.models import LiaisonPoint
from ruralinfo.timeutil import now_utc
from tests.conftest import BALI, CHANGXI, OTHER_TOWNSHIP, WUXINGDIAN, ZHANGQI


@pytest.fixture
def admin(make_staff, login):
    user = make_staff(roles.ADMIN, name="管理员")
    login(user)
    return user


def point_form(**overrides):
    data = {"name": "长溪村联络点", "address": "长溪村村委会", "phone": "0574-63001234",
            "opening_hours": "8:30-17:00", "township": ZHANGQI, "region_codes": [CHANGXI], "more_codes": "",
            "save": "Save"}
    data.update(overrides)
    return data


def entries(point_id: int) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.target_type == "liaison_points",
                                                            AuditEntry.target_id == point_id)
                                   .order_by(AuditEntry.id)))


def test_create_edit_suspend_reactivate_with_audit(client, admin):
    page = client.get("/admin/points/new")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "长溪村" in text and "古窑浦村" in text  # 掌起镇's 15 villages are offered by default

    response = client.post("/admin/points/new", data=point_form(region_codes=[CHANGXI, WUXINGDIAN]))
    assert response.status_code == 302
    point = db.session.scalar(select(LiaisonPoint))
    assert response.headers["Location"].endswith(f"/admin/points/{point.id}")
    assert point.region_codes == [CHANGXI, WUXINGDIAN] and point.status == "active"
    assert point.phone == "0574-63001234"

    response = client.post(f"/admin/points/{point.id}/edit",
                           data=point_form(name="长溪五姓点联络点", region_codes=[CHANGXI], more_codes=BALI))
    assert response.status_code == 302
    db.session.expire_all()
    assert point.name == "长溪五姓点联络点" and point.region_codes == [CHANGXI, BALI]

    assert client.post(f"/admin/points/{point.id}/suspend").status_code == 302
    db.session.expire_all()
    assert point.status == "suspended"
    assert client.post(f"/admin/points/{point.id}/reactivate").status_code == 302
    db.session.expire_all()
    assert point.status == "active"

    log = entries(point.id)
    assert [e.action for e in log] == ["point.create", "point.update", "point.suspend", "point.reactivate"]
    assert all(e.actor_id == admin.id and e.channel == "web" for e in log)
    assert log[0].details["after"]["regions"] == [CHANGXI, WUXINGDIAN]
    assert log[0].details["after"]["name"] == "长溪村联络点"
    assert log[1].details["before"] == {"name": "长溪村联络点", "regions": [CHANGXI, WUXINGDIAN]}
    assert log[1].details["after"] == {"name": "长溪五姓点联络点", "regions": [CHANGXI, BALI]}
    assert log[2].details == {"before": {"status": "active"}, "after": {"status": "suspended"}}
    assert log[3].details == {"before": {"status": "suspended"}, "after": {"status": "active"}}

    page = client.get(f"/admin/points/{point.id}").get_data(as_text=True)
    assert "point.reactivate" in page and "长溪五姓点联络点" in page


def test_show_villages_button_saves_nothing_and_keeps_ticks(client, admin):
    response = client.post("/admin/points/new", data=point_form(township=OTHER_TOWNSHIP, save=None,
                                                                show_township="1"))
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    # 观海卫镇 has no villages loaded: it is offered as a whole; the ticked 长溪村 stays ticked
    assert f'name="region_codes" type="checkbox" value="{OTHER_TOWNSHIP}"' in text
    assert f'<input checked id="region_codes-1" name="region_codes" type="checkbox" value="{CHANGXI}">' in text
    assert 'value="长溪村联络点"' in text  # what was typed is kept
    assert db.session.scalar(select(LiaisonPoint)) is None


def test_every_problem_is_reported_at_once(client, admin):
    response = client.post("/admin/points/new", data=point_form(name="", region_codes=[],
                                                                more_codes=f"{ZHANGQI} 12345"))
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Enter the name of the liaison point." in text
    assert "Choose the village inside 掌起镇" in text and "12345: Unknown region code." in text
    assert db.session.scalar(select(LiaisonPoint)) is None


def test_a_township_without_villages_can_be_chosen_whole(client, admin):
    response = client.post("/admin/points/new", data=point_form(name="观海卫联络点", township=OTHER_TOWNSHIP,
                                                                region_codes=[OTHER_TOWNSHIP]))
    assert response.status_code == 302
    assert db.session.scalar(select(LiaisonPoint)).region_codes == [OTHER_TOWNSHIP]


def test_at_least_one_village(client, admin):
    response = client.post("/admin/points/new", data=point_form(region_codes=[]))
    assert response.status_code == 200
    assert "Choose at least one village." in response.get_data(as_text=True)
    assert db.session.scalar(select(LiaisonPoint)) is None


def test_overlap_refused_on_create_edit_and_reactivate(client, admin, make_point):
    first = make_point(name="长溪村联络点", region_codes=(CHANGXI,))
    response = client.post("/admin/points/new", data=point_form(name="第二个", region_codes=[WUXINGDIAN, CHANGXI]))
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "长溪村" in text and "长溪村联络点" in text and "only one active liaison point" in text
    assert db.session.scalar(select(db.func.count(LiaisonPoint.id))) == 1

    second = make_point(name="五姓点村联络点", region_codes=(WUXINGDIAN,))
    response = client.post(f"/admin/points/{second.id}/edit", data=point_form(name="五姓点村联络点",
                                                                            region_codes=[WUXINGDIAN, CHANGXI]))
    assert response.status_code == 200 and "only one active liaison point" in response.get_data(as_text=True)
    db.session.expire_all()
    assert second.region_codes == [WUXINGDIAN]

    # a suspended point frees its villages; it cannot come back while another point serves them
    client.post(f"/admin/points/{first.id}/suspend")
    assert client.post("/admin/points/new", data=point_form(name="新长溪", region_codes=[CHANGXI])).status_code == 302
    response = client.post(f"/admin/points/{first.id}/reactivate", follow_redirects=True)
    assert "only one active liaison point" in response.get_data(as_text=True)
    db.session.expire_all()
    assert first.status == "suspended"
    assert [e.action for e in entries(first.id)] == ["point.suspend"]


def test_list_search_filter_by_region_and_status(client, admin, make_point, make_farmer):
    changxi = make_point(name="长溪村联络点", region_codes=(CHANGXI,))
    make_point(name="巴里村联络点", region_codes=(BALI,), status="suspended")
    make_point(name="观海卫联络点", region_codes=(OTHER_TOWNSHIP,))
    make_farmer(region_code=CHANGXI)
    make_farmer(region_code=CHANGXI, name="张三")

    def names(**args):
        text = client.get("/admin/points/", query_string=args).get_data(as_text=True)
        return {n for n in ("长溪村联络点", "巴里村联络点", "观海卫联络点") if n in text}

    assert names() == {"长溪村联络点", "巴里村联络点", "观海卫联络点"}
    assert names(q="长溪") == {"长溪村联络点"}
    assert names(region=ZHANGQI) == {"长溪村联络点", "巴里村联络点"}
    assert names(region=CHANGXI) == {"长溪村联络点"}
    assert names(region="330282") == {"长溪村联络点", "巴里村联络点", "观海卫联络点"}
    assert names(region="330281") == set()
    assert names(status="suspended") == {"巴里村联络点"}
    assert names(region=ZHANGQI, status="active") == {"长溪村联络点"}
    text = client.get("/admin/points/", query_string={"q": "长溪"}).get_data(as_text=True)
    row = text[text.index(f"/admin/points/{changxi.id}"):]
    row = row[:row.index("</tr>")]
    assert '<td class="num">2</td>' in row  # two farmers, both registered in the last 30 days
    assert "Unknown region code" in client.get("/admin/points/?region=999").get_data(as_text=True)


def test_points_with_no_registrations_lately(client, admin, make_point, make_farmer):
    busy = make_point(name="忙碌联络点", region_codes=(CHANGXI,))
    make_point(name="安静联络点", region_codes=(WUXINGDIAN,))
    make_point(name="暂停联络点", region_codes=(BALI,), status="suspended")
    old = make_point(name="老联络点", region_codes=(OTHER_TOWNSHIP,))
    make_farmer(region_code=CHANGXI)
    farmer = make_farmer(region_code=OTHER_TOWNSHIP)
    farmer.registered_at = now_utc() - timedelta(days=90)
    db.session.commit()

    def names(**args):
        text = client.get("/admin/points/quiet", query_string=args).get_data(as_text=True)
        return {n for n in ("忙碌联络点", "安静联络点", "暂停联络点", "老联络点") if n in text}

    assert names() == {"安静联络点", "老联络点"}
    assert names(days=120) == {"安静联络点"}
    assert names(days="nonsense") == {"安静联络点", "老联络点"}  # falls back to 60
    text = client.get("/admin/points/quiet").get_data(as_text=True)
    assert text.index("安静联络点") < text.index("老联络点")  # never registered anyone comes first
    assert busy.id and old.id


def test_point_page_farmers_and_registrations_per_month(client, admin, make_point, make_farmer):
    point = make_point(name="长溪村联络点", region_codes=(CHANGXI, WUXINGDIAN))
    for i in range(23):
        make_farmer(region_code=CHANGXI if i % 2 else WUXINGDIAN, name=f"农户{chr(0x4e00 + i)}")
    outsider = make_farmer(region_code=BALI, name="外村人")
    earlier = make_farmer(region_code=CHANGXI, name="去年人")
    earlier.registered_at = now_utc() - timedelta(days=100)
    earlier.active = False
    db.session.commit()

    first = client.get(f"/admin/points/{point.id}").get_data(as_text=True)
    assert "(24)" in first  # 23 + the one registered earlier; the 巴里村 farmer is not theirs
    assert outsider.name not in first
    assert "Page 1 of 2" in first
    second = client.get(f"/admin/points/{point.id}?page=2").get_data(as_text=True)
    assert "Page 2 of 2" in second
    assert "去年人" in first and "农户一" in second  # newest accounts first
    # the masked ID is shown; the full number never
    farmer = db.session.scalar(select(User).where(User.name == "农户一"))
    assert farmer.id_masked in first + second and "**" in farmer.id_masked

    from ruralinfo.liaison import points
    monthly = dict(points.monthly_registrations(point))
    assert len(monthly) == 12
    assert list(monthly.values())[-1] == 23
    assert sum(monthly.values()) == 24
    assert list(monthly)[-1] in first


def test_liaisons_assign_create_remove_with_audit(client, admin, make_point, make_staff):
    point = make_point(name="长溪村联络点", region_codes=(CHANGXI,))
    other = make_point(name="巴里村联络点", region_codes=(BALI,))
    liaison = make_staff(roles.LIAISON, point=other, name="赵六")
    expert = make_staff(roles.EXPERT, name="钱七")

    page = client.get(f"/admin/points/{point.id}").get_data(as_text=True)
    assert "赵六" in page and "钱七" not in page  # only liaison accounts are offered
    assert client.post(f"/admin/points/{point.id}/liaisons", data={"user_id": expert.id}).status_code == 200
    response = client.post(f"/admin/points/{point.id}/liaisons", data={"user_id": liaison.id})
    assert response.status_code == 302
    db.session.expire_all()
    assert liaison.liaison_point_id == point.id

    response = client.post(f"/admin/points/{point.id}/liaisons/new",
                           data={"name": "孙八", "phone": "13912345678", "password": "initial-pass-1"})
    assert response.status_code == 302
    new = db.session.scalar(select(User).where(User.name == "孙八"))
    assert new.roles == {"liaison"} and new.liaison_point_id == point.id

    bad = client.post(f"/admin/points/{point.id}/liaisons/new",
                      data={"name": "周九", "phone": "13912345678", "password": "initial-pass-1"})
    assert bad.status_code == 200 and db.session.scalar(select(User).where(User.name == "周九")) is None

    assert client.post(f"/admin/points/{point.id}/liaisons/{liaison.id}/remove").status_code == 302
    db.session.expire_all()
    assert liaison.liaison_point_id is None

    log = entries(point.id)
    assert [e.action for e in log] == ["point.liaison_assign", "point.liaison_create", "point.liaison_remove"]
    assert log[0].details["before"]["liaisons"] == [] and log[0].details["after"]["liaisons"][0].startswith("赵六")
    assert log[1].details["after"]["liaisons"] == sorted([f"赵六 {liaison.phone}", "孙八 +8613912345678"])
    assert log[2].details["after"]["liaisons"] == ["孙八 +8613912345678"]
    moved_from = entries(other.id)
    assert [e.action for e in moved_from] == ["point.liaison_remove"]
    assert moved_from[0].details["before"]["liaisons"] == [f"赵六 {liaison.phone}"]
    staff_create = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "staff.create",
                                                              AuditEntry.target_id == new.id))
    assert staff_create.actor_id == admin.id


def test_unknown_point_is_404(client, admin):
    assert client.get("/admin/points/999").status_code == 404
    assert client.post("/admin/points/999/suspend").status_code == 404
