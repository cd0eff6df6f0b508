"""Recordings heard through the app: a question's for the console's people, a spoken
reply's for the letter's sender and recipient, nobody else's. Twilio's are fetched
server-side with the account's credentials (from the local fake of its API, which
redirects to a media store that must not get them); the browser sees only the app's URL."""
from __future__ import annotations

import uuid

import pytest

from hotline import services
from hotline.models import VOICE, Recording
from mailbox import services as mailbox
from ruralinfo.accounts import roles
from ruralinfo.accounts import services as accounts
from ruralinfo.extensions import db
from tests.conftest import CHANGXI, PASSWORD
from tests.hotline.conftest import ACCOUNT_SID, AUTH_TOKEN

SOUND = b"ID3\x03\x00\x00\x00" + bytes(range(256)) * 40  # an MP3 file's first bytes, and some more


@pytest.fixture
def fake(fake_twilio):
    return fake_twilio


@pytest.fixture
def app_config(app_config, fake):
    app_config.update({"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                       "TWILIO_API_BASE": fake.url})
    return app_config


@pytest.fixture
def instance(app, tmp_path, monkeypatch):
    """The instance folder, in a temporary place."""
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    return tmp_path


def _recording(url="", file="", seconds=12) -> Recording:
    recording = Recording(sid="RE" + uuid.uuid4().hex, url=url, file=file, seconds=seconds)
    db.session.add(recording)
    db.session.commit()
    return recording


def _question(recording) -> int:
    return services.ask(topic="crops", channel=VOICE, recording=recording, phone="+8613900002222").id


def _kept(instance, name="question.mp3") -> str:
    (instance / "hotline" / "recordings").mkdir(parents=True, exist_ok=True)
    (instance / "hotline" / "recordings" / name).write_bytes(SOUND)
    return f"hotline/recordings/{name}"


@pytest.fixture
def as_farmer(client, login):
    def log_in(farmer):
        accounts.set_password(farmer, PASSWORD, actor=None, channel="cli")
        login(farmer)
    return log_in


def test_an_expert_hears_a_question_kept_here(client, make_staff, login, instance):
    recording = _recording(file=_kept(instance))
    question_id = _question(recording)
    login(make_staff(roles.EXPERT))
    response = client.get(f"/hotline/recordings/{recording.id}")
    assert response.status_code == 200 and response.data == SOUND
    assert response.mimetype == "audio/mpeg" and "no-store" in response.headers["Cache-Control"]
    page = client.get(f"/hotline/questions/{question_id}").get_data(as_text=True)
    assert f'<audio controls preload="none" src="/hotline/recordings/{recording.id}">' in page


@pytest.mark.parametrize("role", [roles.STAFF, roles.ADMIN])
def test_the_bureau_and_administrators_hear_questions_too(client, make_staff, login, instance, role):
    recording = _recording(file=_kept(instance))
    _question(recording)
    login(make_staff(role))
    assert client.get(f"/hotline/recordings/{recording.id}").status_code == 200


def test_nobody_else_hears_a_question(client, make_farmer, make_staff, make_point, login, as_farmer, instance):
    recording = _recording(file=_kept(instance))
    _question(recording)
    assert client.get(f"/hotline/recordings/{recording.id}").status_code == 302  # log in first
    login(make_staff(roles.LIAISON, point=make_point()))
    assert client.get(f"/hotline/recordings/{recording.id}").status_code == 404
    client.post("/logout")
    as_farmer(make_farmer(name="张大山"))
    assert client.get(f"/hotline/recordings/{recording.id}").status_code == 404
    assert client.get("/hotline/recordings/999").status_code == 404


def test_a_spoken_reply_is_heard_by_the_letters_sender_and_recipient_only(
        client, make_farmer, make_staff, login, as_farmer, instance):
    sender, recipient, stranger = (make_farmer(name=name) for name in ("李秀英", "陈阿毛", "张大山"))
    recording = _recording(file=_kept(instance, "reply.mp3"))
    letter = mailbox.send_letter(sender=sender, recipient=recipient, body="（语音回复）", channel="voice")
    letter.recording_id = recording.id
    db.session.commit()
    as_farmer(recipient)
    assert client.get(f"/hotline/recordings/{recording.id}").data == SOUND
    page = client.get(f"/mailbox/letters/{letter.id}").get_data(as_text=True)
    assert f'src="/hotline/recordings/{recording.id}"' in page  # the letter page plays it
    client.post("/logout")
    as_farmer(sender)
    assert client.get(f"/hotline/recordings/{recording.id}").status_code == 200
    client.post("/logout")
    as_farmer(stranger)
    assert client.get(f"/hotline/recordings/{recording.id}").status_code == 404
    client.post("/logout")
    login(make_staff(roles.EXPERT))  # not a question's: the experts have no business with it
    assert client.get(f"/hotline/recordings/{recording.id}").status_code == 404


def test_a_spoken_letter_to_a_liaison_point_is_heard_by_its_liaisons(client, make_farmer, make_staff, make_point,
                                                                     login, instance):
    point = make_point("长溪村联络点", (CHANGXI,))
    other = make_point("巴里村联络点", ("330282104203",))
    recording = _recording(file=_kept(instance, "to-point.mp3"))
    letter = mailbox.send_letter(sender=make_farmer(), recipient_point=point, body="（语音）", channel="voice")
    letter.recording_id = recording.id
    db.session.commit()
    login(make_staff(roles.LIAISON, point=other, name="外村联络员"))
    assert client.get(f"/hotline/recordings/{recording.id}").status_code == 404
    client.post("/logout")
    login(make_staff(roles.LIAISON, point=point, name="联络员"))
    assert client.get(f"/hotline/recordings/{recording.id}").status_code == 200


def test_a_file_outside_the_instance_folder_is_never_served(client, make_staff, login, instance):
    (instance.parent / "secret.mp3").write_bytes(b"not yours")
    recording = _recording(file="../secret.mp3")
    _question(recording)
    login(make_staff(roles.EXPERT))
    assert client.get(f"/hotline/recordings/{recording.id}").status_code == 404


def test_twilios_recording_is_fetched_as_mp3_with_the_accounts_credentials(client, fake, make_staff, login):
    url = fake.add_recording(SOUND)
    sid = url.rsplit("/", 1)[1]
    recording = _recording(url=url)
    question_id = _question(recording)
    login(make_staff(roles.EXPERT))
    response = client.get(f"/hotline/recordings/{recording.id}")
    assert response.status_code == 200 and response.data == SOUND and response.mimetype == "audio/mpeg"
    paths = [path for method, path in fake.requests]
    assert paths[0] == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{sid}.mp3"
    assert paths[1] == f"/media/{sid}.mp3"  # followed to the media store, without credentials
    page = client.get(f"/hotline/questions/{question_id}").get_data(as_text=True)
    assert url not in page and AUTH_TOKEN not in page and ACCOUNT_SID not in page


def test_a_recording_url_as_twilio_sends_it_is_read_from_the_configured_api(client, fake, make_staff, login):
    sid = "RE" + uuid.uuid4().hex
    fake.add_recording(SOUND, sid=sid)
    recording = _recording(url=f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{sid}")
    _question(recording)
    login(make_staff(roles.EXPERT))
    assert client.get(f"/hotline/recordings/{recording.id}").data == SOUND


def test_twilio_failing_is_said_plainly_never_a_500(app, client, fake, make_staff, login):
    gone = _recording(url=f"{fake.url}/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/RE{'0' * 32}")
    elsewhere = _recording(url="https://evil.example.org/2010-04-01/Accounts/AC1/Recordings/RE1")
    stored = _recording(url=fake.add_recording(SOUND))
    for recording in (gone, elsewhere, stored):
        _question(recording)
    login(make_staff(roles.EXPERT))
    assert client.get(f"/hotline/recordings/{gone.id}").status_code == 404  # Twilio has no such recording
    before = len(fake.requests)
    assert client.get(f"/hotline/recordings/{elsewhere.id}").status_code == 404  # credentials go to Twilio only
    assert len(fake.requests) == before
    app.config["TWILIO_AUTH_TOKEN"] = "wrong"
    assert client.get(f"/hotline/recordings/{stored.id}").status_code == 502
    app.config["TWILIO_AUTH_TOKEN"] = AUTH_TOKEN
    fake.stop()
    assert client.get(f"/hotline/recordings/{stored.id}").status_code == 502


def test_nothing_else_under_the_instance_folder_is_served(client, make_staff, login, instance):
    (instance / "config.py").write_text("SECRET_KEY = 'x'")
    (instance / "hotline" / "prompts").mkdir(parents=True)
    (instance / "hotline" / "prompts" / "a.mp3").write_bytes(SOUND)
    login(make_staff(roles.EXPERT))
    for file in ("config.py", "hotline/prompts/a.mp3", "hotline/recordings/../../config.py"):
        recording = _recording(file=file)
        _question(recording)
        assert client.get(f"/hotline/recordings/{recording.id}").status_code == 404, file
