"""One welcome text after registration — one by one or imported — in the farmer's
language, through the outbox, held during the quiet hours; and the import report in
the interface language, its rejected rows deleted after a week."""
from __future__ import annotations

import io
from datetime import datetime, timedelta

from sqlalchemy import select

from ruralinfo.accounts import roles, tasks
from ruralinfo.liaison.models import ImportBatch
from ruralinfo.sms import quiet
from ruralinfo.sms.models import NOTICE, OutboundMessage
from ruralinfo.extensions import db
from tests.conftest import CHANGXI, next_id_number, next_phone


def welcomes() -> list[OutboundMessage]:
    return db.session.scalars(select(OutboundMessage).where(OutboundMessage.cause.like("welcome:%"))
                              .order_by(OutboundMessage.id)).all()


def test_a_registered_farmer_gets_one_welcome_text_in_their_language(make_farmer, app, monkeypatch):
    monkeypatch.setattr(quiet, "now_utc", lambda: datetime(2026, 12, 1, 2, 0))  # 10:00 in Shanghai
    chinese = make_farmer(name="陈阿毛")
    [text] = welcomes()
    assert text.to == chinese.phone and text.kind == NOTICE and text.status == "sent"
    body = text.body
    assert "陈阿毛" in body and "卖" in body and "帮助" in body and app.config["HOTLINE_NUMBER"] in body
    assert "TD" in body  # how to stop notices


def test_an_import_welcomes_each_new_farmer_but_holds_them_at_night(client, make_point, make_staff, login,
                                                                    monkeypatch):
    night = datetime(2030, 6, 1, 14, 30)  # 22:30 in Shanghai, ahead of the real clock (which the dispatch reads)
    monkeypatch.setattr(quiet, "now_utc", lambda: night)
    login(make_staff(roles.LIAISON, point=make_point("长溪村联络点", (CHANGXI,))))
    rows = "".join(f"{name},{next_id_number()},{next_phone()},{CHANGXI},{language}\n"
                   for name, language in (("陈阿毛", "zh"), ("李秀英", "zh"), ("Wang Fang", "en")))
    text = "name,id_number,phone,region_code,language\n" + rows
    client.post("/liaison/import", data={"file": (io.BytesIO(text.encode()), "list.csv"), "consent": "y"},
                content_type="multipart/form-data")
    batch = db.session.scalar(select(ImportBatch))
    assert (batch.status, batch.registered) == ("done", 3), batch.report or batch.error
    sent = welcomes()
    assert len(sent) == 3 and all(m.status == "queued" and m.next_attempt_at == datetime(2030, 6, 2, 0, 0)
                                  for m in sent)
    assert "欢迎" in sent[0].body and "Welcome" in sent[2].body  # each in the farmer's language
    from ruralinfo.sms import tasks as texts

    texts.sweep(now=datetime(2030, 6, 2, 0, 1))  # 08:01: the morning's sweep sends them
    db.session.expire_all()
    assert [m.status for m in welcomes()] == ["sent"] * 3


def test_the_import_report_speaks_the_interface_language(client, make_point, make_staff, login):
    login(make_staff(roles.LIAISON, point=make_point("长溪村联络点", (CHANGXI,))))
    client.get("/lang/zh")
    text = f"name,id_number,phone,region_code\n李四,330282197506010000,{next_phone()},{CHANGXI}\n"
    response = client.post("/liaison/import", data={"file": (io.BytesIO(text.encode()), "bad.csv"), "consent": "y"},
                           content_type="multipart/form-data", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "第2行" in page and "line 2" not in page


def test_rejected_rows_are_deleted_after_seven_days(client, make_point, make_staff, login):
    login(make_staff(roles.LIAISON, point=make_point("长溪村联络点", (CHANGXI,))))
    text = f"name,id_number,phone,region_code\n李四,330282197506010000,{next_phone()},{CHANGXI}\n"
    client.post("/liaison/import", data={"file": (io.BytesIO(text.encode()), "bad.csv"), "consent": "y"},
                content_type="multipart/form-data")
    batch = db.session.scalar(select(ImportBatch))
    assert batch.rejects_cipher is not None
    assert client.get(f"/liaison/imports/{batch.id}/rejected.csv").status_code == 200
    assert tasks.expire_rejects() == 0  # a fresh file is kept
    batch.created_at -= timedelta(days=8)
    db.session.commit()
    assert client.get(f"/liaison/imports/{batch.id}/rejected.csv").status_code == 404  # even before the sweep
    assert tasks.sweep().expired == 1
    db.session.expire_all()
    assert db.session.get(ImportBatch, batch.id).rejects_cipher is None
    assert client.get(f"/liaison/imports/{batch.id}/rejected.csv").status_code == 404
    page = client.get(f"/liaison/imports/{batch.id}").get_data(as_text=True)
    assert "deleted 7 days after the import" in page
