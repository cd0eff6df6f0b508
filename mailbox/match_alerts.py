"""Telling people about matches: the owners of the best matches of a new post get
a letter in their mailbox about it, once for each match, and a text too — at most
``MATCH_ALERTS_PER_DAY`` a day, never during the quiet hours (held until the
morning), and not when they opted out of notices."""
from __future__ import annotations

from datetime import UTC, datetime, time

from flask import current_app
from flask_babel import force_locale
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import func, select

from mailbox import market, matching, post_text, services
from mailbox.models import MATCH, SELL, Post, PostMatch
from ruralinfo.accounts.models import User
from ruralinfo.extensions import db
from ruralinfo.regions import services as regions
from ruralinfo.regions.models import TOWNSHIP
from ruralinfo.timeutil import local_zone

TOLD = 10  # the owners of the best ten matches of a new post are told


def place(post: Post) -> str:
    """掌起镇长溪村: the township and village of a post."""
    return regions.full_name(post.region, TOWNSHIP) if post.region is not None else ""


def line(post: Post) -> str:
    """``#640 葡萄苗 200株 3元/株 掌起镇长溪村 张*``: a match in one short line."""
    name = (post.product.label("en" if _english() else "zh") if post.product is not None
            else market.public_text(post.text, post.user)[:12])  # an unclassified post: never a number in it
    what = post_text.what(name, post.quantity, post.unit, post.price, post.price_unit, post.negotiable)
    return f"#{post.id} {what} {place(post)}{market.masked_name(post.user)}"


def _english() -> bool:
    return str(get_locale()).startswith("en")


def record(post: Post) -> tuple[int, list[Post]]:
    """After a new post (not committed): how many posts match it, and the best ones,
    whose owners are told. Returns (count, best first)."""
    found = matching.count(post)
    best = matching.ranked(post, TOLD) if found else []
    for rank, other in enumerate(best, start=1):
        _tell(post, other, rank)
    return found, best


def _tell(post: Post, other: Post, rank: int) -> None:
    owner = other.user
    # the owner's row is locked while their texts are counted: two posts at once cannot both be the 4th
    db.session.execute(select(User.id).where(User.id == owner.id).with_for_update())
    texted = owner.active and not owner.sms_opt_out and _texted_today(owner.id) < _per_day()
    with force_locale(owner.language or "zh"):
        kind = _("supply") if post.kind == SELL else _("demand")
        body = _("New match for your post no. %(mine)s: %(kind)s %(line)s. To ask for contact, text CONTACT "
                 "%(n)s.", mine=other.id, kind=kind, line=line(post), n=post.id)
    letter = services.send_letter(sender=None, recipient=owner, body=body, channel="system", kind=MATCH,
                                  commit=False, by_sms=texted, routine=True)
    db.session.add(PostMatch(post_id=post.id, match_id=other.id, rank=rank, letter_id=letter.id, texted=texted))


def _per_day() -> int:
    return int(current_app.config["MATCH_ALERTS_PER_DAY"])


def _texted_today(user_id: int) -> int:
    """Match texts this person got since midnight, local time."""
    midnight = datetime.combine(datetime.now(local_zone()).date(), time(0), tzinfo=local_zone())
    since = midnight.astimezone(UTC).replace(tzinfo=None)
    return db.session.scalar(select(func.count(PostMatch.id)).join(Post, Post.id == PostMatch.match_id).where(
        Post.user_id == user_id, PostMatch.texted.is_(True), PostMatch.created_at >= since))
