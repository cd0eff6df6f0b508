"""What a voice reads: masked names, prices per unit, long numbers and post numbers
made fit for text-to-speech; quantities left as numbers."""
from hotline.speech import for_voice, for_voice_item
from hotline.menu import Recorded


def test_chinese_is_made_fit_for_a_voice():
    said = for_voice("欢迎致电12316。长溪村的张*卖土豆500斤1.5元/斤，#812", "zh")
    assert said == "欢迎致电一二三一六。长溪村的张某卖土豆500斤1.5元每斤，812"


def test_english_too():
    assert for_voice("Zhang* sells at 2 yuan/jin; call 12316, post #8", "en") == (
        "Zhang sells at 2 yuan per jin; call 1 2 3 1 6, post number 8")


def test_a_recorded_prompt_keeps_its_recording():
    item = for_voice_item(Recorded("请拨12316", "ab12.mp3"), "zh")
    assert isinstance(item, Recorded) and item.recording == "ab12.mp3" and item == "请拨一二三一六"


def test_quantities_prices_and_the_star_key_stay_as_they_are():
    for text in ("卖土豆20000斤", "补贴15000元", "¥12000", "价格12000元/吨", "2026年12月7日", "重听请按*"):
        said = for_voice(text, "zh")
        assert said.replace("每", "/") == text, said
    assert for_voice("欢迎致电12316。", "zh") == "欢迎致电一二三一六。"  # a full stop after it
    assert for_voice("见#12345号", "zh") == "见一二三四五号"  # no # left
    assert for_voice("sell 20000 jin, call 13912345678.", "en") == "sell 20000 jin, call 1 3 9 1 2 3 4 5 6 7 8."
