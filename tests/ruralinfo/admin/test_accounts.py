"""Accounts in the admin view: staff and approvers look, administrators change."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from ruralinfo.accounts import roles
from ruralinfo.accounts.models import User
from ruralinfo.audit.models import AuditEntry
from ruralinfo.extensions import db
from tests.conftest import PASSWORD, next_id_number


def actions_on(user_id: int) -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).where(
        AuditEntry.target_type == "users", AuditEntry.target_id == user_id).order_by(AuditEntry.id)))


@pytest.mark.parametrize("role", [roles.STAFF, roles.APPROVER])
def test_staff_and_approvers_may_view_but_not_change_accounts(client, login, make_staff, make_point, db_dump,
                                                              role):
    point = make_point()
    other = make_staff(roles.LIAISON, point=point, name="联络员")
    login(make_staff(role))
    assert client.get("/admin/accounts/").status_code == 200
    page = client.get(f"/admin/accounts/{other.id}").get_data(as_text=True)
    assert "联络员" in page and "Only administrators can change accounts." in page
    assert "Reset the password" not in page
    before = db_dump()
    refused = client.get("/admin/accounts/new", follow_redirects=True)
    assert refused.request.path == "/admin/accounts/"
    assert "Only an administrator can make this change." in refused.get_data(as_text=True)
    for url, data in [("/admin/accounts/new", {"name": "新人", "phone": "13900001111", "password": "x" * 10,
                                               "roles": ["admin"]}),
                      (f"/admin/accounts/{other.id}/roles", {"roles": ["admin"]}),
                      (f"/admin/accounts/{other.id}/password", {"password": "y" * 10}),
                      (f"/admin/accounts/{other.id}/deactivate", {}),
                      (f"/admin/accounts/{other.id}/reactivate", {})]:
        response = client.post(url, data=data)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/admin/accounts/"), url
        assert "Only an administrator" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert db_dump() == before


def test_staff_manage_points_but_not_groups(client, login, make_staff, make_point):
    login(make_staff(roles.STAFF))
    point = make_point()
    assert client.post(f"/admin/points/{point.id}/suspend").status_code == 302
    refused = client.post("/admin/groups/", data={"name_zh": "蜂蜜", "name_en": "Honey"}, follow_redirects=True)
    assert "Only an administrator can make this change." in refused.get_data(as_text=True)
    assert "蜂蜜" not in refused.get_data(as_text=True)


def test_admin_creates_a_staff_account(client, login, make_staff, make_point):
    admin = make_staff(roles.ADMIN)
    point = make_point()
    login(admin)
    form = {"name": "刘联络", "phone": "139 0000 2222", "password": "good-password", "roles": ["liaison"]}
    response = client.post("/admin/accounts/new", data=form)
    assert response.status_code == 200
    assert "Choose the liaison point where this village liaison works." in response.get_data(as_text=True)

    response = client.post("/admin/accounts/new", data={**form, "liaison_point": str(point.id)})
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.phone == "+8613900002222"))
    assert user.roles == {"liaison"} and user.liaison_point_id == point.id
    assert actions_on(user.id) == ["staff.create"]

    duplicate = client.post("/admin/accounts/new", data={**form, "liaison_point": str(point.id)})
    assert "already belongs" in duplicate.get_data(as_text=True)
    assert client.post("/admin/accounts/new", data={**form, "roles": ["farmer"]}).status_code == 200


def test_admin_changes_roles_password_and_access(client, login, make_staff, make_point):
    admin = make_staff(roles.ADMIN)
    point = make_point()
    expert = make_staff(roles.EXPERT, name="专家")
    login(admin)

    assert client.post(f"/admin/accounts/{expert.id}/roles",
                       data={"roles": ["expert", "liaison"], "liaison_point": str(point.id)}).status_code == 302
    db.session.expire_all()
    assert expert.roles == {"expert", "liaison"} and expert.liaison_point_id == point.id

    short = client.post(f"/admin/accounts/{expert.id}/password", data={"password": "short"})
    assert short.status_code == 200 and "8" in short.get_data(as_text=True)
    assert client.post(f"/admin/accounts/{expert.id}/password",
                       data={"password": "a-new-password"}).status_code == 302
    assert client.post(f"/admin/accounts/{expert.id}/deactivate").status_code == 302
    db.session.expire_all()
    assert not expert.active
    assert client.post(f"/admin/accounts/{expert.id}/reactivate").status_code == 302
    db.session.expire_all()
    assert expert.active
    assert actions_on(expert.id) == ["staff.create", "account.roles", "account.password", "account.deactivate",
                                     "account.reactivate"]

    client.post("/logout")
    response = client.post("/login", data={"phone": expert.phone, "password": "a-new-password"})
    assert response.status_code == 302


def test_admin_cannot_lock_themselves_out(client, login, make_staff):
    admin = make_staff(roles.ADMIN)
    login(admin)
    response = client.post(f"/admin/accounts/{admin.id}/roles", data={"roles": ["staff"]})
    assert "You cannot take away your own administrator role." in response.get_data(as_text=True)
    response = client.post(f"/admin/accounts/{admin.id}/deactivate", follow_redirects=True)
    assert "You cannot deactivate your own account." in response.get_data(as_text=True)
    db.session.expire_all()
    assert admin.active and admin.roles == {"admin"}


def test_a_farmer_keeps_the_farmer_role_and_has_no_password(client, login, make_staff, make_farmer):
    login(make_staff(roles.ADMIN))
    farmer = make_farmer()
    response = client.post(f"/admin/accounts/{farmer.id}/password", data={"password": "whatever-1234"})
    assert "Farmers log in with a code sent by SMS" in response.get_data(as_text=True)
    db.session.expire_all()
    assert farmer.password_hash is None
    client.post(f"/admin/accounts/{farmer.id}/roles", data={"roles": ["expert"]})
    db.session.expire_all()
    assert farmer.roles == {"farmer", "expert"}


def test_search_accounts_by_name_phone_and_role(client, login, make_staff, make_farmer):
    login(make_staff(roles.ADMIN, name="管理员"))
    make_staff(roles.EXPERT, name="王专家", phone="+8613911112222")
    make_farmer(name="李农户", phone="+8613933334444")

    def names(**args):
        text = client.get("/admin/accounts/", query_string=args).get_data(as_text=True)
        return {n for n in ("管理员", "王专家", "李农户") if n in text.split("<tbody>")[1]}

    assert names() == {"管理员", "王专家", "李农户"}
    assert names(q="专家") == {"王专家"}
    assert names(q="139 3333 4444") == {"李农户"}
    assert names(role="farmer") == {"李农户"}
    assert names(role="expert") == {"王专家"}
    assert names(active="0") == set()


def test_id_numbers_are_never_shown_unmasked(client, login, make_staff, make_farmer, make_point):
    point = make_point()
    login(make_staff(roles.ADMIN))
    number = next_id_number()
    farmer = make_farmer(id_number=number)
    pages = [client.get("/admin/accounts/").get_data(as_text=True),
             client.get(f"/admin/accounts/{farmer.id}").get_data(as_text=True),
             client.get(f"/admin/points/{point.id}").get_data(as_text=True),
             client.get("/admin/audit/").get_data(as_text=True)]
    for text in pages:
        assert number not in text
    assert farmer.id_masked in pages[0] and farmer.id_masked in pages[1] and farmer.id_masked in pages[2]
    assert PASSWORD not in "".join(pages)
