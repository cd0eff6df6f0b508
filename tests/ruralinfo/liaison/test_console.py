"""The liaison console: registering, editing, verifying, deactivating, exporting —
always inside the liaison's own point."""
from datetime import date

import pytest
from sqlalchemy import select

from ruralinfo.accounts import identity, phones, roles
from ruralinfo.accounts.models import InterestGroup, User
from ruralinfo.audit.models import AuditEntry
from ruralinfo.extensions import db
from tests.conftest import BALI, CHANGXI, WUXINGDIAN, next_id_number, next_phone


@pytest.fixture
def liaison(make_point, make_staff, login):
    point = make_point("长溪村联络点", (CHANGXI,))
    user = make_staff(roles.LIAISON, point=point, name="张联络")
    login(user)
    return user


def form(**overrides):
    grape = db.session.scalar(select(InterestGroup).where(InterestGroup.name_zh == "葡萄"))
    data = {"name": "李秀英", "id_number": next_id_number(), "phone": next_phone(), "region_code": CHANGXI,
            "groups": [str(grape.id)], "language": "zh", "consent": "y"}
    data.update(overrides)
    return data


def test_register_a_farmer_and_find_them_in_the_list(client, liaison):
    number = identity.compose("330282", date(1972, 5, 9), 31)
    response = client.post("/liaison/farmers/new", data=form(name="陈阿毛", id_number=number,
                                                                phone="138 0013 8000"))
    assert response.status_code == 302
    farmer = db.session.scalar(select(User).where(User.name == "陈阿毛"))
    assert farmer.phone == "+8613800138000"
    assert farmer.registered_by_id == liaison.id and farmer.consent_by_id == liaison.id
    assert farmer.consent_at is not None and [g.name_zh for g in farmer.groups] == ["葡萄"]
    page = client.get("/liaison/?q=陈阿毛").get_data(as_text=True)
    assert "陈阿毛" in page and identity.mask(number) in page and number not in page
    detail = client.get(f"/liaison/farmers/{farmer.id}").get_data(as_text=True)
    assert identity.mask(number) in detail and number not in detail
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "farmer.register"))
    assert entry.actor_id == liaison.id and entry.target_id == farmer.id and entry.channel == "web"
    assert number not in str(entry.details)


def test_register_refuses_bad_fields_with_reasons_and_keeps_nothing(client, liaison):
    response = client.post("/liaison/farmers/new", data=form(id_number="330282197205090311", phone="12345",
                                                             consent=""))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "last character does not match" in page
    assert "not a valid phone number" in page
    assert "must consent" in page
    assert db.session.scalar(select(User).where(User.name == "李秀英")) is None


def test_register_refuses_a_person_or_phone_already_registered(client, liaison, make_farmer):
    existing = make_farmer(region_code=BALI)  # registered at another point
    number = identity.vault().decrypt(existing.id_cipher)
    page = client.post("/liaison/farmers/new", data=form(id_number=number, phone=existing.phone)).get_data(as_text=True)
    assert "already registered" in page and "already belongs" in page


def test_register_refuses_a_village_outside_the_point(client, liaison):
    page = client.post("/liaison/farmers/new", data=form(region_code=WUXINGDIAN)).get_data(as_text=True)
    assert "Not a valid choice" in page or "not served by your liaison point" in page
    assert db.session.scalar(select(User).where(User.name == "李秀英")) is None


def test_live_check_answers_by_post_for_id_and_phone(client, liaison, make_farmer):
    bad = client.post("/liaison/check", data={"field": "id_number", "value": "330282197205090311"}).get_json()
    assert bad["ok"] is False and "mistyped" in bad["message"]
    good = client.post("/liaison/check", data={"field": "id_number", "value": next_id_number()}).get_json()
    assert good["ok"] is True
    taken = make_farmer(region_code=BALI)
    dup = client.post("/liaison/check", data={"field": "phone", "value": taken.phone}).get_json()
    assert dup["ok"] is False and "already belongs" in dup["message"]
    assert client.get("/liaison/check").status_code == 405  # never by GET: no ID number in a URL


def test_edit_keeps_the_id_number_when_left_empty(client, liaison, make_farmer):
    farmer = make_farmer(region_code=CHANGXI, name="王水根")
    masked = farmer.id_masked
    data = form(name="王水根", phone=farmer.phone, id_number="", groups=[])
    assert client.post(f"/liaison/farmers/{farmer.id}/edit", data=data).status_code == 302
    db.session.refresh(farmer)
    assert farmer.id_masked == masked and farmer.groups == []
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "farmer.update"))
    assert entry.details["before"]["groups"] == ["葡萄"] and entry.details["after"]["groups"] == []


def test_verify_and_deactivate_are_recorded_and_the_account_is_kept(client, liaison, make_farmer):
    farmer = make_farmer(region_code=CHANGXI)
    client.post(f"/liaison/farmers/{farmer.id}/verify")
    client.post(f"/liaison/farmers/{farmer.id}/active", data={"active": "0"})
    db.session.refresh(farmer)
    assert farmer.verified_by_id == liaison.id and farmer.active is False and farmer.deactivated_at
    assert db.session.get(User, farmer.id) is not None
    actions = set(db.session.scalars(select(AuditEntry.action).where(AuditEntry.target_id == farmer.id)))
    assert {"farmer.verify", "account.deactivate"} <= actions


def test_export_is_scoped_and_masked(client, liaison, make_farmer):
    mine = make_farmer(region_code=CHANGXI, name="本村人")
    make_farmer(region_code=BALI, name="外村人")
    response = client.get("/liaison/farmers.csv")
    text = response.get_data().decode("utf-8-sig")
    assert response.mimetype == "text/csv"
    assert "本村人" in text and "外村人" not in text
    assert mine.id_masked in text and identity.vault().decrypt(mine.id_cipher) not in text


def test_a_suspended_point_can_look_but_not_register(client, make_point, make_staff, login):
    point = make_point("停用联络点", (CHANGXI,), status="suspended")
    login(make_staff(roles.LIAISON, point=point))
    page = client.post("/liaison/farmers/new", data=form()).get_data(as_text=True)
    assert "suspended" in page
    assert db.session.scalar(select(User).where(User.name == "李秀英")) is None


def test_a_liaison_without_a_point_sees_nobody(client, make_staff, make_farmer, login):
    make_farmer(region_code=CHANGXI, name="谁都看不见")
    login(make_staff(roles.LIAISON))
    page = client.get("/liaison/").get_data(as_text=True)
    assert "not assigned" in page and "谁都看不见" not in page
    assert client.get("/liaison/farmers.csv").status_code == 403


@pytest.mark.parametrize("name", ["=HYPERLINK(\"http://x\")", "+1+2", "-2+3", "@SUM(A1)", "\t=1+1"])
def test_export_cells_never_become_formulas_and_phones_stay_text(client, liaison, make_farmer, name):
    import csv
    import io

    from ruralinfo import exports

    farmer = make_farmer(region_code=CHANGXI)
    farmer.name = name  # however it got there (an import, an old record): the export must be safe
    db.session.commit()
    text = client.get("/liaison/farmers.csv").get_data().decode("utf-8-sig")
    [header, row] = list(csv.reader(io.StringIO(text)))
    cells = dict(zip(header, row))
    assert cells["Full name"] == "'" + name
    assert not any(cell.startswith(exports.FORMULA_STARTS) for cell in row)
    assert cells["Mobile number"] == phones.display(farmer.phone) and " " in cells["Mobile number"]


def test_export_speaks_the_interface_language_and_local_time(client, liaison, make_farmer):
    import csv
    import io

    from ruralinfo.timeutil import to_local

    farmer = make_farmer(region_code=CHANGXI, name="本村人")
    raw = client.get("/liaison/farmers.csv").get_data()
    assert raw.startswith("\ufeff".encode())  # Excel reads UTF-8 with the BOM
    [header, row] = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert header[0] == "Full name" and header[-1] == "Registered (Asia/Shanghai)"
    assert row[-1] == to_local(farmer.registered_at).strftime("%Y-%m-%d %H:%M")
    client.get("/lang/zh")
    [header, _row] = list(csv.reader(io.StringIO(client.get("/liaison/farmers.csv").get_data().decode("utf-8-sig"))))
    assert header[0] == "姓名"
