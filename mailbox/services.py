"""Every rule of the farmers' mailbox: letters and their threads, the SMS
mirror of a letter, supply and demand posts. Called alike from the web pages,
the SMS commands and (later) the hotline.

Functions that write take ``commit``: the SMS webhook passes False so that a
command's effects, its stored reply and the inbound message's "handled" mark
commit together (a repeated webhook then has no second effect).
"""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from mailbox import letter_sms, match_alerts, moderation, point_letters, products
from mailbox.models import BUY, CLOSED, FROM_POINT, HELD, OPEN, PERSONAL, SELL, SYSTEM, Letter, Post
from ruralinfo.accounts import roles
from ruralinfo.accounts.models import User, UserRole
from ruralinfo.audit import services as audit
from ruralinfo.errors import FieldErrors
from ruralinfo.extensions import db
from ruralinfo.liaison import rules
from ruralinfo.liaison import services as liaison
from ruralinfo.liaison.models import LiaisonPoint
from ruralinfo.sms import services as sms
from ruralinfo.timeutil import now_utc

MAX_LETTER = 1000
MAX_POST = 500


class MailboxError(FieldErrors):
    """A letter or post cannot be made as asked."""


class LetterNotFound(LookupError):
    """No letter with that number that this person may see."""


def _finish(commit: bool) -> None:
    if commit:
        db.session.commit()
        sms.dispatch_pending()
    else:
        db.session.flush()


def clean_text(raw: str, limit: int, field: str = "body") -> str:
    text = " ".join((raw or "").split()) if "\n" not in (raw or "") else (raw or "").strip()
    if not text:
        raise MailboxError({field: str(_l("Write something first."))})
    if len(text) > limit:
        raise MailboxError({field: str(_l("At most %(n)s characters.", n=limit))})
    return text


# --- liaison points -------------------------------------------------------------------------

def point_of_farmer(user: User) -> LiaisonPoint | None:
    """The active liaison point that serves the farmer's village (or township)."""
    return liaison.point_serving(user.region_code)


# --- letters --------------------------------------------------------------------------------

def sender_label(letter: Letter) -> str:
    """Who a letter is from, as the recipient sees it (real name first)."""
    if letter.sender_point is not None and letter.kind == FROM_POINT:
        return letter.sender_point.name
    if letter.sender is not None:
        return letter.sender.name
    return current_app.config["BUREAU_NAME"] if letter.kind != SYSTEM else str(_l("System notice"))


def send_letter(*, sender: User | None, body: str, channel: str, recipient: User | None = None,
                recipient_point: LiaisonPoint | None = None, kind: str = PERSONAL, reply_to: Letter | None = None,
                sender_point: LiaisonPoint | None = None, inbound_id: int | None = None,
                commit: bool = True, by_sms: bool = True, routine: bool = False, essential: bool = False) -> Letter:
    """Write a letter to a user or a liaison point; a user also gets it by SMS (unless
    ``by_sms`` is False; a ``routine`` one waits for the end of the quiet hours)."""
    if sender_point is not None:
        rules.check_may_write(sender)  # writing on a point's behalf
    text = clean_text(body, MAX_LETTER)
    if (recipient is None) == (recipient_point is None):
        raise ValueError("a letter goes to exactly one user or one liaison point")
    letter = Letter(kind=kind, sender_id=getattr(sender, "id", None), sender_point_id=getattr(sender_point, "id", None),
                    recipient_id=getattr(recipient, "id", None), recipient_point_id=getattr(recipient_point, "id", None),
                    body=text, channel=channel, inbound_id=inbound_id,
                    thread_id=reply_to.root_id if reply_to is not None else None)
    db.session.add(letter)
    db.session.flush()
    if sender_point is not None:
        point_letters.mark_answered(sender_point.id, letter.root_id, now_utc())
    _sent(letter, recipient, sender=sender, by_sms=by_sms, routine=routine,
          essential=essential or (recipient is not None and letter_sms.is_answer(reply_to, recipient)))
    _finish(commit)
    return letter


def send_system_letters(letters: list[tuple[User, str, bool]], *, kind: str, routine: bool = False) -> list[Letter]:
    """System letters to several people at once — ``(recipient, body, by_sms)`` each,
    e.g. a new post's matches and followers — written in one INSERT and their texts
    and audit entries in one more, instead of two round trips a letter. Returns the
    letters in the same order. Not committed."""
    made = [Letter(kind=kind, recipient_id=recipient.id, body=clean_text(body, MAX_LETTER), channel="system")
            for recipient, body, _by_sms in letters]
    db.session.add_all(made)
    db.session.flush()
    for letter, (recipient, _body, by_sms) in zip(made, letters, strict=True):
        _sent(letter, recipient, sender=None, by_sms=by_sms, routine=routine, essential=False)
    db.session.flush()
    return made


def _sent(letter: Letter, recipient: User | None, *, sender: User | None, by_sms: bool, routine: bool,
          essential: bool) -> None:
    """What follows a letter once it has its number: its text, if it goes by SMS, and the audit entry."""
    if recipient is not None and by_sms:
        letter_sms.mirror(letter, recipient, sender_label(letter), essential=essential, routine=routine)
    audit.record("letter.send", letter, actor=sender, channel=letter.channel,
                 details={"to_user": letter.recipient_id, "to_point": letter.recipient_point_id, "kind": letter.kind})


def reply(letter_id: int, *, sender: User, body: str, channel: str, inbound_id: int | None = None,
          commit: bool = True) -> Letter:
    """Answer letter ``letter_id`` in its thread.

    A farmer's answer to a letter from a liaison point goes back to the point
    (whoever of its liaisons wrote it); a liaison answering a letter to their
    point writes on the point's behalf; following up one's own letter writes to
    the same addressee again."""
    original = db.session.get(Letter, letter_id)
    if original is None or not _may_read(original, sender):
        raise LetterNotFound(letter_id)
    to_user = to_point = sender_point = None
    kind = PERSONAL
    if original.recipient_id == sender.id:  # answering a letter one received
        if original.sender_point_id:
            to_point = original.sender_point
        elif original.sender_id:
            to_user = original.sender
        else:  # a bureau or system notice: the farmer's own point answers
            to_point = point_of_farmer(sender)
    elif original.sender_id == sender.id and original.sender_point_id is None:  # following up one's own letter
        to_user, to_point = original.recipient, original.recipient_point
    elif sender.liaison_point_id and sender.liaison_point_id in (original.recipient_point_id, original.sender_point_id):
        sender_point, kind = db.session.get(LiaisonPoint, sender.liaison_point_id), FROM_POINT
        to_user = original.sender if original.recipient_point_id == sender.liaison_point_id else original.recipient
    if to_user is None and to_point is None:
        raise LetterNotFound(letter_id)
    return send_letter(sender=sender, body=body, channel=channel, recipient=to_user, recipient_point=to_point,
                       sender_point=sender_point, kind=kind, reply_to=original, inbound_id=inbound_id,
                       commit=commit)


def _may_read(letter: Letter, user: User) -> bool:
    if user.id in (letter.recipient_id, letter.sender_id):
        return True
    point_ids = {letter.recipient_point_id, letter.sender_point_id} - {None}
    return bool(point_ids) and user.has_role(roles.LIAISON) and user.liaison_point_id in point_ids


def inbox(user: User):
    """A select of the letters to ``user``, newest first."""
    return select(Letter).where(Letter.recipient_id == user.id).order_by(Letter.id.desc())


def point_inbox(point: LiaisonPoint):
    return select(Letter).where(Letter.recipient_point_id == point.id).order_by(Letter.id.desc())


def sent_by(user: User):
    return select(Letter).where(Letter.sender_id == user.id).order_by(Letter.id.desc())


def unread_count(user: User) -> int:
    return db.session.scalar(select(func.count(Letter.id)).where(Letter.recipient_id == user.id,
                                                                 Letter.read_at.is_(None)))


def thread(letter_id: int, user: User) -> list[Letter]:
    """The whole thread of a letter ``user`` may read, oldest first; LetterNotFound otherwise."""
    letter = db.session.get(Letter, letter_id)
    if letter is None or not _may_read(letter, user):
        raise LetterNotFound(letter_id)
    root = letter.root_id
    letters = db.session.scalars(select(Letter).where(or_(Letter.id == root, Letter.thread_id == root))
                                 .order_by(Letter.id)).all()
    return [item for item in letters if _may_read(item, user)]


def mark_read(letters: list[Letter], user: User) -> None:
    changed = False
    for letter in letters:
        if letter.read_at is None and (letter.recipient_id == user.id or
                                       (letter.recipient_point_id and letter.recipient_point_id == user.liaison_point_id)):
            letter.read_at = now_utc()
            changed = True
    if changed:
        db.session.commit()


def villagers(user: User, name: str, limit: int = 20) -> list[User]:
    """Active accounts of ``user``'s village whose name contains ``name`` (to write to)."""
    if not user.region_code:
        return []
    stmt = (select(User).where(User.region_code == user.region_code, User.active.is_(True), User.id != user.id,
                               User.role_rows.any(UserRole.role == roles.FARMER))
            .order_by(User.name).limit(limit))
    if name.strip():
        stmt = stmt.where(User.name.contains(name.strip()))
    return list(db.session.scalars(stmt))


# --- posts ----------------------------------------------------------------------------------

def create_post(user: User, kind: str, text: str, *, channel: str, actor: User | None = None,
                inbound_id: int | None = None, commit: bool = True) -> Post:
    """A supply (``sell``) or demand (``buy``) post, stored as written."""
    if kind not in (SELL, BUY):
        raise ValueError(kind)
    if actor is not None and actor.id != user.id:
        rules.check_may_write(actor)  # a liaison posting for a farmer
    body = clean_text(text, MAX_POST, "text")
    post = Post(user_id=user.id, kind=kind, text=body, status=OPEN, channel=channel,
                created_by_id=(actor or user).id, inbound_id=inbound_id, region_code=user.region_code,
                expires_at=now_utc() + timedelta(days=int(current_app.config["POST_DAYS"])))
    apply_understanding(post, products.understand(body))
    db.session.add(post)
    db.session.flush()
    reason = moderation.hold_reason(post)
    if reason is not None:  # saved and answered, but matched and listed only once a person approves
        post.moderation, post.review_reason = HELD, reason
    else:
        post.matches_found, best = match_alerts.record(post)
        post.best_matches = tuple(best[:3])
    audit.record("post.create", post, actor=actor or user, channel=channel, details={"kind": kind})
    _finish(commit)
    return post


def apply_understanding(post: Post, parsed) -> None:
    """Keep how the text was understood with the post; what was not understood stays in
    the text and the notes — the post is never lost."""
    post.product_id = products.id_of(parsed.product_code)
    post.notes = parsed.notes[:500]
    post.quantity, post.unit = parsed.quantity, parsed.unit
    post.base_quantity, post.base_unit = parsed.base_quantity, parsed.base_unit
    post.price, post.price_unit = parsed.price, parsed.price_unit
    post.base_price, post.base_price_unit = parsed.base_price, parsed.base_price_unit
    post.negotiable = parsed.negotiable
    category = products.category_named(parsed.text) if post.product_id is None else None
    post.category_id = category.id if category is not None else None  # 买 水果: any fruit


def close_post(post: Post, *, actor: User, channel: str) -> None:
    if post.status != CLOSED:
        post.status = CLOSED
        audit.record("post.close", post, actor=actor, channel=channel)
        db.session.commit()


def open_posts(user: User) -> list[Post]:
    return list(db.session.scalars(open_posts_query(user)))


def open_posts_query(user: User):
    """A select of the user's open posts, newest first."""
    return select(Post).where(Post.user_id == user.id, Post.status == OPEN).order_by(Post.id.desc())


def posts_of(user: User):
    return select(Post).where(Post.user_id == user.id).order_by(Post.id.desc())
