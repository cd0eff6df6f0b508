"""Reading a version of the menu as a tree, for the editor's pages and rules: its
nodes at once, the branches in the order a caller hears the keys, a node's trail from
the main menu, what lies below it, the menus it may move to, the keys still free."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from hotline import checks
from hotline.models import DRAFT, MENU, PUBLISHED, MenuNode, MenuVersion
from ruralinfo.extensions import db

DIGITS = tuple("1234567890")  # in the order a menu says them: 0 (a person) last
PERSON = "0"  # under the main menu only: below it, 0 asks for a person everywhere
COMPARED = ("key", "title_zh", "title_en", "prompt_zh", "prompt_en", "text_zh", "text_en", "recording", "action",
            "topic")  # what a caller can tell apart


@dataclass
class Branch:
    node: MenuNode
    children: list[Branch] = field(default_factory=list)


def published() -> MenuVersion | None:
    return db.session.scalar(select(MenuVersion).where(MenuVersion.status == PUBLISHED)
                             .order_by(MenuVersion.id.desc()).limit(1))


def draft() -> MenuVersion | None:
    return db.session.scalar(select(MenuVersion).where(MenuVersion.status == DRAFT)
                             .order_by(MenuVersion.id.desc()).limit(1))


def versions() -> list[MenuVersion]:
    """Every version, newest first: the history."""
    return list(db.session.scalars(select(MenuVersion).order_by(MenuVersion.id.desc())))


def nodes_of(version: MenuVersion) -> list[MenuNode]:
    return list(db.session.scalars(select(MenuNode).where(MenuNode.version_id == version.id)
                                   .order_by(MenuNode.id)))


def key_order(node: MenuNode) -> tuple:
    return (node.key == PERSON, node.key)


def outline(version: MenuVersion) -> Branch | None:
    """The version's tree, read at once: the main menu's branch, keys in the order said."""
    branches = {node.id: Branch(node) for node in nodes_of(version)}
    root = None
    for branch in sorted(branches.values(), key=lambda b: key_order(b.node)):
        parent = branches.get(branch.node.parent_id)
        if parent is not None:
            parent.children.append(branch)
        elif branch.node.parent_id is None:
            root = branch
    return root


def trail(node: MenuNode) -> list[MenuNode]:
    """The menus from the main one down to ``node``, itself included."""
    found = [node]
    while found[-1].parent is not None:
        found.append(found[-1].parent)
    return found[::-1]


def below(node: MenuNode) -> list[MenuNode]:
    """``node``'s descendants (not itself)."""
    found, todo = [], list(node.children)
    while todo:
        child = todo.pop()
        found.append(child)
        todo.extend(child.children)
    return found


def menus(version: MenuVersion, moving: MenuNode | None = None) -> list[MenuNode]:
    """The menus of ``version`` a node may go under: not ``moving`` nor anything below it."""
    barred = {moving.id, *(n.id for n in below(moving))} if moving is not None else set()
    return [node for node in walk(outline(version)) if node.action == MENU and node.id not in barred]


def walk(branch: Branch | None):
    """The nodes of ``branch``, each before those under it."""
    if branch is None:
        return
    yield branch.node
    for child in branch.children:
        yield from walk(child)


def free_keys(parent: MenuNode, moving: MenuNode | None = None) -> list[str]:
    taken = {child.key for child in parent.children if child is not moving}
    return [key for key in DIGITS if key not in taken and (key != PERSON or parent.parent_id is None)]


def problems(version: MenuVersion) -> list[str]:
    return checks.problems(nodes_of(version))


def compare(before: MenuVersion | None, after: MenuVersion) -> dict[str, list[tuple[str, MenuNode]]]:
    """The places of ``after`` that ``before`` lacks (``added``), those it has and ``after``
    lacks (``removed``), and those at the same keys that say or do something else
    (``changed``): each as (its keys and titles from the main menu, the node)."""
    old = _by_path(nodes_of(before)) if before is not None else {}
    new = _by_path(nodes_of(after))
    return {"added": [new[path] for path in new if path not in old],
            "removed": [old[path] for path in old if path not in new],
            "changed": [new[path] for path in new if path in old
                        and any(getattr(new[path][1], f) != getattr(old[path][1], f) for f in COMPARED)]}


def _by_path(nodes: list[MenuNode]) -> dict[tuple, tuple[str, MenuNode]]:
    """Each node by the keys that reach it, with its name for people ("1 种植业 › 4 水稻")."""
    by_id = {node.id: node for node in nodes}
    found = {}
    for node in nodes:
        keys, names, here = [], [], node
        while here is not None and here.parent_id is not None:
            keys.append(here.key)
            names.append(f"{here.key} {here.title_zh}")
            here = by_id.get(here.parent_id)
        found[tuple(keys[::-1])] = (" › ".join(names[::-1]) or node.title_zh, node)
    return dict(sorted(found.items()))
