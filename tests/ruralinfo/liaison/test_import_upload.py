"""Bulk registration through the liaison console's upload form: the request keeps
the file, a job imports it, the report page follows the job."""
import io
import os

import pytest
from sqlalchemy import func, select

from ruralinfo import jobs
from ruralinfo.accounts import identity, roles
from ruralinfo.accounts.models import User
from ruralinfo.extensions import db
from ruralinfo.liaison.models import DONE, FAILED, PENDING, ImportBatch
from tests.conftest import BALI, CHANGXI, PASSWORD, next_id_number, next_phone
from tests.ruralinfo.accounts.spreadsheets import (Bomb, header_row, inline, many_rows_csv, sheet, within,
                                                   xlsx)

REDIS = os.environ.get("TEST_REDIS_URL")
QUEUE_DOWN = "redis://127.0.0.1:1/0"  # nothing listens there
TOO_MANY_ROWS = "This file has more than 20,000 rows: split it into smaller files."


@pytest.fixture
def point(make_point):
    return make_point("长溪村联络点", (CHANGXI,))


def upload(client, text: str | bytes, name="farmers.csv", consent=True):
    body = text if isinstance(text, bytes) else text.encode("utf-8-sig")
    data = {"file": (io.BytesIO(body), name)}
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
    assert other.post(report_url + "/retry").status_code == 404


def test_upload_needs_consent_and_a_spreadsheet(client, point, make_staff, login):
    login(make_staff(roles.LIAISON, point=point))
    page = upload(client, f"name,id_number,phone,region_code\n甲,{next_id_number()},{next_phone()},{CHANGXI}\n",
                  consent=False).get_data(as_text=True)
    assert "Confirm the consent" in page
    page = upload(client, "hello", name="notes.txt").get_data(as_text=True)
    assert "Only CSV or XLSX" in page
    response = upload(client, "just,some,columns\n1,2,3\n")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'class="flash error"' in page and "Missing column(s): name, id_number, phone, region_code." in page
    assert "Nobody from this file was registered." in page
    assert db.session.scalar(select(func.count(User.id)).where(User.name == "甲")) == 0


def batches() -> list[ImportBatch]:
    db.session.expire_all()
    return list(db.session.scalars(select(ImportBatch).order_by(ImportBatch.id)))


def sparse_wide() -> bytes:
    return xlsx(sheet(header_row() + f'<row r="200000">{inline("WCB200000", "x")}</row>', dimension="A1:WCB200000"))


def zip_bomb() -> bytes:
    start = sheet(header_row()).split(b"</sheetData>")[0]
    return xlsx(Bomb(head=start, chunk=b"<row/>" * 100_000, times=1_800, tail=b"</sheetData></worksheet>"))


@pytest.mark.parametrize("name,make,message", [
    ("farmers.xlsx", sparse_wide, TOO_MANY_ROWS),
    ("farmers.csv", lambda: many_rows_csv(100_000), TOO_MANY_ROWS),
    ("farmers.xlsx", zip_bomb, "This .xlsx file unpacks to more than 32 MB"),
])
def test_a_hostile_file_is_refused_with_a_clear_message_and_the_site_keeps_answering(
        client, point, make_staff, login, name, make, message):
    login(make_staff(roles.LIAISON, point=point))
    data = make()
    with within(4):
        response = upload(client, data, name=name)
        page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert message in page and "Nobody from this file was registered." in page
    [batch] = batches()
    assert (batch.status, batch.upload_cipher, batch.registered) == (FAILED, None, 0)
    assert client.get("/liaison/").status_code == 200
    imports = client.get("/liaison/import").get_data(as_text=True)
    assert "Not imported: see the report." in imports


def test_a_file_over_10_mb_is_refused_on_the_form_and_not_kept(client, point, make_staff, login):
    login(make_staff(roles.LIAISON, point=point))
    page = upload(client, b"name,id_number,phone,region_code\n" + b"x" * (10 * 2 ** 20)).get_data(as_text=True)
    assert "This file is larger than 10 MB: split it into smaller files." in page
    assert batches() == []


def test_with_the_job_queue_down_the_file_waits_and_try_again_imports_it(app, client, point, make_staff, login,
                                                                         db_dump):
    login(make_staff(roles.LIAISON, point=point))
    app.config["REDIS_URL"] = QUEUE_DOWN
    number = next_id_number()
    response = upload(client, f"name,id_number,phone,region_code\n陈阿毛,{number},{next_phone()},{CHANGXI}\n")
    report_url = response.headers["Location"]
    page = client.get(report_url)
    assert "The import is waiting: the background service is not available right now." in page.get_data(as_text=True)
    assert page.headers["Refresh"] == "30"
    [batch] = batches()
    assert (batch.status, batch.queued_at) == (PENDING, None)
    assert number not in db_dump()  # the waiting file is kept encrypted
    assert number.encode() in identity.vault().decrypt_bytes(batch.upload_cipher)
    # Still down: the file keeps waiting.
    again = client.post(report_url + "/retry", follow_redirects=True).get_data(as_text=True)
    assert 'class="flash warning"' in again and batches()[0].status == PENDING
    # Back (here: no Redis, jobs run inline).
    app.config["REDIS_URL"] = ""
    page = client.post(report_url + "/retry", follow_redirects=True)
    assert "Every row went in." in page.get_data(as_text=True) and "Refresh" not in page.headers
    [batch] = batches()
    assert (batch.status, batch.registered, batch.upload_cipher) == (DONE, 1, None)
    assert number not in db_dump()


def test_the_report_page_follows_a_running_import(client, point, make_staff, login):
    liaison = make_staff(roles.LIAISON, point=point)
    login(liaison)
    batch = ImportBatch(actor_id=liaison.id, point_id=point.id, filename="farmers.xlsx", status="running")
    db.session.add(batch)
    db.session.commit()
    page = client.get(f"/liaison/imports/{batch.id}")
    assert "Being imported…" in page.get_data(as_text=True)
    assert (page.headers["Refresh"], page.headers["Cache-Control"]) == ("3", "no-store")


def test_the_recent_imports_say_which_are_waiting(app, client, point, make_staff, login):
    login(make_staff(roles.LIAISON, point=point))
    upload(client, f"name,id_number,phone,region_code\n陈阿毛,{next_id_number()},{next_phone()},{CHANGXI}\n")
    app.config["REDIS_URL"] = QUEUE_DOWN
    upload(client, f"name,id_number,phone,region_code\n陈阿狗,{next_id_number()},{next_phone()},{CHANGXI}\n")
    page = client.get("/liaison/import").get_data(as_text=True)
    assert "Waiting to be imported…" in page and "A file may have up to 20,000 rows and 10 MB" in page
    assert [batch.status for batch in batches()] == [DONE, PENDING]


@pytest.mark.skipif(not REDIS, reason="TEST_REDIS_URL is not set (.ci/run sets it)")
def test_with_redis_the_upload_waits_for_a_worker(app, client, point, make_staff, login):
    app.config["REDIS_URL"] = REDIS
    jobs.queue().empty()
    login(make_staff(roles.LIAISON, point=point))
    response = upload(client, f"name,id_number,phone,region_code\n陈阿毛,{next_id_number()},{next_phone()},{CHANGXI}\n")
    page = client.get(response.headers["Location"])
    assert "Waiting to be imported…" in page.get_data(as_text=True) and page.headers["Refresh"] == "3"
    assert batches()[0].queued_at is not None
    jobs.make_worker().work(burst=True)  # the worker `flask worker` runs
    page = client.get(response.headers["Location"])
    assert "Every row went in." in page.get_data(as_text=True)
    assert batches()[0].status == DONE


@pytest.mark.browser
@pytest.mark.slow  # waits for the page's own refresh (3 s)
def test_without_javascript_the_report_page_follows_the_import(browser, live_server, tmp_path):
    from flask_babel import force_locale

    from ruralinfo.accounts import bulk, tasks
    from ruralinfo.accounts import services as accounts
    from ruralinfo.liaison.models import LiaisonPoint
    from ruralinfo.regions.models import Region

    point = LiaisonPoint(name="长溪村联络点", address="村委会", phone="", opening_hours="")
    point.regions = [db.session.get(Region, CHANGXI)]
    db.session.add(point)
    db.session.commit()
    liaison = accounts.create_staff(name="张联络", phone="13900000101", password=PASSWORD, role_names=[roles.LIAISON],
                                    actor=None, channel="cli", liaison_point_id=point.id)
    path = tmp_path / "farmers.csv"
    path.write_text(f"name,id_number,phone,region_code\n陈阿毛,{next_id_number()},{next_phone()},{CHANGXI}\n")
    live_server.app.config["REDIS_URL"] = QUEUE_DOWN
    context = browser.new_context(java_script_enabled=False, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(live_server.url + "/login")
    page.fill("input[name=phone]", "139 0000 0101")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/liaison/")
    page.goto(live_server.url + "/lang/en")
    page.goto(live_server.url + "/liaison/import")
    page.set_input_files("input[name=file]", str(path))
    page.check("input[name=consent]")
    page.click("form.form button[type=submit]")
    page.wait_for_url("**/liaison/imports/*")
    assert "The import is waiting" in page.content()
    [batch] = batches()
    claim = tasks._claim(batch.id)  # a worker takes it…
    page.reload()
    assert "Being imported…" in page.content()
    with force_locale("en"):  # …and finishes it while the liaison looks: the page follows by itself
        bulk.import_file(path.read_bytes(), "farmers.csv", actor=liaison, channel="web", scope=[CHANGXI],
                         claim=claim)
    page.wait_for_selector("text=Every row went in.", timeout=8_000)
    context.close()
