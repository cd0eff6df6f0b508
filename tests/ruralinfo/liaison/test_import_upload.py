"""Bulk registration through the liaison console's upload form."""
import io

import pytest
from sqlalchemy import func, select

from ruralinfo.accounts import roles
from ruralinfo.accounts.models import User
from ruralinfo.extensions import db
from tests.conftest import BALI, CHANGXI, PASSWORD, next_id_number, next_phone


@pytest.fixture
def point(make_point):
    return make_point("长溪村联络点", (CHANGXI,))


def upload(client, text: str, name="farmers.csv", consent=True):
    data = {"file": (io.BytesIO(text.encode("utf-8-sig")), name)}
    if consent:
        data["consent"] = "y"
    return client.post("/liaison/import", data=data, content_type="multipart/form-data")


def test_upload_registers_good_rows_and_reports_bad_ones(client, point, make_staff, login):
    login(make_staff(roles.LIAISON, point=point))
    good = next_id_number()
    text = ("姓名,身份证号,手机号,地区代码,产业\n"
            f"陈阿毛,{good},{next_phone()},{CHANGXI},葡萄;茶叶\n"
            f"外村人,{next_id_number()},{next_phone()},{BALI},葡萄\n"
            f"错号码,330282197205090311,{next_phone()},{CHANGXI},\n")
    response = upload(client, text)
    assert response.status_code == 302
    report = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "line 3:" in report and "not served by your liaison point" in report
    assert "line 4:" in report and "mistyped" in report
    assert good not in report
    farmer = db.session.scalar(select(User).where(User.name == "陈阿毛"))
    assert [g.name_zh for g in farmer.groups] == ["葡萄", "茶叶"] and farmer.consent_method == "import"
    rejects_url = response.headers["Location"] + "/rejected.csv"
    rejects = client.get(rejects_url).get_data().decode("utf-8-sig")
    assert "外村人" in rejects and "错号码" in rejects and "陈阿毛" not in rejects and "reason" in rejects


def test_only_the_uploader_gets_the_rejected_rows(client, app, point, make_staff, login):
    login(make_staff(roles.LIAISON, point=point))
    response = upload(client, f"name,id_number,phone,region_code\n坏人,123,{next_phone()},{CHANGXI}\n")
    report_url = response.headers["Location"]
    other = app.test_client()
    colleague = make_staff(roles.LIAISON, point=point)
    other.post("/login", data={"phone": colleague.phone, "password": PASSWORD})
    assert other.get(report_url).status_code == 404
    assert other.get(report_url + "/rejected.csv").status_code == 404


def test_upload_needs_consent_and_a_spreadsheet(client, point, make_staff, login):
    login(make_staff(roles.LIAISON, point=point))
    page = upload(client, f"name,id_number,phone,region_code\n甲,{next_id_number()},{next_phone()},{CHANGXI}\n",
                  consent=False).get_data(as_text=True)
    assert "Confirm the consent" in page
    page = upload(client, "hello", name="notes.txt").get_data(as_text=True)
    assert "Only CSV or XLSX" in page
    page = upload(client, "just,some,columns\n1,2,3\n").get_data(as_text=True)
    assert "flash error" in page
    assert db.session.scalar(select(func.count(User.id)).where(User.name == "甲")) == 0
