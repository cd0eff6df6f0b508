"""The menu engine: where a caller is and what a key does — nothing about how it is
rendered. A voice driver (TwiML today, VoiceXML or a carrier's API later) asks
``enter`` for the first step of a call and ``press`` for each key (or silence), and
renders the ``Step`` it gets: what to say, and either to wait for a key at a menu or
to carry out the node's action (record a question, ring the experts …).

Everywhere: ``*`` repeats, ``#`` goes back one level, ``0`` asks for a person (the
root's ``0`` node when the tree has one). No key for a while says the menu again,
twice, then goodbye; a wrong key says so and repeats. A caller may also say a
menu's title instead of pressing its key (``spoken_key``).

An uploaded recording is played, for Chinese callers, instead of the text it stands
for: such an item of ``Step.say`` is a ``Recorded`` — a string (the text, which a
driver says when it cannot play the file) that also names the file.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from hotline.models import CONNECT, INFO, MENU, PUBLISHED, RETIRED, MenuNode, MenuVersion
from ruralinfo.extensions import db

REPEAT, BACK, PERSON = "*", "#", "0"
KEYS = frozenset("0123456789*#")
SILENCES = 2  # times the menu is said again when no key comes, before goodbye
HANG_UP = "hangup"


class Recorded(str):
    """What is said, with the uploaded recording that is played instead (its file name)."""

    recording: str = ""

    def __new__(cls, text: str, recording: str) -> Recorded:
        item = super().__new__(cls, text)
        item.recording = recording
        return item


@dataclass(frozen=True)
class Node:
    id: int
    parent_id: int | None
    key: str
    titles: dict[str, str]
    prompts: dict[str, str]
    texts: dict[str, str]
    action: str
    topic: str
    recording: str
    children: dict[str, int] = field(default_factory=dict)  # key → node id


@dataclass(frozen=True)
class Tree:
    version_id: int
    root_id: int
    nodes: dict[int, Node]

    def node(self, node_id: int | None) -> Node:
        return self.nodes.get(node_id) or self.nodes[self.root_id]


@dataclass
class Step:
    """What the driver does next: say ``say`` (and play ``recording`` where given), then
    wait for a key at menu ``node_id`` (``action`` MENU), or carry out ``action`` for
    ``topic`` at node ``node_id``, or hang up (``HANG_UP``)."""

    node_id: int
    action: str
    say: list[str] = field(default_factory=list)
    topic: str = ""
    recording: str = ""
    silences: int = 0  # keys missed in a row at this menu


def load(version: MenuVersion) -> Tree:
    rows = db.session.scalars(select(MenuNode).where(MenuNode.version_id == version.id)).all()
    nodes, root = {}, None
    for row in rows:
        nodes[row.id] = Node(row.id, row.parent_id, row.key, {"zh": row.title("zh"), "en": row.title("en")},
                             {"zh": row.prompt("zh"), "en": row.prompt("en")},
                             {"zh": row.text("zh"), "en": row.text("en")}, row.action, row.topic, row.recording)
        if row.parent_id is None:
            root = row.id
    for row in rows:
        if row.parent_id is not None and row.parent_id in nodes:
            nodes[row.parent_id].children[row.key] = row.id
    return Tree(version.id, root, nodes)


_cache: dict[tuple[str, int], Tree] = {}


def published() -> Tree:
    """The tree callers hear (a published version never changes: kept once loaded)."""
    version = db.session.scalar(select(MenuVersion).where(MenuVersion.status == PUBLISHED)
                                .order_by(MenuVersion.id.desc()).limit(1))
    key = (str(db.engine.url), version.id)
    if key not in _cache:
        _cache[key] = load(version)
    return _cache[key]


def of_version(version_id: int | None) -> Tree:
    """The tree of a version a call started on — it keeps it to the end, even when another
    is published meanwhile; the published one when that version is gone or not published
    yet (a draft changes: never cached)."""
    key = (str(db.engine.url), version_id)
    if key in _cache:  # only published (or retired) versions are kept: they never change
        return _cache[key]
    version = db.session.get(MenuVersion, version_id) if version_id is not None else None
    if version is None or version.status not in (PUBLISHED, RETIRED):
        return published()
    _cache[key] = load(version)
    return _cache[key]


def enter(tree: Tree, language: str, greeting: str = "") -> Step:
    """The first step of a call: a greeting (the caller's name, when known) and the main menu."""
    step = _at_menu(tree, tree.node(tree.root_id), language)
    if greeting:
        step.say.insert(0, greeting)
    return step


def press(tree: Tree, node_id: int, key: str | None, language: str, silences: int = 0) -> Step:
    """The next step after ``key`` (None: no key came) at menu ``node_id``."""
    here = tree.node(node_id)
    if here.action != MENU:
        here = tree.node(here.parent_id)
    with force_locale(language):
        if key is None or key == "":
            if silences >= SILENCES:
                return Step(here.id, HANG_UP, [_("We did not hear a key. Thank you for calling, goodbye.")])
            step = _at_menu(tree, here, language)
            step.say.insert(0, _("Sorry, we did not hear a key."))
            step.silences = silences + 1
            return step
        if key == REPEAT:
            return _at_menu(tree, here, language)
        if key == BACK:
            return _at_menu(tree, tree.node(here.parent_id), language)
        if key in here.children:
            return _go(tree, tree.node(here.children[key]), language)
        if key == PERSON:
            person = tree.node(tree.root_id).children.get(PERSON)
            if person is not None:
                return _go(tree, tree.node(person), language)
            return Step(here.id, CONNECT, topic="general")
        step = _at_menu(tree, here, language)
        step.say.insert(0, _("Sorry, that key is not in this menu."))
        return step


def _go(tree: Tree, node: Node, language: str) -> Step:
    if node.action == MENU:
        return _at_menu(tree, node, language)
    if node.action == INFO:  # read it, then the menu it is in again
        step = _at_menu(tree, tree.node(node.parent_id), language)
        step.say.insert(0, _recorded(node.texts[language] or node.titles[language], node.recording, language))
        if node.recording:
            step.recording = node.recording
        return step
    prompt = node.prompts[language]
    say = [_recorded(prompt, node.recording, language)] if prompt or (node.recording and language == "zh") else []
    return Step(node.id, node.action, say, topic=node.topic, recording=node.recording)


def _at_menu(tree: Tree, node: Node, language: str) -> Step:
    prompt = node.prompts[language] or menu_prompt(tree, node, language)
    return Step(node.id, MENU, [_recorded(prompt, node.recording, language)], recording=node.recording)


def _recorded(text: str, recording: str, language: str) -> str:
    """``text``, or its recording for a Chinese caller (the recordings are Chinese)."""
    return Recorded(text, recording) if recording and language == "zh" else text


_NOISE = re.compile(r"[\s\W_]+")
_SPOKEN_DIGITS = {"零": "0", "一": "1", "幺": "1", "二": "2", "两": "2", "三": "3", "四": "4", "五": "5",
                  "六": "6", "七": "7", "八": "8", "九": "9", "zero": "0", "one": "1", "two": "2",
                  "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9"}


def _plain(text: str) -> str:
    return _NOISE.sub("", unicodedata.normalize("NFKC", text or "").lower())


def spoken_key(tree: Tree, node_id: int, words: str, language: str) -> str | None:
    """The key of menu ``node_id`` that ``words`` (what a caller said) names: a child's
    title in either language (said alone or within a sentence, 我要问种植业), or a key
    said as a number (三, "three"). None when the words name none of them."""
    here = tree.node(node_id)
    if here.action != MENU:
        here = tree.node(here.parent_id)
    said = _plain(words)
    if not said:
        return None
    key = spoken_digit(said)
    if key is not None:
        return key if key in here.children or key in (REPEAT, BACK, PERSON) else None
    found = []
    for key, child in here.children.items():
        for title in (tree.node(child).titles["zh"], tree.node(child).titles["en"]):
            plain = _plain(title)
            if plain and (plain == said or plain in said or (len(said) >= 2 and said in plain)):
                found.append((plain != said, -len(plain), key))
    return min(found)[2] if found else None


def spoken_digit(words: str) -> str | None:
    """The key ``words`` say as a number (三, "three", 3), or None."""
    said = _plain(words)
    return _SPOKEN_DIGITS.get(said, said if len(said) == 1 and said.isdigit() and said.isascii() else None)


def hints(tree: Tree, node_id: int, language: str) -> list[str]:
    """What a caller may say at menu ``node_id``: its keys' titles, in the caller's language."""
    here = tree.node(node_id)
    return [tree.node(child).titles[language]
            for _key, child in sorted(here.children.items(), key=lambda item: (item[0] == "0", item[0]))]


def menu_prompt(tree: Tree, node: Node, language: str) -> str:
    """What a menu without a prompt of its own says: each key and its title, then the
    keys that work everywhere."""
    with force_locale(language):
        choices = [_("for %(title)s press %(key)s", title=tree.node(child).titles[language], key=key)
                   for key, child in sorted(node.children.items(), key=lambda item: (item[0] == "0", item[0]))]
        ends = [_("to hear this again press star")]
        if node.parent_id is not None:
            ends.append(_("to go back press hash"))
        comma, stop = ("，", "。") if language == "zh" else ("; ", ".")
        return comma.join(choices + ends) + stop
