"""What each step of a call does, for any voice driver: the menu engine's ``Step``
carried out (a recording to take, experts to ring, notices, the market, letters or
common questions to read) and the small dialogues those open, as a ``drivers.Turn``.

Where a caller is lives in the call (``Call.node_id``: a menu, or the action node of a
dialogue) and, inside a dialogue, in ``at`` — handed out with each turn and back with
the next step (a driver keeps it in its URLs, which the platform signs):

- ``faq.<answer ids>`` — a topic's common questions, key n hears answer n;
- ``market.<product ids>`` — the products offered, key n (or the product's name said);
- ``mail.<letter id>`` — the letter just read: 1 next, 2 answer by voice;
- ``q`` / ``r.<letter id>`` — after recording a question / a spoken answer;
- a topic code — after ringing that topic's experts.

In a dialogue too ``*`` repeats, ``#`` goes back to the menu it was opened from, ``0``
asks for a person, and silence is met twice before goodbye. Called inside the caller's
``force_locale``.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import ngettext

from hotline import menu, roster, topics
from hotline import voice_content as content
from hotline.drivers import DIAL, GATHER, HANG_UP, RECORD, Turn
from hotline.models import (CONNECT, CONNECTED, FAQ, HUNG_UP, IN_MENU, MAILBOX, MARKET, MENU, MISSED, NOTICES,
                            QUESTION, Call, PublishedAnswer)
from mailbox.models import Product
from ruralinfo.extensions import db

QUESTION_AT, REPLY = "q", "r"  # after recording a question / a spoken answer
FAQ_AT, MARKET_AT, MAIL_AT = "faq", "market", "mail"
DIALOGUES = {FAQ_AT: FAQ, MARKET_AT: MARKET, MAIL_AT: MAILBOX}  # which node each is opened from
PATH_MAX = 500
CONNECTED_STATUSES = ("completed", "answered")


@dataclass(frozen=True)
class Said:
    """What came with a step: a key (``Digits``) or words (``SpeechResult``); neither is silence."""

    digits: str = ""
    speech: str = ""


def greet(call: Call) -> Turn:
    """The greeting and the main menu."""
    tree = menu.of_version(call.version_id)
    hotline = tree.node(tree.root_id).titles[call.language]
    return carry_out(call, tree, menu.enter(tree, call.language, content.greeting(call.user, hotline)))


def next_turn(call: Call, at: str, said: Said) -> Turn:
    """The turn after a key, words or silence, at the menu or in the dialogue ``at``."""
    tree = menu.of_version(call.version_id)
    _note(call, said)
    kind, _dot, args = (at or "").partition(".")
    if kind in DIALOGUES and tree.node(call.node_id).action == DIALOGUES[kind]:
        return _in_dialogue(call, tree, kind, args, said)
    key = key_of(said.digits)
    if key is None and said.speech.strip():
        key = menu.spoken_key(tree, call.node_id, said.speech, call.language)
        if key is None:
            step = menu.press(tree, call.node_id, menu.REPEAT, call.language)
            step.say.insert(0, _("Sorry, we did not understand."))
            return carry_out(call, tree, step)
    return carry_out(call, tree, menu.press(tree, call.node_id, key, call.language, call.silences))


def key_of(digits: str | None) -> str | None:
    """The key pressed; None for none; ``?`` for anything that is not one key (``12``, ``ab``)."""
    text = unicodedata.normalize("NFKC", digits or "").strip()
    if not text:
        return None
    return text if len(text) == 1 and text in menu.KEYS else "?"


def carry_out(call: Call, tree: menu.Tree, step: menu.Step) -> Turn:
    """The engine's ``step`` as a turn: a menu waits for a key; an action is carried out."""
    call.node_id, call.silences = step.node_id, step.silences
    node = tree.node(step.node_id)
    call.topic = step.topic or node.topic or call.topic
    if step.action == MENU:
        return Turn(call.language, step.say, GATHER, hints=menu.hints(tree, step.node_id, call.language))
    if step.action == menu.HANG_UP:
        if call.outcome == IN_MENU:
            call.outcome = HUNG_UP
        return Turn(call.language, step.say, HANG_UP)
    return ACTIONS[step.action](call, tree, step)


def back(call: Call, tree: menu.Tree, before: list[str]) -> Turn:
    """``before``, then the menu the caller's node is in (at a menu: that menu)."""
    step = menu.press(tree, call.node_id, menu.REPEAT, call.language)
    step.say[:0] = before
    return carry_out(call, tree, step)


# --- the actions ----------------------------------------------------------------------------

def _question(call: Call, tree: menu.Tree, step: menu.Step) -> Turn:
    return _record_question(call, step.topic, step.say)


def _record_question(call: Call, topic: str, before: list[str]) -> Turn:
    """Record a question for ``topic``: the node's prompt, or how to leave one."""
    say = before or [_("After the beep, say your question. Press the hash key when you are done.")]
    return Turn(call.language, say, RECORD, at=QUESTION_AT, recording=f"{QUESTION_AT}.{topic or topics.GENERAL}")


def _connect(call: Call, tree: menu.Tree, step: menu.Step) -> Turn:
    """Ring every expert on duty for the topic at once; nobody on duty: leave a question."""
    topic = step.topic or topics.GENERAL
    numbers = [expert.phone for expert in roster.on_duty(topic) if expert.phone]
    if numbers:
        call.expert_id = None  # who takes this ringing is named when they press 1
        say = step.say + [_("Please hold: we are ringing the expert on duty.")]
        return Turn(call.language, say, DIAL, at=topic, numbers=numbers, caller_id=call.to_phone)
    call.outcome = MISSED
    return _record_question(call, topic, step.say + [
        _("No expert is on duty for this topic now."),
        _("You may leave your question: after the beep, say it, then press the hash key.")])


def _notices(call: Call, tree: menu.Tree, step: menu.Step) -> Turn:
    return back(call, tree, step.say + content.notices(call.user, call.language))


def _market(call: Call, tree: menu.Tree, step: menu.Step) -> Turn:
    offered = content.products_on_offer()
    if not offered:
        return back(call, tree, step.say + [_("There are no open posts now.")])
    return _market_turn(call, offered, step.say)


def _market_turn(call: Call, offered: list[Product], before: list[str]) -> Turn:
    return Turn(call.language, before + [content.product_offer(offered, call.language)], GATHER,
                at=f"{MARKET_AT}." + ".".join(str(product.id) for product in offered),
                hints=[product.label(call.language) for product in offered])


def _mailbox(call: Call, tree: menu.Tree, step: menu.Step) -> Turn:
    if call.user is None:
        return back(call, tree, step.say + [_("Only registered farmers have a mailbox. Your village liaison can "
                                              "register you.")])
    letter = content.next_unread(call.user)
    if letter is None:
        return back(call, tree, step.say + [_("You have no new letters.")])
    count = ngettext("You have %(num)s new letter.", "You have %(num)s new letters.", content.unread_count(call.user))
    return _letter_turn(call, letter, step.say + [count])


def _letter_turn(call: Call, letter, before: list[str]) -> Turn:
    return Turn(call.language, before + content.letter_heard(letter), GATHER, at=f"{MAIL_AT}.{letter.id}")


def _faq(call: Call, tree: menu.Tree, step: menu.Step) -> Turn:
    offered = content.answers(step.topic)
    if not offered:
        return back(call, tree, step.say + [_("There are no common questions on this topic yet.")])
    return _faq_turn(call, offered, step.say)


def _faq_turn(call: Call, offered: list[PublishedAnswer], before: list[str]) -> Turn:
    return Turn(call.language, before + [content.answers_offer(offered, call.language)], GATHER,
                at=f"{FAQ_AT}." + ".".join(str(answer.id) for answer in offered))


ACTIONS = {QUESTION: _question, CONNECT: _connect, NOTICES: _notices, MARKET: _market, MAILBOX: _mailbox, FAQ: _faq}


# --- inside a dialogue ----------------------------------------------------------------------

def _in_dialogue(call: Call, tree: menu.Tree, kind: str, args: str, said: Said) -> Turn:
    """A key (or words) in the dialogue ``kind``: ``*`` ``#`` ``0`` and silence as in a
    menu, anything else the dialogue's own choice, or "sorry" and its prompt again."""
    ids = [int(part) for part in args.split(".") if part.isdigit()]
    key = key_of(said.digits)
    if key is None and said.speech.strip():
        if kind == MARKET_AT and (product := content.product_named(said.speech)) is not None:
            call.silences = 0
            return back(call, tree, content.market_report(product, _region(call), call.language))
        key = menu.spoken_digit(said.speech) or "?"
    if key is None:
        if call.silences >= menu.SILENCES:
            call.outcome = HUNG_UP if call.outcome == IN_MENU else call.outcome
            return Turn(call.language, [_("We did not hear a key. Thank you for calling, goodbye.")], HANG_UP)
        call.silences += 1
        return _again(call, kind, ids, [_("Sorry, we did not hear a key.")])
    call.silences = 0
    if key == menu.BACK:
        return back(call, tree, [])
    if key == menu.PERSON:
        return carry_out(call, tree, menu.press(tree, call.node_id, menu.PERSON, call.language))
    if key == menu.REPEAT:
        return _again(call, kind, ids, [])
    chosen = _CHOICES[kind](call, tree, ids, key)
    if chosen is not None:
        return chosen
    sorry = _("Sorry, we did not understand.") if said.speech and not said.digits else \
        _("Sorry, that key is not in this menu.")
    return _again(call, kind, ids, [sorry])


def _again(call: Call, kind: str, ids: list[int], before: list[str]) -> Turn:
    """The dialogue's prompt once more (a letter is read again)."""
    if kind == MAIL_AT:
        letter = content.letter(ids[0], call.user) if ids and call.user is not None else None
        if letter is not None:
            return _letter_turn(call, letter, before)
        return back(call, menu.of_version(call.version_id), before)
    if kind == MARKET_AT:
        return _market_turn(call, _rows(Product, ids), before)
    return _faq_turn(call, _rows(PublishedAnswer, ids), before)


def _choose_answer(call: Call, tree: menu.Tree, ids: list[int], key: str) -> Turn | None:
    if not key.isdigit() or not 1 <= int(key) <= len(ids):
        return None
    offered = _rows(PublishedAnswer, ids)
    answer = db.session.get(PublishedAnswer, ids[int(key) - 1])
    if answer is None or answer.withdrawn_at is not None:
        return _faq_turn(call, offered, [_("That answer is no longer offered.")])
    return _faq_turn(call, offered, content.answer_heard(answer, call.language))


def _choose_product(call: Call, tree: menu.Tree, ids: list[int], key: str) -> Turn | None:
    if not key.isdigit() or not 1 <= int(key) <= len(ids):
        return None
    product = db.session.get(Product, ids[int(key) - 1])
    if product is None:
        return None
    return back(call, tree, content.market_report(product, _region(call), call.language))


def _choose_letter(call: Call, tree: menu.Tree, ids: list[int], key: str) -> Turn | None:
    if call.user is None or not ids or key not in ("1", "2"):
        return None
    if key == "2":
        letter = content.letter(ids[0], call.user)
        if letter is None or not content.answerable(letter):
            return None
        return Turn(call.language, [_("After the beep, say your answer to this letter. Press the hash key when "
                                      "you are done.")], RECORD, at=f"{REPLY}.{ids[0]}", recording=f"{REPLY}.{ids[0]}")
    return next_letter(call, tree, ids[0], [])


_CHOICES = {FAQ_AT: _choose_answer, MARKET_AT: _choose_product, MAIL_AT: _choose_letter}


def next_letter(call: Call, tree: menu.Tree, after_id: int, before: list[str]) -> Turn:
    """The next unread letter (older than ``after_id``), or back to the menu when none is left."""
    letter = content.next_unread(call.user, before_id=after_id) if call.user is not None else None
    if letter is None:
        return back(call, tree, before + [_("There are no more new letters.")])
    return _letter_turn(call, letter, before)


# --- after a recording, after the experts were rung -----------------------------------------

def after_recording(call: Call, at: str, heard: bool) -> Turn:
    """Thanks (or "we heard nothing"), then the next letter or the menu."""
    tree = menu.of_version(call.version_id)
    kind, _dot, letter_id = (at or "").partition(".")
    if kind == REPLY and letter_id.isdigit() and tree.node(call.node_id).action == MAILBOX:
        said = _("Your answer is recorded: it goes to the sender as a letter.") if heard else \
            _("We did not hear an answer.")
        return next_letter(call, tree, int(letter_id), [said])
    said = _("Thank you: your question is recorded. Its number will come to you by SMS.") if heard else \
        _("We did not hear a question.")
    return back(call, tree, [said])


def after_dial(call: Call, at: str, dial_status: str, bridged: str = "") -> Turn:
    """A conversation held: goodbye. Busy, no answer, failed, or nobody joined (a voicemail
    picked up and pressed nothing): leave a question for the topic. ``bridged`` is Twilio's
    DialBridged ("true"/"false"); without it, an expert who pressed 1 counts."""
    joined = bridged == "true" or (bridged != "false" and call.expert_id is not None)
    if dial_status in CONNECTED_STATUSES and joined:
        call.outcome = CONNECTED
        return Turn(call.language, [_("Thank you for calling, goodbye.")], HANG_UP)
    call.outcome = MISSED
    topic = at if at in topics.TOPICS else topics.GENERAL
    return _record_question(call, topic, [_("The experts cannot take your call now."),
                                          _("You may leave your question: after the beep, say it, then press "
                                            "the hash key.")])


# --- helpers --------------------------------------------------------------------------------

def _note(call: Call, said: Said) -> None:
    """The path: keys in order, words said in quotes, ``-`` for silence."""
    key = key_of(said.digits)
    if key is None:
        words = "".join(said.speech.split())[:20]
        entry = f"“{words}”" if words else "-"
    else:
        entry = key
    call.path = f"{call.path} {entry}".strip()[:PATH_MAX]


def _rows(model, ids: list[int]) -> list:
    """Rows of ``model`` in the order of ``ids`` (those still there)."""
    found = {row.id: row for row in db.session.scalars(db.select(model).where(model.id.in_(ids)))} if ids else {}
    return [found[row_id] for row_id in ids if row_id in found]


def _region(call: Call) -> str | None:
    return call.user.region_code if call.user is not None else None
