"""The call simulator's relay: a browser calls the hotline through the real signed voice
webhooks — keys, words, silence, a typed or uploaded recording, the experts rung — and
only as a farmer its user may act as."""
from __future__ import annotations

from datetime import time
from xml.etree import ElementTree

import pytest
from sqlalchemy import func, select

from hotline import calls, drivers, recordings
from hotline.models import VOICE, Call, CallStep, DutyShift, Question, Recording
from ruralinfo import create_app
from ruralinfo.accounts import roles
from ruralinfo.audit.models import AuditEntry
from ruralinfo.extensions import db
from tests.conftest import BALI, CHANGXI, PASSWORD
from tests.hotline.twiml_walker import CallWalker

WEBM = (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\x82\x84webm\x42\x87\x81\x04"
        b"\x18\x53\x80\x67\x01\xff\xff\xff\x16\x54\xae\x6b\xa0\xae\x9e\x86\x86A_OPUS\x63\xa2" + bytes(600))
WORDS = "葡萄叶子发黄，是什么病？"


@pytest.fixture
def instance(app, tmp_path, monkeypatch):
    """The instance folder, in a temporary place (the recordings are kept there)."""
    folder = tmp_path / "instance"
    folder.mkdir()
    monkeypatch.setattr(app, "instance_path", str(folder))
    return folder


@pytest.fixture
def staff(make_staff, login):
    user = make_staff(roles.STAFF)
    login(user)
    return user


@pytest.fixture
def farmer(make_farmer):
    farmer = make_farmer(region_code=CHANGXI, name="Chen Gang")
    farmer.language = "en"
    db.session.commit()
    return farmer


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


class Phone:
    """The page's script: POSTs to the relay, keeping the CallSid it was given."""

    def __init__(self, client, number: str):
        self.client, self.number, self.sid = client, number, ""

    def do(self, action: str, expect_status: int = 200, **form):
        response = self.client.post(f"/dev/call/{self.number}/{action}", data={"sid": self.sid, **form})
        assert response.status_code == expect_status, response.get_data(as_text=True)
        answer = response.get_json()
        self.sid = answer.get("sid", self.sid)
        return answer


def _said(answer) -> list[str]:
    return [line["text"] for line in answer["lines"] if line["kind"] == "say"]


def test_a_whole_call_leaves_one_question_with_the_typed_words_and_its_recording(
        app, client, staff, farmer, instance, make_staff):
    phone = Phone(client, farmer.phone)
    answer = phone.do("start")
    assert phone.sid.startswith("CAsim") and len(phone.sid) == 34
    assert _said(answer)[0].startswith("Hello Chen Gang, welcome to")  # the registered caller, by name
    assert {line["lang"] for line in answer["lines"] if line["kind"] == "say"} == {"en-US"}
    expect = answer["expect"]
    assert (expect["kind"], expect["speech"]) == ("keys", True)
    assert {"Crops", "Fisheries", "Leave a message", "Talk to a person"} <= set(expect["hints"])  # words to say
    answer = phone.do("press", key="1")
    assert answer["lines"][0] == {"who": "caller", "kind": "key", "text": "Pressed 1"}
    answer = phone.do("press", key="2")
    assert answer["expect"] == {"kind": "record", "max_seconds": 120}

    answer = phone.do("record", text=f"  {WORDS} ")
    question = db.session.scalar(select(Question))
    recording = db.session.get(Recording, question.recording_id)
    call = db.session.scalar(select(Call).where(Call.call_sid == phone.sid))
    assert (question.text, question.topic, question.channel, question.user_id, question.call_id) == (
        WORDS, "crops", VOICE, farmer.id, call.id)
    assert (recording.transcript, recording.call_id, recording.content_type, recording.url) == (
        WORDS, call.id, "audio/wav", "")
    assert recording.file.startswith("hotline/recordings/") and recording.seconds == 3
    assert recordings.local_path(recording) == instance / recording.file  # the experts can hear it
    kinds = [(line["who"], line["kind"]) for line in answer["lines"]]
    assert kinds[0] == ("caller", "recorded") and ("system", "question") in kinds and ("system", "sms") in kinds
    filed = next(line for line in answer["lines"] if line["kind"] == "question")
    assert filed["question"] == question.id and str(question.id) in filed["text"]
    assert _said(answer)[0] == "Thank you: your question is recorded. Its number will come to you by SMS."
    assert answer["expect"]["kind"] == "keys"  # back at the crops menu

    expert = make_staff(roles.EXPERT, name="Wang")
    other = app.test_client()
    other.post("/login", data={"phone": expert.phone, "password": PASSWORD})
    heard = other.get(f"/hotline/recordings/{recording.id}")
    assert heard.status_code == 200 and heard.mimetype == "audio/wav" and heard.data[:4] == b"RIFF"

    answer = phone.do("hangup")
    assert answer["expect"] == {"kind": "ended"}
    db.session.refresh(call)
    assert call.status == "completed" and call.duration is not None and call.path == "1 2"
    assert phone.do("press", 409, key="1")["error"] == "This call has ended. Call again."
    assert _count(Question) == 1 and _count(Recording) == 1
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action.like("dev.call.%"))
                                 .order_by(AuditEntry.id)).all()
    assert [e.action for e in entries] == ["dev.call.drive", "dev.call.start", "dev.call.record"]
    assert all(e.actor_id == staff.id and e.target_id == farmer.id for e in entries)
    assert entries[1].details["call"] == call.id and entries[2].details["recording"] == recording.id


def test_a_repeated_recording_callback_files_the_simulators_recording_once(app, client, staff, farmer, instance):
    phone = Phone(client, farmer.phone)
    phone.do("start")
    phone.do("press", key="9")
    phone.do("record", text=WORDS)
    recording = db.session.scalar(select(Recording))
    call = db.session.scalar(select(Call))
    asked = db.session.scalar(select(CallStep.response).where(CallStep.call_id == call.id, CallStep.number == 1))
    callback = ElementTree.fromstring(asked).find("Record").get("recordingStatusCallback")
    n, rec = callback.split("n=")[1].split("&")[0], callback.split("rec=")[1]
    again = calls.recording_ready(drivers.get("twilio"), call_sid=call.call_sid, n=int(n), rec=rec,
                                  recording_sid=recording.sid, url="", seconds=3)
    assert again == "repeated" and _count(Question) == 1


def test_a_recording_kept_for_another_call_is_never_filed_by_this_one(app, client, instance):
    walker = CallWalker(client).dial_in().press("9")
    other = Call(call_sid="CA" + "f" * 32, from_phone="+8613900000999")
    db.session.add(other)
    db.session.flush()
    db.session.add(Recording(sid="RE" + "e" * 32, file="hotline/recordings/x.wav", call_id=other.id, seconds=5))
    db.session.commit()
    walker.record(seconds=5, sid="RE" + "e" * 32)
    assert _count(Question) == 0


def test_a_recording_from_the_microphone_is_kept_as_sent(client, staff, farmer, instance):
    phone = Phone(client, farmer.phone)
    phone.do("start")
    phone.do("press", key="9")
    phone.do("record", text="", seconds="6.2", audio=(_file(WEBM), "question.webm"))
    question = db.session.scalar(select(Question))
    recording = question.recording
    assert (recording.content_type, recording.seconds, recording.transcript, question.text) == (
        "audio/webm", 7, "", "")
    assert (instance / recording.file).read_bytes() == WEBM and recording.file.endswith(".webm")


@pytest.mark.parametrize("upload,message", [
    (b"<html><body>not a sound</body></html>", "This is not a sound recording (WebM, Ogg, MP3 or WAV)."),
    (WEBM.replace(b"A_OPUS", b"V_VP8\x00"), "This is not a sound recording (WebM, Ogg, MP3 or WAV)."),
    (WEBM + bytes(5 * 1024 * 1024), "The recording is too large: 5 MB at most."),
])
def test_an_upload_that_is_not_audio_or_too_large_is_refused(client, staff, farmer, instance, upload, message):
    phone = Phone(client, farmer.phone)
    phone.do("start")
    phone.do("press", key="9")
    answer = phone.do("record", 400, text=WORDS, audio=(_file(upload), "question.webm"))
    assert answer["error"] == message
    assert _count(Recording) == 0 and _count(Question) == 0 and list(instance.rglob("*")) == []
    phone.do("record", text=WORDS)  # still recording: the typed words go in
    assert db.session.scalar(select(Question.text)) == WORDS


def _file(data: bytes):
    import io

    return io.BytesIO(data)


def test_finishing_with_nothing_recorded_goes_on_as_twilio_does(client, staff, farmer, instance):
    phone = Phone(client, farmer.phone)
    phone.do("start")
    phone.do("press", key="9")
    answer = phone.do("record", text="  ")
    assert _said(answer)[0] == "We did not hear a question." and answer["expect"]["kind"] == "keys"
    assert _count(Recording) == 0


def test_words_silence_and_goodbye(client, staff, farmer):
    phone = Phone(client, farmer.phone)
    phone.do("start")
    answer = phone.do("say", words="Fisheries")
    assert answer["lines"][0] == {"who": "caller", "kind": "said", "text": "Fisheries"}
    assert "Leave a question" in answer["expect"]["hints"]  # at the fisheries menu
    assert phone.do("silence")["expect"]["kind"] == "keys"
    assert phone.do("silence")["expect"]["kind"] == "keys"
    answer = phone.do("silence")
    assert answer["expect"] == {"kind": "ended"} and answer["lines"][-1]["kind"] == "note"
    call = db.session.scalar(select(Call))
    assert call.status == "completed" and call.path == "“Fisheries” - - -"


def test_the_experts_are_rung_only_in_words(client, staff, farmer, make_staff, instance):
    expert = make_staff(roles.EXPERT, name="Wang", phone="+8613811112222")
    db.session.add(DutyShift(user_id=expert.id, topic="general", weekdays="0123456", starts=time(0),
                             ends=time(23, 59, 59, 999999)))
    db.session.commit()
    phone = Phone(client, farmer.phone)
    phone.do("start")
    answer = phone.do("press", key="0")
    assert answer["expect"] == {"kind": "dial", "numbers": ["138****2222"]}
    assert "+8613811112222" not in str(answer) and "138****2222" in answer["lines"][-1]["text"]
    answer = phone.do("dial", outcome="no-answer")
    assert answer["expect"]["kind"] == "record"  # leave a question instead
    phone.do("silence")
    phone.do("press", key="0")
    answer = phone.do("dial", outcome="completed")
    assert answer["expect"] == {"kind": "ended"}
    call = db.session.scalar(select(Call))
    assert (call.outcome, call.status) == ("connected", "completed")
    assert phone.do("dial", 409, outcome="completed")["error"] == "This call has ended. Call again."


def test_the_browser_names_no_webhook_and_only_keys_of_the_keypad(client, staff, farmer):
    phone = Phone(client, farmer.phone)
    phone.do("start")
    assert phone.do("press", 400, key="12")["error"] == "Press one key of the keypad."
    assert phone.do("press", 400, key="a")
    assert phone.do("record", 409, text=WORDS)["error"] == "The hotline is not recording now."
    assert phone.do("dial", 409, outcome="completed")["error"] == "Nobody is being rung now."
    stranger = Phone(client, farmer.phone)
    stranger.sid = "CAsim" + "0" * 29  # a call this browser never made
    assert stranger.do("press", 409, key="1")["error"] == "This call has ended. Call again."
    response = client.post(f"/dev/call/{farmer.phone}/press",
                           data={"sid": phone.sid, "key": "1", "action": "http://evil.example/x"})
    assert response.status_code == 200 and db.session.scalar(select(Call.path)) == "1"


def test_the_pages(client, staff, farmer):
    index = client.get("/dev/call").get_data(as_text=True)
    assert "Chen Gang" in index and f'href="/dev/call/{farmer.phone}"' in index
    assert 'href="/dev/call/+8613912345678"' in index
    assert client.get("/dev/call?number=13912345678").headers["Location"].endswith("/dev/call/+8613912345678")
    response = client.get(f"/dev/call/{farmer.phone}")
    page = response.get_data(as_text=True)
    assert response.headers["Permissions-Policy"] == "camera=(), microphone=(self), geolocation=()"
    assert page.count("data-key=") == 12 and "/static/js/call.js" in page and "<script>" not in page
    assert 'href="/dev/call"' in page  # beside the phone simulator in the navigation


def test_a_number_without_an_account_may_call(client, staff, instance):
    phone = Phone(client, "+8613912345678")
    assert "欢迎" in _said(phone.do("start"))[0]  # no account: Chinese
    phone.do("press", key="9")
    phone.do("record", text="有人收葡萄吗")
    question = db.session.scalar(select(Question))
    assert (question.user_id, question.phone, question.text) == (None, "+8613912345678", "有人收葡萄吗")


def test_a_liaison_acts_only_as_their_own_points_farmers(client, make_point, make_staff, make_farmer, login):
    point = make_point("长溪村联络点", (CHANGXI,))
    make_point("巴里村联络点", (BALI,))
    mine, theirs = make_farmer(region_code=CHANGXI, name="本村人"), make_farmer(region_code=BALI, name="外村人")
    login(make_staff(roles.LIAISON, point=point))
    index = client.get("/dev/call").get_data(as_text=True)
    assert "本村人" in index and "外村人" not in index
    assert 'href="/liaison/letters/"' in index  # the liaison's own navigation stays
    assert client.get(f"/dev/call/{theirs.phone}").status_code == 404
    for action in ("start", "press", "say", "silence", "record", "dial", "hangup"):
        assert client.post(f"/dev/call/{theirs.phone}/{action}", data={"key": "1"}).status_code == 404
    assert _count(Call) == 0
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action.like("dev.call.%"))) == 0
    assert client.get(f"/dev/call/{mine.phone}").status_code == 200
    assert Phone(client, mine.phone).do("start")["expect"]["kind"] == "keys"


def test_a_suspended_points_liaison_cannot_call(client, make_point, make_staff, make_farmer, login):
    point = make_point("长溪村联络点", (CHANGXI,), status="suspended")
    farmer = make_farmer(region_code=CHANGXI)
    login(make_staff(roles.LIAISON, point=point))
    assert client.get(f"/dev/call/{farmer.phone}").status_code == 200  # looking is allowed
    response = client.post(f"/dev/call/{farmer.phone}/start")
    assert response.status_code == 403 and "suspended" in response.get_json()["error"]
    assert _count(Call) == 0


def test_farmers_and_visitors_cannot_use_it(client, make_farmer):
    assert client.get("/dev/call").status_code == 302  # to the log-in page
    assert client.post("/dev/call/+8613912345678/start").status_code == 302
    assert _count(Call) == 0


@pytest.mark.parametrize("backend,asked", [("outbox", False), ("twilio", False), ("twilio", True)])
def test_there_is_no_call_simulator_unless_asked_for_and_with_the_outbox(app_config, make_staff, backend, asked):
    extra = {"SMS_BACKEND": "twilio", "TWILIO_ACCOUNT_SID": "AC" + "1" * 32, "TWILIO_AUTH_TOKEN": "t" * 32,
             "TWILIO_FROM": "+15005550006"} if backend == "twilio" else {}
    app = create_app({**app_config, **extra, "DEV_SIMULATORS": asked})
    with app.app_context():
        user = make_staff(roles.ADMIN)
        client = app.test_client()
        client.post("/login", data={"phone": user.phone, "password": PASSWORD})
        assert client.get("/dev/call").status_code == 404
        assert client.post(f"/dev/call/{user.phone}/start").status_code == 404
        assert "dev_call" not in app.blueprints
        assert _count(Call) == 0
