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
from sqlalchemy import delete, func, select

from mailbox import market, matching, post_text, products, services
from mailbox.models import MATCH, PUBLISHED, SELL, Follow, FollowAlert, Post, PostMatch
from ruralinfo import jobs
from ruralinfo.accounts import services as accounts
from ruralinfo.accounts.models import User
from ruralinfo.extensions import db
from ruralinfo.regions.models import Region
from ruralinfo.timeutil import local_zone

TOLD = 10  # the owners of the best ten matches of a new post are told


def place(post: Post, names: dict[str, str] | None = None) -> str:
    """掌起镇长溪村: the township and village of a post (``names``: region names by code,
    when several posts are shown at once)."""
    code = post.region_code
    if not code:
        return ""
    names = names if names is not None else region_names([post])
    return names.get(code[:9], "") + (names.get(code, "") if len(code) > 9 else "")


def region_names(posts) -> dict[str, str]:
    """The names of the townships and villages of ``posts``: read with them when they
    were ranked (``matching``), else in one query."""
    if all(post.place_names is not None for post in posts):
        return {code: name for post in posts for code, name in post.place_names.items()}
    codes = {part for post in posts if post.region_code for part in (post.region_code[:9], post.region_code)}
    if not codes:
        return {}
    return dict(db.session.execute(select(Region.code, Region.name).where(Region.code.in_(codes))).all())


def line(post: Post, names: dict[str, str] | None = None) -> str:
    """``#640 葡萄苗 200株 3元/株 掌起镇长溪村 张*``: a match in one short line."""
    name = (post.product.label("en" if _english() else "zh") if post.product is not None
            else market.public_text(post.text, post.user)[:12])  # an unclassified post: never a number in it
    what = post_text.what(name, post.quantity, post.unit, post.price, post.price_unit, post.negotiable)
    return f"#{post.id} {what} {place(post, names)}{market.masked_name(post.user)}"


def _english() -> bool:
    return str(get_locale()).startswith("en")


def record(post: Post) -> tuple[int, list[Post]]:
    """After a new post (not committed): how many posts match it and the best three,
    for the answer to its poster. Telling the others — the owners of the best
    matches, the followers — is a job (``tell``) run once the post is committed, so
    that the poster's answer never waits for it. Returns (count, best first)."""
    found, best = matching.best(post, 3)
    if found or _followed(post):  # nobody to tell: no job at all
        jobs.later(tell, post.id)
    return found, best


def _followed(post: Post) -> bool:
    return post.product_id is not None and db.session.scalar(
        select(Follow.id).where(Follow.product_id == post.product_id).limit(1)) is not None


def tell(post_id: int) -> None:
    """The job: tell the owners of the best matches of post ``post_id`` and the followers
    of its product in its county. Safe to run twice: nobody is told twice of one post."""
    post = db.session.get(Post, post_id)
    if post is None or post.moderation != PUBLISHED:
        return
    already = set(db.session.scalars(select(PostMatch.match_id).where(PostMatch.post_id == post_id)))
    best = matching.ranked(post, TOLD)
    for rank, other in enumerate(best, start=1):
        if other.id not in already:
            _tell(post, other, rank)
    _tell_followers(post, told={other.user_id for other in best})
    db.session.commit()
    from ruralinfo.sms import services as sms

    sms.dispatch_pending()


def _tell_followers(post: Post, told: set[int]) -> None:
    """关注: a letter to each follower of the product in the post's county (not the
    poster, not who was just told of it as a match), a text within the daily limit."""
    if post.product_id is None or not post.region_code:
        return
    county = post.region_code[:6]
    followers = db.session.scalars(select(User).join(Follow, Follow.user_id == User.id).where(
        Follow.product_id == post.product_id, User.id != post.user_id, User.active.is_(True),
        User.region_code.startswith(county))).all()
    already = set(db.session.scalars(select(FollowAlert.user_id).where(FollowAlert.post_id == post.id)))
    for person in followers:
        if person.id in told or person.id in already:
            continue
        accounts.lock_account(person.id)
        texted = not person.sms_opt_out and _texted_today(person.id) < _per_day()
        with force_locale(person.language or "zh"):
            kind = _("supply") if post.kind == SELL else _("demand")
            body = _("New %(kind)s for %(product)s, which you follow: %(line)s. To ask for contact, text CONTACT "
                     "%(n)s. To stop these, text UNFOLLOW %(product)s.", kind=kind, line=line(post), n=post.id,
                     product=post.product.label("en" if _english() else "zh"))
        services.send_letter(sender=None, recipient=person, body=body, channel="system", kind=MATCH, commit=False,
                             by_sms=texted, routine=True)
        db.session.add(FollowAlert(post_id=post.id, user_id=person.id, texted=texted))


def _tell(post: Post, other: Post, rank: int) -> None:
    owner = other.user
    # the owner's row is locked while their texts are counted: two posts at once cannot both be the 4th
    accounts.lock_account(owner.id)
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
    """Match and follow texts this person got since midnight, local time: one daily limit."""
    midnight = datetime.combine(datetime.now(local_zone()).date(), time(0), tzinfo=local_zone())
    since = midnight.astimezone(UTC).replace(tzinfo=None)
    matches = db.session.scalar(select(func.count(PostMatch.id)).join(Post, Post.id == PostMatch.match_id).where(
        Post.user_id == user_id, PostMatch.texted.is_(True), PostMatch.created_at >= since))
    follows = db.session.scalar(select(func.count(FollowAlert.id)).where(
        FollowAlert.user_id == user_id, FollowAlert.texted.is_(True), FollowAlert.created_at >= since))
    return matches + follows


def follow(user: User, words: str, *, channel: str):
    """关注 X: the product followed (None when X names no product). Not committed."""
    product = products.by_code(products.understand(words).product_code) if words else None
    if product is None:
        return None
    if db.session.scalar(select(Follow).where(Follow.user_id == user.id, Follow.product_id == product.id)) is None:
        db.session.add(Follow(user_id=user.id, product_id=product.id))
        db.session.flush()
    return product


def unfollow(user: User, words: str, *, channel: str):
    """取消关注 X: the product no longer followed (None when X names no product). Not committed."""
    product = products.by_code(products.understand(words).product_code) if words else None
    if product is not None:
        db.session.execute(delete(Follow).where(Follow.user_id == user.id, Follow.product_id == product.id))
    return product
