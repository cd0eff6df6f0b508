"""The call simulator's relay: it does for a browser what Twilio does for a phone.

It posts to the hotline's real voice webhooks, signed exactly as Twilio signs
(``ruralinfo.sms.webhooks.sign``, through ``current_app.test_client()`` as the phone
simulator does), and reads each TwiML answer the way Twilio does: ``<Say>`` and
``<Play>`` are heard, ``<Redirect>`` is followed at once, and it stops where Twilio
would wait for the caller — at a ``<Gather>``, a ``<Record>`` or a ``<Dial>`` — or
ends the call at ``<Hangup>`` (or when the verbs run out), posting the call's final
status callback as Twilio would.

Where a call waits (the action URL and the verbs after it) is kept in the session,
keyed by CallSid: the browser only says what the caller did, never which URL to call.
"""
from __future__ import annotations

import copy
import time
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from flask import current_app, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from hotline.call_log import mask_phone
from ruralinfo.sms.webhooks import sign

SESSION = "dev_calls"  # session key: {CallSid: where that call waits}
KEEP = 3  # calls remembered per browser; older ones are forgotten
MAX_HOPS = 12  # requests per action at most (a Redirect loop ends the call)
VOICE_PATH = "/twilio/voice"
DIAL_OUTCOMES = ("completed", "no-answer", "busy")


class RelayError(Exception):
    """The action does not fit where the call is; ``str()`` says why, in the user's language."""


@dataclass
class Turn:
    """What the browser is told after an action: lines heard and what the hotline waits for."""

    sid: str
    lines: list[dict] = field(default_factory=list)
    expect: dict = field(default_factory=lambda: {"kind": "ended"})

    def add(self, who: str, kind: str, text: str, **extra) -> None:
        self.lines.append({"who": who, "kind": kind, "text": text, **extra})

    def as_json(self) -> dict:
        return {"sid": self.sid, "lines": self.lines, "expect": self.expect}


# --- the session's calls ---------------------------------------------------------------------

def _calls() -> dict:
    return dict(session.get(SESSION) or {})


def state(sid: str, phone: str) -> dict:
    """Where call ``sid`` of ``phone`` waits; RelayError when this browser has no such call."""
    found = _calls().get(sid or "")
    if not found or found.get("phone") != phone:
        raise RelayError(_("This call has ended. Call again."))
    return copy.deepcopy(found)  # changed here, kept only by _save: a failed action leaves it as it was


def _save(sid: str, call: dict | None) -> None:
    calls = _calls()
    calls.pop(sid, None)
    if call is not None:
        calls[sid] = call
    session[SESSION] = dict(list(calls.items())[-KEEP:])


def new_sid(prefix: str) -> str:
    """A fresh Twilio-like SID (two letters and 32 characters), marked as the simulator's."""
    return prefix + "sim" + uuid.uuid4().hex[:29]


# --- what the caller does --------------------------------------------------------------------

def start(phone: str) -> Turn:
    """Dial the hotline from ``phone``: a fresh CallSid, ``POST /twilio/voice``."""
    sid = new_sid("CA")
    call = {"phone": phone, "started": time.time(), "waiting": None}
    turn = Turn(sid)
    turn.add("system", "note", _("Calling %(number)s…", number=hotline_number()))
    _post_and_walk(sid, call, turn, _base() + url_for("voice.incoming"), {"CallStatus": "ringing"})
    return turn


def press(sid: str, phone: str, digits: str) -> Turn:
    call, waiting = _waiting(sid, phone, "Gather")
    turn = Turn(sid)
    turn.add("caller", "key", _("Pressed %(key)s", key=digits))
    _post_and_walk(sid, call, turn, waiting["action"], {"Digits": digits})
    return turn


def say(sid: str, phone: str, words: str) -> Turn:
    call, waiting = _waiting(sid, phone, "Gather")
    if not waiting.get("speech"):
        raise RelayError(_("Here the hotline listens for keys only."))
    turn = Turn(sid)
    turn.add("caller", "said", words)
    _post_and_walk(sid, call, turn, waiting["action"], {"SpeechResult": words, "Confidence": "0.9"})
    return turn


def silence(sid: str, phone: str) -> Turn:
    """No key (or nothing recorded) before the time-out: Twilio goes on to the next verb."""
    call = state(sid, phone)
    waiting = call.get("waiting") or {}
    if waiting.get("verb") not in ("Gather", "Record"):
        raise RelayError(_("The hotline is not waiting for a key now."))
    turn = Turn(sid)
    turn.add("caller", "silence", _("(silence)"))
    call["waiting"] = None
    _walk(sid, call, turn, _parse(waiting.get("rest", [])), 0)
    return turn


def recorded(sid: str, phone: str, recording_sid: str, seconds: int, label: str) -> Turn:
    """The caller spoke and pressed #: the ``<Record>`` action, then its status callback."""
    call, waiting = _waiting(sid, phone, "Record")
    turn = Turn(sid)
    turn.add("caller", "recorded", label)
    params = {"RecordingSid": recording_sid, "RecordingDuration": str(seconds)}
    document = _send(sid, call, waiting["action"], {**params, "Digits": "#"})
    call["url"] = waiting["action"]
    if waiting.get("callback"):
        _send(sid, call, waiting["callback"], {**params, "RecordingStatus": "completed", "RecordingChannels": "1",
                                                "RecordingSource": "RecordVerb"})
    call["waiting"] = None
    _walk_document(sid, call, turn, document, 1)
    return turn


def dialled(sid: str, phone: str, outcome: str) -> Turn:
    """The experts' phones rang: one answered (``completed``), nobody did, or busy."""
    call, waiting = _waiting(sid, phone, "Dial")
    if outcome not in DIAL_OUTCOMES:
        raise RelayError(_("Choose whether an expert answers."))
    turn = Turn(sid)
    turn.add("system", "note", _("An expert answered and talked with the caller.") if outcome == "completed"
             else _("No expert answered."))
    call["waiting"] = None
    if not waiting.get("action"):  # no action: Twilio goes on to the verbs after the Dial
        _walk(sid, call, turn, _parse(waiting.get("rest", [])), 0)
        return turn
    bridged = outcome == "completed" and bool(waiting.get("screen")) and _take_call(sid, call, *waiting["screen"])
    seconds = "60" if outcome == "completed" else "0"
    _post_and_walk(sid, call, turn, waiting["action"], {"DialCallStatus": outcome, "DialCallDuration": seconds,
                                                        "DialBridged": "true" if bridged else "false",
                                                        "DialCallSid": new_sid("CA")})
    return turn


def _take_call(sid: str, call: dict, url: str, number: str) -> bool:
    """The expert's leg as Twilio runs it: their phone requests the screening URL, then
    presses 1 (what they hear is not the caller's: it is not shown). Whether they were joined."""
    if not url:
        return False
    leg = {"CallSid": new_sid("CA"), "To": number, "Direction": "outbound-dial"}
    document = _send(sid, call, url, leg)
    try:
        gather = ET.fromstring(document).find("Gather")
    except ET.ParseError:
        gather = None
    if gather is None or not gather.get("action"):
        return False
    answer = _send(sid, call, gather.get("action"), dict(leg, Digits="1"))
    return "<Hangup" not in answer


def hang_up(sid: str, phone: str) -> Turn:
    """The caller hangs up: the call's final status callback."""
    call = state(sid, phone)
    turn = Turn(sid)
    turn.add("caller", "hangup", _("Hung up."))
    _end(sid, call, turn)
    return turn


def current_recording(sid: str, phone: str) -> dict:
    """Where call ``sid`` waits at a ``<Record>`` (RelayError otherwise)."""
    return _waiting(sid, phone, "Record")[1]


def _waiting(sid: str, phone: str, verb: str) -> tuple[dict, dict]:
    call = state(sid, phone)
    waiting = call.get("waiting") or {}
    if waiting.get("verb") != verb:
        raise RelayError({"Gather": _("The hotline is not waiting for a key now."),
                          "Record": _("The hotline is not recording now."),
                          "Dial": _("Nobody is being rung now.")}[verb])
    return call, waiting


# --- how Twilio does it ----------------------------------------------------------------------

def _base() -> str:
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/")


def hotline_number() -> str:
    """The number a simulated caller dials (``HOTLINE_NUMBER``)."""
    return str(current_app.config.get("HOTLINE_NUMBER") or "12316")


def _send(sid: str, call: dict, url: str, extra: dict) -> str:
    """One signed POST to a voice webhook; the body it answered. Only URLs of the
    hotline's own webhooks (under PUBLIC_BASE_URL) are ever called."""
    base = _base()
    if not (url or "").startswith(base + VOICE_PATH):
        raise RelayError(_("The hotline gave an address the simulator does not call: %(url)s", url=url))
    params = {"CallSid": sid, "AccountSid": "ACsimulator", "From": call["phone"], "To": hotline_number(),
              "Direction": "inbound", "CallStatus": "in-progress", "ApiVersion": "2010-04-01", **extra}
    response = current_app.test_client().post(url[len(base):], data=params,
                                              headers={"X-Twilio-Signature": sign(url, params)})
    if response.status_code not in (200, 204):
        raise RelayError(_("The webhook answered %(code)s.", code=response.status_code))
    return response.get_data(as_text=True)


def _post_and_walk(sid: str, call: dict, turn: Turn, url: str, extra: dict, hops: int = 0) -> None:
    call["waiting"] = None
    document = _send(sid, call, url, extra)
    call["url"] = url  # where a Gather without an action posts to (Twilio: the document's own URL)
    _walk_document(sid, call, turn, document, hops + 1)


def _walk_document(sid: str, call: dict, turn: Turn, document: str, hops: int) -> None:
    try:
        root = ET.fromstring(document)
    except ET.ParseError:
        root = ET.Element("Response")
    _walk(sid, call, turn, list(root) if root.tag == "Response" else [], hops)


def _walk(sid: str, call: dict, turn: Turn, verbs: list[ET.Element], hops: int) -> None:
    """Hear the verbs in order until the hotline waits for the caller, or the call ends."""
    for index, verb in enumerate(verbs):
        if verb.tag in ("Say", "Play"):
            _hear(turn, verb)
        elif verb.tag in ("Gather", "Record", "Dial"):
            if verb.tag == "Gather":
                for inner in verb:
                    _hear(turn, inner)
            _wait(sid, call, turn, verb, verbs[index + 1:])
            return
        elif verb.tag == "Redirect":
            if hops >= MAX_HOPS:
                turn.add("system", "note", _("The hotline kept redirecting the call: it was ended."))
                break
            _post_and_walk(sid, call, turn, (verb.text or "").strip(), {}, hops)
            return
        elif verb.tag == "Hangup":
            break
        else:
            turn.add("system", "note", _("The simulator skipped <%(verb)s>.", verb=verb.tag))
    _end(sid, call, turn)


def _hear(turn: Turn, verb: ET.Element) -> None:
    text = " ".join((verb.text or "").split())
    if verb.tag == "Say" and text:
        turn.add("hotline", "say", text, lang=speech_language(verb.get("language", "")))
    elif verb.tag == "Play" and text:
        url = _playable(text)
        turn.add("hotline", "play", _("(a recorded prompt is played)"), **({"url": url} if url else {}))


def _playable(url: str) -> str | None:
    """A ``<Play>`` URL as the browser can fetch it: a path of this site (None for elsewhere)."""
    base = _base()
    return url[len(base):] if url.startswith(base + "/") else None


def speech_language(language: str) -> str:
    """The BCP-47 tag a browser's speech synthesis knows for a ``<Say>`` language."""
    if not language or language.lower().startswith(("cmn", "zh")):
        return "zh-CN"
    return language


def _wait(sid: str, call: dict, turn: Turn, verb: ET.Element, rest: list[ET.Element]) -> None:
    """Remember where the call waits (server-side) and tell the browser what is expected."""
    waiting = {"verb": verb.tag, "action": verb.get("action") or call.get("url", ""),
               "rest": [ET.tostring(item, encoding="unicode") for item in rest]}
    if verb.tag == "Gather":
        waiting["speech"] = "speech" in (verb.get("input") or "")
        hints = [hint.strip() for hint in (verb.get("hints") or "").split(",") if hint.strip()]
        turn.expect = {"kind": "keys", "speech": waiting["speech"], "hints": hints}
    elif verb.tag == "Record":
        waiting["callback"] = verb.get("recordingStatusCallback") or ""
        waiting["max_length"] = _int(verb.get("maxLength"), 3600)
        turn.expect = {"kind": "record", "max_seconds": waiting["max_length"]}
    else:
        waiting["action"] = verb.get("action") or ""
        rung = [item for item in verb if item.tag == "Number"]
        numbers = [mask_phone((item.text or "").strip()) for item in rung]
        if rung:  # the first to pick up: its "press 1 to take the call", played when an expert answers
            waiting["screen"] = [rung[0].get("url") or "", (rung[0].text or "").strip()]
        turn.add("system", "note", ngettext("No phone really rings: the hotline would ring %(num)s expert: "
                                            "%(numbers)s.", "No phone really rings: the hotline would ring "
                                            "%(num)s experts together: %(numbers)s.", len(numbers),
                                            numbers=", ".join(numbers)))
        turn.expect = {"kind": "dial", "numbers": numbers}
    call["waiting"] = waiting
    _save(sid, call)


def _end(sid: str, call: dict, turn: Turn) -> None:
    """The call is over: Twilio's final status callback, with the call's length."""
    seconds = max(0, int(time.time() - float(call.get("started") or time.time())))
    _save(sid, None)
    turn.expect = {"kind": "ended"}
    try:
        _send(sid, call, _base() + url_for("voice.status"), {"CallStatus": "completed", "CallDuration": str(seconds)})
    except RelayError as failed:
        turn.add("system", "note", str(failed))
    turn.add("system", "note", ngettext("The call ended after %(num)s second.", "The call ended after %(num)s "
                                        "seconds.", seconds))


def _parse(rest: list[str]) -> list[ET.Element]:
    verbs = []
    for item in rest:
        try:
            verbs.append(ET.fromstring(item))
        except ET.ParseError:
            continue
    return verbs


def _int(value: str | None, default: int) -> int:
    try:
        return int(value or "")
    except ValueError:
        return default
