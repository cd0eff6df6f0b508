"""The SMS command registry. Feature packages register their keywords here
(``register("卖", "SELL", handler=…)``); the webhook asks ``dispatch`` what to do
with a text. A registered farmer's text is never dropped: what matches no
command goes to the fallback handler (a letter to their liaison point)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ruralinfo.liaison import rules
from ruralinfo.sms import parsing


@dataclass
class Inbound:
    """A text being handled: who sent it (a registered, active account), the
    stored inbound row, and the text as normalized."""

    user: object
    message: object
    text: str
    channel: str = "sms"
    outcome: str = ""  # a handler may name what happened (e.g. "unrouted"): stored as the command


@dataclass
class Command:
    name: str
    keywords: tuple[str, ...]
    handler: Callable[[Inbound, str], str | None]
    exact: bool = False  # the whole message must be the keyword (opt-out words like T, R)
    summary: object = None  # a lazy string for the help text, e.g. _l("SELL what – a supply post")
    # A number must follow the keyword (READ 12), or nothing (READ alone gets the how-to): so
    # that 看看我家葡萄 is a letter to the point, not a command.
    numbered: bool = False


@dataclass
class Registry:
    commands: list[Command] = field(default_factory=list)
    fallback: Callable[[Inbound, str], str | None] | None = None
    # For texts from numbers with no account: (phone, text) -> (command name, reply), or None to pass.
    strangers: list[Callable[[str, str], tuple[str, str | None] | None]] = field(default_factory=list)

    def register(self, *keywords: str, handler, name: str | None = None, exact: bool = False,
                 summary=None, numbered: bool = False) -> None:
        name = name or keywords[0]
        self.commands = [c for c in self.commands if c.name != name]
        self.commands.append(Command(name, tuple(keywords), handler, exact, summary, numbered))

    def summaries(self) -> list[str]:
        return [str(c.summary) for c in self.commands if c.summary is not None]

    def match(self, text: str) -> tuple[Command | None, str]:
        """The command ``text`` starts with (the longest keyword wins) and the rest."""
        cleaned = parsing.strip_noise(text)
        best: tuple[int, Command, str] | None = None
        for command in self.commands:
            for keyword in command.keywords:
                if command.exact and keyword.casefold() in (text.strip().casefold(), cleaned.casefold()):
                    return command, ""  # "?" is all punctuation: compare before stripping
                rest = parsing.split_keyword(cleaned, keyword)
                if rest is None or (command.exact and rest):
                    continue
                if command.numbered and rest and parsing.leading_number(rest)[0] is None:
                    continue
                if best is None or len(keyword) > best[0]:
                    best = (len(keyword), command, rest)
        return (best[1], best[2]) if best else (None, cleaned)


registry = Registry()
PART_BREAK = "\x1e"  # between two texts of one answer (a handler may answer with more than one)


def parts(reply: str | None) -> list[str]:
    """The texts of an answer, in order (none for an empty one)."""
    return [part for part in (reply or "").split(PART_BREAK) if part]


def register(*keywords: str, handler, name: str | None = None, exact: bool = False, summary=None,
             numbered: bool = False) -> None:
    """Add (or replace, by name) a command. ``handler(inbound, rest) -> reply text or None``;
    ``summary`` is its line in the help text; ``numbered``: only with a number after it."""
    registry.register(*keywords, handler=handler, name=name, exact=exact, summary=summary, numbered=numbered)


def register_fallback(handler) -> None:
    """What to do with a registered farmer's text that matches no command."""
    registry.fallback = handler


def register_stranger(handler) -> None:
    """What a text from a number with no account may still do (a caller who is not
    registered rating the answer to their question): ``handler(phone, text)`` returns
    (command name, reply), or None to leave the text to the usual answer."""
    if handler not in registry.strangers:
        registry.strangers.append(handler)


def from_stranger(phone: str, text: str) -> tuple[str, str | None] | None:
    """The first registered stranger handler's (command, reply) for this text, or None."""
    for handler in registry.strangers:
        handled = handler(phone, text)
        if handled is not None:
            return handled
    return None


def dispatch(inbound: Inbound) -> tuple[str, str | None]:
    """Run the matching command: (command name, reply text or None)."""
    command, rest = registry.match(inbound.text)
    if command is not None:
        try:
            reply = command.handler(inbound, rest)
        except rules.PointSuspended as refused:  # a liaison of a suspended point, answering by SMS
            return "refused", str(refused)
        return inbound.outcome or command.name, reply
    if registry.fallback is not None:
        reply = registry.fallback(inbound, inbound.text)
        return inbound.outcome or "fallback", reply
    return "unrouted", None
