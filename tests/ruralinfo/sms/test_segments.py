"""Segment counting at the boundaries: GSM-7 160/153, UCS-2 70/67, escapes and emoji taking two."""
import pytest

from ruralinfo.sms import segments
from ruralinfo.sms.segments import GSM7, UCS2

SIGNATURE = "【慈溪市农业农村局】"  # 10 characters, and not GSM-7
HAN = "稻"
EMOJI = "🌾"  # outside the BMP: two UTF-16 units


def test_signature_is_ten_ucs2_units():
    assert segments.count("", SIGNATURE) == segments.Count(UCS2, 1, 10)


@pytest.mark.parametrize("length, expected", [
    (1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4),
])
def test_chinese(length, expected):
    counted = segments.count(HAN * length)
    assert (counted.encoding, counted.segments, counted.units) == (UCS2, expected, length)


@pytest.mark.parametrize("length, expected", [
    (1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4),
])
def test_gsm7(length, expected):
    counted = segments.count("a" * length)
    assert (counted.encoding, counted.segments, counted.units) == (GSM7, expected, length)


def test_empty_text_costs_nothing():
    assert segments.count("") == segments.Count(GSM7, 0, 0)


def test_the_whole_gsm_basic_table_stays_gsm7():
    text = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCXYZÄÖÑÜ§¿abcxyzäöñüà"
    counted = segments.count(text)
    assert counted.encoding == GSM7 and counted.units == len(text)


@pytest.mark.parametrize("char", list("^{}\\[~]|€\f"))
def test_escape_characters_take_two_septets(char):
    assert segments.count(char).units == 2
    assert segments.count(char * 80) == segments.Count(GSM7, 1, 160)
    assert segments.count(char * 81).segments == 2


def test_euro_at_position_160_makes_two_segments():
    assert segments.count("a" * 159).segments == 1
    assert segments.count("a" * 159 + "€") == segments.Count(GSM7, 2, 161)
    assert segments.count("a" * 158 + "€") == segments.Count(GSM7, 1, 160)


def test_an_escape_pair_is_never_split_across_segments():
    # 152 + 2 would be 154 septets in a 153 segment: the € opens the second one.
    text = "a" * 152 + "€" + "a" * 152
    assert segments.count(text) == segments.Count(GSM7, 3, 306)
    assert segments.count("a" * 151 + "€" + "a" * 153) == segments.Count(GSM7, 2, 306)


@pytest.mark.parametrize("text, encoding, units, expected", [
    ("a" * 69 + HAN, UCS2, 70, 1),          # one Chinese character turns the whole text UCS-2
    ("a" * 70 + HAN, UCS2, 71, 2),
    ("Price 5元/斤 today", UCS2, 16, 1),
    ("a" * 150 + "ç", UCS2, 151, 3),         # lower-case ç is not in the GSM table
    ("€" * 10 + HAN, UCS2, 11, 1),          # escapes cost one unit in UCS-2
])
def test_mixed_text(text, encoding, units, expected):
    counted = segments.count(text)
    assert (counted.encoding, counted.units, counted.segments) == (encoding, units, expected)


def test_emoji_makes_ucs2_and_takes_two_units():
    assert segments.count("Hello " + EMOJI) == segments.Count(UCS2, 1, 8)
    assert segments.count(EMOJI * 35) == segments.Count(UCS2, 1, 70)
    assert segments.count(EMOJI * 36) == segments.Count(UCS2, 2, 72)  # 33 + 3 per 67-unit segment
    assert segments.count(EMOJI * 67).segments == 3                   # 33 + 33 + 1


def test_emoji_straddling_the_67_unit_boundary_moves_to_the_next_segment():
    # 66 units, then an emoji that would take units 67 and 68: it starts segment two.
    text = HAN * 66 + EMOJI + HAN * 66
    assert segments.count(text) == segments.Count(UCS2, 3, 134)   # 66 | 2 + 65 | 1
    assert segments.count(HAN * 65 + EMOJI + HAN * 67) == segments.Count(UCS2, 2, 134)


@pytest.mark.parametrize("body_length, expected", [(60, 1), (61, 2), (124, 2), (125, 3)])
def test_signature_is_counted_in(body_length, expected):
    counted = segments.count(HAN * body_length, SIGNATURE)
    assert (counted.segments, counted.units) == (expected, body_length + 10)


def test_signature_makes_ascii_text_ucs2():
    assert segments.count("a" * 61, SIGNATURE) == segments.Count(UCS2, 2, 71)
    assert segments.count("a" * 61).encoding == GSM7


def test_per_segment_limit():
    assert segments.count("a" * 160).per_segment == 160
    assert segments.count("a" * 161).per_segment == 153
    assert segments.count(HAN * 70).per_segment == 70
    assert segments.count(HAN * 71).per_segment == 67


def test_truncate_keeps_the_longest_start_that_fits():
    body = HAN * 100
    cut = segments.truncate(body, 1, SIGNATURE)
    assert cut == HAN * 59 + "…" and segments.count(cut, SIGNATURE).segments == 1
    assert segments.truncate("short", 1, SIGNATURE) == "short"
    assert segments.fits(HAN * 60, 1, SIGNATURE) and not segments.fits(HAN * 61, 1, SIGNATURE)


def test_the_quick_count_agrees_with_packing_character_by_character():
    """Texts where every character costs one are counted without packing: the same
    figures as packing them one by one, for every length around the boundaries."""
    import random

    rng = random.Random(5)
    alphabets = ("abc 123", "葡萄苗土豆", "abc€{}", "土豆😀", "ab葡萄")
    for _ in range(400):
        text = "".join(rng.choice(rng.choice(alphabets)) for _ in range(rng.randint(0, 400)))
        encoding = segments.encoding_of(text)
        costs = [segments._cost(ch, encoding) for ch in text]
        single, multi = segments.LIMITS[encoding]
        expected, used = (0 if not text else 1), 0
        if sum(costs) > single:
            for cost in costs:
                if used + cost > multi:
                    expected, used = expected + 1, 0
                used += cost
        assert segments.count(text) == segments.Count(encoding, expected, sum(costs)), text
