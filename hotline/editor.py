"""The menu editor's rules. Administrators change a draft, never what callers hear: at
most one draft, a copy of the published version made by "start editing"; its nodes are
added, changed, moved and deleted; it is published as a whole, once ``checks.problems``
finds nothing, and the version published before it is retired (kept, never changed).

Restoring a retired version makes a new draft copy of it, checked and published like
any other (so the checks of today apply to it, and it can be touched up first); it is
refused while another draft is open, which would otherwise be lost.

One at a time: every change of which version is the draft or the published one holds
the published version's row (``_lock_menu``), every change of the draft's nodes holds
the draft's row (``_locked_draft``), so two administrators publishing at once leave one
published version, and an edit never lands in a version published meanwhile.
Publishing and restoring are audited (``menu.publish``, ``menu.restore``).
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from hotline import prompts, topics
from hotline.editor_tree import (COMPARED, DIGITS, PERSON, below, compare, draft, free_keys, nodes_of, outline,
                                 problems, walk)
from hotline.models import ACTIONS, DRAFT, MENU, NEEDS_TOPIC, PUBLISHED, RETIRED, MenuNode, MenuVersion
from ruralinfo import locks
from ruralinfo.audit import services as audit
from ruralinfo.audit.services import WEB
from ruralinfo.errors import FieldErrors
from ruralinfo.extensions import db
from ruralinfo.timeutil import now_utc

LIMITS = {"title_zh": 40, "title_en": 80, "prompt_zh": 1000, "prompt_en": 2000, "text_zh": 2000,
          "text_en": 4000}
COPIED = (*COMPARED, "position")
SUMMARY_ITEMS = 20  # names listed per kind of change in the audit entry


class MenuError(FieldErrors):
    """The change is refused; ``errors`` maps a field (or ``menu``) to a message."""


class NotPublishable(MenuError):
    """The draft would trap callers; ``problems`` lists everything wrong with it."""

    def __init__(self, problems: list[str]):
        super().__init__({"menu": str(_l("The draft cannot be published yet."))})
        self.problems = problems


@dataclass
class NodeData:
    """What an administrator writes for a node (the key only matters below the main menu)."""

    title_zh: str = ""
    title_en: str = ""
    prompt_zh: str = ""
    prompt_en: str = ""
    text_zh: str = ""
    text_en: str = ""
    action: str = MENU
    topic: str = ""
    key: str = ""


# --- the draft's nodes ---------------------------------------------------------------------

def add_node(parent: MenuNode, data: NodeData, *, actor=None) -> MenuNode:
    """A new node under menu ``parent`` of the draft, on a free key."""
    _locked_draft(parent.version_id)
    parent = _fresh_node(parent.id)
    if parent.action != MENU:
        raise _refused("action", _l("Only a menu has keys under it: make “%(name)s” a menu first.",
                                    name=parent.title_zh))
    values = _clean(data, root=False)
    _check_key(parent, values["key"])
    node = MenuNode(version_id=parent.version_id, parent=parent, position=len(parent.children), **values)
    db.session.add(node)
    db.session.commit()
    return node


def edit_node(node: MenuNode, data: NodeData, *, actor=None) -> MenuNode:
    """Change what a draft node says and does (and its key under its menu)."""
    _locked_draft(node.version_id)
    node = _fresh_node(node.id)
    values = _clean(data, root=node.parent_id is None)
    values["key"] = values["key"] or node.key  # no key given: it keeps its own
    if node.children and values["action"] != MENU:
        raise _refused("action", _l("“%(name)s” has keys under it: move or delete them first.",
                                    name=node.title_zh))
    if node.parent is not None and values["key"] != node.key:
        _check_key(node.parent, values["key"], moving=node)
    for name, value in values.items():
        setattr(node, name, value)
    db.session.commit()
    return node


def move_node(node: MenuNode, parent_id: int | None, key: str, *, actor=None) -> MenuNode:
    """Put a draft node (with everything under it) under another menu of the draft, on a
    free key there. Never under itself or anything below it."""
    _locked_draft(node.version_id)
    node = _fresh_node(node.id)
    if node.parent_id is None:
        raise _refused("parent_id", _l("The main menu stays where it is."))
    parent = db.session.get(MenuNode, parent_id) if parent_id else None
    if parent is None or parent.version_id != node.version_id or parent.action != MENU:
        raise _refused("parent_id", _l("Choose a menu of the draft."))
    if parent.id == node.id or parent.id in {n.id for n in below(node)}:
        raise _refused("parent_id", _l("“%(name)s” cannot go under itself or under a menu inside it.",
                                       name=node.title_zh))
    _check_key(parent, key, moving=node)
    node.parent, node.key, node.position = parent, key, len(parent.children)
    db.session.commit()
    return node


def delete_node(node: MenuNode, *, actor=None) -> int:
    """Delete a draft node and everything under it; how many nodes went."""
    _locked_draft(node.version_id)
    node = _fresh_node(node.id)
    if node.parent_id is None:
        raise _refused("menu", _l("The main menu cannot be deleted."))
    gone = [node, *below(node)]
    names = {n.recording for n in gone if n.recording}
    db.session.delete(node)  # its children go with it (cascade)
    db.session.commit()
    _prune(names)
    return len(gone)


def set_recording(node: MenuNode, name: str, *, actor=None) -> MenuNode:
    """Play recording ``name`` (``prompts.save``) at this draft node; ``""`` removes it."""
    try:
        _locked_draft(node.version_id)
        node = _fresh_node(node.id)
    except MenuError:
        _prune({name})  # saved for nothing
        raise
    old, node.recording = node.recording, name
    db.session.commit()
    _prune({old} - {name, ""})
    return node


# --- the draft as a whole ------------------------------------------------------------------

def start_editing(*, actor=None) -> tuple[MenuVersion, bool]:
    """The draft: the open one, or a new copy of the published version; and whether it is new."""
    current = _lock_menu()
    existing = draft()
    if existing is not None:
        db.session.rollback()
        return existing, False
    if current is None:
        raise _refused("menu", _l("No version is published: there is nothing to copy."))
    version = _copy(current, actor, str(_l("Copy of version %(number)s", number=current.id)))
    db.session.commit()
    return version, True


def discard(*, actor=None) -> None:
    """Throw the draft away (what callers hear does not change)."""
    _lock_menu()
    version = draft()
    if version is None:
        raise _refused("menu", _l("There is no draft: it was published or discarded meanwhile."))
    locks.lock_rows(MenuVersion.id, [version.id])  # wait for an edit in flight
    names = {node.recording for node in nodes_of(version) if node.recording}
    db.session.delete(version)
    db.session.commit()
    _prune(names)


def publish(*, actor=None, note: str = "", channel: str = WEB) -> MenuVersion:
    """Callers hear the draft from their next call; the version before it is retired.
    Raises ``NotPublishable`` with every problem when the draft would trap a caller."""
    before = _lock_menu()
    version = draft()
    if version is None:
        raise _refused("menu", _l("There is no draft to publish: it was published or discarded meanwhile."))
    locks.lock_rows(MenuVersion.id, [version.id])  # an edit in flight lands first, and is checked
    db.session.expire_all()
    found = problems(version)
    if found:
        db.session.rollback()
        raise NotPublishable(found)
    values = {"status": PUBLISHED, "published_at": now_utc(), "published_by_id": getattr(actor, "id", None)}
    if note.strip():
        values["note"] = note.strip()[:200]
    done = db.session.execute(update(MenuVersion).where(MenuVersion.id == version.id, MenuVersion.status == DRAFT)
                              .values(**values).execution_options(synchronize_session=False)).rowcount
    if done != 1:
        raise _refused("menu", _l("There is no draft to publish: it was published or discarded meanwhile."))
    db.session.execute(update(MenuVersion).where(MenuVersion.status == PUBLISHED, MenuVersion.id != version.id)
                       .values(status=RETIRED).execution_options(synchronize_session=False))
    audit.record("menu.publish", ("hotline_menu_versions", version.id), actor=actor, channel=channel,
                 details=summary(before, version))
    db.session.commit()
    db.session.expire_all()
    return db.session.get(MenuVersion, version.id)


def restore(version: MenuVersion, *, actor=None, channel: str = WEB) -> MenuVersion:
    """A new draft copying retired ``version``, to be checked and published like any other."""
    version_id = version.id
    _lock_menu()
    version = db.session.get(MenuVersion, version_id)
    if version is None or version.status != RETIRED:
        raise _refused("menu", _l("Only an earlier (retired) version can be restored."))
    if draft() is not None:
        raise _refused("menu", _l("A draft is being edited: publish or discard it first, then restore."))
    copy = _copy(version, actor, str(_l("Restored from version %(number)s", number=version.id)))
    audit.record("menu.restore", ("hotline_menu_versions", version.id), actor=actor, channel=channel,
                 details={"draft": copy.id})
    db.session.commit()
    return copy


def summary(before: MenuVersion | None, after: MenuVersion) -> dict:
    """What publishing ``after`` changes for callers, compared with ``before``: the places
    added, removed and changed, each named by its keys and titles from the main menu."""
    found = compare(before, after)
    details = {"previous": before.id if before is not None else None,
               **{kind: [name for name, _node in found[kind]] for kind in ("added", "removed", "changed")}}
    return {key: (value[:SUMMARY_ITEMS] + ["…"] if isinstance(value, list) and len(value) > SUMMARY_ITEMS
                  else value) for key, value in details.items() if value not in ([], None)}


# --- helpers -------------------------------------------------------------------------------

def _refused(name: str, message) -> MenuError:
    db.session.rollback()
    return MenuError({name: str(message)})


def _lock_menu() -> MenuVersion | None:
    """Hold the published version's row until the transaction ends (re-read: it may have
    changed while we waited); the published version, or None if there is none."""
    for _attempt in range(5):
        current = db.session.scalar(select(MenuVersion.id).where(MenuVersion.status == PUBLISHED)
                                    .order_by(MenuVersion.id.desc()).limit(1))
        if current is None:
            return None
        locks.lock_rows(MenuVersion.id, [current])
        db.session.expire_all()
        version = db.session.get(MenuVersion, current)
        if version is not None and version.status == PUBLISHED:
            return version
        db.session.rollback()
    raise _refused("menu", _l("Someone else is changing the menu: try again."))


def _locked_draft(version_id: int) -> MenuVersion:
    """Hold the draft's row; the draft, re-read. Refused when it is no longer a draft."""
    locks.lock_rows(MenuVersion.id, [version_id])
    db.session.expire_all()
    version = db.session.get(MenuVersion, version_id)
    if version is None or version.status != DRAFT:
        raise _refused("menu", _l("Only the draft can be changed: start editing (or it was published or "
                                  "discarded meanwhile)."))
    return version


def _fresh_node(node_id: int) -> MenuNode:
    node = db.session.get(MenuNode, node_id)
    if node is None:
        raise _refused("menu", _l("That place in the menu was deleted meanwhile."))
    return node


def _clean(data: NodeData, *, root: bool) -> dict:
    """The node's values, stripped; every problem at once as a ``MenuError``."""
    values = {name: (getattr(data, name) or "").strip() for name in LIMITS}
    values.update(action=data.action or (MENU if root else ""), topic=data.topic or "",
                  key="" if root else (data.key or "").strip())
    errors = {}
    if not values["title_zh"]:
        errors["title_zh"] = _l("Give it a Chinese title.")
    for name, limit in LIMITS.items():
        if len(values[name]) > limit:
            errors[name] = _l("At most %(n)s characters.", n=limit)
    if values["action"] not in ACTIONS:
        errors["action"] = _l("Choose what it does.")
    elif root and values["action"] != MENU:
        errors["action"] = _l("The main menu must be a menu.")
    if values["topic"] and values["topic"] not in topics.TOPICS:
        errors["topic"] = _l("Choose a topic from the list.")
    elif values["action"] in NEEDS_TOPIC and not values["topic"]:
        errors["topic"] = _l("Choose a topic: questions, experts and common questions go by topic.")
    if errors:
        db.session.rollback()
        raise MenuError({name: str(message) for name, message in errors.items()})
    return values


def _check_key(parent: MenuNode, key: str, moving: MenuNode | None = None) -> None:
    if key not in DIGITS:
        raise _refused("key", _l("Choose a key from 0 to 9."))
    if key == PERSON and parent.parent_id is not None:
        raise _refused("key", _l("0 asks for a person everywhere: under a sub-menu use 1 to 9."))
    if any(child.key == key and child is not moving for child in parent.children):
        free = free_keys(parent, moving)
        raise _refused("key", _l("The key %(key)s is taken under “%(name)s”: free keys are %(free)s.",
                                 key=key, name=parent.title_zh, free=" ".join(free)) if free
                       else _l("The key %(key)s is taken under “%(name)s” and no key is free there.",
                               key=key, name=parent.title_zh))


def _copy(source: MenuVersion, actor, note: str) -> MenuVersion:
    """A new draft with ``source``'s nodes (new ids, parents mapped)."""
    version = MenuVersion(status=DRAFT, note=note[:200], created_by_id=getattr(actor, "id", None))
    db.session.add(version)
    made: dict[int, MenuNode] = {}
    for node in walk(outline(source)):  # parents before their children
        made[node.id] = MenuNode(version=version, parent=made.get(node.parent_id),
                                 **{name: getattr(node, name) for name in COPIED})
        db.session.add(made[node.id])
    db.session.flush()
    return version


def _prune(names: set[str]) -> None:
    """Delete the recordings among ``names`` that no version names any more (a retired
    version keeps its recordings: it may be restored)."""
    for name in names - {""}:
        if db.session.scalar(select(MenuNode.id).where(MenuNode.recording == name).limit(1)) is None:
            prompts.remove(name)
