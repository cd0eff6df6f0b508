"""Telling people about matches: the owners of the best matches of a new post get
a letter in their mailbox about it, once for each match, and a text too — at most
``MATCH_ALERTS_PER_DAY`` a day, never during the quiet hours (held until the
morning), and not when they opted out of notices."""
from __future__ import annotations

from datetime import UTC, datetime, time
from typing import NamedTuple

from flask import current_app
from flask_babel import force_locale
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import delete, func, select
from sqlalchemy.orm import selectinload

from mailbox import market, matching, post_text, products, services
from mailbox.models import MATCH, PUBLISHED, SELL, Follow, FollowAlert, Post, PostMatch
from ruralinfo import jobs, locks
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
        tell_later(post.id)
    return found, best


# seconds after which a failed ``tell`` runs again: a passing database error, or a job stopped
# at its time-out on a machine whose web kept the idle-priority worker waiting (docs/operations.md)
RETRY_AFTER = (60, 600, 3600)


def tell_later(post_id: int) -> None:
    """``tell`` as a job once the post is committed, run again if it fails (it is safe to)."""
    jobs.later(tell, post_id, retry_after=RETRY_AFTER)


def _followed(post: Post) -> bool:
    return post.product_id is not None and db.session.scalar(
        select(Follow.id).where(Follow.product_id == post.product_id).limit(1)) is not None


def tell(post_id: int) -> None:
    """The job: tell the owners of the best matches of post ``post_id`` and the followers
    of its product in its county. Safe to run twice: nobody is told twice of one post."""
    post = db.session.get(Post, post_id)
    if post is None or post.moderation != PUBLISHED:
        return
    best = matching.ranked(post, TOLD)
    followers = _followers(post, told={other.user_id for other in best})
    names = region_names([post])
    alerts = [_match_alert(post, other, rank, names) for rank, other in enumerate(best, start=1)]
    alerts += [_follow_alert(post, person, names) for person in followers]
    if not alerts:
        return
    people = {alert.person.id for alert in alerts}
    # jobs telling the same people take turns while their texts are counted (two posts at once cannot
    # both be someone's 4th), without locking anything a farmer's own text needs
    locks.take_turns(locks.MATCH_TEXTS, people, sqlite_lock=User.id)
    alerts = _not_yet_told(post_id, alerts)  # read in turn: the same post's job may have run meanwhile
    if not alerts:
        db.session.commit()  # nothing written; ends the turn
        return
    db.session.scalars(select(User).where(User.id.in_(people))  # a STOP that came meanwhile counts
                       .options(selectinload(User.role_rows))  # the texts ask their roles
                       .execution_options(populate_existing=True)).all()
    left = _texts_left(people)
    for alert in alerts:
        alert.row.texted = alert.person.active and _may_text(alert.person, left)
    letters = services.send_system_letters([(alert.person, alert.body, alert.row.texted) for alert in alerts],
                                           kind=MATCH, routine=True)
    for alert, letter in zip(alerts, letters, strict=True):
        if isinstance(alert.row, PostMatch):
            alert.row.letter_id = letter.id
        db.session.add(alert.row)
    db.session.commit()
    from ruralinfo.sms import services as sms

    sms.dispatch_pending()


class Alert(NamedTuple):
    """Someone to tell of a new post: the letter's words, and the row that records it (a
    match or a follow), with whether it went by text too."""

    person: User
    body: str
    row: PostMatch | FollowAlert


def _followers(post: Post, told: set[int]) -> list[User]:
    """关注: the followers of the post's product in its county to be told of it (not the
    poster, not who is told of it as a match)."""
    if post.product_id is None or not post.region_code:
        return []
    county = post.region_code[:6]
    followers = db.session.scalars(select(User).join(Follow, Follow.user_id == User.id).where(
        Follow.product_id == post.product_id, User.id != post.user_id, User.active.is_(True),
        User.region_code.startswith(county))).all()
    return [person for person in followers if person.id not in told]


def _not_yet_told(post_id: int, alerts: list[Alert]) -> list[Alert]:
    """The ``alerts`` of post ``post_id`` nobody has given yet: a job run again, or the
    post's two jobs at once (on posting, then on approval or classification), tell no one twice."""
    matched = set(db.session.scalars(select(PostMatch.match_id).where(PostMatch.post_id == post_id)))
    followed = set(db.session.scalars(select(FollowAlert.user_id).where(FollowAlert.post_id == post_id)))
    return [alert for alert in alerts if (alert.row.match_id not in matched if isinstance(alert.row, PostMatch)
                                          else alert.row.user_id not in followed)]


def _follow_alert(post: Post, person: User, names: dict[str, str]) -> Alert:
    """A follower's letter about the new ``post``."""
    with force_locale(person.language or "zh"):
        kind = _("supply") if post.kind == SELL else _("demand")
        body = _("New %(kind)s for %(product)s, which you follow: %(line)s. To ask for contact, text CONTACT "
                 "%(n)s. To stop these, text UNFOLLOW %(product)s.", kind=kind, line=line(post, names), n=post.id,
                 product=post.product.label("en" if _english() else "zh"))
    return Alert(person, body, FollowAlert(post_id=post.id, user_id=person.id))


def _match_alert(post: Post, other: Post, rank: int, names: dict[str, str]) -> Alert:
    """The letter to the owner of ``other`` about the new ``post``."""
    owner = other.user
    with force_locale(owner.language or "zh"):
        kind = _("supply") if post.kind == SELL else _("demand")
        body = _("New match for your post no. %(mine)s: %(kind)s %(line)s. To ask for contact, text CONTACT "
                 "%(n)s.", mine=other.id, kind=kind, line=line(post, names), n=post.id)
    return Alert(owner, body, PostMatch(post_id=post.id, match_id=other.id, user_id=owner.id, rank=rank))


def _may_text(person: User, left: dict[int, int]) -> bool:
    """Whether ``person`` gets this alert by text too, counting it against ``left``."""
    if person.sms_opt_out or left.get(person.id, 0) <= 0:
        return False
    left[person.id] -= 1
    return True


def _per_day() -> int:
    return int(current_app.config["MATCH_ALERTS_PER_DAY"])


def _texts_left(user_ids: set[int]) -> dict[int, int]:
    """How many more match and follow texts each of ``user_ids`` may get today (since
    midnight, local time): one daily limit for both, counted in two queries."""
    if not user_ids:
        return {}
    midnight = datetime.combine(datetime.now(local_zone()).date(), time(0), tzinfo=local_zone())
    since = midnight.astimezone(UTC).replace(tzinfo=None)
    texted: dict[int, int] = dict.fromkeys(user_ids, 0)
    for model in (PostMatch, FollowAlert):
        for user_id, count in db.session.execute(select(model.user_id, func.count(model.id)).where(
                model.user_id.in_(user_ids), model.texted, model.created_at >= since)  # as the partial index reads
                .group_by(model.user_id)):
            texted[user_id] += count
    return {user_id: max(0, _per_day() - count) for user_id, count in texted.items()}


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
