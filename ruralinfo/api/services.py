"""API tokens: made for one account (the token is shown once, only its SHA-256 hash is
kept), checked on every request (a revoked token, or one whose account was
deactivated, no longer works), revoked by an administrator. Each change is audited."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ruralinfo.accounts import phones
from ruralinfo.accounts.models import User
from ruralinfo.api.models import ApiToken
from ruralinfo.audit import services as audit
from ruralinfo.errors import FieldErrors
from ruralinfo.extensions import db
from ruralinfo.timeutil import now_utc

MARK = "ri_"  # every token starts so: easy to spot in a leaked file or a log
PREFIX_LENGTH = 10  # the mark and the next characters: shown to tell tokens apart
MAX_NAME = 80
TOUCH_EVERY = timedelta(minutes=1)  # last_used_at is written at most this often, not on every request


class TokenError(FieldErrors):
    """A token cannot be made or revoked as asked."""


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def user_by_phone(phone: str) -> User:
    """The account of a mobile number as people write it, or TokenError."""
    try:
        number = phones.normalize(phone)
    except phones.PhoneError as err:
        raise TokenError({"user": err.message}) from None
    user = db.session.scalar(select(User).where(User.phone == number))
    if user is None:
        raise TokenError({"user": str(_l("No account has this mobile number."))})
    return user


def create(user: User, *, name: str = "", actor=None, channel: str = audit.CLI) -> tuple[ApiToken, str]:
    """A new token acting as ``user`` (committed). Returns the row and the token itself:
    the only time it is known, since only its hash is stored."""
    if not user.active:
        raise TokenError({"user": str(_l("This account is deactivated."))})
    name = " ".join((name or "").split())
    if len(name) > MAX_NAME:
        raise TokenError({"name": str(_l("At most %(n)s characters.", n=MAX_NAME))})
    raw = MARK + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, token_hash=digest(raw), prefix=raw[:PREFIX_LENGTH])
    db.session.add(token)
    db.session.flush()
    audit.record("api_token.create", token, actor=actor, channel=channel,
                 details={"user_id": user.id, "name": name, "prefix": token.prefix})
    db.session.commit()
    return token, raw


def verify(raw: str | None) -> ApiToken | None:
    """The live token ``raw`` is, or None: unknown, revoked, or its account deactivated."""
    if not raw or not raw.startswith(MARK) or len(raw) > 200:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(raw)))
    if token is None or not token.active or not token.user.active:
        return None
    now = now_utc()
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
        token.last_used_at = now
        db.session.commit()
    return token


def revoke(token: ApiToken, *, actor=None, channel: str = audit.WEB) -> ApiToken:
    """The token stops working at once (committed)."""
    if not token.active:
        raise TokenError({"token": str(_l("This token was revoked already."))})
    token.revoked_at, token.revoked_by_id = now_utc(), getattr(actor, "id", None)
    audit.record("api_token.revoke", token, actor=actor, channel=channel,
                 details={"user_id": token.user_id, "name": token.name, "prefix": token.prefix})
    db.session.commit()
    return token


def newest_first():
    """Every token, the newest first (a select, for a page or a list)."""
    return select(ApiToken).order_by(ApiToken.id.desc())
