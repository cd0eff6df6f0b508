"""Questions by voice and the experts on duty: a recorded question becomes one question
(however often its callback comes) acknowledged by SMS with its number; a 0-second
recording, or one for a call that never reached a question node, makes nothing; the
experts on duty are rung together, and busy, no answer or nobody on duty offers to
leave a question instead."""
from __future__ import annotations

import logging
from datetime import time

import pytest
from sqlalchemy import func, select

from hotline.models import CONNECTED, MISSED, QUESTION_LEFT, VOICE, Call, DutyShift, Question, Recording
from ruralinfo.accounts import roles
from ruralinfo.extensions import db
from ruralinfo.sms.models import OutboundMessage
from tests.hotline.twiml_walker import CallWalker


def _call(walker: CallWalker) -> Call:
    db.session.expire_all()
    return db.session.scalar(select(Call).where(Call.call_sid == walker.sid))


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _texts_to(phone: str) -> list[str]:
    """The acknowledgements texted to ``phone`` (not the welcome a registered farmer got)."""
    return list(db.session.scalars(select(OutboundMessage.body).where(
        OutboundMessage.to == phone, OutboundMessage.cause.startswith("question:")).order_by(OutboundMessage.id)))


@pytest.fixture
def english_farmer(make_farmer):
    farmer = make_farmer(name="Chen Gang")
    farmer.language = "en"
    db.session.commit()
    return farmer


@pytest.fixture
def on_duty(make_staff):
    """Experts covering a topic every day, all day."""
    def put(topic: str, *names: str):
        experts = [make_staff(roles.EXPERT, name=name) for name in names]
        for expert in experts:
            db.session.add(DutyShift(user_id=expert.id, topic=topic, weekdays="0123456", starts=time(0),
                                     ends=time(23, 59, 59, 999999)))
        db.session.commit()
        return experts
    return put


def test_a_recorded_question_becomes_one_question_acknowledged_by_sms_with_its_number(app, client):
    walker = CallWalker(client, phone="+8613900000123").dial_in().press("1").press("2")
    record = walker.waiting.verb
    assert record.get("action").endswith("/twilio/voice/recording?n=3&at=q")
    assert "/twilio/voice/recording-status?n=3" in record.get("recordingStatusCallback")
    walker.record(seconds=17)
    assert walker.gather is not None and "常见问题" in walker.said[-1]  # back to 种植业's menu
    question = db.session.scalar(select(Question))
    recording = db.session.get(Recording, question.recording_id)
    call = _call(walker)
    assert (question.topic, question.channel, question.user_id, question.phone, question.language) == (
        "crops", VOICE, None, "+8613900000123", "zh")
    assert question.call_id == call.id and call.outcome == QUESTION_LEFT
    assert (recording.sid, recording.seconds, recording.call_id) == (
        walker.recording["params"]["RecordingSid"], 17, call.id)
    assert recording.url == walker.recording["params"]["RecordingUrl"]
    texts = _texts_to("+8613900000123")
    assert len(texts) == 1 and str(question.id) in texts[0]


def test_a_registered_caller_hears_and_reads_the_acknowledgement_in_their_language(app, client, english_farmer):
    walker = CallWalker(client, phone=english_farmer.phone).dial_in().press("9")
    assert walker.said == ["After the beep, say your question. Press the hash key when you are done."]
    walker.record(seconds=30)
    assert walker.said[0] == "Thank you: your question is recorded. Its number will come to you by SMS."
    question = db.session.scalar(select(Question))
    assert (question.user_id, question.topic, question.language) == (english_farmer.id, "general", "en")
    assert _texts_to(english_farmer.phone) == [
        f"Your question no. {question.id} has reached the experts (General). The answer will come by SMS."]


@pytest.mark.parametrize("callback_first", [False, True])
def test_a_repeated_recording_callback_makes_no_second_question(app, client, callback_first):
    walker = CallWalker(client).dial_in().press("3").press("2").record(seconds=9, callback_first=callback_first)
    for _again in range(2):
        assert walker.recording_callback().status_code == 204
    assert _count(Question) == 1 and _count(Recording) == 1
    assert len(_texts_to(walker.phone)) == 1
    assert db.session.scalar(select(Question.topic)) == "fisheries"


def test_a_0_second_recording_makes_nothing_and_says_so_in_the_log(app, client, english_farmer, caplog):
    walker = CallWalker(client, phone=english_farmer.phone).dial_in().press("1").press("2")
    with caplog.at_level(logging.WARNING, logger="hotline.calls"):
        walker.record(seconds=0)
    assert walker.said[0] == "We did not hear a question." and walker.gather is not None
    assert _count(Question) == 0 and _count(Recording) == 0 and _texts_to(english_farmer.phone) == []
    assert "0-second recording" in caplog.text
    assert _call(walker).outcome == "menu"


def test_nothing_recorded_goes_on_to_the_menu(app, client, english_farmer):
    walker = CallWalker(client, phone=english_farmer.phone).dial_in().press("9").record_nothing()
    assert walker.said[0] == "We did not hear a question." and "for Crops press 1" in walker.said[1]
    assert _count(Question) == 0


def test_a_recording_callback_for_a_call_that_never_reached_a_question_node_makes_nothing(app, client, caplog):
    walker = CallWalker(client).dial_in().press("1")  # at 种植业's menu: no recording was asked for
    base = walker._base()
    params = {"RecordingSid": "RE" + "a" * 32, "RecordingUrl": "https://api.twilio.com/x", "RecordingDuration": "20",
              "RecordingStatus": "completed"}
    with caplog.at_level(logging.WARNING, logger="hotline.calls"):
        for url in (base + "/twilio/voice/recording-status",
                    base + "/twilio/voice/recording-status?n=1&rec=q.crops",
                    base + "/twilio/voice/recording-status?n=2&rec=q.crops",
                    base + "/twilio/voice/recording-status?n=9&rec=q.crops"):
            assert walker._send(url, params).status_code == 204
    assert _count(Question) == 0 and _count(Recording) == 0
    assert "never reached a question node" in caplog.text
    # and a recording asked for one topic cannot be filed under another
    walker.press("2")
    asked = walker.waiting.verb.get("recordingStatusCallback")
    walker._send(asked.replace("rec=q.crops", "rec=q.policy"), params)
    assert _count(Question) == 0
    walker._send(asked, params)
    assert db.session.scalar(select(Question.topic)) == "crops"


def test_a_recording_that_failed_at_twilio_makes_nothing(app, client):
    walker = CallWalker(client).dial_in().press("9")
    walker.record(seconds=10, callback=False)
    walker.recording["params"]["RecordingStatus"] = "failed"
    walker.recording_callback()
    assert _count(Question) == 0 and _count(Recording) == 0


def test_the_experts_on_duty_are_rung_together_from_the_hotline_number(app, client, on_duty):
    experts = on_duty("crops", "王立新", "赵春梅")
    on_duty("livestock", "钱多多")
    walker = CallWalker(client).dial_in().press("1").press("3")
    dial = walker.waiting.verb
    assert dial.tag == "Dial"
    assert (dial.get("callerId"), dial.get("timeout")) == ("12316", "20")
    assert dial.get("action").endswith("/twilio/voice/dial?n=3&at=crops")
    assert [number.text for number in dial.findall("Number")] == [expert.phone for expert in experts]
    walker.dial("completed")
    assert walker.ended and walker.documents[-1].rstrip().endswith("<Hangup /></Response>")
    assert _call(walker).outcome == CONNECTED


@pytest.mark.parametrize("status", ["busy", "no-answer", "failed", "canceled"])
def test_busy_or_no_answer_offers_to_leave_a_question_under_the_topic(app, client, on_duty, english_farmer, status):
    on_duty("livestock", "王立新")
    walker = CallWalker(client, phone=english_farmer.phone).dial_in().press("2").press("3").dial(status)
    assert walker.said[0] == "The experts cannot take your call now." and walker.waiting_for == "Record"
    assert _call(walker).outcome == MISSED
    walker.record(seconds=25)
    question = db.session.scalar(select(Question))
    assert question.topic == "livestock" and question.user_id == english_farmer.id
    assert _call(walker).outcome == QUESTION_LEFT
    assert "for Common questions press 1" in walker.said[-1]  # back to 畜牧兽医's menu


def test_nobody_on_duty_says_so_and_offers_the_recording(app, client, english_farmer, on_duty):
    on_duty("crops", "王立新")  # not this topic
    walker = CallWalker(client, phone=english_farmer.phone).dial_in().press("5").press("2")
    assert walker.said[0] == "No expert is on duty for this topic now." and walker.waiting_for == "Record"
    assert _call(walker).outcome == MISSED and _call(walker).topic == "complaints"
    walker.record(seconds=8)
    assert db.session.scalar(select(Question.topic)) == "complaints"


def test_zero_anywhere_rings_the_general_experts(app, client, on_duty):
    experts = on_duty("general", "周到")
    walker = CallWalker(client).dial_in().press("6").press("0")
    assert [number.text for number in walker.waiting.verb.findall("Number")] == [experts[0].phone]
    assert walker.waiting.verb.get("action").endswith("at=general")


def test_an_expert_no_longer_active_is_not_rung(app, client, on_duty):
    first, second = on_duty("fisheries", "甲", "乙")
    first.active = False
    db.session.commit()
    walker = CallWalker(client).dial_in().press("3").press("3")
    assert [number.text for number in walker.waiting.verb.findall("Number")] == [second.phone]


def test_the_experts_see_the_hotlines_full_number_or_else_the_number_dialled(app, client, on_duty):
    """Twilio shows only a number of the account as caller ID: a short 12316 is none, so
    the number the farmer dialled is shown; a full HOTLINE_NUMBER is shown as it is."""
    on_duty("general", "周农技")
    walker = CallWalker(client, to="+15005550006").dial_in().press("0")
    assert walker.waiting.verb.get("callerId") == "+15005550006"
    app.config["HOTLINE_NUMBER"] = "+15005550007"
    app.extensions.pop("voice_drivers", None)  # the driver reads the configuration when it is built
    walker = CallWalker(client, to="+15005550006").dial_in().press("0")
    assert walker.waiting.verb.get("callerId") == "+15005550007"


def test_the_expert_who_picks_up_presses_1_to_take_the_call_and_the_log_names_them(app, client, on_duty):
    wang, zhao = on_duty("crops", "王立新", "赵春梅")
    zhao.language = "en"
    db.session.commit()
    walker = CallWalker(client).dial_in().press("1").press("3")
    numbers = walker.waiting.verb.findall("Number")
    assert all(f"/twilio/voice/screen?call={walker.sid}&at=crops" in number.get("url") for number in numbers)
    walker.screened = walker.screen(numbers[1], "1")  # 赵春梅 (English) picks up first and takes it
    assert walker.screened == ["A farmer is calling the hotline about Crops. Press 1 to take the call.", "joined"]
    walker.dial("completed", key="", bridged=True)  # 王立新's phone, picked up later, pressed nothing
    assert _call(walker).outcome == CONNECTED and _call(walker).expert_id == zhao.id


def test_a_voicemail_that_picks_up_never_takes_the_call(app, client, on_duty, english_farmer):
    """A voicemail greeting answers the expert's phone: no key is pressed, that leg ends, and
    the farmer is offered to leave a question — not told they were connected."""
    on_duty("crops", "王立新")
    walker = CallWalker(client, phone=english_farmer.phone).dial_in().press("1").press("3")
    walker.dial("completed", key="")
    assert walker.screened[-1:] != ["joined"]
    assert walker.said[0] == "The experts cannot take your call now." and walker.waiting_for == "Record"
    assert _call(walker).outcome == MISSED and _call(walker).expert_id is None


def test_a_forged_take_changes_nothing(app, client, on_duty, signed_post):
    on_duty("crops", "王立新")
    walker = CallWalker(client).dial_in().press("1").press("3")
    response = client.post(f"/twilio/voice/take?call={walker.sid}", data={"Digits": "1", "To": "+8613900000999"},
                           headers={"X-Twilio-Signature": "forged"})
    assert response.status_code == 403 and _call(walker).expert_id is None


def test_two_experts_pressing_1_at_once_join_one_and_an_unjoined_leg_connects_nobody(app, client, on_duty):
    wang, zhao = on_duty("crops", "王立新", "赵春梅")
    walker = CallWalker(client).dial_in().press("1").press("3")
    first, second = walker.waiting.verb.findall("Number")
    assert walker.waiting.verb.get("answerOnBridge") == "true"  # the farmer hears ringing while an expert decides
    assert walker.screen(first, "1")[-1] == "joined"
    assert walker.screen(second, "1")[-1] == "hung up"  # the second to press is not joined
    assert _call(walker).expert_id == wang.id
    walker.dial("completed", key="")  # Twilio: the Dial ended, no leg bridged (DialBridged=false)
    assert walker.waiting_for == "Record" and _call(walker).outcome == MISSED
