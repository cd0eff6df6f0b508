"""Answering a sign-up by SMS (会议通知报名). The grammar (full-width tolerant, any case):

``1`` … ``9``, ``0`` (the whole text)
    that option of the latest open sign-up the farmer received; one not offered gets
    "reply a number from 1 to N"; on a free-answer sign-up, how to answer.
``YES`` ``Y`` ``是`` (the whole text) · ``报名`` ``SIGNUP`` ``SIGN UP`` (alone)
    option 1 (or the option so named: ``是`` among 否/是); "报名" on a free-answer one.
``报名 N`` · ``报名 N 2`` · ``报名 N 不参加`` · ``报名 N 内容``
    sign-up no. N (or the one reminder no. N is about), if the farmer received it:
    option 1, option 2, the option so named, or the free answer. Without a sign-up
    number, the latest open one: ``报名 不参加``, ``报名 2`` (option 2), ``报名参加``
    (option 1), ``报名 2人`` (on a free-answer sign-up: "2人"). A number above 9 that
    names no sign-up the farmer received: "no sign-up notice no. N". Words that ask
    something (``报名的人多吗？``) are a letter to the liaison point, as before.
``回答 N 内容`` · ``ANSWER N text`` · ``回答 内容`` (the latest)
    the free answer, in the farmer's words (on a sign-up with options: a number or an
    option's name, else the list of options).
an option's name, the whole text (``不参加``)
    that option of the latest open sign-up.

A free answer needs its keyword: a bare text, even just after the notice, stays a
letter to the liaison point (the registry's fallback), and so does a digit or an
option's name when the farmer has no sign-up open — except that an answer less than
``replies.LATE`` after a sign-up closed is told politely that it has closed. A bare
``YES`` with no sign-up open is the mailbox's (agreeing to share a number, as
before); ``YES N`` always is.
"""
from __future__ import annotations

import re

from flask_babel import get_locale
from flask_babel import gettext as _

from ruralinfo.broadcasts import replies, texts
from ruralinfo.broadcasts.services import MAX_OPTION, MAX_OPTIONS  # 报名 N: a larger N alone can only be a notice's number
from ruralinfo.sms import commands, parsing

DIGITS = tuple("0123456789")
YES_WORDS = ("YES", "Y", "是")
SIGNUP_WORDS = ("报名", "SIGNUP", "SIGN UP")
ANSWER_WORDS = ("回答", "ANSWER")
SIGNUP_ANSWER = "报名"  # a free-answer sign-up's answer to 报名 / YES
QUESTION = re.compile(r"[?？吗么呢哪几怎]|什么")  # 报名的人多吗？ asks, it does not answer


def _language() -> str:
    return "en" if str(get_locale()).startswith("en") else "zh"


def _answer(inbound: commands.Inbound, signup, *, choice: int | None = None, answer: str | None = None) -> str:
    """Record the answer (in the inbound text's transaction) and confirm it; or say why not."""
    user = inbound.user
    try:
        return replies.record(signup, phone=user.phone, user=user, choice=choice,
                              answer=inbound.text if answer is None else answer, channel=inbound.channel,
                              language=_language(), commit=False)
    except (replies.SignUpClosed, replies.NotAnAnswer) as refused:
        return refused.message


def _named(signup, words: str) -> int | None:
    """The option ``words`` names: its Chinese or English label or the option as written
    (``不参加``, ``not attending``), alone or after its own number (``2 不参加``)."""
    said = words.strip(parsing.SEPARATORS).casefold()
    if not said or not signup.reply_options:
        return None
    number, rest = parsing.leading_number(said)
    for position, option in enumerate(signup.reply_options, start=1):
        names = {option.casefold(), texts.option_label(option, "zh").casefold(),
                 texts.option_label(option, "en").casefold()}
        if said in names or (number == position and rest.strip(parsing.SEPARATORS) in names):
            return position
    return None


def _fallback(inbound: commands.Inbound) -> str | None:
    """What the text would have got without sign-ups: the registry's fallback (a letter to
    the liaison point), stored as such."""
    fallback = commands.registry.fallback
    if fallback is None:
        inbound.outcome = inbound.outcome or "unrouted"
        return None
    reply = fallback(inbound, inbound.text)
    inbound.outcome = inbound.outcome or "fallback"
    return reply


def _closed_or_fallback(inbound: commands.Inbound, matches=lambda signup: True) -> str | None:
    """No sign-up open: a late answer to one that closed lately is told so; anything else
    goes on as before."""
    closed = replies.lately_closed(inbound.user)
    if closed is not None and matches(closed):
        return replies.closed_text(closed, _language())
    return _fallback(inbound)


def digit(inbound: commands.Inbound, _rest: str) -> str | None:
    """``1`` … ``9``: that option of the latest open sign-up."""
    signup = replies.latest_open(inbound.user)
    if signup is None:
        return _closed_or_fallback(inbound)
    if not signup.reply_options:  # a number may be the answer, but only with its keyword
        return replies.how_to_text(signup)
    return _answer(inbound, signup, choice=int(parsing.strip_noise(inbound.text)))


def yes(inbound: commands.Inbound, _rest: str) -> str | None:
    """``YES`` ``Y`` ``是``: option 1 (or the option so named) of the latest open sign-up."""
    signup = replies.latest_open(inbound.user)
    if signup is None:
        if parsing.strip_noise(inbound.text).casefold() == "yes":
            return _mailbox_yes(inbound)
        return _closed_or_fallback(inbound)
    return _default(inbound, signup, parsing.strip_noise(inbound.text))


def _mailbox_yes(inbound: commands.Inbound) -> str | None:
    """A bare YES with no sign-up open is what it was before: the mailbox's agree."""
    for command in commands.registry.commands:
        if command.handler is not yes and any(word.casefold() == "yes" for word in command.keywords):
            inbound.outcome = inbound.outcome or command.name
            return command.handler(inbound, "")
    return _fallback(inbound)


def _default(inbound: commands.Inbound, signup, said: str) -> str:
    """报名 / YES alone: the option so named, else option 1; on a free-answer sign-up, 报名."""
    if signup.reply_options:
        return _answer(inbound, signup, choice=_named(signup, said) or 1)
    return _answer(inbound, signup, answer=SIGNUP_ANSWER)


def signup(inbound: commands.Inbound, rest: str) -> str | None:
    """``报名``, ``报名 N``, ``报名 N 2``, ``报名 不参加``, ``报名 N 内容``."""
    return _keyword(inbound, rest, default=True)


def answer(inbound: commands.Inbound, rest: str) -> str | None:
    """``回答 N 内容`` / ``ANSWER N text``: a free answer (or an option, by number or name)."""
    return _keyword(inbound, rest, default=False)


def _keyword(inbound: commands.Inbound, rest: str, *, default: bool) -> str | None:
    user = inbound.user
    number, after = parsing.leading_number(rest)
    if number is not None:
        named = replies.received(user, number)
        if named is not None:
            if not replies.is_open(named):
                return replies.closed_text(named, _language())
            return _give(inbound, named, after, default=default)
    current = replies.latest_open(user)
    meant_a_notice = number is not None and not after and number > MAX_OPTIONS
    if current is not None and not meant_a_notice:  # 报名 2, 报名 2人: the answer to the latest
        return _give(inbound, current, rest, default=default)
    if number is not None:
        return _("You have no sign-up notice no. %(n)s.", n=number)
    closed = replies.lately_closed(user)
    if closed is not None and (not rest or _named(closed, rest) is not None):
        return replies.closed_text(closed, _language())
    if rest:  # 报名的人多吗: words, with nothing to answer, are a letter as before
        return _fallback(inbound)
    return _("You have no sign-up open now.")


def _give(inbound: commands.Inbound, signup, words: str, *, default: bool) -> str | None:
    """The answer ``words`` gives to ``signup`` (after the keyword and the sign-up's number).
    After 报名, words that ask something (报名的人多吗？) are no answer: a letter, as before."""
    if not words:
        if default:
            return _default(inbound, signup, "")
        return replies.how_to_text(signup) if not signup.reply_options else replies.choices_text(signup, _language())
    if default and QUESTION.search(words):
        return _fallback(inbound)
    if not signup.reply_options:
        return _answer(inbound, signup, answer=words)
    choice = _named(signup, words)
    if choice is None:
        number, tail = parsing.leading_number(words)
        # 报名参加 / 报名 YES: option 1; other words (报名我不去了, 报名参加不了) are no answer: the choices again
        yes = words.strip().upper() in (*YES_WORDS, "参加")
        choice = number if number is not None and not tail else (1 if default and yes else None)
        if choice is None and number is not None:  # 报名 N 1 with a notice N not theirs: the answer after it
            then, rest = parsing.leading_number(tail)
            choice = then if then is not None and not rest else _named(signup, tail)
    if choice is None:
        return replies.choices_text(signup, _language())
    return _answer(inbound, signup, choice=choice)


def named_option(inbound: commands.Inbound, rest: str) -> str | None:
    """Any text no command took: an option's name answers the latest open sign-up;
    everything else goes to the registry's fallback, as before."""
    if len(rest) > MAX_OPTION:  # longer than any option's name: a letter, without a query
        return _fallback(inbound)
    signup = replies.latest_open(inbound.user)
    if signup is not None:
        choice = _named(signup, rest)
        if choice is not None:
            return _answer(inbound, signup, choice=choice)
        return _fallback(inbound)
    return _closed_or_fallback(inbound, matches=lambda closed: _named(closed, rest) is not None)


def register() -> None:
    """The sign-up commands. ``named_option`` has the empty keyword: every other command
    (any keyword is longer) wins over it, and it hands on what is not an option's name
    to the fallback. (A text starting with an ASCII letter or digit never matches the
    empty keyword — ``split_keyword`` wants a word boundary — so an English option's
    name, ``not attending``, reaches the fallback directly: English readers answer by
    number.)"""
    commands.register(*DIGITS, handler=digit, name="signup-digit", exact=True)
    commands.register(*YES_WORDS, handler=yes, name="signup-yes", exact=True)
    commands.register(*SIGNUP_WORDS, handler=signup, name="signup")
    commands.register(*ANSWER_WORDS, handler=answer, name="signup-answer")
    commands.register("", handler=named_option, name="signup-option")
