"""One-time SMS codes for logging in on the web without a password (farmers).

A code is 6 random digits, valid ``CODE_MINUTES``, good for one log-in and
dead after ``MAX_ATTEMPTS`` wrong tries. Only a keyed hash of it is stored; the
code itself exists only in the text message. Limits per number are counted
from the ``login_codes`` rows, so they hold across workers.

A number with no account is treated exactly like a registered one — a row is
stored (with the hash of a code nobody knows), the same limits apply and the
same answers come back — except that no text is sent: the pages never reveal
whether a number is registered.

A code belongs to the browser that asked for it (``requester``, a random token
kept in that browser's session): only that browser may try it, so a stranger
who fills the number's limits and guesses wrong cannot spend the farmer's
code. When the limits are full anyway, the farmer's liaison point can send a
code in person (``issue_in_person``): it ignores the number's limits and any
browser may use it.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select, update

from ruralinfo import jobs
from ruralinfo.accounts import phones, roles
from ruralinfo.accounts.models import LoginCode, User
from ruralinfo.audit import services as audit
from ruralinfo.extensions import db
from ruralinfo.liaison import rules
from ruralinfo.sms import services as sms
from ruralinfo.sms.models import OTP, OutboundMessage
from ruralinfo.timeutil import now_utc

CODE_DIGITS = 6
# A code a liaison sends in person may be tried from any browser, so a stranger's guesses
# count against it too: it is longer (a hundred million codes) and takes more wrong tries.
IN_PERSON_DIGITS = 8
IN_PERSON_ATTEMPTS = 50
CODE_MINUTES = 10
MAX_ATTEMPTS = 5
# (window, most codes a number may be sent in it)
NUMBER_LIMITS = ((timedelta(minutes=10), 3), (timedelta(days=1), 10))
IN_PERSON_PER_DAY = 30  # codes one liaison may send in person in a day

SENT, LIMITED = "sent", "limited"
WRONG, EXPIRED = "wrong", "expired"


@dataclass
class CodeRequest:
    """What became of asking for a code: ``sent`` (as far as anyone may know) or
    ``limited`` with the window that is full and when a code may be asked again.
    ``delayed``: the text service is slow (the job queue is down), so the text
    waits in the outbox — said for every number alike."""

    status: str
    phone: str
    window: timedelta | None = None
    retry_at: datetime | None = None
    delayed: bool = False
    outbox_ids: list[int] = field(default_factory=list)  # texts to hand to the sender (``send``)


@dataclass
class CodeCheck:
    """A log-in by code: the user, or why not (``wrong`` or ``expired``)."""

    user: User | None
    error: str = ""


def _key() -> bytes:
    """A key of its own for login codes, derived from SECRET_KEY (never the raw secret)."""
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, b"ruralinfo login-code digest v1", hashlib.sha256).digest()


def requester_digest(token: str) -> str:
    """What a code stores of the browser that asked for it (empty: any browser)."""
    if not token:
        return ""
    return hmac.new(_key(), f"requester\x00{token}".encode(), hashlib.sha256).hexdigest()


def digest(phone: str, code: str) -> str:
    """The keyed hash stored for ``code`` sent to ``phone``: without the key, the
    million possible codes cannot be tried offline."""
    return hmac.new(_key(), f"{phone}\x00{code}".encode(), hashlib.sha256).hexdigest()


def new_code(digits: int = CODE_DIGITS) -> str:
    return f"{secrets.randbelow(10 ** digits):0{digits}d}"


def clean_code(raw: str | None) -> str:
    """Full-width digits, spaces and dashes forgiven: ``１２３ ４５６`` → ``123456``."""
    text = unicodedata.normalize("NFKC", raw or "")
    return "".join(ch for ch in text if not ch.isspace() and ch != "-")


def _account(phone: str) -> User | None:
    """The active account with the farmer role that owns ``phone``, if any."""
    user = db.session.scalar(select(User).where(User.phone == phone))
    if user is None or not user.active or not user.has_role(roles.FARMER):
        return None
    return user


def _full_window(phone: str) -> tuple[timedelta, datetime] | None:
    """The full window, if any, and when the next code may be asked (the moment
    enough codes have left every full window)."""
    now = now_utc()
    full, retry_at = None, None
    for window, most in NUMBER_LIMITS:
        recent = db.session.scalars(select(LoginCode.created_at).where(
            LoginCode.phone == phone, LoginCode.created_at >= now - window, LoginCode.issued_by_id.is_(None))
            .order_by(LoginCode.created_at.desc())).all()
        if len(recent) >= most:
            full = window
            free_at = recent[most - 1] + window  # when the oldest code that fills the window leaves it
            retry_at = max(retry_at or free_at, free_at)
    return (full, retry_at) if full is not None else None


def request_code(phone_raw: str, *, address: str = "", requester: str = "") -> CodeRequest:
    """Send a log-in code to ``phone_raw`` if an active farmer account has it,
    for the browser whose session token is ``requester``.

    Raises ``phones.PhoneError`` for something that is no mobile number. The
    answer is the same whether or not the number is registered."""
    phone = phones.normalize(phone_raw)
    full = _full_window(phone)
    if full is not None:
        return CodeRequest(LIMITED, phone, full[0], retry_at=full[1])
    user = _account(phone)
    _new_code_row(phone, user, address=address, requester=requester_digest(requester))
    db.session.commit()
    outbox_ids = [message.id for message in db.session.info.pop("sms_pending", []) if message is not None]
    # The same answer, in the same time, for every number: the text is handed to the sender
    # by the caller once the answer has gone (``send``), and a stopped queue is said for all.
    return CodeRequest(SENT, phone, delayed=not jobs.available(), outbox_ids=outbox_ids)


def send(outbox_ids: list[int]) -> None:
    """Hand the queued code texts to the sender: after the page has answered, so that
    a registered number (whose text may go out inline, slowly) takes no longer than
    an unknown one."""
    sms.dispatch(db.session.scalars(select(OutboundMessage).where(OutboundMessage.id.in_(outbox_ids))).all())


def _new_code_row(phone: str, user: User | None, *, address: str, requester: str,
                  issued_by: User | None = None) -> LoginCode:
    """Store a new code for ``phone`` and, for an account, queue its text (not committed)."""
    code = new_code(IN_PERSON_DIGITS if issued_by is not None else CODE_DIGITS)
    now = now_utc()
    row = LoginCode(phone=phone, code_digest=digest(phone, code), created_at=now,
                    expires_at=now + timedelta(minutes=CODE_MINUTES), attempts=0, address=(address or "")[:45],
                    requester=requester, issued_by_id=getattr(issued_by, "id", None))
    db.session.add(row)
    if user is not None:
        with force_locale(user.language or "zh"):
            body = _("Your login code is %(code)s, valid %(minutes)s minutes. Do not tell anyone.",
                     code=code, minutes=CODE_MINUTES)
        db.session.flush()
        sms.queue_sms(phone, body, kind=OTP, cause=f"login-code:{row.id}", user=user)
        audit.record("login.code_issued" if issued_by else "login.code_sent", user, actor=issued_by,
                     channel=audit.WEB)
    return row


class InPersonRefused(ValueError):
    """The liaison cannot send a code now (the account cannot log in, or their day's codes are used)."""


def issue_in_person(farmer: User, *, actor: User) -> bool:
    """The liaison point sends ``farmer`` a log-in code, with the farmer in front of
    them: the number's limits do not apply (they may be full because a stranger
    filled them) and any browser may use it. Returns False when the text waits
    because the job queue is down."""
    rules.check_may_write(actor)
    if _account(farmer.phone) is None:
        raise InPersonRefused(str(_("This account cannot log in on the web (it is not an active farmer account).")))
    today = db.session.scalar(select(func.count(LoginCode.id)).where(
        LoginCode.issued_by_id == actor.id, LoginCode.created_at >= now_utc() - timedelta(days=1)))
    if today >= IN_PERSON_PER_DAY:
        raise InPersonRefused(str(_("You have sent %(n)s log-in codes today, the most a day. Ask the bureau.",
                                    n=IN_PERSON_PER_DAY)))
    _new_code_row(farmer.phone, farmer, address="", requester="", issued_by=actor)
    db.session.commit()
    return not sms.dispatch_pending()


def _live(phone: str, requester: str) -> list[LoginCode]:
    """The codes of ``phone`` this browser may still use: its own and those a
    liaison sent in person (a slow text may bring an older one last: every live
    code is accepted)."""
    return list(db.session.scalars(select(LoginCode).where(
        LoginCode.phone == phone, LoginCode.used_at.is_(None), LoginCode.expires_at > now_utc(),
        _tries_left(), LoginCode.requester.in_({requester, ""}))
        .order_by(LoginCode.id.desc())))


def verify_code(phone: str, code_raw: str, *, requester: str = "") -> CodeCheck:
    """Log in with a code: single use, and every wrong try counts against every
    code this browser may use (guarded updates, so that racing requests cannot
    use a code twice or get more tries)."""
    code = clean_code(code_raw)
    requester = requester_digest(requester)
    live = _live(phone, requester)
    if not live:
        return CodeCheck(None, EXPIRED)
    wanted = digest(phone, code)
    match = next((row for row in live if hmac.compare_digest(row.code_digest, wanted)), None)
    user = _account(phone)
    if match is not None and user is not None and _use(match):
        _use_all(phone)
        user.last_login_at = now_utc()
        audit.record("login.code", user, actor=user, channel=audit.WEB)
        db.session.commit()
        return CodeCheck(user)
    _count_wrong([row.id for row in live])
    left = _live(phone, requester)
    if user is not None and not left:
        audit.record("login.code_exhausted", user, actor=None, channel=audit.WEB)
    db.session.commit()
    return CodeCheck(None, WRONG if left else EXPIRED)


def _use(row: LoginCode) -> bool:
    result = db.session.execute(
        update(LoginCode).where(LoginCode.id == row.id, LoginCode.used_at.is_(None),
                                _tries_left())
        .values(used_at=now_utc()).execution_options(synchronize_session=False))
    return result.rowcount == 1


def _use_all(phone: str) -> None:
    """After a log-in, no other code sent to the number may be used."""
    db.session.execute(update(LoginCode).where(LoginCode.phone == phone, LoginCode.used_at.is_(None))
                       .values(used_at=now_utc()).execution_options(synchronize_session=False))


def _tries_left():
    """The code still takes tries: 5 for a code a browser asked for, 50 for one sent in person."""
    return or_(and_(LoginCode.requester != "", LoginCode.attempts < MAX_ATTEMPTS),
               and_(LoginCode.requester == "", LoginCode.attempts < IN_PERSON_ATTEMPTS))


def _count_wrong(ids: list[int]) -> None:
    db.session.execute(update(LoginCode).where(LoginCode.id.in_(ids))
                       .values(attempts=LoginCode.attempts + 1).execution_options(synchronize_session=False))
    db.session.expire_all()
