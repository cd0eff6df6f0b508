"""A test client that walks the hotline's TwiML the way Twilio does, over signed requests.

It dials in (``POST /twilio/voice``), reads each response's verbs in order — ``<Say>``
and ``<Play>`` are heard, ``<Redirect>`` is followed at once, ``<Hangup>`` (or running
out of verbs) ends the call — and stops where Twilio would wait for the caller: at a
``<Gather>`` (then ``press``, ``say`` or ``wait`` for the time-out: Twilio goes on to the
verb after the Gather), at a ``<Record>`` (``record`` posts its action and then fires the
recording status callback; ``record_nothing`` goes on as Twilio does when nothing was
recorded) and at a ``<Dial>`` (``dial`` posts its action with a chosen DialCallStatus).
``hang_up`` sends the call's final status callback. Every request carries a real
``X-Twilio-Signature`` for the absolute URL the TwiML named.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from itertools import count

from flask import current_app

from ruralinfo.sms.webhooks import sign

_sids = count(1)


@dataclass
class Heard:
    """One thing the caller heard: said (with the voice and language it was said in) or played."""

    verb: str
    text: str
    voice: str = ""
    language: str = ""


@dataclass
class Waiting:
    verb: ET.Element
    rest: list[ET.Element] = field(default_factory=list)


class CallWalker:
    """One call, walked. ``heard`` is everything heard so far, ``last`` since the last action."""

    def __init__(self, client, *, phone: str = "+8613900000001", sid: str | None = None, to: str = "12316"):
        self.client = client
        self.sid = sid or f"CA{next(_sids):032x}"
        self.phone, self.to = phone, to
        self.heard: list[Heard] = []
        self.last: list[Heard] = []
        self.documents: list[str] = []
        self.requests: list[tuple[str, dict]] = []
        self.waiting: Waiting | None = None
        self.ended = False
        self.recording: dict | None = None  # the last recording's callback (to repeat it)

    # --- what the caller does ------------------------------------------------------------------

    def dial_in(self) -> CallWalker:
        return self._post(self._base() + "/twilio/voice", {"CallStatus": "ringing"})

    def press(self, digits: str) -> CallWalker:
        gather = self._expect("Gather")
        return self._post(gather.get("action") or self.requests[-1][0], {"Digits": digits})

    def say(self, words: str, confidence: str = "0.9") -> CallWalker:
        gather = self._expect("Gather")
        assert "speech" in (gather.get("input") or ""), "this Gather takes no speech"
        return self._post(gather.get("action") or self.requests[-1][0],
                          {"SpeechResult": words, "Confidence": confidence})

    def wait(self) -> CallWalker:
        """No key before the time-out: Twilio goes on to the verb after the Gather."""
        waiting = self._expect_waiting("Gather")
        self.last = []
        return self._run(waiting.rest)

    def record(self, seconds: int = 12, *, sid: str | None = None, callback: bool = True,
               callback_first: bool = False) -> CallWalker:
        """Speak for ``seconds`` and press #: the action, then the recording's status callback."""
        record = self._expect("Record")
        sid = sid or f"RE{next(_sids):032x}"
        url = f"https://api.twilio.com/2010-04-01/Accounts/AC{'0' * 32}/Recordings/{sid}"
        self.recording = {"url": record.get("recordingStatusCallback"),
                          "params": {"RecordingSid": sid, "RecordingUrl": url, "RecordingDuration": str(seconds),
                                     "RecordingStatus": "completed", "RecordingChannels": "1",
                                     "RecordingSource": "RecordVerb"}}
        if callback and callback_first:
            self.recording_callback()
        self._post(record.get("action"), {"RecordingSid": sid, "RecordingUrl": url,
                                          "RecordingDuration": str(seconds), "Digits": "#"})
        if callback and not callback_first:
            self.recording_callback()
        return self

    def record_nothing(self) -> CallWalker:
        """Nothing was recorded: Twilio requests no action and goes on to the next verb."""
        waiting = self._expect_waiting("Record")
        self.last = []
        return self._run(waiting.rest)

    def recording_callback(self):
        """Fire (again) the last recording's status callback; returns the response."""
        assert self.recording and self.recording["url"], "no recording to call back about"
        return self._send(self.recording["url"], self.recording["params"])

    def dial(self, status: str = "completed", duration: int = 60, *, key: str = "1",
             bridged: bool | None = None) -> CallWalker:
        """The experts' phones ring; with ``completed`` the first picks up, hears who calls
        (``screened``) and presses ``key`` (1 takes the call), then the Dial's action, with
        DialBridged as it went (or ``bridged``: another leg, screened before, was joined)."""
        dial = self._expect("Dial")
        joined = False
        if status == "completed":
            self.screened = self.screen(dial.find("Number"), key)
            joined = self.screened[-1:] == ["joined"]
        bridged = "true" if (joined if bridged is None else bridged) else "false"
        return self._post(dial.get("action") or self.requests[-1][0],
                          {"DialCallStatus": status, "DialCallDuration": str(duration), "DialBridged": bridged,
                           "DialCallSid": f"CA{next(_sids):032x}"})

    def screen(self, number: ET.Element, key: str) -> list[str]:
        """The expert's leg: Twilio requests the Number's url when they pick up, then the
        Gather's action with their key. Returns what the expert heard."""
        leg = {"CallSid": f"CA{next(_sids):032x}", "AccountSid": "AC" + "0" * 32, "From": self.to,
               "To": (number.text or "").strip(), "Direction": "outbound-dial", "CallStatus": "in-progress"}
        url = number.get("url")
        whisper = ET.fromstring(self._signed(url, leg).get_data(as_text=True))
        gather = whisper.find("Gather")
        heard = [item.text or "" for item in gather] if gather is not None else []
        if gather is not None and key:
            taken = ET.fromstring(self._signed(gather.get("action"), dict(leg, Digits=key)).get_data(as_text=True))
            heard.append("joined" if taken.find("Hangup") is None else "hung up")
        return heard

    def _signed(self, url: str, params: dict):
        base = self._base()
        assert url and url.startswith(base + "/"), f"{url!r} is not under PUBLIC_BASE_URL"
        response = self.client.post(url[len(base):], data=params, headers={"X-Twilio-Signature": sign(url, params)})
        assert response.status_code == 200, response.get_data(as_text=True)
        return response

    def hang_up(self, duration: int = 42):
        """The call's final status callback; returns the response."""
        self.ended = True
        return self._send(self._base() + "/twilio/voice/status",
                          {"CallStatus": "completed", "CallDuration": str(duration)})

    # --- what can be looked at -----------------------------------------------------------------

    @property
    def said(self) -> list[str]:
        return [item.text for item in self.last if item.verb == "Say"]

    @property
    def text(self) -> str:
        """Everything heard since the last action, as one string."""
        return " ".join(item.text for item in self.last)

    @property
    def gather(self) -> ET.Element | None:
        return self.waiting.verb if self.waiting is not None and self.waiting.verb.tag == "Gather" else None

    @property
    def waiting_for(self) -> str | None:
        return self.waiting.verb.tag if self.waiting is not None else None

    # --- how Twilio does it --------------------------------------------------------------------

    def _base(self) -> str:
        return current_app.config["PUBLIC_BASE_URL"].rstrip("/")

    def _expect(self, tag: str) -> ET.Element:
        return self._expect_waiting(tag).verb

    def _expect_waiting(self, tag: str) -> Waiting:
        assert not self.ended, "the call has ended"
        assert self.waiting is not None and self.waiting.verb.tag == tag, \
            f"waiting at {self.waiting_for}, not {tag}: {self.documents[-1] if self.documents else ''}"
        return self.waiting

    def _params(self, extra: dict) -> dict:
        return {"CallSid": self.sid, "AccountSid": "AC" + "0" * 32, "From": self.phone, "To": self.to,
                "Direction": "inbound", "CallStatus": "in-progress", "ApiVersion": "2010-04-01", **extra}

    def _send(self, url: str, extra: dict):
        """One signed POST to an absolute URL under PUBLIC_BASE_URL; returns the response."""
        base = self._base()
        assert url and url.startswith(base + "/"), f"{url!r} is not under PUBLIC_BASE_URL"
        params = self._params(extra)
        self.requests.append((url, params))
        return self.client.post(url[len(base):], data=params, headers={"X-Twilio-Signature": sign(url, params)})

    def _post(self, url: str, extra: dict, *, fresh: bool = True) -> CallWalker:
        response = self._send(url, extra)
        assert response.status_code == 200, (response.status_code, response.get_data(as_text=True))
        if fresh:
            self.last = []
        self.waiting = None
        return self._run_document(response.get_data(as_text=True))

    def _run_document(self, document: str) -> CallWalker:
        self.documents.append(document)
        root = ET.fromstring(document)
        assert root.tag == "Response", document
        return self._run(list(root))

    def _run(self, verbs: list[ET.Element]) -> CallWalker:
        self.waiting = None
        for index, verb in enumerate(verbs):
            if verb.tag in ("Say", "Play"):
                self._hear(verb)
            elif verb.tag == "Gather":
                for inner in verb:
                    self._hear(inner)
                self.waiting = Waiting(verb, verbs[index + 1:])
                return self
            elif verb.tag in ("Record", "Dial"):
                self.waiting = Waiting(verb, verbs[index + 1:])
                return self
            elif verb.tag == "Redirect":
                return self._post(verb.text.strip(), {}, fresh=False)
            elif verb.tag == "Hangup":
                break
            else:
                raise AssertionError(f"unexpected verb {verb.tag}")
        self.ended = True
        return self

    def _hear(self, verb: ET.Element) -> None:
        item = Heard(verb.tag, (verb.text or "").strip(), verb.get("voice", ""), verb.get("language", ""))
        self.heard.append(item)
        self.last.append(item)
