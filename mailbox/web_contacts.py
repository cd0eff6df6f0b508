"""Consent before contact on the web: the market's "Ask for contact" button, the
mailbox's "Agree", and a liaison posting or asking on behalf of a farmer of their
point. The rules are those of ``contacts`` and ``services`` (the same as by SMS);
these functions commit, send what waits, and say what happened in words for a page.
"""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from mailbox import contacts, services
from mailbox.models import AGREED, PENDING, ContactRequest, Post
from ruralinfo.accounts.models import User
from ruralinfo.audit import services as audit
from ruralinfo.audit.services import WEB
from ruralinfo.extensions import db
from ruralinfo.liaison import rules
from ruralinfo.sms import services as sms
from ruralinfo.timeutil import now_utc

Refused = contacts.Refused


def _commit() -> None:
    db.session.commit()
    sms.dispatch_pending()


def ask(post_id: int, *, user: User, actor: User | None = None) -> contacts.Asked:
    """``user`` asks the owner of post ``post_id`` for contact; ``actor`` is the liaison
    asking on their behalf (refused for a suspended point, recorded with the liaison
    as actor). Raises ``Refused`` or ``rules.PointSuspended``; nothing is kept then."""
    on_behalf = actor is not None and actor.id != user.id
    if on_behalf:
        rules.check_may_write(actor)
    try:
        asked = contacts.ask(post_id, user=user, channel=WEB)
    except Refused:
        db.session.rollback()
        raise
    if on_behalf:
        audit.record("contact.ask_for", asked.request, actor=actor, channel=WEB,
                     details={"post": post_id, "for": user.id, "again": asked.again})
    _commit()
    return asked


def asked_message(asked: contacts.Asked, post_id: int, *, for_name: str | None = None) -> str:
    """What the asker (or the liaison who asked for ``for_name``) is told."""
    if asked.again and asked.request.status == AGREED:
        if for_name:
            return _("The owner of post no. %(n)s has already agreed: %(name)s has the letter with the phone "
                     "number in their mailbox.", n=post_id, name=for_name)
        return _("The owner of post no. %(n)s has already agreed: see the letter with the phone number in your "
                 "mailbox.", n=post_id)
    if asked.again:
        return _("You have asked about post no. %(n)s already; the owner has not answered yet.", n=post_id)
    if for_name:
        return _("The request of %(name)s about post no. %(n)s is sent. If the owner agrees within 3 days, they "
                 "both get each other's name and phone number.", n=post_id, name=for_name)
    return _("Your request about post no. %(n)s is sent. If the owner agrees within 3 days, you both get each "
             "other's name and phone number.", n=post_id)


def saved_message(post: Post, *, for_name: str | None = None) -> str:
    """What the poster (or the liaison who posted for ``for_name``) is told: the number of
    the post and how many matching posts were found (``create_post`` sets ``matches_found``)."""
    if for_name:
        saved = _("Post no. %(n)s is saved for %(name)s.", n=post.id, name=for_name)
    else:
        saved = _("Your post no. %(n)s is saved.", n=post.id)
    if getattr(post, "moderation", None) == "held":  # POST_MODERATION=before, or held for review
        return saved + " " + _("It is listed in the market and matched once it has been checked.")
    found = getattr(post, "matches_found", 0) or 0
    if not found:
        return saved + " " + _("No matching post yet: you will be told when one comes.")
    return saved + " " + ngettext("%(num)s matching post found.", "%(num)s matching posts found.", found)


def agree(request_id: int, *, owner: User) -> ContactRequest:
    """The owner agrees to request ``request_id``: both get each other's name and
    number, in their mailbox and by SMS. Raises ``Refused``."""
    try:
        request = contacts.agree(None, owner=owner, channel=WEB, request_id=request_id)
    except Refused:
        db.session.rollback()
        raise
    _commit()
    return request


def waiting_for(owner: User) -> list[ContactRequest]:
    """The requests waiting for ``owner``'s answer (not lapsed), newest first."""
    return list(db.session.scalars(
        select(ContactRequest).where(ContactRequest.owner_id == owner.id, ContactRequest.status == PENDING,
                                     ContactRequest.created_at >= now_utc() - contacts.LAPSE)
        .options(selectinload(ContactRequest.requester), selectinload(ContactRequest.post))
        .order_by(ContactRequest.created_at.desc(), ContactRequest.id.desc())))


def request_about(post_id: int, user: User) -> ContactRequest | None:
    """``user``'s request about post ``post_id``, if they made one that still counts."""
    found = db.session.scalar(select(ContactRequest).where(ContactRequest.post_id == post_id,
                                                           ContactRequest.requester_id == user.id))
    if found is None or found.status not in (PENDING, AGREED):
        return None
    if found.status == PENDING and found.created_at < now_utc() - contacts.LAPSE:
        return None
    return found


def post_for(farmer: User, kind: str, text: str, *, liaison: User) -> Post:
    """A liaison writes a supply or demand post for a farmer of their point (committed,
    matched and alerted like any post). Raises ``services.MailboxError`` or
    ``rules.PointSuspended``."""
    rules.check_may_write(liaison)
    return services.create_post(farmer, kind, text, channel=WEB, actor=liaison)
