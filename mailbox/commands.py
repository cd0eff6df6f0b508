"""The mailbox's SMS commands: 卖/SELL, 买/BUY, 回复/REPLY, 我的/MY, and the
fallback that turns any other text into a letter to the farmer's liaison point."""
from __future__ import annotations

from flask import current_app
from flask_babel import format_date, get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from mailbox import contacts, letter_sms, market, match_alerts, post_text, products, services
from mailbox.models import BUY, HELD, SELL
from ruralinfo.accounts import services as accounts
from ruralinfo.extensions import db
from ruralinfo.sms import commands, parsing, segments
from ruralinfo.sms import services as sms
from ruralinfo.timeutil import now_utc, to_local


def _post(kind: str):
    def handler(inbound: commands.Inbound, rest: str) -> str:
        if not rest:
            if kind == SELL:
                return _("Write what you sell after SELL, e.g.: SELL potatoes 500 jin 1.5 yuan/jin")
            return _("Write what you want to buy after BUY, e.g.: BUY grape seedlings 200")
        try:
            post = services.create_post(inbound.user, kind, rest, channel="sms", inbound_id=inbound.message.id,
                                        commit=False)
        except services.MailboxError as err:
            return next(iter(err.errors.values()))
        understood = post_text.of_post(post)
        if post.moderation == HELD:
            return _("Your post no. %(n)s is saved: %(text)s. It is published once the bureau has looked at it.",
                     n=post.id, text=understood)
        if post.product_id is None and post.category_id is None:
            return _("Your post no. %(n)s is saved as written: %(text)s. Its product is not in our list yet: it is "
                     "listed as unclassified until your liaison point or the bureau classifies it.",
                     n=post.id, text=post.text)
        if kind == SELL:
            saved = _("Your supply post no. %(n)s is saved: %(text)s", n=post.id, text=understood)
        else:
            saved = _("Your demand post no. %(n)s is saved: %(text)s", n=post.id, text=understood)
        return saved + _matches_found(post)
    return handler


def _matches_found(post) -> str:
    """`。找到3条求购：#640 葡萄苗 200株 掌起镇长溪村张*；… 要联系请发：联系 编号`, as many of
    the best three as fit in one text of SMS_MAX_SEGMENTS parts."""
    chinese = str(get_locale()).startswith("zh")
    stop, sep = ("。", "；") if chinese else (". ", "; ")
    if not post.matches_found:
        return stop + (_("No demand post matches it yet: you will get a text when one comes.") if post.kind == SELL
                       else _("No supply post matches it yet: you will get a text when one comes."))
    head = (ngettext("Found %(num)s demand post:", "Found %(num)s demand posts:", post.matches_found)
            if post.kind == SELL else
            ngettext("Found %(num)s supply post:", "Found %(num)s supply posts:", post.matches_found))
    tail = stop + _("To ask for contact, text CONTACT and the number.")
    names = match_alerts.region_names(post.best_matches)
    lines = [match_alerts.line(match, names) for match in post.best_matches]
    while lines and not segments.fits(stop + head + sep.join(lines) + tail,
                                      int(current_app.config["SMS_MAX_SEGMENTS"]) - 1, sms.signature()):
        lines.pop()  # one part is left for the saved post itself
    return stop + head + sep.join(lines) + tail


def reply(inbound: commands.Inbound, rest: str) -> str:
    number, text = parsing.leading_number(rest)
    if number is None or not text:
        return _("To reply to a letter, send REPLY, its number and your answer, e.g.: REPLY 12 thank you")
    try:
        letter = services.reply(number, sender=inbound.user, body=text, channel="sms",
                                inbound_id=inbound.message.id, commit=False)
    except services.LetterNotFound:
        return _("There is no letter no. %(n)s in your mailbox.", n=number)
    except services.MailboxError as err:
        return next(iter(err.errors.values()))
    to = letter.recipient.name if letter.recipient is not None else letter.recipient_point.name
    return _("Your reply to letter %(n)s is sent to %(to)s.", n=number, to=to)


MY_SEGMENTS = 2  # 我的 / MY answers in one or two texts
MY_AT_MOST = 50  # items of each list ever written out: two texts cannot hold more (each takes 6 characters at least)


def mine(inbound: commands.Inbound, _rest: str) -> str:
    """The open posts and unread letters, each whole (never cut inside a price or a
    word), as many as fit in two texts, then "and N more". Only as many as two texts
    could ever hold are read and written out, however many a person has."""
    user = inbound.user
    chinese = str(get_locale()).startswith("zh")
    labels = {SELL: _("SELL"), BUY: _("BUY")}  # outside the f-string: Babel does not look inside one
    found, posts_total = _first(services.open_posts_query(user))
    posts = [f"{p.id} {labels[p.kind]} {p.text} " + _("(until %(date)s)", date=format_date(to_local(p.expires_at),
                                                                                            "MM-dd"))
             if p.expires_at else f"{p.id} {labels[p.kind]} {p.text}"
             for p in _leading(found, lambda post: len(f"{post.id}{post.text}"))]
    letters, unread_total = _first(services.inbox(user).where(services.Letter.read_at.is_(None)))
    unread = [f"{letter.id} {services.sender_label(letter)}" for letter in letters]

    def render(shown_posts: int, shown_letters: int) -> str:
        return _my_text((posts, posts_total), shown_posts, (unread, unread_total), shown_letters, chinese)

    def ok(text: str) -> bool:
        return segments.fits(text, MY_SEGMENTS, sms.signature())

    shown_posts = _most(len(posts), lambda k: ok(render(k, 0)))
    shown_letters = _most(len(unread), lambda m: ok(render(shown_posts, m)))
    return render(shown_posts, shown_letters)


def _leading(rows: list, least) -> list:
    """The first of ``rows`` that two texts could hold together, each taking at least
    ``least(row)`` characters and a separator: only these are worth writing out."""
    room, kept = MY_SEGMENTS * segments.LIMITS[segments.GSM7][0], []  # the most characters two texts hold
    for row in rows:
        room -= least(row) + 1
        if room < 0:
            break
        kept.append(row)
    return kept


def _first(query) -> tuple[list, int]:
    """The first ``MY_AT_MOST`` rows of ``query``, and how many it has in all (counted
    only when there are more)."""
    rows = db.session.scalars(query.limit(MY_AT_MOST + 1)).all()
    if len(rows) <= MY_AT_MOST:
        return list(rows), len(rows)
    return list(rows[:MY_AT_MOST]), accounts.count(query)


def _most(n: int, fits) -> int:
    """The largest k in 0…n for which ``fits(k)`` (0 when none), in a few tries however
    long the list: all n first (no "and N more" then, which may make it shorter), then
    by halving — below n, showing one more item never makes the text shorter."""
    if fits(n):
        return n
    low, high = 0, n - 1
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    return low


def _my_text(posts: tuple[list[str], int], shown_posts: int, letters: tuple[list[str], int], shown_letters: int,
             chinese: bool) -> str:
    """The answer to 我的 with the first ``shown_…`` of each list: (its first items, how many in all)."""
    sep, space, end = ("；", "", "。") if chinese else ("; ", " ", ".")

    def section(title: str, items: tuple[list[str], int], shown: int, empty: str) -> str:
        first, total = items
        if not total:
            return empty
        listed = first[:shown]
        if total > shown:
            listed.append(_("and %(n)s more", n=total - shown) if listed else _("%(n)s in all", n=total))
        return title + space + sep.join(listed) + end

    parts = [section(_("Open posts:"), posts, shown_posts, _("No open posts.")),
             section(_("Unread letters:"), letters, shown_letters, _("No unread letters."))]
    if letters[1]:
        parts.append(_("Send READ and the number to read, REPLY and the number to answer."))
    return space.join(parts)


def read(inbound: commands.Inbound, rest: str) -> str:
    """看 N / READ N: the next part of a long letter."""
    number, _text = parsing.leading_number(rest)
    if number is None:
        return _("To read a letter, send READ and its number, e.g.: READ 12")
    letter = db.session.get(services.Letter, number)
    if letter is None or letter.recipient_id != inbound.user.id:
        return _("There is no letter no. %(n)s in your mailbox.", n=number)
    if letter.read_at is None:
        letter.read_at = now_utc()
    return letter_sms.next_part(letter)


def to_liaison_point(inbound: commands.Inbound, text: str) -> str:
    """A text that is no command: a letter to the farmer's liaison point."""
    if not (inbound.message.body or "").strip():
        return _("Your message was empty. Send HELP to see what you can send.")
    point = services.point_of_farmer(inbound.user)
    if point is None:
        inbound.outcome = "unrouted"  # listed for the bureau to answer
        return _("Your message is saved. The agriculture bureau will contact you. Send HELP to see what you can send.")
    body = (inbound.message.body or text or "-")[: services.MAX_LETTER]  # a letter holds any text a phone sends
    services.send_letter(sender=inbound.user, recipient_point=point, body=body, channel="sms",
                         inbound_id=inbound.message.id, commit=False)
    return _("Your message is passed to %(point)s, who will answer you. Send HELP to see what you can send.",
             point=point.name)


def _numbered(action, usage):
    """A handler for ``COMMAND N …``: ``action(number, user, rest)`` returns the reply;
    without a number, how to use it."""
    def handler(inbound: commands.Inbound, rest: str) -> str:
        number, text = parsing.leading_number(rest)
        if number is None:
            return usage()
        try:
            return action(number, inbound.user, text)
        except contacts.Refused as refused:
            return str(refused)
    return handler


def _contact(number: int, user, _text: str) -> str:
    asked = contacts.ask(number, user=user, channel="sms")
    if asked.again and asked.request.status == "agreed":
        return _("The owner of post no. %(n)s has already agreed: see the letter with the phone number in your "
                 "mailbox.", n=number)
    if asked.again:
        return _("You have asked about post no. %(n)s already; the owner has not answered yet.", n=number)
    return _("Your request about post no. %(n)s is sent. If the owner agrees within 3 days, you both get each "
             "other's name and phone number.", n=number)


def agree(inbound: commands.Inbound, rest: str) -> str:
    number, _text = parsing.leading_number(rest)
    try:
        request = contacts.agree(number, owner=inbound.user, channel="sms")
    except contacts.Refused as refused:
        return str(refused)
    return _("Done: you and %(name)s get each other's phone number now.", name=request.requester.name)


def _deal(number: int, user, text: str) -> str:
    contacts.deal(number, user=user, rest=text, channel="sms")
    return _("Thank you: your deal on post no. %(n)s is recorded.", n=number)


def _withdraw(number: int, user, _text: str) -> str:
    contacts.withdraw(number, user=user, channel="sms")
    return _("Post no. %(n)s is withdrawn.", n=number)


def _renew(number: int, user, _text: str) -> str:
    post = contacts.renew(number, user=user, channel="sms")
    return _("Post no. %(n)s stays open until %(date)s.", n=number, date=format_date(to_local(post.expires_at),
                                                                                      "MM-dd"))


FIND_PER_TEXT = 3


def find(inbound: commands.Inbound, rest: str) -> str:
    """查 土豆 [2] / FIND potatoes [2]: the nearest open posts of a product, three per text."""
    words = rest.split()
    page = int(words.pop()) if len(words) > 1 and words[-1].isdigit() else 1
    what = " ".join(words)
    if not what:
        return _("To find posts, send FIND and a product, e.g.: FIND potatoes")
    code = products.understand(what).product_code
    if code is None:
        return _("“%(what)s” is not a product we know. Try another name, e.g. FIND potatoes", what=what[:20])
    found = market.search(product_code=code, near_region=inbound.user.region_code, page=1)
    posts = found.items[(page - 1) * FIND_PER_TEXT:page * FIND_PER_TEXT] if page <= 6 else []
    name = products.by_code(code).label("en" if not str(get_locale()).startswith("zh") else "zh")
    if not posts:
        return _("No open posts for %(name)s now.", name=name) if page == 1 else \
            _("No more open posts for %(name)s.", name=name)
    labels = {SELL: _("SELL"), BUY: _("BUY")}
    sep = "；" if str(get_locale()).startswith("zh") else "; "
    names = match_alerts.region_names(posts)
    lines = sep.join(f"{labels[post.kind]} {match_alerts.line(post, names)}" for post in posts)
    more = (" " + _("For more, send FIND %(what)s %(page)s.", what=what, page=page + 1)
            if found.total > page * FIND_PER_TEXT and page < 6 else "")
    return _("%(name)s, nearest first: %(lines)s.", name=name, lines=lines) + more + " " + \
        _("To ask for contact, text CONTACT and the number.")


def _follow(inbound: commands.Inbound, rest: str) -> str:
    if not rest:
        return _("To follow a product, send FOLLOW and the product, e.g.: FOLLOW grapes")
    product = match_alerts.follow(inbound.user, rest, channel="sms")
    if product is None:
        return _("“%(what)s” is not a product we know. Try another name, e.g. FIND potatoes", what=rest[:20])
    name = product.label("zh" if str(get_locale()).startswith("zh") else "en")
    return _("You follow %(name)s: you get a text when a new post for it appears in your county (at most %(n)s "
             "texts a day). To stop, send UNFOLLOW %(name)s.", name=name,
             n=current_app.config["MATCH_ALERTS_PER_DAY"])


def _unfollow(inbound: commands.Inbound, rest: str) -> str:
    product = match_alerts.unfollow(inbound.user, rest, channel="sms")
    if product is None:
        return _("To stop following a product, send UNFOLLOW and the product, e.g.: UNFOLLOW grapes")
    return _("You no longer follow %(name)s.", name=product.label("zh" if str(get_locale()).startswith("zh")
                                                                  else "en"))


def register() -> None:
    from mailbox import post_expiry
    from ruralinfo import jobs

    jobs.register_sweep(post_expiry.sweep)
    jobs.register_sweep(contacts.sweep)
    commands.register("卖", "SELL", handler=_post(SELL), name="sell",
                      summary=_l("SELL what, how much, price: a supply post"))
    commands.register("买", "BUY", handler=_post(BUY), name="buy", summary=_l("BUY what, how much: a demand post"))
    commands.register("回复", "REPLY", handler=reply, name="reply", numbered=True,
                      summary=_l("REPLY number text: answer a letter"))
    commands.register("看", "READ", handler=read, name="read", numbered=True,
                      summary=_l("READ number: the rest of a long letter"))
    commands.register("我的", "MY", handler=mine, name="my", exact=True,
                      summary=_l("MY: your posts and unread letters"))
    commands.register("查", "FIND", handler=find, name="find",
                      summary=_l("FIND product: the nearest open posts"))
    commands.register("关注", "FOLLOW", handler=_follow, name="follow",
                      summary=_l("FOLLOW product: a text for each new post of it"))
    commands.register("取消关注", "UNFOLLOW", handler=_unfollow, name="unfollow",
                      summary=_l("UNFOLLOW product: no more"))
    commands.register("联系", "CONTACT", name="contact", numbered=True,
                      handler=_numbered(_contact, lambda: _("To ask for contact, send CONTACT and the post's number, "
                                                            "e.g.: CONTACT 640")),
                      summary=_l("CONTACT number: ask the owner of a post for contact"))
    commands.register("同意", "YES", handler=agree, name="agree", numbered=True,
                      summary=_l("YES number: share your number with who asked"))
    commands.register("成交", "DEAL", name="deal", numbered=True,
                      handler=_numbered(_deal, lambda: _("To report a deal, send DEAL and the post's number, e.g.: "
                                                         "DEAL 640")),
                      summary=_l("DEAL number: you traded"))
    commands.register("撤销", "CANCEL", name="cancel", numbered=True,
                      handler=_numbered(_withdraw, lambda: _("To withdraw a post, send CANCEL and its number.")),
                      summary=_l("CANCEL number: withdraw your post"))
    commands.register("续期", "RENEW", name="renew", numbered=True,
                      handler=_numbered(_renew, lambda: _("To keep a post open, send RENEW and its number.")),
                      summary=_l("RENEW number: keep your post open"))
    commands.register_fallback(to_liaison_point)
