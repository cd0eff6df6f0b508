"""The menu editor's rules: a draft copied from the published menu, its nodes added,
changed, moved and deleted, published whole once nothing would trap a caller (callers
hear it from their next call), restored from the history; one draft and one published
version, even with two administrators at once."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from hotline import editor, editor_tree, menu
from hotline.models import DRAFT, INFO, MENU, PUBLISHED, QUESTION, RETIRED, MenuNode, MenuVersion
from ruralinfo.accounts import roles
from ruralinfo.audit.models import AuditEntry
from ruralinfo.extensions import db


@pytest.fixture
def admin(app, make_staff, menu_restored):
    return make_staff(roles.ADMIN, name="管理员")


def at(version: MenuVersion, *keys: str) -> MenuNode:
    """The node of ``version`` reached by pressing ``keys`` from the main menu."""
    node = editor_tree.outline(version)
    for key in keys:
        node = next(child for child in node.children if child.node.key == key)
    return node.node


def data(title: str, action: str = MENU, topic: str = "", key: str = "", **more) -> editor.NodeData:
    return editor.NodeData(title_zh=title, action=action, topic=topic, key=key, **more)


def test_start_editing_copies_the_published_tree_with_new_ids(admin):
    published = editor_tree.published()
    draft, new = editor.start_editing(actor=admin)
    assert new and draft.status == DRAFT and draft.created_by_id == admin.id
    old, copy = editor_tree.nodes_of(published), editor_tree.nodes_of(draft)
    assert len(copy) == len(old) and not {n.id for n in old} & {n.id for n in copy}
    ids = {n.id for n in copy}
    assert all(n.parent_id in ids for n in copy if n.parent_id is not None)
    assert at(draft, "1", "2").title_zh == "留言提问" and at(draft, "1", "2").topic == "crops"
    assert at(draft, "1").parent_id == at(draft).id
    again, new = editor.start_editing(actor=admin)  # at most one draft
    assert again.id == draft.id and not new
    assert db.session.scalar(select(func.count(MenuVersion.id)).where(MenuVersion.status == DRAFT)) == 1


def test_nodes_are_added_changed_moved_and_deleted_in_the_draft_only(admin):
    draft, _new = editor.start_editing(actor=admin)
    crops = at(draft, "1")
    rice = editor.add_node(crops, data("水稻", INFO, key="4", text_zh="水稻移栽前一周施好基肥。"), actor=admin)
    assert (rice.parent_id, rice.key, rice.version_id) == (crops.id, "4", draft.id)
    editor.edit_node(rice, data("水稻种植", INFO, "crops", key="5", text_zh="基肥", title_en="Rice"), actor=admin)
    rice = db.session.get(MenuNode, rice.id)
    assert (rice.title_zh, rice.title_en, rice.key, rice.topic) == ("水稻种植", "Rice", "5", "crops")
    livestock = at(draft, "2")
    editor.move_node(rice, livestock.id, "4", actor=admin)
    assert (db.session.get(MenuNode, rice.id).parent_id, db.session.get(MenuNode, rice.id).key) == (livestock.id, "4")
    assert editor.delete_node(at(draft, "1"), actor=admin) == 4  # 种植业 and its three keys
    assert [b.node.key for b in editor_tree.outline(draft).children] == ["2", "3", "4", "5", "6", "9", "0"]
    # callers still hear the published menu, untouched
    published = editor_tree.published()
    assert at(published, "1").title_zh == "种植业" and len(editor_tree.nodes_of(published)) == 26


def test_a_key_taken_under_its_menu_is_refused_with_the_free_keys(admin):
    draft, _new = editor.start_editing(actor=admin)
    crops = at(draft, "1")
    with pytest.raises(editor.MenuError) as refused:
        editor.add_node(crops, data("重复", QUESTION, "crops", key="2"), actor=admin)
    assert refused.value.errors == {"key": "The key 2 is taken under “种植业”: free keys are 4 5 6 7 8 9."}
    with pytest.raises(editor.MenuError) as refused:
        editor.add_node(crops, data("人工", QUESTION, "crops", key="0"), actor=admin)
    assert "0 asks for a person everywhere" in refused.value.errors["key"]
    with pytest.raises(editor.MenuError) as refused:
        editor.edit_node(at(draft, "1", "1"), data("常见问题", "faq", "crops", key="3"), actor=admin)
    assert "The key 3 is taken" in refused.value.errors["key"]
    with pytest.raises(editor.MenuError) as refused:
        editor.move_node(at(draft, "1", "1"), at(draft, "2").id, "2", actor=admin)
    assert "taken under “畜牧兽医”" in refused.value.errors["key"]
    with pytest.raises(editor.MenuError) as refused:  # every mistake at once
        editor.add_node(crops, data("", QUESTION, key="x"), actor=admin)
    assert set(refused.value.errors) == {"title_zh", "topic"}
    assert len(editor_tree.nodes_of(draft)) == 26


def test_a_node_never_moves_under_itself_or_its_own_children(admin):
    draft, _new = editor.start_editing(actor=admin)
    crops = at(draft, "1")
    deeper = editor.add_node(crops, data("蔬菜", key="4"), actor=admin)
    for target in (crops, deeper):
        with pytest.raises(editor.MenuError) as refused:
            editor.move_node(at(draft, "1"), target.id, "7", actor=admin)
        assert refused.value.errors["parent_id"] == "“种植业” cannot go under itself or under a menu inside it."
    with pytest.raises(editor.MenuError):  # not a menu
        editor.move_node(deeper, at(draft, "1", "2").id, "1", actor=admin)
    with pytest.raises(editor.MenuError):  # the main menu stays
        editor.move_node(at(draft), crops.id, "8", actor=admin)
    assert [n.id for n in editor_tree.menus(draft, crops)] == [
        at(draft).id, *[at(draft, key).id for key in ("2", "3", "4", "5", "6")]]


def test_structural_mistakes_are_refused_at_once(admin):
    draft, _new = editor.start_editing(actor=admin)
    with pytest.raises(editor.MenuError) as refused:
        editor.edit_node(at(draft, "1"), data("种植业", INFO), actor=admin)
    assert refused.value.errors["action"] == "“种植业” has keys under it: move or delete them first."
    with pytest.raises(editor.MenuError) as refused:
        editor.add_node(at(draft, "9"), data("子项", key="1"), actor=admin)
    assert "Only a menu has keys under it" in refused.value.errors["action"]
    with pytest.raises(editor.MenuError):
        editor.delete_node(at(draft), actor=admin)
    with pytest.raises(editor.MenuError) as refused:
        editor.edit_node(at(draft), data("热线", QUESTION, "general"), actor=admin)
    assert refused.value.errors["action"] == "The main menu must be a menu."


def test_a_version_callers_hear_or_heard_is_never_changed(admin):
    published = editor_tree.published()
    with pytest.raises(editor.MenuError) as refused:
        editor.edit_node(at(published, "1"), data("改名"), actor=admin)
    assert "Only the draft can be changed" in refused.value.errors["menu"]
    draft, _new = editor.start_editing(actor=admin)
    stale = at(draft, "1")
    editor.publish(actor=admin)
    with pytest.raises(editor.MenuError):  # the draft was published meanwhile
        editor.add_node(stale, data("迟到", QUESTION, "crops", key="5"), actor=admin)
    assert at(editor_tree.published(), "1").title_zh == "种植业"
    assert len(editor_tree.nodes_of(editor_tree.published())) == 26


def test_a_trapping_draft_cannot_be_published_and_every_problem_is_named(admin):
    draft, _new = editor.start_editing(actor=admin)
    editor.add_node(at(draft, "1"), data("蔬菜", key="4"), actor=admin)  # a menu with no keys
    editor.add_node(at(draft), data("说明", INFO, key="7"), actor=admin)  # nothing to read
    with pytest.raises(editor.NotPublishable) as refused:
        editor.publish(actor=admin)
    assert refused.value.problems == ["The menu “蔬菜” has no keys: a caller would be stuck in it.",
                                      "“说明” has nothing to read."]
    assert editor_tree.problems(draft) == refused.value.problems
    assert db.session.get(MenuVersion, draft.id).status == DRAFT
    assert editor_tree.published().id == 1
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "menu.publish")) is None


def test_published_callers_hear_it_on_their_next_call_and_it_is_audited(admin):
    before = menu.published()  # the engine has the shipped tree cached
    draft, _new = editor.start_editing(actor=admin)
    editor.add_node(at(draft, "1"), data("水稻", INFO, key="4", text_zh="水稻要浅水插秧。"), actor=admin)
    editor.edit_node(at(draft, "3"), data("水产养殖", topic="fisheries"), actor=admin)
    editor.delete_node(at(draft, "6", "2"), actor=admin)
    version = editor.publish(actor=admin, note="加了水稻")
    assert (version.status, version.published_by_id, version.note) == (PUBLISHED, admin.id, "加了水稻")
    assert db.session.get(MenuVersion, before.version_id).status == RETIRED
    assert db.session.scalar(select(func.count(MenuVersion.id)).where(MenuVersion.status == PUBLISHED)) == 1
    tree = menu.published()
    assert tree.version_id == version.id
    crops = menu.press(tree, tree.root_id, "1", "zh")
    assert menu.press(tree, crops.node_id, "4", "zh").say[0] == "水稻要浅水插秧。"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "menu.publish"))
    assert (entry.target_type, entry.target_id, entry.actor_id) == ("hotline_menu_versions", version.id, admin.id)
    assert entry.details == {"previous": before.version_id, "added": ["1 种植业 › 4 水稻"],
                             "removed": ["6 政策法规 › 2 常见问题"], "changed": ["3 水产养殖"]}
    assert editor_tree.draft() is None


def test_a_retired_version_is_restored_as_a_draft_then_published(admin):
    draft, _new = editor.start_editing(actor=admin)
    editor.delete_node(at(draft, "5"), actor=admin)
    editor.publish(actor=admin)
    with pytest.raises(editor.MenuError):  # the published one is not "earlier"
        editor.restore(editor_tree.published(), actor=admin)
    restored = editor.restore(db.session.get(MenuVersion, 1), actor=admin)
    assert restored.status == DRAFT and at(restored, "5").title_zh == "农资打假投诉"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "menu.restore"))
    assert (entry.target_id, entry.details) == (1, {"draft": restored.id})
    with pytest.raises(editor.MenuError) as refused:  # one draft at a time
        editor.restore(db.session.get(MenuVersion, 1), actor=admin)
    assert "publish or discard it first" in refused.value.errors["menu"]
    editor.publish(actor=admin)
    tree = menu.published()
    assert tree.version_id == restored.id and "5" in tree.node(tree.root_id).children
    assert [v.status for v in editor_tree.versions()] == [PUBLISHED, RETIRED, RETIRED]


def test_a_discarded_draft_leaves_callers_menu_as_it_was(admin):
    draft, _new = editor.start_editing(actor=admin)
    editor.delete_node(at(draft, "1"), actor=admin)
    editor.discard(actor=admin)
    assert editor_tree.draft() is None and db.session.get(MenuVersion, draft.id) is None
    assert db.session.scalar(select(func.count(MenuNode.id)).where(MenuNode.version_id == draft.id)) == 0
    assert at(editor_tree.published(), "1").title_zh == "种植业"
    with pytest.raises(editor.MenuError):
        editor.discard(actor=admin)


def _at_once(app, work, times=2):
    """Run ``work`` in ``times`` threads, each with its own app context and session, all at once."""
    outcomes, errors, barrier = [], [], threading.Barrier(times)

    def run():
        with app.app_context():
            try:
                barrier.wait(5)
                outcomes.append(work())
            except editor.MenuError as err:
                errors.append(err)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes, errors


def test_two_administrators_publishing_at_once_leave_one_published_version(app, admin):
    admin_id = admin.id
    for _round in range(3):
        draft_id = editor.start_editing(actor=None)[0].id
        db.session.remove()

        def publish():
            from ruralinfo.accounts.models import User

            return editor.publish(actor=db.session.get(User, admin_id)).id

        outcomes, errors = _at_once(app, publish)
        assert outcomes == [draft_id] and len(errors) == 1, (outcomes, errors)
        assert "no draft to publish" in errors[0].errors["menu"]
        statuses = dict(db.session.execute(select(MenuVersion.id, MenuVersion.status)).all())
        assert list(statuses.values()).count(PUBLISHED) == 1 and statuses[draft_id] == PUBLISHED
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "menu.publish")) == 3


def test_two_administrators_starting_at_once_share_one_draft(app, admin):
    outcomes, errors = _at_once(app, lambda: editor.start_editing(actor=None)[0].id, times=3)
    assert not errors and len(set(outcomes)) == 1
    assert db.session.scalar(select(func.count(MenuVersion.id)).where(MenuVersion.status == DRAFT)) == 1
