"""Text made fit for a speaking voice, whatever the driver: what reads well on a screen
can sound wrong from a text-to-speech voice. A masked name 张* is 张某 ("a Zhang"); a
price per unit 1.5元/斤 is 1.5元每斤; a long run of digits (the hotline's number 12316,
a phone-like number) is read digit by digit rather than as twelve thousand …; the full
stop ``#`` of a post number is dropped. Quantities (500斤) stay numbers."""
from __future__ import annotations

import re

ZH_DIGITS = "零一二三四五六七八九"
_MASKED = re.compile(r"(?<=[\u4e00-\u9fff])(?<!按)\*")  # 张* → 张某 (not 按*: the star key)
_MASKED_LATIN = re.compile(r"(?<=[A-Za-z])\*")  # Zhang* → Zhang
_PER = re.compile(r"(元|块|yuan)\s*/\s*")  # 元/斤 → 元每斤
# 12316, 13912345678, 0574-63012345's parts: read digit by digit; not 500, 1.5, 20000斤, 15000元, ¥12000
_UNIT_AFTER = r"\s*(?:[元块斤公吨亩克万千百个头只株棵箱袋条尾羽枚筐毛角分件米台套%]|kg|yuan|jin|mu|per)"
_LONG_NUMBER = re.compile(r"(?<![\d.¥￥])\d{5,}(?!\d|\.\d|" + _UNIT_AFTER + ")")
_POST_NUMBER = re.compile(r"#(?=\d)")


def for_voice(text: str, language: str) -> str:
    """``text`` as the voice should read it (``language``: zh or en)."""
    if language == "en":
        text = _MASKED_LATIN.sub("", _MASKED.sub("", text))
        text = _PER.sub(lambda found: found.group(1) + " per ", _POST_NUMBER.sub("number ", text))
        return _LONG_NUMBER.sub(lambda found: " ".join(found.group()), text)
    text = _MASKED.sub("某", _POST_NUMBER.sub("", text))
    text = _PER.sub(lambda found: found.group(1) + "每", text)
    return _LONG_NUMBER.sub(lambda found: "".join(ZH_DIGITS[int(d)] for d in found.group()), text)


def for_voice_item(item: str, language: str) -> str:
    """One item of a turn's words, kept a ``menu.Recorded`` (with its recording) when it is one."""
    from hotline.menu import Recorded

    if isinstance(item, Recorded):
        return Recorded(for_voice(item, language), item.recording)
    return for_voice(item, language)
