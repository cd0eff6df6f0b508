"""The bureau's broadcast pages: compose with the region tree and templates, a preview
that writes nothing, sending and approval by a second person, pause and cancel, the
delivery report with reasons, retrying only what may be retried, bad input answered
with nothing changed, and nobody but the bureau let in."""
from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from ruralinfo.accounts import roles
from ruralinfo.broadcasts import services
from ruralinfo.broadcasts.models import Broadcast, Recipient
from ruralinfo.extensions import db
from ruralinfo.sms.models import BROADCAST, DELIVERED, UNDELIVERED, OutboundMessage
from tests.conftest import CHANGXI, WUXINGDIAN, ZHANGQI

NOTICE = "明天上午9点在村委会举办葡萄栽培培训。"


@pytest.fixture
def county(app, make_staff, make_farmer, monkeypatch):
    """A clerk, an approver, grape growers in two villages; sending runs inline."""
    app.config.update(QUIET_HOURS="", SMS_RATE=100_000, BROADCAST_APPROVAL_THRESHOLD=10,
                      SMS_SIGNATURE="【农业局】", SMS_PRICE="0.05", SMS_CURRENCY="CNY")
    monkeypatch.setattr(services, "start", services.send)
    farmers = [make_farmer(region_code=CHANGXI, name="赵春生", groups=("葡萄",)),
               make_farmer(region_code=CHANGXI, name="钱秀兰", groups=("葡萄",)),
               make_farmer(region_code=WUXINGDIAN, name="孙建华", groups=("茶叶",))]
    farmers[1].language = "en"
    db.session.commit()
    return {"clerk": make_staff(roles.STAFF, name="王晓", phone="+8613911110001"),
            "approver": make_staff(roles.APPROVER, name="刘敏", phone="+8613911110002"), "farmers": farmers}


def form(**values) -> dict:
    data = {"body": NOTICE, "topic": "training", "action": "preview"}
    data.update(values)
    return data


def broadcasts() -> int:
    return db.session.scalar(select(func.count(Broadcast.id)))


def broadcast_texts() -> list[OutboundMessage]:
    return db.session.scalars(select(OutboundMessage).where(OutboundMessage.kind == BROADCAST)
                              .order_by(OutboundMessage.id)).all()


def test_the_compose_page_offers_the_region_tree_groups_and_templates(client, login, county):
    login(county["clerk"])
    page = client.get("/bureau/broadcasts/new").get_data(as_text=True)
    assert "长溪村" in page and "五姓点村" in page and f'value="{ZHANGQI}"' in page  # villages under their township
    assert 'value="葡萄"' in page and "Frost warning" in page
    filled = client.get("/bureau/broadcasts/new?template=1").get_data(as_text=True)
    assert "{name}您好" in filled  # the template's text, to edit


def test_the_preview_counts_people_segments_cost_and_shows_both_readers_text_writing_nothing(client, login, county):
    login(county["clerk"])
    response = client.post("/bureau/broadcasts/new", data=form(
        regions=[CHANGXI], groups=["葡萄"], body_en="Grape training at 9 tomorrow.", reply_options="报名|sign up\n不参加|not coming"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<dd id="preview-people">2</dd>' in page  # two named by both rules: once each
    assert "【农业局】" + NOTICE + " 回复1报名，回复2不参加。" in page
    assert "【农业局】Grape training at 9 tomorrow. Reply 1 (sign up), 2 (not coming)." in page
    assert "0.10 CNY" in page  # two texts of one segment at 0.05
    assert broadcasts() == 0 and not broadcast_texts()


def test_sending_from_the_page_reaches_everyone_once_with_their_name(client, login, county):
    login(county["clerk"])
    response = client.post("/bureau/broadcasts/new", data=form(action="send", regions=[ZHANGQI],
                                                               body="{name}您好：" + NOTICE))
    assert response.status_code == 302
    broadcast = db.session.scalar(select(Broadcast))
    assert broadcast.status == "done" and broadcast.created_by_id == county["clerk"].id
    sent = {text.to: text.body for text in broadcast_texts()}
    assert sent == {farmer.phone: f"{farmer.name}您好：{NOTICE}" for farmer in county["farmers"]}
    shown = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "progress" in shown and 'data-count="sent">3<' in shown
    progress = client.get(f"/bureau/broadcasts/{broadcast.id}/progress.json").get_json()
    assert progress["status"] == "done" and progress["counts"]["sent"] == 3 and progress["counts"]["total"] == 3


def test_above_the_threshold_it_waits_for_a_second_person_who_approves_on_the_page(app, client, login, county):
    app.config["BROADCAST_APPROVAL_THRESHOLD"] = 1
    login(county["clerk"])
    client.post("/bureau/broadcasts/new", data=form(action="send", regions=[ZHANGQI]))
    broadcast = db.session.scalar(select(Broadcast))
    assert broadcast.status == "pending_approval" and not broadcast_texts()
    page = client.get(f"/bureau/broadcasts/{broadcast.id}").get_data(as_text=True)
    assert "/approve" not in page  # the maker sees no approve button …
    client.post(f"/bureau/broadcasts/{broadcast.id}/approve")  # … and cannot approve by hand either
    db.session.expire_all()
    assert broadcast.status == "pending_approval"
    client.post("/logout")
    login(county["approver"])
    assert "/approve" in client.get(f"/bureau/broadcasts/{broadcast.id}").get_data(as_text=True)
    client.post(f"/bureau/broadcasts/{broadcast.id}/approve")
    db.session.expire_all()
    assert broadcast.status == "done" and len(broadcast_texts()) == 3


@pytest.mark.parametrize("values, field_text", [
    ({"body": ""}, "Write the notice first"),
    ({"body": "字" * 1000}, "At most 500 characters"),
    ({"regions": ["330282999999"]}, "No such region: 330282999999"),
    ({"groups": ["没人的组"]}, "Nobody belongs to the group 没人的组"),
    ({"phones": "13800138000\nhello\n12"}, "2: hello; 3: 12"),
    ({"send_at": "2020-01-01T08:00"}, "This time has passed"),
    ({}, "Choose whom the notice is for"),
])
def test_bad_input_gets_a_clear_answer_and_changes_nothing(client, login, county, values, field_text):
    login(county["clerk"])
    data = form(action="send", **({"regions": [CHANGXI]} | values) if values.get("regions") or values == {} else
                {"regions": [CHANGXI], **values})
    if values == {}:
        data.pop("regions", None)
    response = client.post("/bureau/broadcasts/new", data=data)
    assert response.status_code == 422 and field_text in response.get_data(as_text=True)
    assert broadcasts() == 0 and not broadcast_texts()


def test_an_uploaded_list_in_gb18030_with_a_header_line_is_read_and_its_bad_line_reported(client, login, county):
    login(county["clerk"])
    upload = "手机号\n13800138000\n13900139000\n".encode("gb18030")
    response = client.post("/bureau/broadcasts/new", data=form(phones_file=(io.BytesIO(upload), "名单.csv")),
                           content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert "1: 手机号" in page  # the header line is no number: named, so it can be removed
    assert "13800138000" in page and "13900139000" in page  # kept in the form


def test_pause_resume_and_cancel_from_the_page(client, login, county, monkeypatch):
    monkeypatch.setattr(services, "start", lambda broadcast_id: None)  # it stays sending
    login(county["clerk"])
    client.post("/bureau/broadcasts/new", data=form(action="send", regions=[ZHANGQI]))
    broadcast = db.session.scalar(select(Broadcast))
    client.post(f"/bureau/broadcasts/{broadcast.id}/pause")
    db.session.expire_all()
    assert broadcast.status == "paused"
    client.post(f"/bureau/broadcasts/{broadcast.id}/cancel")
    db.session.expire_all()
    assert broadcast.status == "cancelled"
    response = client.post(f"/bureau/broadcasts/{broadcast.id}/resume", follow_redirects=True)
    assert "Not possible now: the broadcast is cancelled" in response.get_data(as_text=True)
    db.session.expire_all()
    assert broadcast.status == "cancelled" and not broadcast_texts()


def test_the_delivery_report_gives_every_status_and_reason_and_retry_sends_only_what_may_go_again(
        client, login, county):
    login(county["clerk"])
    client.post("/bureau/broadcasts/new", data=form(action="send", regions=[ZHANGQI]))
    broadcast = db.session.scalar(select(Broadcast))
    first, second, third = broadcast_texts()
    first.status = DELIVERED
    second.status, second.last_error = UNDELIVERED, "provider error 30003"  # phone off: may go again
    third.status, third.last_error = UNDELIVERED, "provider error 30006"  # a landline: never
    db.session.commit()
    csv_text = client.get(f"/bureau/broadcasts/{broadcast.id}/report.csv").get_data().decode("utf-8-sig")
    assert "the phone was off or out of coverage" in csv_text and "a landline, not a mobile phone" in csv_text
    assert csv_text.count("\n") == 4  # a header and three people
    book = load_workbook(io.BytesIO(client.get(f"/bureau/broadcasts/{broadcast.id}/report.xlsx").data))
    rows = list(book.active.values)
    assert len(rows) == 4 and {row[0] for row in rows[1:]} == {"赵春生", "钱秀兰", "孙建华"}
    page = client.get(f"/bureau/broadcasts/{broadcast.id}").get_data(as_text=True)
    assert "Send the 1 failed texts again" in page
    client.post(f"/bureau/broadcasts/{broadcast.id}/retry")
    db.session.expire_all()
    assert [text.status for text in broadcast_texts()] == [DELIVERED, "sent", UNDELIVERED]
    assert db.session.scalar(select(func.count()).select_from(Recipient)) == 3  # nobody added, nobody twice


def test_a_liaison_may_neither_see_nor_send_broadcasts(client, login, county, make_staff):
    """(Every role against every bureau page: tests/ruralinfo/test_access.py.)"""
    login(make_staff(roles.LIAISON, name="周丽", phone="+8613911110009"))
    assert client.get("/bureau/broadcasts/").status_code == 403
    assert client.post("/bureau/broadcasts/new", data=form(action="send", regions=[ZHANGQI])).status_code == 403
    assert broadcasts() == 0
