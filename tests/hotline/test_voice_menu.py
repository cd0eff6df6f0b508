"""The default tree walked over Twilio's signed voice webhooks, the way Twilio walks TwiML:
every key at every menu, ``*`` ``#`` ``0``, wrong keys and keys that are no digit, silence
twice then goodbye, words instead of keys, a registered caller greeted by name in their
own language."""
from __future__ import annotations

from sqlalchemy import select

from hotline import menu
from hotline.models import CONNECT, FAQ, HUNG_UP, MAILBOX, MARKET, MENU, MISSED, NOTICES, QUESTION, Call
from ruralinfo.extensions import db
from tests.hotline.twiml_walker import CallWalker

KEYS = "0123456789*#"


def _call(walker: CallWalker) -> Call:
    db.session.expire_all()
    return db.session.scalar(select(Call).where(Call.call_sid == walker.sid))


def _menus(tree: menu.Tree) -> list[tuple[int, list[str]]]:
    """Every menu of the tree with the keys that reach it from the main menu."""
    found, todo = [], [(tree.root_id, [])]
    while todo:
        node_id, keys = todo.pop(0)
        found.append((node_id, keys))
        for key, child in sorted(tree.node(node_id).children.items()):
            if tree.node(child).action == MENU:
                todo.append((child, keys + [key]))
    return found


def _walk_to(client, keys: list[str], **kwargs) -> CallWalker:
    walker = CallWalker(client, **kwargs).dial_in()
    for key in keys:
        walker.press(key)
    return walker


def test_a_call_opens_on_the_main_menu_with_a_gather_for_one_key_and_the_titles_as_speech_hints(app, client):
    tree = menu.published()
    walker = CallWalker(client).dial_in()
    gather = walker.gather
    assert gather is not None
    assert (gather.get("numDigits"), gather.get("timeout"), gather.get("input")) == ("1", "5", "dtmf speech")
    assert gather.get("language") == "cmn-Hans-CN"
    assert gather.get("action").endswith("/twilio/voice/step?n=1")
    assert gather.get("hints").split(", ") == menu.hints(tree, tree.root_id, "zh")
    assert "种植业" in walker.said[-1] and "人工服务" in walker.said[-1]
    assert all((item.voice, item.language) == ("Polly.Zhiyu", "cmn-CN") for item in walker.heard)
    call = _call(walker)
    assert (call.node_id, call.language, call.user_id, call.version_id) == (tree.root_id, "zh", None, tree.version_id)
    assert call.from_phone == walker.phone and call.steps == 0


def test_the_configured_voice_and_time_out_are_used(app_config, request):
    app_config.update(HOTLINE_VOICE="Google.cmn-CN-Standard-A", HOTLINE_TIMEOUT=8)
    walker = CallWalker(request.getfixturevalue("client")).dial_in()
    assert walker.gather.get("timeout") == "8"
    assert {item.voice for item in walker.heard} == {"Google.cmn-CN-Standard-A"}


def test_every_key_at_every_menu_of_the_default_tree_does_what_the_engine_says(app, client):
    tree = menu.published()
    menus = _menus(tree)
    assert len(menus) == 7  # the main menu and its six sub-menus
    for node_id, keys in menus:
        for key in KEYS:
            walker = _walk_to(client, keys)
            expected = menu.press(tree, node_id, key, "zh")
            walker.press(key)
            call = _call(walker)
            assert call.path == " ".join(keys + [key])
            where = f"menu {tree.node(node_id).titles['zh']} key {key}"
            if expected.action == MENU:
                assert walker.gather is not None, where
                assert walker.said == expected.say, where
                assert call.node_id == expected.node_id, where
            elif expected.action in (QUESTION, CONNECT):  # nobody on duty: a question is recorded instead
                record = walker.waiting.verb
                assert record.tag == "Record", where
                assert (record.get("maxLength"), record.get("playBeep"), record.get("finishOnKey")) == (
                    "120", "true", "#"), where
                assert call.topic == expected.topic, where
                assert call.outcome == (MISSED if expected.action == CONNECT else "menu"), where
            else:  # nothing to read yet (no answers, posts, notices; an unregistered caller's mailbox): back
                assert expected.action in (FAQ, MARKET, NOTICES, MAILBOX), where
                parent = tree.node(expected.node_id).parent_id
                assert walker.gather is not None, where
                assert walker.said[-1] == menu.press(tree, parent, "*", "zh").say[0], where
                assert call.node_id == parent, where


def test_star_repeats_hash_goes_back_and_zero_asks_for_a_person_everywhere(app, client):
    tree = menu.published()
    walker = _walk_to(client, ["1"])
    crops = _call(walker).node_id
    first = walker.said
    assert walker.press("*").said == first and _call(walker).node_id == crops
    walker.press("#")
    assert _call(walker).node_id == tree.root_id
    walker.press("#")  # the top: stays
    assert _call(walker).node_id == tree.root_id
    walker.press("6").press("0")
    assert walker.waiting_for == "Record" and _call(walker).topic == "general"
    assert _call(walker).path == "1 * # # 6 0"


def test_a_wrong_key_and_digits_that_are_no_digit_say_so_and_repeat_the_menu(app, client):
    walker = _walk_to(client, [], phone="+8613900000077")
    menu_said = walker.said[-1]
    for digits in ("7", "12", "abc", "٣", "<", "\x00", "9" * 400):
        walker.press(digits)
        assert walker.gather is not None and len(walker.said) == 2 and walker.said[-1] == menu_said, digits
    call = _call(walker)
    assert call.node_id == menu.published().root_id and call.path == "7 ? ? ? ? ? ?"


def test_silence_says_the_menu_again_twice_then_goodbye(app, client, make_farmer):
    farmer = make_farmer(name="Li Xiuying")
    farmer.language = "en"
    db.session.commit()
    walker = _walk_to(client, ["2"], phone=farmer.phone)
    walker.wait()
    assert walker.said[0] == "Sorry, we did not hear a key." and "Common questions" in walker.said[1]
    walker.wait()
    assert walker.said[0] == "Sorry, we did not hear a key."
    walker.wait()
    assert walker.ended and "goodbye" in walker.said[-1]
    assert walker.documents[-1].rstrip().endswith("<Hangup /></Response>")
    call = _call(walker)
    assert call.path == "2 - - -" and call.outcome == HUNG_UP


def test_a_key_after_a_silence_starts_the_count_again(app, client):
    walker = _walk_to(client, [])
    walker.wait().wait()
    walker.press("*")
    walker.wait().wait()
    assert not walker.ended and walker.gather is not None
    walker.wait()
    assert walker.ended


def test_a_registered_caller_is_greeted_by_name_and_hears_their_own_language(app, client, make_farmer):
    farmer = make_farmer(name="Wang Fang")
    farmer.language = "en"
    db.session.commit()
    walker = CallWalker(client, phone=farmer.phone).dial_in()
    assert walker.said[0] == "Hello Wang Fang, welcome to 1 2 3 1 6 farmers' hotline."  # the number read digit by digit
    assert "for Crops press 1" in walker.said[1]
    assert {(item.voice, item.language) for item in walker.heard} == {("Polly.Joanna", "en-US")}
    assert walker.gather.get("language") == "en-US" and "Crops" in walker.gather.get("hints")
    call = _call(walker)
    assert (call.user_id, call.language) == (farmer.id, "en")


def test_a_chinese_farmer_is_greeted_by_name_in_chinese(app, client, make_farmer):
    farmer = make_farmer(name="李秀英")
    walker = CallWalker(client, phone=farmer.phone).dial_in()
    assert "李秀英" in walker.said[0] and "一二三一六三农服务热线" in walker.said[0]  # 12316 read digit by digit
    assert {item.language for item in walker.heard} == {"cmn-CN"}


def test_a_caller_may_say_a_menu_title_instead_of_pressing_its_key(app, client):
    tree = menu.published()
    walker = CallWalker(client).dial_in()
    walker.say("我想问种植业的问题")
    call = _call(walker)
    assert tree.node(call.node_id).titles["zh"] == "种植业"
    walker.say("留言提问")
    assert walker.waiting_for == "Record" and _call(walker).topic == "crops"
    assert _call(walker).path == "“我想问种植业的问题” “留言提问”"


def test_words_naming_nothing_are_not_understood_and_the_menu_is_said_again(app, client, make_farmer):
    farmer = make_farmer(name="Zhao Lei")
    farmer.language = "en"
    db.session.commit()
    walker = CallWalker(client, phone=farmer.phone).dial_in()
    walker.say("the weather in Paris")
    assert walker.said[0] == "Sorry, we did not understand." and "for Crops press 1" in walker.said[1]
    walker.say("three")
    assert menu.published().node(_call(walker).node_id).titles["en"] == "Fisheries"
