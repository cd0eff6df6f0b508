"""An expert calls a farmer back: through the real twilio client to a local fake of
Twilio's REST API (Calls), then Twilio's signed requests for the TwiML; forged ones
change nothing, a Twilio that is down or slow is a message, never a 500."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import func, select

from hotline import callback
from hotline import services as questions
from hotline.models import CALLBACK, CALLED_BACK, MISSED, Call
from ruralinfo.accounts import roles
from ruralinfo.audit.models import AuditEntry
from ruralinfo.extensions import db
from tests.fakes.twilio_api import CLIENT_TIMEOUT
from tests.hotline.conftest import ACCOUNT_SID, AUTH_TOKEN

BASE = "https://ruralinfo.example.org"


@pytest.fixture
def app_config(app_config, fake_twilio):
    app_config.update({"SMS_BACKEND": "twilio", "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                       "TWILIO_FROM": "+15005550006", "TWILIO_API_BASE": fake_twilio.url,
                       "PUBLIC_BASE_URL": BASE + "/", "SMS_SEND_TIMEOUT": CLIENT_TIMEOUT})
    return app_config


@pytest.fixture
def asked(app, make_farmer, make_staff):
    """A farmer's question and an expert to call them back."""
    farmer = make_farmer(name="李秀英", phone="+8613800138000")
    question = questions.ask(topic="crops", channel="voice", text="葡萄叶子发黄怎么办", user=farmer)
    expert = make_staff(roles.EXPERT, name="张农技", phone="+8613900139000")
    questions.claim(question.id, expert)  # only the expert holding (or who answered) a question calls back
    return question, expert


def calls() -> list[Call]:
    return db.session.scalars(select(Call).order_by(Call.id)).all()


def audits(action="call.callback") -> list[AuditEntry]:
    return db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()


def test_the_expert_is_rung_first_through_twilio(asked, fake_twilio):
    question, expert = asked
    call = callback.call_back(question.id, expert)
    [created] = fake_twilio.calls
    assert (created["to"], created["from"], created["status"]) == (expert.phone, "+15005550006", "queued")  # 12316 is no number to call from: the sender is
    assert created["url"] == f"{BASE}/twilio/voice/callback?call={call.id}"
    assert created["status_callback"] == f"{BASE}/twilio/voice/status"
    assert call.call_sid == created["sid"] and call.call_sid.startswith("CA")
    assert (call.direction, call.question_id, call.expert_id, call.user_id) == (CALLBACK, question.id, expert.id,
                                                                                question.user_id)
    assert (call.to_phone, call.topic, call.status, call.outcome) == ("+8613800138000", "crops", "queued", MISSED)
    [entry] = audits()
    assert (entry.actor_id, entry.target_type, entry.target_id) == (expert.id, "hotline_calls", call.id)
    assert entry.details == {"question": question.id}


def test_the_console_button_rings_and_goes_back(client, login, asked, fake_twilio):
    question, expert = asked
    login(expert)
    response = client.post(f"/hotline-callback/{question.id}", headers={"Referer": "http://localhost/hotline/?x=1"})
    assert response.status_code == 302 and response.headers["Location"] == "/hotline/?x=1"
    assert len(fake_twilio.calls) == 1
    # a second press while the first call-back is under way rings nobody twice
    again = client.post(f"/hotline-callback/{question.id}", headers={"Referer": "https://evil.example/"})
    assert again.status_code == 302 and "evil" not in again.headers["Location"]
    assert len(fake_twilio.calls) == 1
    page = client.get(again.headers["Location"], follow_redirects=True).get_data(as_text=True)
    assert "already under way" in page


def test_only_experts_may_press_it(client, login, asked, make_staff, fake_twilio):
    question, _expert = asked
    assert "/login" in client.post(f"/hotline-callback/{question.id}").headers["Location"]
    login(make_staff(roles.STAFF, roles.ADMIN))
    assert client.post(f"/hotline-callback/{question.id}").status_code == 403
    assert fake_twilio.calls == [] and calls() == []


def twiml(response) -> ET.Element:
    assert response.status_code == 200 and response.mimetype == "application/xml"
    return ET.fromstring(response.get_data())


def test_when_the_expert_answers_the_farmer_is_dialled_with_the_hotline_number(asked, signed_post):
    question, expert = asked
    call = callback.call_back(question.id, expert)
    root = twiml(signed_post(f"/twilio/voice/callback?call={call.id}", {"CallSid": call.call_sid,
                                                                         "CallStatus": "in-progress"}))
    say, dial = root.find("Say"), root.find("Dial")
    assert (say.get("voice"), say.get("language")) == ("Polly.Zhiyu", "cmn-CN")
    assert str(question.id) in say.text and "李秀英" in say.text
    assert dial.get("callerId") == "+15005550006" and dial.get("action") == f"{BASE}/twilio/voice/callback/done?call={call.id}"
    assert dial.find("Number").text == "+8613800138000"
    db.session.expire_all()
    assert db.session.get(Call, call.id).status == "in-progress"


def test_an_english_speaking_expert_hears_english(asked, signed_post):
    question, expert = asked
    expert.language = "en"
    db.session.commit()
    call = callback.call_back(question.id, expert)
    say = twiml(signed_post(f"/twilio/voice/callback?call={call.id}", {"CallSid": call.call_sid})).find("Say")
    assert (say.get("voice"), say.get("language")) == ("Polly.Joanna", "en-US")
    assert f"question no. {question.id}" in say.text


def test_the_dial_result_is_the_outcome_and_a_talk_is_never_undone(asked, signed_post):
    question, expert = asked
    call = callback.call_back(question.id, expert)
    done = f"/twilio/voice/callback/done?call={call.id}"
    root = twiml(signed_post(done, {"CallSid": call.call_sid, "DialCallStatus": "completed", "DialCallDuration": "63"}))
    assert root.find("Hangup") is not None
    db.session.expire_all()
    assert db.session.get(Call, call.id).outcome == CALLED_BACK
    twiml(signed_post(done, {"CallSid": call.call_sid, "DialCallStatus": "no-answer"}))  # a late, repeated request
    db.session.expire_all()
    assert db.session.get(Call, call.id).outcome == CALLED_BACK


def test_a_farmer_who_does_not_answer_is_a_missed_call_back(asked, signed_post):
    question, expert = asked
    call = callback.call_back(question.id, expert)
    root = twiml(signed_post(f"/twilio/voice/callback/done?call={call.id}", {"CallSid": call.call_sid,
                                                                              "DialCallStatus": "no-answer"}))
    assert root.find("Say").get("language") == "cmn-CN" and root.find("Hangup") is not None
    db.session.expire_all()
    assert db.session.get(Call, call.id).outcome == MISSED


@pytest.mark.parametrize("path", ["/twilio/voice/callback", "/twilio/voice/callback/done"])
def test_forged_or_unsigned_requests_are_refused_and_change_nothing(asked, signed_post, client, path):
    question, expert = asked
    call = callback.call_back(question.id, expert)
    url = f"{path}?call={call.id}"
    params = {"CallSid": call.call_sid, "DialCallStatus": "completed"}
    assert signed_post(url, params, signature="forged").status_code == 403
    assert client.post(url, data=params).status_code == 403
    assert signed_post(url, params, url=f"{BASE}{path}?call=999").status_code == 403  # signed for another call
    db.session.expire_all()
    again = db.session.get(Call, call.id)
    assert (again.status, again.outcome) == ("queued", MISSED)


def test_an_unknown_call_gets_a_polite_goodbye(app, signed_post):
    for url in ("/twilio/voice/callback?call=999", "/twilio/voice/callback", "/twilio/voice/callback?call=x",
                "/twilio/voice/callback/done?call=999"):
        root = twiml(signed_post(url, {"CallSid": "CA" + "0" * 32}))
        assert root.find("Hangup") is not None and root.find("Dial") is None


def test_another_calls_sid_is_not_connected(asked, signed_post):
    question, expert = asked
    call = callback.call_back(question.id, expert)
    root = twiml(signed_post(f"/twilio/voice/callback?call={call.id}", {"CallSid": "CA" + "f" * 32}))
    assert root.find("Dial") is None


def test_a_call_whose_sid_was_never_heard_takes_it_from_twilios_request(asked, signed_post, fake_twilio):
    question, expert = asked
    fake_twilio.hang_next()  # created at Twilio, the answer lost
    with pytest.raises(callback.CallbackRefused, match="may still ring"):
        callback.call_back(question.id, expert)
    [call] = calls()
    assert call.call_sid.startswith(callback.PENDING) and call.status == "queued"
    assert audits()[0].details == {"question": question.id, "unsure": True}
    with pytest.raises(callback.CallbackRefused, match="already under way"):  # nobody rung twice
        callback.call_back(question.id, expert)
    sid = fake_twilio.calls[0]["sid"]
    root = twiml(signed_post(f"/twilio/voice/callback?call={call.id}", {"CallSid": sid}))
    assert root.find("Dial") is not None
    db.session.expire_all()
    assert db.session.get(Call, call.id).call_sid == sid


def test_twilio_down_is_a_message_and_nobody_is_called(client, login, asked, fake_twilio):
    question, expert = asked
    fake_twilio.stop()
    with pytest.raises(callback.CallbackRefused, match="cannot be reached"):
        callback.call_back(question.id, expert)
    assert [(c.status, c.outcome) for c in calls()] == [("failed", MISSED)] and audits() == []
    login(expert)  # through the button: a message, no 500
    response = client.post(f"/hotline-callback/{question.id}", follow_redirects=True)
    assert response.status_code == 200 and "cannot be reached" in response.get_data(as_text=True)


def test_twilio_refusing_the_call_says_why(asked, fake_twilio):
    question, expert = asked
    fake_twilio.fail_next(400, 21215, "Account not authorized to call +8613900139000.")
    with pytest.raises(callback.CallbackRefused, match="21215"):
        callback.call_back(question.id, expert)
    assert [c.status for c in calls()] == ["failed"] and audits() == []
    assert callback.call_back(question.id, expert).status == "queued"  # a failed attempt blocks nothing


def test_what_cannot_be_called_back(asked, make_staff, make_farmer, fake_twilio):
    question, expert = asked
    with pytest.raises(callback.CallbackRefused, match="no question"):
        callback.call_back(question.id + 100, expert)
    with pytest.raises(callback.CallbackRefused, match="Only experts"):
        callback.call_back(question.id, make_staff(roles.STAFF))
    stranger = questions.ask(topic="crops", channel="web", text="问题", user=make_farmer(), commit=False)
    stranger.phone = ""
    stranger.user_id = None
    db.session.commit()
    with pytest.raises(callback.CallbackRefused, match="Take question"):  # another's, or nobody's yet
        callback.call_back(stranger.id, expert)
    questions.claim(stranger.id, expert)
    with pytest.raises(callback.CallbackRefused, match="no phone number"):
        callback.call_back(stranger.id, expert)
    assert fake_twilio.calls == [] and calls() == []


@pytest.fixture
def outbox_config(app_config):
    app_config.update({"SMS_BACKEND": "outbox", "TWILIO_ACCOUNT_SID": "", "TWILIO_AUTH_TOKEN": "",
                       "TWILIO_API_BASE": ""})
    return app_config


def test_with_the_outbox_backend_the_call_back_is_refused_clearly(outbox_config, request, client, login):
    question, expert = request.getfixturevalue("asked")
    with pytest.raises(callback.CallbackRefused, match="needs Twilio Voice"):
        callback.call_back(question.id, expert)
    login(expert)
    page = client.post(f"/hotline-callback/{question.id}", follow_redirects=True).get_data(as_text=True)
    assert "needs Twilio Voice" in page
    assert db.session.scalar(select(func.count(Call.id))) == 0


def test_the_status_callback_keeps_the_call_backs_status_and_duration(asked, signed_post):
    question, expert = asked
    call = callback.call_back(question.id, expert)
    twiml(signed_post(f"/twilio/voice/callback/done?call={call.id}", {"CallSid": call.call_sid,
                                                                       "DialCallStatus": "completed"}))
    response = signed_post("/twilio/voice/status", {"CallSid": call.call_sid, "CallStatus": "completed",
                                                    "CallDuration": "80"})
    assert response.status_code < 300
    db.session.expire_all()
    again = db.session.get(Call, call.id)
    assert (again.status, again.duration, again.outcome) == ("completed", 80, CALLED_BACK)
    assert again.ended_at is not None
    # the expert's TwiML asked again after the end (out of order) does not reopen the call
    twiml(signed_post(f"/twilio/voice/callback?call={call.id}", {"CallSid": call.call_sid}))
    db.session.expire_all()
    assert db.session.get(Call, call.id).status == "completed"


def test_twilio_needs_no_csrf_token_but_the_button_does(app_config, request):
    app_config["WTF_CSRF_ENABLED"] = True
    question, expert = request.getfixturevalue("asked")
    signed_post, client = request.getfixturevalue("signed_post"), request.getfixturevalue("client")
    call = callback.call_back(question.id, expert)
    root = twiml(signed_post(f"/twilio/voice/callback?call={call.id}", {"CallSid": call.call_sid}))
    assert root.find("Dial") is not None
    assert signed_post(f"/twilio/voice/callback/done?call={call.id}", {"DialCallStatus": "busy"}).status_code == 200
    response = client.post(f"/hotline-callback/{question.id}")  # a form without its token
    assert response.status_code == 400 and len(calls()) == 1
