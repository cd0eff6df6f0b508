"""The bureau's hotline pages: who may see them, the figures and their exports, the call
log (numbers masked), the duty roster edited through the page."""
from __future__ import annotations

import csv
import io
from datetime import datetime, time

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from hotline import call_log
from hotline.models import CALLBACK, CALLED_BACK, QUESTION_LEFT, SATISFIED, Call, DutyShift, Question
from ruralinfo.accounts import roles
from ruralinfo.accounts import services as accounts
from ruralinfo.audit.models import AuditEntry
from ruralinfo.extensions import db
from tests.conftest import PASSWORD

PAGES = ["/bureau/hotline", "/bureau/hotline/calls", "/bureau/hotline/roster", "/bureau/hotline/figures.csv",
         "/bureau/hotline/figures.xlsx"]
CUSTOM = "?period=custom&from=2031-03-01&to=2031-03-31"
FARMER_PHONE = "+8613812345678"


@pytest.mark.parametrize("who", [roles.STAFF, roles.APPROVER, roles.ADMIN])
def test_bureau_staff_and_administrators_see_every_page(client, login, make_staff, who):
    login(make_staff(who))
    for url in PAGES:
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("who", [roles.EXPERT, roles.LIAISON, roles.FARMER])
def test_experts_liaisons_and_farmers_do_not(client, login, make_staff, make_farmer, make_point, who):
    if who == roles.FARMER:
        user = make_farmer()
        accounts.set_password(user, PASSWORD, actor=None, channel="cli")
    else:
        user = make_staff(who, point=make_point() if who == roles.LIAISON else None)
    login(user)
    for url in PAGES + ["/bureau/hotline/roster/1/delete"]:
        response = client.post(url) if url.endswith("delete") else client.get(url)
        assert response.status_code == 403, url


def test_anonymous_visitors_are_sent_to_log_in(client):
    for url in PAGES:
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.fixture
def march(app, make_staff):
    """Two questions received in March 2031 (one answered in time and rated), two calls."""
    expert = make_staff(roles.EXPERT, name="张农技")
    db.session.add_all([
        Question(topic="crops", channel="voice", phone=FARMER_PHONE, created_at=datetime(2031, 3, 3, 1, 0),
                 status="answered", answered_at=datetime(2031, 3, 3, 3, 0), answered_by_id=expert.id,
                 rating=SATISFIED),
        Question(topic="crops", channel="sms", phone=FARMER_PHONE, created_at=datetime(2031, 3, 4, 1, 0)),
        Call(call_sid="CA" + "1" * 32, from_phone=FARMER_PHONE, to_phone="+8657412316", path="1 2",
             topic="crops", outcome=QUESTION_LEFT, started_at=datetime(2031, 3, 3, 0, 59), duration=95),
        Call(call_sid="CA" + "2" * 32, direction=CALLBACK, from_phone="12316", to_phone="+8613987654321",
             topic="crops", outcome=CALLED_BACK, expert_id=expert.id, question_id=1,
             started_at=datetime(2031, 3, 5, 2, 0)),
    ])
    db.session.commit()
    return expert


def test_the_figures_page_shows_the_rate_the_tables_and_the_definition(client, login, make_staff, march):
    login(make_staff(roles.STAFF))
    body = client.get("/bureau/hotline" + CUSTOM).get_data(as_text=True)
    assert "50.0%" in body  # one of two answered in time
    assert 'data-topic="crops"' in body and f'data-expert="{march.id}"' in body and "张农技" in body
    assert 'data-outcome="question"' in body and 'data-outcome="callback"' in body
    assert "working day" in body and "调休" in body  # the definition is on the page
    assert 'value="2031-03-01"' in body and 'value="2031-03-31"' in body
    assert "figures.csv?period=custom&amp;from=2031-03-01&amp;to=2031-03-31" in body


def test_a_period_that_makes_no_sense_is_said_and_this_month_shown(client, login, make_staff):
    login(make_staff(roles.STAFF))
    response = client.get("/bureau/hotline?period=custom&from=2031-03-31&to=2031-03-01")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and 'class="flash error"' in body


def test_the_exports_have_the_same_figures(client, login, make_staff, march):
    login(make_staff(roles.STAFF))
    response = client.get("/bureau/hotline/figures.csv" + CUSTOM)
    assert response.mimetype == "text/csv" and "hotline-2031-03-01-2031-03-31.csv" in response.headers[
        "Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert rows[1][2:6] == ["2", "1", "1", "50.0"]
    assert ["Expert", "张农技"] == rows[3][:2]
    response = client.get("/bureau/hotline/figures.xlsx" + CUSTOM)
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[1][2:6] == [2, 1, 1, "50.0"]
    assert client.get("/bureau/hotline/figures.pdf").status_code == 404


def test_the_call_log_masks_every_number_and_filters(client, login, make_staff, march):
    login(make_staff(roles.STAFF))
    body = client.get("/bureau/hotline/calls").get_data(as_text=True)
    assert "138****5678" in body and "139****4321" in body  # the caller; the farmer called back
    for whole in ("13812345678", "138 1234 5678", "13987654321", "139 8765 4321"):
        assert whole not in body
    assert "1 2" in body and "95" in body and "张农技" in body
    only = client.get("/bureau/hotline/calls?outcome=callback").get_data(as_text=True)
    assert "139****4321" in only and "138****5678" not in only
    inbound = client.get("/bureau/hotline/calls?direction=inbound&since=2031-03-03&until=2031-03-03")
    assert "138****5678" in inbound.get_data(as_text=True)
    none = client.get("/bureau/hotline/calls?since=2031-03-04&until=2031-03-04&outcome=nonsense")
    assert "138****5678" not in none.get_data(as_text=True)


def test_masking_phone_numbers():
    assert call_log.mask_phone("+8613812345678") == "138****5678"
    assert call_log.mask_phone("+442079460000") == "442*****0000"
    assert call_log.mask_phone("12316") == "***16"
    assert call_log.mask_phone("") == "" and call_log.mask_phone(None) == ""


def _shift_form(expert_id, **changes) -> dict:
    return {"user_id": expert_id, "topic": "crops", "weekdays": ["0", "1", "2", "3", "4", "5", "6"],
            "starts": "00:00", "ends": "12:00", **changes}


def test_the_roster_page_adds_edits_and_deletes_shifts(client, login, make_staff):
    clerk, expert = make_staff(roles.STAFF), make_staff(roles.EXPERT, name="张农技")
    login(clerk)
    assert client.post("/bureau/hotline/roster", data=_shift_form(expert.id)).status_code == 302
    # the other half of every day, across midnight: someone is on duty whatever the clock says
    assert client.post("/bureau/hotline/roster", data=_shift_form(expert.id, starts="12:00",
                                                                 ends="00:00")).status_code == 302
    body = client.get("/bureau/hotline/roster").get_data(as_text=True)
    duty = body.split('<li data-topic="crops">', 1)[1].split("</li>", 1)[0]
    assert "张农技" in duty
    first = db.session.scalars(select(DutyShift).order_by(DutyShift.id)).first()
    edit = client.get(f"/bureau/hotline/roster?edit={first.id}").get_data(as_text=True)
    assert f'action="/bureau/hotline/roster/{first.id}"' in edit and 'value="00:00"' in edit
    assert client.post(f"/bureau/hotline/roster/{first.id}",
                       data=_shift_form(expert.id, topic="fisheries", weekdays=["5"])).status_code == 302
    db.session.expire_all()
    assert (first.topic, first.weekdays) == ("fisheries", "5")
    assert client.post(f"/bureau/hotline/roster/{first.id}/delete").status_code == 302
    assert db.session.scalar(select(func.count(DutyShift.id))) == 1
    actions = db.session.scalars(select(AuditEntry.details).where(AuditEntry.action == "roster.change")).all()
    assert [one["change"] for one in actions] == ["add", "add", "edit", "delete"]
    assert client.post("/bureau/hotline/roster/999/delete").status_code == 404
    assert client.post("/bureau/hotline/roster/999", data=_shift_form(expert.id)).status_code == 404


def test_a_wrong_shift_is_shown_again_with_its_errors_and_nothing_saved(client, login, make_staff):
    clerk, expert = make_staff(roles.STAFF), make_staff(roles.EXPERT, name="张农技")
    login(clerk)
    response = client.post("/bureau/hotline/roster", data=_shift_form(expert.id, starts="09:00", ends="09:00",
                                                                      weekdays=[]))
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Choose at least one weekday." in body and "another time than it starts" in body
    response = client.post("/bureau/hotline/roster", data=_shift_form(clerk.id))
    assert response.status_code == 400 and "expert role" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(DutyShift.id))) == 0


def test_the_roster_page_says_who_is_not_an_active_expert_any_more(client, login, make_staff):
    clerk, expert = make_staff(roles.STAFF), make_staff(roles.EXPERT, name="张农技")
    db.session.add(DutyShift(user_id=expert.id, topic="crops", weekdays="0", starts=time(8), ends=time(9)))
    db.session.commit()
    accounts.set_roles(expert, [roles.STAFF], actor=None, channel="cli")
    login(clerk)
    assert "never on duty" in client.get("/bureau/hotline/roster").get_data(as_text=True)
