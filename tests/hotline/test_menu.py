"""The menu engine on the default tree: keys, ``*`` ``#`` ``0`` everywhere, silence
twice then goodbye, a wrong key said and repeated, both languages — independent of
any voice driver."""
from __future__ import annotations

from hotline import menu
from hotline.models import CONNECT, FAQ, MARKET, MENU, QUESTION


def test_the_default_tree_is_shaped_like_12316s(app):
    tree = menu.published()
    root = tree.node(tree.root_id)
    titles = {key: tree.node(child).titles["zh"] for key, child in root.children.items()}
    assert titles == {"1": "种植业", "2": "畜牧兽医", "3": "水产", "4": "供求与价格", "5": "农资打假投诉",
                      "6": "政策法规", "9": "留言", "0": "人工服务"}


def test_a_call_opens_on_the_main_menu_which_says_its_keys(app):
    tree = menu.published()
    step = menu.enter(tree, "zh", greeting="李秀英您好。")
    assert step.action == MENU and step.node_id == tree.root_id
    assert step.say[0] == "李秀英您好。"
    spoken = step.say[1]
    assert "种植业" in spoken and "1" in spoken and spoken.index("种植业") < spoken.index("人工服务")  # 0 said last
    english = menu.enter(tree, "en").say[0]
    assert "Crops" in english and "press 1" in english


def test_keys_lead_down_and_to_actions_and_star_hash_zero_work_everywhere(app):
    tree = menu.published()
    crops = menu.press(tree, tree.root_id, "1", "zh")
    assert crops.action == MENU and tree.node(crops.node_id).titles["zh"] == "种植业"
    question = menu.press(tree, crops.node_id, "2", "zh")
    assert (question.action, question.topic) == (QUESTION, "crops")
    assert menu.press(tree, crops.node_id, "1", "zh").action == FAQ
    assert menu.press(tree, crops.node_id, "*", "zh").node_id == crops.node_id  # repeat
    assert menu.press(tree, crops.node_id, "#", "zh").node_id == tree.root_id  # back one level
    assert menu.press(tree, tree.root_id, "#", "zh").node_id == tree.root_id  # the top: stays
    person = menu.press(tree, crops.node_id, "0", "zh")  # 0 below the main menu: a person all the same
    assert (person.action, person.topic) == (CONNECT, "general")
    market = menu.press(tree, menu.press(tree, tree.root_id, "4", "zh").node_id, "1", "zh")
    assert market.action == MARKET


def test_a_wrong_key_is_said_and_the_menu_repeated(app):
    tree = menu.published()
    step = menu.press(tree, tree.root_id, "7", "zh")
    assert step.node_id == tree.root_id and step.action == MENU and len(step.say) == 2
    assert menu.press(tree, tree.root_id, "7", "en").say[0] == "Sorry, that key is not in this menu."


def test_silence_repeats_the_menu_twice_then_says_goodbye(app):
    tree = menu.published()
    first = menu.press(tree, tree.root_id, None, "en")
    assert first.action == MENU and first.silences == 1 and first.say[0] == "Sorry, we did not hear a key."
    second = menu.press(tree, tree.root_id, None, "en", silences=first.silences)
    assert second.action == MENU and second.silences == 2
    last = menu.press(tree, tree.root_id, None, "en", silences=second.silences)
    assert last.action == menu.HANG_UP and "goodbye" in last.say[0]


def test_a_spoken_title_or_number_names_a_key_of_the_menu(app):
    tree = menu.published()
    root = tree.root_id
    assert menu.spoken_key(tree, root, "种植业", "zh") == "1"
    assert menu.spoken_key(tree, root, "我想问一下水产的事。", "zh") == "3"
    assert menu.spoken_key(tree, root, "人工", "zh") == "0"  # part of 人工服务
    assert menu.spoken_key(tree, root, "Fisheries", "en") == "3"
    assert menu.spoken_key(tree, root, "三", "zh") == "3" and menu.spoken_key(tree, root, "six", "en") == "6"
    assert menu.spoken_key(tree, root, "七", "zh") is None  # no 7 here
    assert menu.spoken_key(tree, root, "今天天气怎么样", "zh") is None
    assert menu.spoken_key(tree, root, "  ", "zh") is None
    crops = tree.node(root).children["1"]
    assert menu.spoken_key(tree, crops, "留言提问", "zh") == "2"
    assert menu.spoken_digit("Two.") == "2" and menu.spoken_digit("种植业") is None


def test_the_speech_hints_are_the_menus_titles_in_the_callers_language_the_person_last(app):
    tree = menu.published()
    assert menu.hints(tree, tree.root_id, "zh") == ["种植业", "畜牧兽医", "水产", "供求与价格", "农资打假投诉",
                                                    "政策法规", "留言", "人工服务"]
    assert menu.hints(tree, tree.root_id, "en")[0] == "Crops"


def test_a_call_keeps_the_version_it_started_on_and_a_draft_is_never_heard(app):
    from hotline.models import DRAFT, MenuNode, MenuVersion
    from ruralinfo.extensions import db

    tree = menu.published()
    assert menu.of_version(tree.version_id) is tree
    assert menu.of_version(None) is tree and menu.of_version(987654) is tree
    draft = MenuVersion(status=DRAFT)
    MenuNode(version=draft, key="", title_zh="草稿", action=MENU)
    db.session.add(draft)
    db.session.commit()
    try:
        assert menu.of_version(draft.id) is tree
    finally:
        db.session.delete(draft)
        db.session.commit()


def test_a_recording_is_played_for_chinese_callers_and_the_text_said_to_english_ones(app):
    tree = menu.published()
    root = tree.node(tree.root_id)
    recorded = menu.Tree(tree.version_id, tree.root_id, {**tree.nodes, root.id: menu.Node(
        root.id, None, "", root.titles, root.prompts, root.texts, MENU, "", "0" * 32 + ".mp3", root.children)})
    chinese = menu.enter(recorded, "zh").say[0]
    assert isinstance(chinese, menu.Recorded) and chinese.recording == "0" * 32 + ".mp3" and "种植业" in chinese
    english = menu.enter(recorded, "en").say[0]
    assert not isinstance(english, menu.Recorded) and "Crops" in english
