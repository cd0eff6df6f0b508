"""Unclassified posts (their product is not in the list) are classified later by
the liaison point of the poster's village or by the bureau; a classified post is
then matched as if new."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from mailbox import match_alerts, products
from mailbox.models import OPEN, PUBLISHED, Post
from ruralinfo.accounts import roles
from ruralinfo.accounts import services as accounts
from ruralinfo.accounts.models import User
from ruralinfo.audit import services as audit
from ruralinfo.errors import FieldErrors
from ruralinfo.extensions import db
from ruralinfo.liaison import rules
from ruralinfo.liaison import services as liaison

LIMIT = 200


class ClassifyError(FieldErrors):
    """The post cannot be classified as asked."""


def unclassified(scope: list[str] | None):
    """A select of the open unclassified posts, newest first; ``scope``: the region codes
    a liaison serves (None: every post, for the bureau)."""
    stmt = select(Post).where(Post.status == OPEN, Post.product_id.is_(None), Post.category_id.is_(None))
    if scope is not None:
        stmt = stmt.where(Post.user_id.in_(accounts.farmers(scope).with_only_columns(User.id)
                                           .order_by(None)))
    return stmt.order_by(Post.id.desc()).limit(LIMIT)


def classify(post_id: int, word: str, *, actor, channel: str) -> Post:
    """Give post ``post_id`` the product ``word`` names (any name, synonym, English or
    pinyin); match it when it is published. Commits."""
    rules.check_may_write(actor)
    post = db.session.get(Post, post_id)
    bureau = actor.has_role(*roles.BUREAU, roles.ADMIN)
    in_scope = post is not None and accounts.farmer_in_scope(post.user_id, liaison.scope_of(actor)) is not None
    if post is None or post.status != OPEN or not (bureau or in_scope):
        raise ClassifyError({"post": str(_l("This post cannot be classified here."))})
    if post.product_id is not None:
        raise ClassifyError({"post": str(_l("Post no. %(n)s is classified already.", n=post.id))})
    product = products.by_code(products.understand(word or "").product_code)
    if product is None:
        raise ClassifyError({"product": str(_l("No product is called “%(word)s”. Try another name.",
                                               word=(word or "")[:20]))})
    post.product_id = product.id
    db.session.flush()
    audit.record("post.classify", post, actor=actor, channel=channel, details={"product": product.code})
    if post.moderation == PUBLISHED:
        post.matches_found, _best = match_alerts.record(post)
    db.session.commit()
    from ruralinfo.sms import services as sms

    sms.dispatch_pending()
    return post
