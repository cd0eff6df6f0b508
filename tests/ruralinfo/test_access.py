"""The role × page matrix: every area refuses every role that must not see it.

Routes are read from the app's URL map, so a page added later is covered
without touching this file.
"""
import re

import pytest
from sqlalchemy import func, select

from ruralinfo.accounts import roles
from ruralinfo.accounts import services as accounts
from ruralinfo.audit.models import AuditEntry
from ruralinfo.extensions import db
from tests.conftest import BALI, CHANGXI, PASSWORD

AREAS = {
    "/admin": {roles.ADMIN, roles.STAFF, roles.APPROVER},
    "/liaison": {roles.LIAISON},
    "/bureau": {roles.STAFF, roles.APPROVER, roles.ADMIN},  # an administrator sees all a clerk sees
    "/mailbox": {roles.FARMER},
    "/dev": set(roles.STAFF_ROLES),
    "/hotline": {roles.EXPERT, roles.ADMIN, roles.STAFF, roles.APPROVER},
}
# Roles that may look at an area but not act in it: their POSTs are refused.
READ_ONLY = {"/hotline": {roles.STAFF, roles.APPROVER}}  # the bureau reads the expert console
# Pages that check the object rather than the role (a farmer hears a spoken letter's recording
# there): whoever may not have it is told there is none.
NOT_FOUND_FOR_OTHERS = {"/hotline/recordings/1"}
WHO = ["anonymous", roles.FARMER, roles.LIAISON, roles.EXPERT, roles.STAFF, roles.APPROVER, roles.ADMIN]


def area_routes(app, prefix):
    """(method, url) for every rule under ``prefix``, with ids filled in as 1."""
    found = []
    for rule in app.url_map.iter_rules():
        if not (rule.rule == prefix or rule.rule.startswith(prefix + "/")):
            continue
        url = re.sub(r"<(?:[^:<>]+:)?[^<>]+>", "1", rule.rule)
        method = "GET" if "GET" in rule.methods else "POST"
        found.append((method, url))
    return sorted(set(found))


@pytest.fixture
def person(client, make_point, make_staff, make_farmer):
    point = make_point("长溪村联络点", (CHANGXI,))

    def log_in(who):
        if who == "anonymous":
            return None
        if who == roles.FARMER:
            user = make_farmer(region_code=CHANGXI)
            accounts.set_password(user, PASSWORD, actor=None, channel="cli")
        else:
            user = make_staff(who, point=point if who == roles.LIAISON else None)
        response = client.post("/login", data={"phone": user.phone, "password": PASSWORD})
        assert response.status_code == 302
        return user
    return log_in


@pytest.mark.parametrize("who", WHO)
def test_every_area_refuses_every_role_that_must_not_see_it(app, client, person, who):
    person(who)
    checked = 0
    for prefix, allowed in AREAS.items():
        routes = area_routes(app, prefix)
        assert routes, f"no routes under {prefix}"
        for method, url in routes:
            response = client.open(url, method=method)
            if who == "anonymous":
                assert response.status_code == 302 and "/login" in response.headers["Location"], (method, url)
            elif url in NOT_FOUND_FOR_OTHERS and who not in allowed:
                assert response.status_code == 404, (who, method, url, response.status_code)
            elif who in READ_ONLY.get(prefix, ()) and method == "POST":
                assert response.status_code == 403, (who, method, url, response.status_code)
            elif who in allowed:
                assert response.status_code != 403, (who, method, url)
            else:
                assert response.status_code == 403, (who, method, url, response.status_code)
            checked += 1
    assert checked > 10


def test_a_liaison_cannot_reach_a_farmer_of_another_point_by_guessing(app, client, make_point, make_staff,
                                                                      make_farmer, login):
    mine = make_point("长溪村联络点", (CHANGXI,))
    make_point("巴里村联络点", (BALI,))
    stranger = make_farmer(region_code=BALI, name="外村人")
    before = (stranger.name, stranger.active, stranger.verified_at, stranger.phone)
    entries = db.session.scalar(select(func.count(AuditEntry.id)))
    login(make_staff(roles.LIAISON, point=mine))
    routes = [r for r in app.url_map.iter_rules() if r.rule.startswith("/liaison/") and "user_id" in r.arguments]
    assert len(routes) >= 4
    for rule in routes:
        url = rule.rule.replace("<int:user_id>", str(stranger.id))
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method, data={"name": "改名", "phone": "13900009999",
                                                              "active": "0", "region_code": CHANGXI})
            assert response.status_code == 404, (method, url)
            assert "外村人" not in response.get_data(as_text=True)
    assert "Nobody matches" in client.get("/liaison/?q=外村人").get_data(as_text=True)
    assert "外村人" not in client.get("/liaison/farmers.csv").get_data().decode("utf-8-sig")
    check = client.post("/liaison/check", data={"field": "phone", "value": stranger.phone,
                                                "user_id": stranger.id}).get_json()
    assert check["ok"] is False  # the other point's farmer is never taken as the one being edited
    db.session.expire_all()
    again = db.session.get(type(stranger), stranger.id)
    assert (again.name, again.active, again.verified_at, again.phone) == before
    # the only new audit entries are the log-in and the (empty) export: nothing about the stranger
    new = db.session.scalars(select(AuditEntry).where(AuditEntry.id > entries)).all()
    assert all((entry.target_type, entry.target_id) != ("users", stranger.id) for entry in new)


# --- a suspended liaison point: it can look, but nothing it sends changes anything ----------------

def _counts() -> dict:
    from mailbox.models import Letter, Post
    from ruralinfo.accounts.models import User

    return {model.__name__: db.session.scalar(select(func.count(model.id)))
            for model in (AuditEntry, Letter, Post, User)}


def test_a_suspended_points_liaison_changes_nothing_on_any_channel(app, client, make_point, make_staff,
                                                                    make_farmer, login, text_in):
    from mailbox import services as mailbox
    from mailbox.models import Letter
    from ruralinfo.liaison import points

    point = make_point("长溪村联络点", (CHANGXI,))
    farmer = make_farmer(region_code=CHANGXI, name="本村人")
    liaison = make_staff(roles.LIAISON, point=point, name="联络员")
    letter = mailbox.send_letter(sender=farmer, recipient_point=point, body="葡萄叶子发黄怎么办", channel="sms")
    points.suspend(point, actor=None, channel="cli")
    login(liaison)
    before, snapshot = _counts(), accounts.snapshot(farmer)
    from mailbox.services import create_post

    unclassified = create_post(farmer, "sell", "木奶果 200斤", channel="web")
    before = _counts()
    ids = {"user_id": farmer.id, "letter_id": letter.id, "batch_id": 1, "number": farmer.phone,
           "post_id": unclassified.id}
    form = {"name": "改名", "id_number": "330282197506010011", "phone": "13900009999", "region_code": CHANGXI,
            "consent": "y", "active": "0", "body": "一次回答", "language": "zh", "groups": "1"}
    posted = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(("/liaison", "/dev")) or "POST" not in rule.methods:
            continue
        url = rule.rule
        for name in rule.arguments:
            url = re.sub(rf"<(?:[^:<>]+:)?{name}>", str(ids[name]), url)
        response = client.post(url, data=form)
        assert response.status_code < 500, (url, response.status_code)
        posted += 1
    assert posted >= 7
    # by SMS from the liaison's own phone: the answer explains, nothing is written
    _response, reply = text_in(liaison.phone, f"回复 {letter.id} 一次回答")
    assert reply and "suspended" in reply.lower() or "暂停" in reply
    db.session.expire_all()
    after = _counts()
    # looking and the check are allowed; the only new audit entries are the log-in
    assert {k: v for k, v in after.items() if k != "AuditEntry"} == {k: v for k, v in before.items()
                                                                   if k != "AuditEntry"}
    new = db.session.scalars(select(AuditEntry.action).where(AuditEntry.id > before["AuditEntry"])).all()
    assert set(new) <= {"login"}, new
    assert accounts.snapshot(db.session.get(type(farmer), farmer.id)) == snapshot
    assert db.session.scalar(select(func.count(Letter.id)).where(Letter.sender_id == liaison.id)) == 0
