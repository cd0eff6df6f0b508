"""One-time SMS codes for logging in on the web without a password (farmers).

A code is 6 random digits, valid ``CODE_MINUTES``, good for one log-in and
dead after ``MAX_ATTEMPTS`` wrong tries. Only a keyed hash of it is stored; the
code itself exists only in the text message. Limits per number are counted
from the ``login_codes`` rows, so they hold across workers.

A number with no account is treated exactly like a registered one — a row is
stored (with the hash of a code nobody knows), the same limits apply and the
same answers come back — except that no text is sent: the pages never reveal
whether a number is registered.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from ruralinfo.accounts import phones, roles
from ruralinfo.accounts.models import LoginCode, User
from ruralinfo.audit import services as audit
from ruralinfo.extensions import db
from ruralinfo.sms import services as sms
from ruralinfo.sms.models import OTP
from ruralinfo.timeutil import now_utc

CODE_DIGITS = 6
CODE_MINUTES = 10
MAX_ATTEMPTS = 5
# (window, most codes a number may be sent in it)
NUMBER_LIMITS = ((timedelta(minutes=10), 3), (timedelta(days=1), 10))

SENT, LIMITED = "sent", "limited"
WRONG, EXPIRED = "wrong", "expired"


@dataclass
class CodeRequest:
    """What became of asking for a code: ``sent`` (as far as anyone may know) or
    ``limited`` with the window that is full."""

    status: str
    phone: str
    window: timedelta | None = None


@dataclass
class CodeCheck:
    """A log-in by code: the user, or why not (``wrong`` or ``expired``)."""

    user: User | None
    error: str = ""


def _key() -> bytes:
    """A key of its own for login codes, derived from SECRET_KEY (never the raw secret)."""
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, b"ruralinfo login-code digest v1", hashlib.sha256).digest()


def digest(phone: str, code: str) -> str:
    """The keyed hash stored for ``code`` sent to ``phone``: without the key, the
    million possible codes cannot be tried offline."""
    return hmac.new(_key(), f"{phone}\x00{code}".encode(), hashlib.sha256).hexdigest()


def new_code() -> str:
    return f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"


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


def _full_window(phone: str) -> timedelta | None:
    now = now_utc()
    for window, most in NUMBER_LIMITS:
        sent = db.session.scalar(select(func.count(LoginCode.id)).where(
            LoginCode.phone == phone, LoginCode.created_at >= now - window))
        if sent >= most:
            return window
    return None


def request_code(phone_raw: str, *, address: str = "") -> CodeRequest:
    """Send a log-in code to ``phone_raw`` if an active farmer account has it.

    Raises ``phones.PhoneError`` for something that is no mobile number. The
    answer is the same whether or not the number is registered."""
    phone = phones.normalize(phone_raw)
    window = _full_window(phone)
    if window is not None:
        return CodeRequest(LIMITED, phone, window)
    code = new_code()
    now = now_utc()
    row = LoginCode(phone=phone, code_digest=digest(phone, code), created_at=now,
                    expires_at=now + timedelta(minutes=CODE_MINUTES), attempts=0, address=(address or "")[:45])
    db.session.add(row)
    user = _account(phone)
    if user is not None:
        with force_locale(user.language or "zh"):
            body = _("Your login code is %(code)s, valid %(minutes)s minutes. Do not tell anyone.",
                     code=code, minutes=CODE_MINUTES)
        db.session.flush()
        sms.queue_sms(phone, body, kind=OTP, cause=f"login-code:{row.id}", user=user)
        audit.record("login.code_sent", user, actor=None, channel=audit.WEB)
    db.session.commit()
    if user is not None:
        sms.dispatch_pending()
    return CodeRequest(SENT, phone)


def _live(phone: str) -> list[LoginCode]:
    """The codes of ``phone`` that may still be used (a slow text may bring an
    older one last: every live code is accepted)."""
    return list(db.session.scalars(select(LoginCode).where(
        LoginCode.phone == phone, LoginCode.used_at.is_(None), LoginCode.expires_at > now_utc(),
        LoginCode.attempts < MAX_ATTEMPTS).order_by(LoginCode.id.desc())))


def verify_code(phone: str, code_raw: str) -> CodeCheck:
    """Log in with a code: single use, and every wrong try counts against every
    live code of the number (guarded updates, so that racing requests cannot
    use a code twice or get more tries)."""
    code = clean_code(code_raw)
    live = _live(phone)
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
    if user is not None and not _live(phone):
        audit.record("login.code_exhausted", user, actor=None, channel=audit.WEB)
    db.session.commit()
    return CodeCheck(None, WRONG if _live(phone) else EXPIRED)


def _use(row: LoginCode) -> bool:
    result = db.session.execute(
        update(LoginCode).where(LoginCode.id == row.id, LoginCode.used_at.is_(None),
                                LoginCode.attempts < MAX_ATTEMPTS)
        .values(used_at=now_utc()).execution_options(synchronize_session=False))
    return result.rowcount == 1


def _use_all(phone: str) -> None:
    """After a log-in, no other code sent to the number may be used."""
    db.session.execute(update(LoginCode).where(LoginCode.phone == phone, LoginCode.used_at.is_(None))
                       .values(used_at=now_utc()).execution_options(synchronize_session=False))


def _count_wrong(ids: list[int]) -> None:
    db.session.execute(update(LoginCode).where(LoginCode.id.in_(ids))
                       .values(attempts=LoginCode.attempts + 1).execution_options(synchronize_session=False))
    db.session.expire_all()
