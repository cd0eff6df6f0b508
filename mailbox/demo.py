"""Demo letters and posts for the 慈溪市 demo county, through the real services."""
from __future__ import annotations

import random


from mailbox import services
from mailbox.models import BUY, SELL
from ruralinfo.accounts import services as accounts
from ruralinfo.accounts.models import User
from ruralinfo.extensions import db

POSTS = [(SELL, "葡萄苗 2000株 巨峰 3元/株"), (SELL, "杨梅 500斤 6月中旬上市 12元/斤"), (BUY, "有机肥 2吨"),
         (SELL, "土豆 800斤 1.5元/斤"), (BUY, "葡萄苗 300株 要阳光玫瑰"), (SELL, "生猪 20头 出栏"),
         (BUY, "西瓜种子 5斤"), (SELL, "茶叶 明前龙井 50斤")]
LETTERS = ["你家的葡萄苗还有吗？我想要200株。", "明天村里开会讲杨梅病虫害防治，记得来。", "你的土豆卖完了吗？"]


def load(rng: random.Random) -> None:
    """A few posts and letters between neighbours, and a letter to a liaison point."""
    farmers = db.session.scalars(accounts.farmers(None).order_by(None).order_by(User.id).limit(40)).all()
    if len(farmers) < 10:
        return
    for (kind, text), farmer in zip(POSTS, rng.sample(farmers, len(POSTS))):
        services.create_post(farmer, kind, text, channel="sms")
    for body in LETTERS:
        sender = rng.choice(farmers)
        neighbours = [f for f in farmers if f.region_code == sender.region_code and f.id != sender.id]
        if neighbours:
            services.send_letter(sender=sender, recipient=rng.choice(neighbours), body=body, channel="web")
    first = farmers[0]
    point = services.point_of_farmer(first)
    if point is not None:
        services.send_letter(sender=first, recipient_point=point, body="我家葡萄叶子发黄，是什么病？", channel="sms")


def register() -> None:
    from ruralinfo import demo

    demo.extend(load)
