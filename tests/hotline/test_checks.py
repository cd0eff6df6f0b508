"""A tree that would trap a caller cannot be published: each rule on its own."""
from __future__ import annotations

from sqlalchemy import select

from hotline import checks
from hotline.models import INFO, MENU, QUESTION, MenuNode, MenuVersion
from ruralinfo.extensions import db


def nodes_of_default() -> list[MenuNode]:
    version = db.session.scalar(select(MenuVersion).order_by(MenuVersion.id))
    return list(db.session.scalars(select(MenuNode).where(MenuNode.version_id == version.id)))


def node(id_, parent, key, title, action=MENU, topic="", text=""):
    return MenuNode(id=id_, parent_id=parent, key=key, title_zh=title, action=action, topic=topic, text_zh=text,
                    recording="")


def test_the_default_tree_is_fit_to_publish(app):
    assert checks.problems(nodes_of_default()) == []


def test_each_trap_is_named():
    tree = [node(1, None, "", "主菜单"), node(2, 1, "1", "种植业"),  # a menu with no keys
            node(3, 1, "2", "留言", QUESTION), node(4, 1, "2", "提问", QUESTION, "crops"),  # key 2 twice; no topic
            node(5, 1, "x", "说明", INFO), node(6, 1, "3", "怪", "dance", "crops")]  # no digit, nothing to read
    found = checks.problems(tree)
    assert "The menu “种植业” has no keys: a caller would be stuck in it." in found
    assert "The key 2 is used twice under “主菜单”." in found
    assert "“留言” needs a topic." in found
    assert "“说明” needs a key from 0 to 9." in found and "“说明” has nothing to read." in found
    assert "“怪” does nothing: choose what it does." in found
    assert checks.problems([node(1, None, "", "主菜单", QUESTION, "general")]) == ["The main menu must be a menu."]


def test_a_tree_too_deep_is_refused():
    deep = [node(1, None, "", "主菜单")] + [node(n, n - 1, "1", f"第{n}层") for n in range(2, 8)]
    deep.append(node(8, 7, "1", "留言", QUESTION, "crops"))
    assert any("menus deep" in problem for problem in checks.problems(deep))
