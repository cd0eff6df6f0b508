"""Which topic a written question is about, from its words: a product it names (its
place in the product classification: 01 crops, 02 livestock, 03 fisheries) or words
that only one topic uses. What names nothing goes to the general queue; an expert can
move it."""
from __future__ import annotations

from mailbox import products

# The first two digits of a product's code (NY/T 3177) → the topic its questions go to.
BY_SECTION = {"01": "crops", "02": "livestock", "03": "fisheries"}
# Words a question of one topic uses, checked before products: 假种子 is a complaint, not a crop question.
WORDS = (
    ("complaints", ("假种子", "假化肥", "假农药", "假兽药", "投诉", "举报", "坑农", "伪劣", "fake seed",
                    "fake fertiliser", "fake fertilizer", "complain")),
    ("policy", ("补贴", "政策", "法规", "保险", "土地流转", "承包", "subsidy", "policy", "insurance")),
    ("market", ("价格", "行情", "多少钱", "收购价", "销路", "price", "market")),
    ("livestock", ("兽医", "疫苗", "禽流感", "养殖", "饲料", "猪", "牛", "羊", "鸡", "鸭", "鹅", "兔", "vet",
                   "vaccine")),
    ("fisheries", ("鱼塘", "水产", "增氧", "fish pond")),
    ("crops", ("病虫", "虫害", "施肥", "打药", "种植", "育苗", "除草", "pest", "fertilis", "fertiliz")),
)


def guess(text: str) -> str:
    """The topic for ``text`` (``general`` when nothing in it names one)."""
    lowered = text.lower()
    for topic, words in WORDS:
        if any(word in lowered for word in words):
            return topic
    parsed = products.understand(text)
    code = getattr(parsed, "product_code", None) or ""
    return BY_SECTION.get(code[:2], "general")
