"""A call's steps happen once each (a repeated or concurrent request for a step gets the
same answer and changes nothing twice), the status callback ends the call once, and
every voice webhook refuses a request that Twilio did not sign."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, event, func, insert, select

from hotline import calls
from hotline.models import Call, CallStep, Question, Recording
from ruralinfo.extensions import db
from tests.hotline.twiml_walker import CallWalker

WEBHOOKS = ("/twilio/voice", "/twilio/voice/step?n=1", "/twilio/voice/recording?n=1&at=q",
            "/twilio/voice/dial?n=1&at=crops", "/twilio/voice/recording-status?n=1&rec=q.crops",
            "/twilio/voice/status")


def _call(sid: str) -> Call:
    db.session.expire_all()
    return db.session.scalar(select(Call).where(Call.call_sid == sid))


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_repeated_step_gets_the_same_answer_and_leaves_one_path_entry(app, client):
    walker = CallWalker(client).dial_in().press("1")
    url, params = walker.requests[-1]
    first = walker.documents[-1]
    again = walker._send(url, params)
    assert again.status_code == 200 and again.get_data(as_text=True) == first
    call = _call(walker.sid)
    assert call.path == "1" and call.steps == 1
    assert _count(CallStep) == 2  # the greeting (step 0) and step 1
    assert walker.press("2").waiting_for == "Record"
    assert _call(walker.sid).path == "1 2"


def test_a_repeated_incoming_call_request_makes_one_call(app, client):
    walker = CallWalker(client).dial_in()
    url, params = walker.requests[0]
    assert walker._send(url, params).get_data(as_text=True) == walker.documents[0]
    assert _count(Call) == 1 and _count(CallStep) == 1


def test_an_old_step_repeated_late_does_not_move_the_caller_back(app, client):
    walker = CallWalker(client).dial_in().press("1")
    late_url, late_params = walker.requests[-1]
    walker.press("#").press("4")
    here = _call(walker.sid).node_id
    walker._send(late_url, late_params)
    call = _call(walker.sid)
    assert call.node_id == here and call.path == "1 # 4"


def test_two_copies_of_a_step_at_once_apply_once(app, client):
    """The copy that loses the race to insert the step's row rolls back all it did and
    answers with the winner's response."""
    walker = CallWalker(client).dial_in()
    call = _call(walker.sid)
    url, params = walker.gather.get("action"), {"Digits": "1"}
    other = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    winner = "<Response><Say>the other copy's answer</Say></Response>"

    raced = []

    def other_copy_commits_first(session, _context, _instances):
        if not raced and any(isinstance(item, CallStep) for item in session.new):
            raced.append(True)
            with other.begin() as conn:
                conn.execute(insert(CallStep.__table__).values(call_id=call.id, number=1, response=winner))

    event.listen(db.session, "before_flush", other_copy_commits_first)
    try:
        response = walker._send(url, params)
    finally:
        event.remove(db.session, "before_flush", other_copy_commits_first)
        other.dispose()
    assert raced
    assert response.get_data(as_text=True) == winner
    call = _call(walker.sid)
    assert call.path == "" and call.steps == 0 and call.node_id is not None
    assert _count(CallStep) == 2


def test_the_status_callback_ends_the_call_once_and_an_unknown_call_changes_nothing(app, client):
    walker = CallWalker(client).dial_in().press("1")
    assert walker.hang_up(duration=73).status_code == 204
    call = _call(walker.sid)
    assert (call.status, call.duration) == ("completed", 73) and call.ended_at is not None
    ended = call.ended_at
    walker._send(walker._base() + "/twilio/voice/status", {"CallStatus": "in-progress", "CallDuration": "5"})
    call = _call(walker.sid)
    assert (call.status, call.duration, call.ended_at) == ("completed", 73, ended)  # a final state is never left

    stranger = CallWalker(client)
    response = stranger._send(stranger._base() + "/twilio/voice/status", {"CallStatus": "completed",
                                                                          "CallDuration": "9"})
    assert response.status_code == 204 and not response.get_data()
    assert _count(Call) == 1


def test_a_busy_or_failed_call_ends_with_its_status(app, client):
    walker = CallWalker(client).dial_in()
    walker._send(walker._base() + "/twilio/voice/status", {"CallStatus": "no-answer"})
    call = _call(walker.sid)
    assert call.status == "no-answer" and call.ended_at is not None and call.duration is None


def test_callbacks_and_actions_for_an_unknown_call_change_nothing(app, client):
    stranger = CallWalker(client)
    base = stranger._base()
    for path, params in (("/twilio/voice/recording?n=2&at=q", {"RecordingSid": "RE1", "RecordingDuration": "9"}),
                         ("/twilio/voice/dial?n=2&at=crops", {"DialCallStatus": "busy"}),
                         ("/twilio/voice/recording-status?n=2&rec=q.crops",
                          {"RecordingSid": "RE2", "RecordingUrl": "https://api.twilio.com/x",
                           "RecordingDuration": "9", "RecordingStatus": "completed"})):
        response = stranger._send(base + path, params)
        assert response.status_code in (200, 204), path
    assert _count(Call) == 0 and _count(Recording) == 0 and _count(Question) == 0


@pytest.mark.parametrize("path", WEBHOOKS)
def test_a_forged_or_unsigned_webhook_is_refused_and_writes_nothing(app, client, path):
    params = {"CallSid": "CA" + "f" * 32, "From": "+8613900000009", "To": "12316", "Digits": "1",
              "CallStatus": "completed", "CallDuration": "30", "RecordingSid": "RE" + "f" * 32,
              "RecordingUrl": "https://api.twilio.com/x", "RecordingDuration": "30", "DialCallStatus": "completed"}
    assert client.post(path, data=params).status_code == 403
    assert client.post(path, data=params, headers={"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"}).status_code == 403
    from ruralinfo.sms.webhooks import sign

    base = app.config["PUBLIC_BASE_URL"].rstrip("/")
    signed_elsewhere = sign(base + path.replace("n=1", "n=2") if "n=1" in path else base + path + "?x=1", params)
    assert client.post(path, data=params, headers={"X-Twilio-Signature": signed_elsewhere}).status_code == 403
    tampered = {**params, "Digits": "2"}
    assert client.post(path, data=tampered, headers={"X-Twilio-Signature": sign(base + path, params)}).status_code \
        == 403
    assert _count(Call) == 0 and _count(CallStep) == 0 and _count(Recording) == 0 and _count(Question) == 0


def test_a_forged_step_for_a_real_call_changes_nothing(app, client):
    walker = CallWalker(client).dial_in()
    response = client.post("/twilio/voice/step?n=1", data={"CallSid": walker.sid, "Digits": "9"},
                           headers={"X-Twilio-Signature": "AAAA"})
    assert response.status_code == 403
    call = _call(walker.sid)
    assert call.path == "" and call.steps == 0 and _count(CallStep) == 1


def test_a_step_without_its_number_is_the_next_one(app, client):
    walker = CallWalker(client).dial_in()
    walker._send(walker._base() + "/twilio/voice/step", {"Digits": "3"})
    call = _call(walker.sid)
    assert call.steps == 1 and call.path == "3"


def test_a_step_for_a_call_never_started_starts_it(app, client):
    walker = CallWalker(client)
    response = walker._send(walker._base() + "/twilio/voice/step?n=4", {"Digits": "1"})
    assert response.status_code == 200 and "<Gather" in response.get_data(as_text=True)
    call = _call(walker.sid)
    assert call is not None and call.path == "" and call.from_phone == walker.phone


def test_the_driver_registry_knows_twilio(app):
    from hotline import drivers

    assert "twilio" in drivers.names()
    assert drivers.get("twilio") is drivers.get("twilio")
    with pytest.raises(RuntimeError):
        drivers.get("carrier-pigeon")
    assert calls.Said().digits == ""
