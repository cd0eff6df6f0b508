"""The Twilio voice driver: a ``drivers.Turn`` as TwiML, built with the twilio library.

Voices and languages (checked against Twilio's documentation):

- ``<Say>`` takes a ``voice`` — ``man``/``woman``, or an Amazon Polly or Google voice as
  ``Polly.<Name>`` / ``Google.<name>`` — and a ``language`` locale; an invalid pair fails
  the verb (twilio.com/docs/voice/twiml/say, …/say/text-speech, whose example is
  ``<Say language="en-US" voice="Polly.Joanna">``). Polly's Mandarin voice is Zhiyu,
  language code ``cmn-CN`` (Amazon Polly added it in 2018, the only Mandarin voice):
  ``HOTLINE_VOICE`` defaults to ``Polly.Zhiyu``; English callers hear Polly.Joanna, en-US.
- ``<Gather input="dtmf speech">`` recognises speech in the BCP-47 ``language`` given
  (default en-US; a malformed tag is warning 13512/13331) with optional ``hints``
  (comma-separated words and phrases: a comma inside a title is made a space). Mandarin (Simplified, China) is ``cmn-Hans-CN``
  in the speech-recognition language list Twilio passes to its providers, so a caller
  may say a menu title or a product; the keypad always works beside it.
- ``<Record>``: ``maxLength``, ``playBeep``, ``finishOnKey``, an ``action`` requested
  when the caller is done (not at all when nothing was recorded: Twilio goes on to the
  next verb — a ``<Redirect>`` here) and a ``recordingStatusCallback`` once the file is
  ready. Its built-in transcription is not for Mandarin, so it is not asked for.
- ``<Dial>`` rings up to 10 ``<Number>``s at once, the first to answer takes the call;
  ``callerId`` must be a number of the account: ``HOTLINE_NUMBER`` when it is a full
  number (+…), else the number the farmer dialled (a short 12316 is no caller ID).
"""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from twilio.twiml.voice_response import Dial, Gather, VoiceResponse
from werkzeug.routing import BuildError

from hotline import drivers, prompts
from hotline.drivers import DIAL, GATHER, HANG_UP, RECORD, Turn
from hotline.menu import Recorded

ENGLISH_VOICE = ("Polly.Joanna", "en-US")
MANDARIN_LANGUAGE = "cmn-CN"  # Polly Zhiyu's language code
SPEECH_LANGUAGES = {"zh": "cmn-Hans-CN", "en": "en-US"}  # what <Gather> recognises, per caller language
DIAL_TIMEOUT = 20  # seconds the experts' phones ring
MAX_NUMBERS = 10  # Twilio rings at most ten numbers at once
RECORD_SILENCE = 8  # seconds of silence that end a recording
SCREEN_SECONDS = 8  # an expert who picked up has this long to press 1


class TwilioDriver:
    """Renders turns as TwiML for the blueprint ``voice`` (``hotline.voice_views``)."""

    name = "twilio"
    mimetype = "application/xml"

    def __init__(self, config: dict):
        self.voice = config.get("HOTLINE_VOICE") or "Polly.Zhiyu"
        self.timeout = int(config.get("HOTLINE_TIMEOUT") or 5)
        self.caller_id = config.get("HOTLINE_NUMBER") or ""

    def render(self, turn: Turn) -> str:
        """TwiML for ``turn``: what is said, then the Gather, Record, Dial or Hangup."""
        response = VoiceResponse()
        if turn.then == GATHER:
            speech = bool(turn.hints)
            gather = Gather(input="dtmf speech" if speech else "dtmf", num_digits=1, timeout=self.timeout,
                            action=self._url("voice.step", turn), method="POST",
                            language=SPEECH_LANGUAGES.get(turn.language, "cmn-Hans-CN") if speech else None,
                            hints=", ".join(hint.replace(",", " ") for hint in turn.hints) if speech else None, speech_timeout="auto" if speech else None)
            self._speak(gather, turn)
            response.append(gather)
            response.redirect(self._url("voice.step", turn), method="POST")  # no key: Twilio goes on to here
        elif turn.then == RECORD:
            self._speak(response, turn)
            response.record(max_length=turn.max_length, play_beep=True, finish_on_key="#", timeout=RECORD_SILENCE,
                            action=self._url("voice.recording", turn), method="POST",
                            recording_status_callback=self._url("voice.recording_status", turn, rec=turn.recording),
                            recording_status_callback_method="POST", recording_status_callback_event="completed")
            response.redirect(self._url("voice.recording", turn), method="POST")  # nothing recorded
        elif turn.then == DIAL:
            self._speak(response, turn)
            shown = self.caller_id if self.caller_id.startswith("+") else (turn.caller_id or self.caller_id)
            dial = Dial(caller_id=shown or None, timeout=DIAL_TIMEOUT, answer_on_bridge=True, action=self._url("voice.dial", turn),
                        method="POST")
            screen = current_app.config["PUBLIC_BASE_URL"].rstrip("/") + url_for(
                "voice.screen", call=turn.call, at=turn.at or None, _external=False)
            for number in turn.numbers[:MAX_NUMBERS]:
                dial.number(number, url=screen, method="POST")  # the expert presses 1 before being joined
            response.append(dial)
        elif turn.then == HANG_UP:
            self._speak(response, turn)
            response.hangup()
        return str(response)

    def nothing(self) -> str:
        """An empty ``<Response/>``: Twilio then ends the call."""
        return str(VoiceResponse())

    def recordings_asked(self, response: str) -> set[str]:
        """The ``rec`` of every ``<Record>``'s status callback in a TwiML response."""
        try:
            root = ElementTree.fromstring(response)
        except ElementTree.ParseError:
            return set()
        found = set()
        for record in root.iter("Record"):
            query = parse_qs(urlsplit(record.get("recordingStatusCallback", "")).query)
            found.update(query.get("rec", []))
        return found

    def screen(self, *, call: str, topic_label: str, language: str) -> str:
        """``<Gather>`` one key from the expert; anything else (a voicemail's greeting,
        silence) reaches ``<Hangup>``: that leg ends and the others ring on."""
        response = VoiceResponse()
        action = current_app.config["PUBLIC_BASE_URL"].rstrip("/") + url_for("voice.take", call=call,
                                                                            _external=False)
        gather = Gather(input="dtmf", num_digits=1, timeout=SCREEN_SECONDS, action=action, method="POST")
        self._speak(gather, Turn(language, [_screen_words(topic_label, language)]))
        response.append(gather)
        response.hangup()
        return str(response)

    def joined(self, taken: bool) -> str:
        """An empty ``<Response/>`` joins the expert to the caller; ``<Hangup>`` ends their leg."""
        response = VoiceResponse()
        if not taken:
            response.hangup()
        return str(response)

    def _speak(self, verb, turn: Turn) -> None:
        """Each item said (or played, when it is a recording that can be served), with
        the caller's voice and language on every ``<Say>``."""
        voice, language = ENGLISH_VOICE if turn.language == "en" else (self.voice, MANDARIN_LANGUAGE)
        for item in turn.say:
            url = _prompt_url(item.recording) if isinstance(item, Recorded) and item.recording else None
            if url:
                verb.play(url)
            elif str(item).strip():
                verb.say(str(item), voice=voice, language=language)

    def _url(self, endpoint: str, turn: Turn, **extra) -> str:
        path = url_for(endpoint, n=turn.step, at=turn.at or None, **extra, _external=False)
        return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path


def _screen_words(topic_label: str, language: str) -> str:
    with force_locale(language):
        return _("A farmer is calling the hotline about %(topic)s. Press 1 to take the call.", topic=topic_label)


def _prompt_url(name: str) -> str | None:
    """Where Twilio fetches an uploaded prompt; None (say the text instead) for a file
    ``<Play>`` cannot play (Ogg) or while the prompts' endpoint is not there."""
    if not prompts.twilio_plays(name):
        return None
    try:
        path = url_for("voice_prompts.audio", name=name, _external=False)
    except BuildError:
        current_app.logger.warning("recorded prompt %s: no voice_prompts.audio endpoint, the text is said", name)
        return None
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path


def make(config: dict) -> TwilioDriver:
    """The driver for an app's ``config`` (the registry's factory)."""
    return TwilioDriver(config)


drivers.register("twilio", make)
