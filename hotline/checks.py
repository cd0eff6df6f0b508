"""What makes a menu tree unfit for callers — checked before a version is published,
so that no caller is ever trapped: a key used twice under one menu, a menu with no
keys, a node that does nothing or that lacks what its action needs, keys that are no
digit, a tree too deep to find one's way back."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from hotline.models import ACTIONS, INFO, MENU, NEEDS_TOPIC, MenuNode

DIGITS = frozenset("0123456789")
MAX_DEPTH = 4  # menus below the main one: deeper, callers lose their way


def problems(nodes: list[MenuNode]) -> list[str]:
    """Everything wrong with a version's nodes, in plain words (empty: fit to publish)."""
    found: list[str] = []
    roots = [node for node in nodes if node.parent_id is None]
    if len(roots) != 1:
        return [str(_l("The tree needs exactly one main menu."))]
    by_parent: dict[int, list[MenuNode]] = {}
    for node in nodes:
        if node.parent_id is not None:
            by_parent.setdefault(node.parent_id, []).append(node)
    if roots[0].action != MENU:
        found.append(str(_l("The main menu must be a menu.")))
    for node in nodes:
        children = by_parent.get(node.id, [])
        name = node.title_zh or str(_l("(untitled)"))
        if not node.title_zh.strip():
            found.append(str(_l("A node has no title.")))
        if node.action not in ACTIONS:
            found.append(str(_l("“%(name)s” does nothing: choose what it does.", name=name)))
        if node.parent_id is not None and node.key not in DIGITS:
            found.append(str(_l("“%(name)s” needs a key from 0 to 9.", name=name)))
        if node.action == MENU and not children:
            found.append(str(_l("The menu “%(name)s” has no keys: a caller would be stuck in it.", name=name)))
        if node.action != MENU and children:
            found.append(str(_l("“%(name)s” is not a menu but has keys under it.", name=name)))
        if node.action in NEEDS_TOPIC and not node.topic:
            found.append(str(_l("“%(name)s” needs a topic.", name=name)))
        if node.action == INFO and not (node.text_zh.strip() or node.recording):
            found.append(str(_l("“%(name)s” has nothing to read.", name=name)))
        keys = [child.key for child in children]
        for key in sorted({key for key in keys if keys.count(key) > 1}):
            found.append(str(_l("The key %(key)s is used twice under “%(name)s”.", key=key, name=name)))
    if _depth(roots[0].id, by_parent) > MAX_DEPTH + 1:
        found.append(str(_l("The tree is more than %(n)s menus deep: callers lose their way.", n=MAX_DEPTH)))
    return found


def _depth(node_id: int, by_parent: dict[int, list[MenuNode]]) -> int:
    children = by_parent.get(node_id, [])
    return 1 + max((_depth(child.id, by_parent) for child in children), default=0)
