"""What the hotline reads aloud, as plain text for any voice driver to say: the
greeting, the latest notices, the market for a product, the caller's letters, a
topic's common questions. Called inside ``force_locale`` with the caller's language;
nothing here knows TwiML.

Nothing read aloud carries a phone number or a full name: posts are read as the
market shows them (the surname and ``*``), their free text never.
"""
from __future__ import annotations

import statistics
from collections import Counter
from decimal import Decimal

from flask import current_app
from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import select

from hotline.models import PublishedAnswer
from mailbox import market, match_alerts, post_text, products
from mailbox import services as mailbox
from mailbox.models import FROM_BUREAU, SELL, Letter, Product
from ruralinfo.accounts.models import User
from ruralinfo.broadcasts import texts
from ruralinfo.broadcasts.models import DONE, SENDING, Broadcast, Recipient
from ruralinfo.extensions import db
from ruralinfo.timeutil import now_utc, to_local

NOTICES = 3  # read at most, newest first
RECENT_BROADCASTS = 50  # looked through for county-wide ones
PRODUCTS = 5  # offered on the keypad, those with the most open posts
POSTS = 3  # read for a product, nearest first
MEDIAN_POSTS = 20  # the newest open sell posts the median asking price is taken over
ANSWERS = 9  # common questions offered, one key each


def greeting(user: User | None, hotline: str) -> str:
    """Hello by name for a registered caller; a welcome for anyone else."""
    if user is not None:
        return _("Hello %(name)s, welcome to %(hotline)s.", name=user.name, hotline=hotline)
    return _("Welcome to %(hotline)s.", hotline=hotline)


# --- notices ---------------------------------------------------------------------------------

def notices(user: User | None, language: str) -> list[str]:
    """The latest notices for the caller's region, newest first: those sent to a registered
    farmer (filed in their mailbox) and those sent to the whole of their village, township
    or county — so one who registered after the frost warning hears it too; for a caller
    with no account, those sent to the whole county."""
    said = _letters_of_bureau(user) if user is not None else []
    place = (user.region_code if user is not None else None) or current_app.config["COUNTY_CODE"]
    said += _regional_broadcasts(place, language, user)
    said = sorted(said, key=lambda item: item[0], reverse=True)[:NOTICES]
    if not said:
        return [_("There are no notices now.")]
    return [_("Notice of %(date)s: %(text)s", date=format_date(to_local(at).date(), "long"), text=text)
            for at, text in said]


def _letters_of_bureau(user: User) -> list[tuple]:
    rows = db.session.execute(
        select(Letter.created_at, Letter.body)
        .where(Letter.recipient_id == user.id, Letter.kind == FROM_BUREAU, Letter.channel == "broadcast")
        .order_by(Letter.id.desc()).limit(NOTICES)).all()
    return [(row.created_at, row.body) for row in rows]


def _regional_broadcasts(place: str, language: str, user: User | None = None) -> list[tuple]:
    """Sent broadcasts to a region that holds ``place`` (a village, township or county code),
    nobody left out: everyone living there was meant to have them. Those ``user`` received
    are left out here: their mailbox has them as sent (with their name, with the reply line)."""
    recent = db.session.scalars(select(Broadcast).where(Broadcast.status.in_((SENDING, DONE)))
                                .order_by(Broadcast.id.desc()).limit(RECENT_BROADCASTS)).all()
    received = set(db.session.scalars(select(Recipient.broadcast_id).where(
        Recipient.broadcast_id.in_([b.id for b in recent]), Recipient.phone == user.phone))) if user and recent else set()
    found = []
    for broadcast in (b for b in recent if b.id not in received):
        audience = broadcast.audience or {}
        regions = (audience.get("include") or {}).get("regions") or []
        left_out = any((audience.get("exclude") or {}).values())
        if not left_out and any(place.startswith(code) for code in regions):
            reads = texts.language_of(broadcast, language)
            body = broadcast.body_en if reads == "en" else broadcast.body
            found.append((broadcast.planned_at or broadcast.created_at, texts.personal(body, None, None, reads)))
        if len(found) == NOTICES:
            break
    return found


# --- market ----------------------------------------------------------------------------------

def products_on_offer() -> list[Product]:
    """The products with the most open posts, for the keypad."""
    return market.products_on_offer(limit=PRODUCTS)


def product_offer(offered: list[Product], language: str) -> str:
    """Say a product, or press its key."""
    choices = [_("for %(title)s press %(key)s", title=product.label(language), key=key)
               for key, product in enumerate(offered, start=1)]
    comma, stop = ("，", "。") if language == "zh" else ("; ", ".")
    return _("Say the product you want to hear about, or choose:") + " " + comma.join(
        choices + [_("to go back press hash")]) + stop


def product_named(words: str) -> Product | None:
    """The product a caller named (any of its names, synonyms or local names)."""
    code = products.understand(words or "").product_code
    return products.by_code(code)


def market_report(product: Product, region_code: str | None, language: str) -> list[str]:
    """The nearest open posts for ``product`` (newest first when the caller has no
    village) and the median asking price of its newest open sell posts."""
    name = product.label(language)
    posts = market.search(product_code=product.code, near_region=region_code).items[:POSTS]
    if not posts:
        return [_("There are no open posts for %(name)s now.", name=name)]
    names = match_alerts.region_names(posts)
    said = [_("Open posts for %(name)s:", name=name)]
    for post in posts:
        what = post_text.what(name, post.quantity, post.unit, post.price, post.price_unit, post.negotiable)
        kind = _("selling") if post.kind == SELL else _("buying")
        said.append(_("%(name)s of %(place)s is %(kind)s %(what)s.", name=market.masked_name(post.user),
                      place=match_alerts.place(post, names) or _("our county"), kind=kind, what=what))
    median = median_price(product)
    if median is not None:
        price, unit, count = median
        said.append(_("The median asking price of %(count)s posts is %(price)s.", count=count,
                      price=post_text.what(None, None, None, price, unit, False)))
    return said


def median_price(product: Product) -> tuple[Decimal, str, int] | None:
    """(median, unit, posts) over the newest open sell posts with a price, in the unit
    most of them give (元/公斤 for weights); None when none gives a price."""
    posts = market.search(kind=SELL, product_code=product.code).items[:MEDIAN_POSTS]
    priced = [(post.base_price, post.base_price_unit) for post in posts
              if post.base_price is not None and post.base_price_unit]
    if not priced:
        return None
    unit = Counter(unit for _price, unit in priced).most_common(1)[0][0]
    prices = [Decimal(price) for price, their in priced if their == unit]
    return Decimal(statistics.median(prices)).quantize(Decimal("0.01")), unit, len(prices)


# --- the mailbox -----------------------------------------------------------------------------

def next_unread(user: User, before_id: int | None = None) -> Letter | None:
    """The newest unread letter to ``user`` (older than letter ``before_id``)."""
    stmt = select(Letter).where(Letter.recipient_id == user.id, Letter.read_at.is_(None))
    if before_id is not None:
        stmt = stmt.where(Letter.id < before_id)
    return db.session.scalar(stmt.order_by(Letter.id.desc()).limit(1))


def letter_heard(letter: Letter) -> list[str]:
    """A letter read aloud, marked read (in the step's transaction), with what to press."""
    if letter.read_at is None:
        letter.read_at = now_utc()
    said = _("Letter from %(sender)s, %(date)s: %(body)s", sender=mailbox.sender_label(letter),
             date=format_date(to_local(letter.created_at).date(), "long"), body=letter.body)
    return [said, letter_options(answerable(letter))]


def answerable(letter: Letter) -> bool:
    """Whether a spoken answer to ``letter`` reaches someone: its sender, its liaison point,
    or (for a notice from the bureau) the farmer's own point."""
    user = letter.recipient
    return bool(letter.sender_id or letter.sender_point_id
                or (user is not None and mailbox.point_of_farmer(user) is not None))


def letter_options(can_answer: bool = True) -> str:
    """What to press after a letter (2 only where an answer reaches someone)."""
    if not can_answer:
        return _("For the next letter press 1, to hear it again press star, to go back press hash.")
    return _("For the next letter press 1, to answer this letter by voice press 2, to hear it again press star, "
             "to go back press hash.")


def unread_count(user: User) -> int:
    """How many letters to ``user`` are unread."""
    return mailbox.unread_count(user)


def letter(letter_id: int, user: User) -> Letter | None:
    """Letter ``letter_id`` when it was sent to ``user``."""
    found = db.session.get(Letter, letter_id)
    return found if found is not None and found.recipient_id == user.id else None


def spoken_reply_body(seconds: int) -> str:
    """The text of a letter that is a reply spoken on the hotline (its recording goes with it)."""
    return _("A reply spoken on the hotline (%(seconds)s seconds): listen to it in the mailbox.", seconds=seconds)


# --- common questions ------------------------------------------------------------------------

def answers(topic: str) -> list[PublishedAnswer]:
    """The topic's published answers, newest first, as many as there are keys."""
    return list(db.session.scalars(
        select(PublishedAnswer).where(PublishedAnswer.topic == topic, PublishedAnswer.withdrawn_at.is_(None))
        .order_by(PublishedAnswer.published_at.desc(), PublishedAnswer.id.desc()).limit(ANSWERS)))


def answers_offer(offered: list[PublishedAnswer], language: str) -> str:
    """Common questions, one key each."""
    choices = [_("for “%(title)s” press %(key)s", title=answer.question(language), key=key)
               for key, answer in enumerate(offered, start=1)]
    comma, stop = ("，", "。") if language == "zh" else ("; ", ".")
    return _("Common questions:") + " " + comma.join(
        choices + [_("to hear this again press star"), _("to go back press hash")]) + stop


def answer_heard(answer: PublishedAnswer, language: str) -> list[str]:
    """A common question and its answer, read aloud."""
    return [_("Question: %(text)s", text=answer.question(language)),
            _("Answer: %(text)s", text=answer.text(language))]
