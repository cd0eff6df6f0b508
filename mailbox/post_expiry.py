"""Posts expire after ``POST_DAYS``: three days before, the owner gets one letter (and
a text, unless they opted out) saying how to keep it (续期 N); when the day comes,
the post closes as expired. Run by the sweeps (the worker's, or ``flask sweep``)."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from sqlalchemy import select, update

from mailbox import post_text, services
from mailbox.models import CLOSED, EXPIRED, OPEN, SYSTEM, Post
from ruralinfo.extensions import db
from ruralinfo.timeutil import now_utc, to_local

WARN_BEFORE = timedelta(days=3)


def sweep(now: datetime | None = None) -> tuple[int, int]:
    """Warn the owners of posts that expire within three days, once; close the
    expired ones. Returns (warned, expired). Safe to run twice."""
    now = now or now_utc()
    warned = 0
    due = db.session.scalars(select(Post).where(Post.status == OPEN, Post.expiry_warned_at.is_(None),
                                                Post.expires_at.is_not(None), Post.expires_at > now,
                                                Post.expires_at <= now + WARN_BEFORE).order_by(Post.id)).all()
    for post in due:
        claimed = db.session.execute(update(Post).where(Post.id == post.id, Post.expiry_warned_at.is_(None))
                                     .values(expiry_warned_at=now).execution_options(synchronize_session=False))
        if claimed.rowcount != 1:
            continue  # another sweep warned it
        owner = post.user
        with force_locale(owner.language or "zh"):
            body = _("Your post no. %(n)s (%(what)s) closes on %(date)s. To keep it open, text RENEW %(n)s.",
                     n=post.id, what=post_text.of_post(post), date=format_date(to_local(post.expires_at), "MM-dd"))
        services.send_letter(sender=None, recipient=owner, body=body, channel="system", kind=SYSTEM, commit=False,
                             routine=True)
        db.session.commit()
        warned += 1
    expired = db.session.execute(update(Post).where(Post.status == OPEN, Post.expires_at <= now)
                                 .values(status=CLOSED, outcome=EXPIRED, closed_at=now)
                                 .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    from ruralinfo.sms import services as sms

    sms.dispatch_pending()
    return warned, expired
