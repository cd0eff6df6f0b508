"""In a real Chromium: a liaison trains a farmer with the call simulator — calls the
hotline as the farmer, hears the main menu, presses 9, types the question, finishes the
recording, and sees the question's number in the transcript."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from hotline.models import VOICE, Question
from ruralinfo.accounts import roles
from ruralinfo.accounts import services as accounts
from ruralinfo.extensions import db
from ruralinfo.liaison.models import LiaisonPoint
from ruralinfo.regions.models import Region
from tests.conftest import CHANGXI, PASSWORD, next_id_number

pytestmark = pytest.mark.browser
WORDS = "葡萄叶子发黄，是什么病？"


def _question(timeout: float = 8.0) -> Question | None:
    """The question, once the server has filed it (polled here: the page's CSP allows no eval)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.rollback()  # a fresh snapshot of the database each time
        question = db.session.scalar(select(Question))
        if question is not None:
            return question
        time.sleep(0.1)
    return None


def test_a_liaison_calls_the_hotline_as_their_farmer_and_leaves_a_question(live_server, page, tmp_path, monkeypatch):
    monkeypatch.setattr(live_server.app, "instance_path", str(tmp_path))  # where the recording is kept
    point = LiaisonPoint(name="长溪村联络点", address="村委会", phone="0574-63000000", opening_hours="8:00-17:00")
    point.regions = [db.session.get(Region, CHANGXI)]
    db.session.add(point)
    db.session.commit()
    accounts.create_staff(name="周联络", phone="13900000003", password=PASSWORD, role_names=[roles.LIAISON],
                          actor=None, channel="cli", liaison_point_id=point.id)
    farmer = accounts.register_farmer(accounts.FarmerData(name="陈阿毛", id_number=next_id_number(),
                                                          phone="13800138000", region_code=CHANGXI),
                                      actor=None, channel="cli", scope=None, consent=True)
    blocked = []
    page.on("console", lambda message: blocked.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.goto(live_server.url + "/login")
    page.fill("input[name=phone]", "13900000003")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.goto(live_server.url + "/dev/call")
    page.click("text=陈阿毛")
    page.wait_for_url(f"**/dev/call/{farmer.phone}")

    page.click("#call-start")
    page.wait_for_selector("#call[data-expect=keys]")
    heard = page.inner_text("#transcript")
    assert "陈阿毛" in heard and "种植业" in heard and "留言" in heard  # greeted by name, the main menu
    assert page.get_attribute("#transcript li.hotline.say", "lang") == "zh-CN"

    page.click("#keypad button[data-key='9']")
    page.wait_for_selector("#call[data-expect=record]")
    assert page.is_visible("#record-panel") and page.is_disabled("#keypad button[data-key='1']")
    page.fill("#record-text", WORDS)
    page.click("#record-finish")

    question = _question()
    assert question is not None and (question.text, question.channel, question.user_id) == (
        WORDS, VOICE, farmer.id)
    assert question.recording is not None and question.recording.transcript == WORDS
    assert (tmp_path / question.recording.file).is_file()
    filed = page.wait_for_selector(f"#transcript li[data-question='{question.id}']")
    assert str(question.id) in filed.inner_text()
    page.wait_for_selector("#call[data-expect=keys]")  # back at a menu

    page.click("#call-hangup")
    page.wait_for_selector("#call[data-expect=ended]")
    assert not page.is_disabled("#call-start") and blocked == []


def test_a_question_from_the_microphone_is_kept_as_the_browser_recorded_it(browser, live_server, tmp_path,
                                                                          monkeypatch):
    """Chromium's fake microphone (a beep) through MediaRecorder: a WebM/Opus recording."""
    from tests.conftest import CHROMIUM, CHROMIUM_FLAGS

    monkeypatch.setattr(live_server.app, "instance_path", str(tmp_path))
    accounts.create_staff(name="陈晓", phone="13900000002", password=PASSWORD, role_names=[roles.STAFF],
                          actor=None, channel="cli")
    with_microphone = browser.browser_type.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS + [
        "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"])
    try:
        context = with_microphone.new_context(locale="zh-CN")
        context.grant_permissions(["microphone"], origin=live_server.url)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.goto(live_server.url + "/login")
        page.fill("input[name=phone]", "13900000002")
        page.fill("input[name=password]", PASSWORD)
        page.click("main button[type=submit]")
        page.goto(live_server.url + "/dev/call/+8613912345678")
        page.click("#call-start")
        page.wait_for_selector("#call[data-expect=keys]")
        page.click("#keypad button[data-key='9']")
        page.wait_for_selector("#mic:not([hidden])")
        page.click("#mic")
        time.sleep(1.5)
        page.click("#record-finish")  # stops the microphone, then sends what it heard
        question = _question()
        assert question is not None and question.user_id is None and question.text == ""
        recording = question.recording
        assert recording.content_type == "audio/webm" and recording.seconds >= 1
        assert (tmp_path / recording.file).read_bytes()[:4] == b"\x1a\x45\xdf\xa3"
        page.wait_for_selector(f"#transcript li[data-question='{question.id}']")
    finally:
        with_microphone.close()
