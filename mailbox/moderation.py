"""Which posts are published at once and which wait for a person, and the review.

``POST_MODERATION`` is the county's choice: ``none`` (published at once, the
default) or ``before`` (held until the bureau or the liaison point approves).
Whatever the setting, a post is held when it contains a banned word
(``POST_BANNED_WORDS``) or asks a price more than half away from the median of the
county's open posts of the same product. A held post is saved and answered, but
neither matched nor listed; once approved it is matched as if new. A rejected
post's owner is told why by SMS.

Who reviews: the bureau (and administrators) every held post; a liaison the held
posts of the farmers their point serves, and no other (``may_review``). Bureau and
point decide alike, whatever held the post — the county's review, a word on the
list, an unusual price: the point knows its farmers and their prices, and a
second, bureau-only kind of hold is not worth its complexity. Only the bureau takes
a published post out of the market (``hide``).
"""
from __future__ import annotations

from decimal import Decimal
from functools import cache

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, select

from mailbox import match_alerts, services
from mailbox.models import HELD, HIDDEN, OPEN, PUBLISHED, REJECTED, SELL, SYSTEM, Post
from ruralinfo import locks
from ruralinfo.accounts import roles
from ruralinfo.accounts import services as accounts
from ruralinfo.accounts.models import User
from ruralinfo.audit import services as audit
from ruralinfo.errors import FieldErrors
from ruralinfo.extensions import db
from ruralinfo.liaison import rules
from ruralinfo.liaison import services as liaison
from ruralinfo.timeutil import now_utc

PRICE_SPREAD = 0.5  # held when the asking price is more than 50% away from the median
PRICE_SAMPLE = 3  # the median needs this many posts to mean anything
PRICE_SAMPLE_MAX = 300  # and this many tell it well enough
BANNED = _l("a word on the list of words to check")
MANUAL = _l("the county reviews every post before it is published")


class ReviewError(FieldErrors):
    """A review cannot be done as asked."""


def banned_words() -> list[str]:
    words = current_app.config.get("POST_BANNED_WORDS") or ""
    if isinstance(words, str):
        words = words.replace("；", ";").replace(",", ";").split(";")
    return [word.strip() for word in words if word and word.strip()]


def hold_reason(post: Post) -> str | None:
    """Why a new post waits for a person (in the current language), or None."""
    text = post.text.lower()
    found = next((word for word in banned_words() if word.lower() in text), None)
    if found is not None:
        return str(_l("contains “%(word)s”, %(what)s", word=found, what=BANNED))
    unusual = _unusual_price(post)
    if unusual is not None:
        return unusual
    if current_app.config.get("POST_MODERATION", "none") == "before":
        return str(MANUAL)
    return None


def _unusual_price(post: Post) -> str | None:
    if post.kind != SELL or post.base_price is None or post.product_id is None or not post.region_code:
        return None
    median = county_median(post)
    if median and abs(post.base_price - median) > median * type(median)(PRICE_SPREAD):
        return str(_l("asks %(price)s yuan per %(unit)s, more than half away from the county's median of "
                      "%(median)s", price=post.base_price.normalize(), unit=post.base_price_unit,
                      median=median.normalize()))
    return None


def county_median(post: Post) -> Decimal | None:
    """The median asking price of the newest ``PRICE_SAMPLE_MAX`` open sell posts of the
    post's product in its county, per its price unit; None under ``PRICE_SAMPLE`` posts.

    One statement, whatever the sample: the middle one or two prices and the sample's size."""
    rows = db.session.execute(_median_statement(), {
        "product": post.product_id, "unit": post.base_price_unit, "post": post.id,
        "county": post.region_code[:6]}).all()
    if not rows or rows[0][1] < PRICE_SAMPLE:
        return None
    middle = [row[0] for row in rows]
    return middle[0] if rows[0][1] % 2 else (middle[0] + middle[1]) / 2


@cache
def _median_statement():
    """Built once with bound parameters: each new post only fills in its values."""
    sample = (select(Post.base_price.label("price")).where(
        Post.product_id == bindparam("product"), Post.kind == SELL, Post.status == OPEN,
        Post.moderation == PUBLISHED, Post.base_price_unit == bindparam("unit"), Post.base_price.is_not(None),
        Post.id != bindparam("post"), Post.region_code.startswith(bindparam("county")))
        .order_by(Post.id.desc()).limit(PRICE_SAMPLE_MAX).cte("sample"))
    size = select(func.count()).select_from(sample).scalar_subquery()
    return (select(sample.c.price, size).order_by(sample.c.price)
            .offset(select((func.count() - 1) // 2).select_from(sample).scalar_subquery()).limit(2))


def queue(scope: list[str] | None = None):
    """A select of the posts waiting for review, oldest first; ``scope``: the region
    codes a liaison serves (only their farmers' posts), None for the bureau (every post)."""
    stmt = select(Post).where(Post.moderation == HELD)
    if scope is not None:
        stmt = stmt.where(Post.user_id.in_(accounts.farmers(scope).with_only_columns(User.id).order_by(None)))
    return stmt.order_by(Post.created_at, Post.id)


def may_review(actor, post: Post, *, liaison_may: bool = True) -> bool:
    """Whether ``actor`` may decide about ``post``: the bureau and administrators always;
    a liaison (``liaison_may``) when the post's owner is a farmer of their point."""
    if actor is None:
        return False
    if actor.has_role(*roles.BUREAU, roles.ADMIN):
        return True
    return (liaison_may and actor.has_role(roles.LIAISON)
            and accounts.farmer_in_scope(post.user_id, liaison.scope_of(actor)) is not None)


def _reviewable(post_id: int, actor, *states: str, liaison_may: bool = True) -> Post:
    """The post, if ``actor`` may decide about it now; its row is held until the commit,
    so that two reviewers (the bureau and the point) deciding at once decide one
    after the other, the second finding the post decided."""
    try:
        rules.check_may_write(actor)
    except rules.PointSuspended as err:
        raise ReviewError({"post": str(err)}) from None
    post = db.session.get(Post, post_id)
    if post is not None and may_review(actor, post, liaison_may=liaison_may):
        locks.lock_rows(Post.id, [post.id])
        post = db.session.get(Post, post_id, populate_existing=True)
        if post.moderation in states:
            return post
    # the same answer whether the post is elsewhere, decided or missing: never a hint which
    raise ReviewError({"post": str(_l("This post is not waiting for this review."))})


def approve(post_id: int, *, actor, channel: str) -> Post:
    """Publish a held post and match it, as if it were new (commits). The bureau, or
    the liaison point of the post's owner, whatever held the post."""
    post = _reviewable(post_id, actor, HELD)
    post.moderation, post.reviewed_by_id, post.reviewed_at = PUBLISHED, actor.id, now_utc()
    db.session.flush()
    post.matches_found, best = match_alerts.record(post)
    audit.record("post.approve", post, actor=actor, channel=channel)
    _commit()
    return post


def reject(post_id: int, *, actor, reason: str, channel: str) -> Post:
    """Reject a held post; its owner is told why by SMS (commits). The bureau, or the
    liaison point of the post's owner."""
    reason = _reason(reason)
    post = _reviewable(post_id, actor, HELD)
    _decide(post, REJECTED, actor, reason, channel)
    return post


def hide(post_id: int, *, actor, reason: str, channel: str) -> Post:
    """Take a published post out of the market and out of matching (commits). The
    bureau only."""
    reason = _reason(reason)
    post = _reviewable(post_id, actor, PUBLISHED, liaison_may=False)
    _decide(post, HIDDEN, actor, reason, channel)
    return post


def _reason(raw: str | None) -> str:
    """The reason the farmer is told, on one line; ``ReviewError`` when there is none."""
    reason = " ".join((raw or "").split())[:200]
    if not reason:
        raise ReviewError({"reason": str(_l("Say why: the farmer is told."))})
    return reason


def _decide(post: Post, state: str, actor, reason: str, channel: str) -> None:
    post.moderation, post.review_reason = state, reason
    post.reviewed_by_id, post.reviewed_at = actor.id, now_utc()
    owner = post.user
    with force_locale(owner.language or "zh"):
        body = (_("Your post no. %(n)s is not published: %(reason)s", n=post.id, reason=reason) if state == REJECTED
                else _("Your post no. %(n)s is taken out of the market: %(reason)s", n=post.id, reason=reason))
    # about the farmer's own post: it reaches them even after 退订
    services.send_letter(sender=None, recipient=owner, body=body, channel=channel, kind=SYSTEM, commit=False,
                         essential=True)
    audit.record("post.reject" if state == REJECTED else "post.hide", post, actor=actor, channel=channel,
                 details={"reason": reason})
    _commit()


def _commit() -> None:
    from ruralinfo.sms import services as sms

    db.session.commit()
    sms.dispatch_pending()
