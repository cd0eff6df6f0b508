"""Consent before contact, and what becomes of a post.

Nobody sees another farmer's phone number because of a post. ``ask`` (联系 N) sends
the owner of post N a request saying who asks (real name, village) and for what;
``agree`` (同意 N, or plain 同意 for the latest request) gives both sides each
other's real name and number, by SMS and in the mailbox. A request not answered
in ``LAPSE`` lapses; a person may ask at most ``ASKS_PER_DAY`` times a day.

``deal`` (成交 N), ``withdraw`` (撤销 N) and ``renew`` (续期 N) end or keep a post:
only its owner may close or renew it; a buyer who was given the owner's number may
report a deal too.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from mailbox import post_text, products, services
from mailbox.models import (AGREED, CLOSED, LAPSED, OPEN, PENDING, SYSTEM, TRADED, WITHDRAWN, ContactRequest,
                            Deal, Post)
from ruralinfo.accounts import phones
from ruralinfo.accounts import services as accounts
from ruralinfo.accounts.models import User
from ruralinfo.audit import services as audit
from ruralinfo.extensions import db
from ruralinfo.timeutil import local_zone, now_utc

LAPSE = timedelta(days=3)
ASKS_PER_DAY = 10


class Refused(ValueError):
    """The request cannot be made as asked; the message says why, in the user's language."""


@dataclass(frozen=True)
class Asked:
    request: ContactRequest
    again: bool  # the same request was made before: nothing new was sent


def _post_for_contact(post_id: int, user: User) -> Post:
    post = db.session.get(Post, post_id)
    if post is None:
        raise Refused(_("There is no post no. %(n)s.", n=post_id))
    if post.user_id == user.id:
        raise Refused(_("Post no. %(n)s is your own.", n=post_id))
    if post.status != OPEN or (post.expires_at is not None and post.expires_at <= now_utc()):
        raise Refused(_("Post no. %(n)s is closed.", n=post_id))
    return post


def _since_midnight() -> datetime:
    midnight = datetime.combine(datetime.now(local_zone()).date(), time(0), tzinfo=local_zone())
    return midnight.astimezone(UTC).replace(tzinfo=None)


def ask(post_id: int, *, user: User, channel: str) -> Asked:
    """Ask the owner of post ``post_id`` to share contact details (not committed)."""
    post = _post_for_contact(post_id, user)
    earlier = db.session.scalar(select(ContactRequest).where(ContactRequest.post_id == post.id,
                                                             ContactRequest.requester_id == user.id))
    if earlier is not None and earlier.status in (PENDING, AGREED) and not _lapsed(earlier):
        return Asked(earlier, again=True)
    accounts.lock_account(user.id)  # the daily count holds when requests race
    asked = db.session.scalar(select(func.count(ContactRequest.id)).where(
        ContactRequest.requester_id == user.id, ContactRequest.created_at >= _since_midnight()))
    if asked >= ASKS_PER_DAY:
        raise Refused(_("You have asked for contact %(n)s times today, the most a day. Try again tomorrow.",
                        n=ASKS_PER_DAY))
    if earlier is not None:  # lapsed: ask again
        earlier.status, earlier.created_at, earlier.answered_at, earlier.channel = PENDING, now_utc(), None, channel
        request = earlier
    else:
        request = ContactRequest(post_id=post.id, requester_id=user.id, owner_id=post.user_id, status=PENDING,
                                 channel=channel, created_at=now_utc())
        db.session.add(request)
    db.session.flush()
    owner = post.user
    with force_locale(owner.language or "zh"):
        body = _("%(name)s of %(place)s asks for contact about your post no. %(n)s (%(what)s). To share your "
                 "names and phone numbers with each other, text YES %(n)s.",
                 name=user.name, place=_place(user), n=post.id, what=post_text.of_post(post))
    services.send_letter(sender=None, recipient=owner, body=body, channel=channel, kind=SYSTEM, commit=False)
    audit.record("contact.ask", request, actor=user, channel=channel, details={"post": post.id})
    return Asked(request, again=False)


def _lapsed(request: ContactRequest) -> bool:
    return request.status == PENDING and request.created_at < now_utc() - LAPSE


def _place(user: User) -> str:
    from ruralinfo.regions import services as regions
    from ruralinfo.regions.models import TOWNSHIP

    return regions.full_name(user.region, TOWNSHIP) if user.region is not None else ""


def agree(post_id: int | None, *, owner: User, channel: str, request_id: int | None = None) -> ContactRequest:
    """The owner agrees: both get each other's real name and number (not committed).
    By SMS, the latest request about post ``post_id`` (or the latest of all without a
    number); on the web, the very request ``request_id`` (several people may ask)."""
    query = select(ContactRequest).where(ContactRequest.owner_id == owner.id, ContactRequest.status == PENDING,
                                         ContactRequest.created_at >= now_utc() - LAPSE)
    if request_id is not None:
        query = query.where(ContactRequest.id == request_id)
    if post_id is not None:
        query = query.where(ContactRequest.post_id == post_id)
    request = db.session.scalar(query.order_by(ContactRequest.created_at.desc(), ContactRequest.id.desc()).limit(1))
    if request is None:
        if post_id is not None:
            raise Refused(_("Nobody is waiting for your answer about post no. %(n)s.", n=post_id))
        raise Refused(_("Nobody is waiting for your answer."))
    request.status, request.answered_at = AGREED, now_utc()
    requester = request.requester
    for to, other in ((requester, owner), (owner, requester)):
        with force_locale(to.language or "zh"):
            body = _("Contact about post no. %(n)s: %(name)s of %(place)s, phone %(phone)s. Once you have "
                     "traded, text DEAL %(n)s.", n=request.post_id, name=other.name, place=_place(other),
                     phone=phones.display(other.phone))
        # essential: both asked for it (one by CONTACT, the other by YES)
        services.send_letter(sender=None, recipient=to, body=body, channel=channel, kind=SYSTEM, commit=False,
                             essential=True)
    audit.record("contact.agree", request, actor=owner, channel=channel, details={"post": request.post_id})
    return request


def deal(post_id: int, *, user: User, rest: str, channel: str) -> Deal:
    """成交 N [quantity price]: the owner closes post N as traded; a buyer who was given
    the owner's number records their deal. Anyone else is refused (not committed)."""
    post = db.session.get(Post, post_id)
    contact = None
    if post is not None and post.user_id != user.id:
        contact = db.session.scalar(select(ContactRequest).where(
            ContactRequest.post_id == post_id, ContactRequest.requester_id == user.id,
            ContactRequest.status == AGREED))
    if post is None or (post.user_id != user.id and contact is None):
        raise Refused(_("You have no post no. %(n)s, nor a contact about it.", n=post_id))
    parsed = products.understand(rest) if rest else None
    found = db.session.scalar(select(Deal).where(Deal.post_id == post_id, Deal.user_id == user.id))
    if found is None:
        found = Deal(post_id=post_id, user_id=user.id, contact_id=getattr(contact, "id", None), channel=channel,
                     created_at=now_utc())
        db.session.add(found)
    if parsed is not None:
        found.quantity, found.unit = parsed.quantity, parsed.unit
        found.price, found.price_unit = parsed.price, parsed.price_unit or parsed.unit
    if post.user_id == user.id and post.status == OPEN:
        _close(post, TRADED, user, channel)
    try:
        db.session.flush()
    except IntegrityError:  # the same report twice at once: one is enough
        db.session.rollback()
        return db.session.scalar(select(Deal).where(Deal.post_id == post_id, Deal.user_id == user.id))
    audit.record("post.deal", post, actor=user, channel=channel, details={"deal": found.id})
    return found


def _own_post(post_id: int, user: User) -> Post:
    post = db.session.get(Post, post_id)
    if post is None or post.user_id != user.id:
        raise Refused(_("You have no post no. %(n)s.", n=post_id))
    return post


def withdraw(post_id: int, *, user: User, channel: str) -> Post:
    """撤销 N: the owner withdraws post N (not committed)."""
    post = _own_post(post_id, user)
    if post.status != OPEN:
        raise Refused(_("Post no. %(n)s is closed.", n=post_id))
    _close(post, WITHDRAWN, user, channel)
    return post


def renew(post_id: int, *, user: User, channel: str) -> Post:
    """续期 N: the owner keeps post N open for another ``POST_DAYS`` (not committed)."""
    post = _own_post(post_id, user)
    if post.status != OPEN:
        raise Refused(_("Post no. %(n)s is closed.", n=post_id))
    post.expires_at = now_utc() + timedelta(days=int(current_app.config["POST_DAYS"]))
    post.expiry_warned_at = None
    audit.record("post.renew", post, actor=user, channel=channel)
    return post


def _close(post: Post, outcome: str, actor: User, channel: str) -> None:
    post.status, post.outcome, post.closed_at = CLOSED, outcome, now_utc()
    audit.record("post.close", post, actor=actor, channel=channel, details={"outcome": outcome})



FOLLOW_UP_AFTER = timedelta(days=7)


def sweep(now: datetime | None = None) -> tuple[int, int]:
    """Requests unanswered for ``LAPSE`` lapse; seven days after a contact, both sides
    are asked once whether they traded. Returns (lapsed, asked). Safe to run twice."""
    now = now or now_utc()
    lapsed = db.session.execute(update(ContactRequest).where(
        ContactRequest.status == PENDING, ContactRequest.created_at < now - LAPSE)
        .values(status=LAPSED).execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    asked = 0
    due = db.session.scalars(select(ContactRequest).where(
        ContactRequest.status == AGREED, ContactRequest.followed_up_at.is_(None),
        ContactRequest.answered_at < now - FOLLOW_UP_AFTER).order_by(ContactRequest.id)).all()
    for request in due:
        claimed = db.session.execute(update(ContactRequest).where(
            ContactRequest.id == request.id, ContactRequest.followed_up_at.is_(None))
            .values(followed_up_at=now).execution_options(synchronize_session=False)).rowcount
        if claimed != 1:
            continue  # another sweep asked
        for person in (request.requester, request.owner):
            with force_locale(person.language or "zh"):
                body = _("Did you trade on post no. %(n)s? If you did, text DEAL %(n)s, and the quantity and "
                         "price if you like (e.g. DEAL %(n)s 200 jin 1.5 yuan/jin).", n=request.post_id)
            services.send_letter(sender=None, recipient=person, body=body, channel="system", kind=SYSTEM,
                                 commit=False, routine=True)
        db.session.commit()
        asked += 1
    from ruralinfo.sms import services as sms

    sms.dispatch_pending()
    return lapsed, asked
