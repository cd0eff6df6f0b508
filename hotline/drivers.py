"""Voice drivers: what turns the hotline's next turn into the response a voice platform
wants. Twilio's (TwiML, ``hotline.twiml``) is the first; a domestic IVR (VoiceXML, or a
carrier's API) registers another name here and renders the same ``Turn`` — the menu
engine (``hotline.menu``) and the call services (``hotline.calls``) never learn which.

A driver also reads its own stored responses back (``recordings_asked``): a recording
callback is believed only when the step it names really asked the caller to record.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from flask import current_app

# What happens after the words of a turn are heard.
GATHER = "gather"    # wait for a key (or words) for step ``step``, at ``at``
RECORD = "record"    # record the caller (for ``recording``), then step ``step``
DIAL = "dial"        # ring ``numbers`` together, then step ``step`` with how it went
HANG_UP = "hangup"   # end the call
THEN = (GATHER, RECORD, DIAL, HANG_UP)


@dataclass
class Turn:
    """One answer to the caller, the same for every driver: ``say`` in ``language`` (an
    item that is a ``menu.Recorded`` may be played instead), then ``then``. ``step`` is
    the number of the caller's next request and ``at`` where it continues — both are
    handed back unchanged by the driver (in its URLs) and never read by it."""

    language: str
    say: list[str] = field(default_factory=list)
    then: str = GATHER
    step: int = 0
    at: str = ""
    hints: list[str] = field(default_factory=list)  # GATHER: words a caller may say instead of a key
    numbers: list[str] = field(default_factory=list)  # DIAL: the phones rung together
    caller_id: str = ""  # DIAL: the number the caller dialled (shown when the hotline's is no full number)
    call: str = ""  # DIAL: the call's id (CallSid), for the experts' "press 1 to take it" before they are joined
    recording: str = ""  # RECORD: what the recording is for, handed to the recording callback
    max_length: int = 120  # RECORD: seconds at most

    def __post_init__(self) -> None:
        if self.then not in THEN:
            raise ValueError(f"unknown turn {self.then!r}")


class Driver(Protocol):
    name: str
    mimetype: str

    def render(self, turn: Turn) -> str:
        """The platform's response for ``turn``."""

    def nothing(self) -> str:
        """A response that does nothing (an answer to a request that changes nothing)."""

    def recordings_asked(self, response: str) -> set[str]:
        """The ``Turn.recording`` values of the recordings a stored response asked for."""

    def screen(self, *, call: str, topic_label: str, language: str) -> str:
        """What an expert who picks up hears before being joined: who calls about what, and
        a key to take the call (no key: the expert's leg ends, a voicemail never takes it)."""

    def joined(self, taken: bool) -> str:
        """The answer to the expert's key: join the call (``taken``) or end the expert's leg."""


_FACTORIES: dict[str, Callable[[dict], Driver]] = {}


def register(name: str, factory: Callable[[dict], Driver]) -> None:
    """Make a driver available under ``name``; ``factory`` builds it from the app config."""
    _FACTORIES[name] = factory


def names() -> list[str]:
    """The registered drivers' names."""
    return sorted(_FACTORIES)


def get(name: str) -> Driver:
    """The driver ``name`` for this app (built once per app)."""
    ext = current_app.extensions.setdefault("voice_drivers", {})
    if name not in ext:
        if name not in _FACTORIES:
            raise RuntimeError(f"unknown voice driver {name!r}; known: {', '.join(names())}")
        ext[name] = _FACTORIES[name](current_app.config)
    return ext[name]
