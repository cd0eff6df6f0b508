"""Staff log-in by password and log-out: the one path every log-in goes through.

The rules: at most ``LOGIN_MAX_FAILURES`` passwords are ever checked for a
number before it is locked (``throttle``); an unknown number, a farmer's number
(farmers have no password) and a staff account answer alike and take as long
(a dummy password hash is checked), so nobody can find the staff's numbers by
trying; logging out ends every session of the account.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from ruralinfo.accounts import phones, throttle
from ruralinfo.accounts.models import User
from ruralinfo.accounts.services import end_sessions, find_by_phone
from ruralinfo.audit import services as audit
from ruralinfo.extensions import db
from ruralinfo.timeutil import now_utc

INVALID, LOCKED, INACTIVE = "invalid", "locked", "inactive"


@dataclass
class LoginResult:
    user: User | None
    error: str | None = None  # INVALID | LOCKED | INACTIVE
    locked_until: datetime | None = None


def _dummy_hash() -> str:
    """A hash made like a real one, checked for numbers with no password, so that
    they take as long as a real account."""
    ext = current_app.extensions
    if "dummy_password_hash" not in ext:
        ext["dummy_password_hash"] = generate_password_hash(
            "no account has this password", method=current_app.config["PASSWORD_HASH_METHOD"])
    return ext["dummy_password_hash"]


def authenticate(phone_raw: str, password: str, *, channel: str = audit.WEB) -> LoginResult:
    """Check a staff log-in. Every try is counted before the password is checked."""
    try:
        phone = phones.normalize(phone_raw, mobile=False)
    except phones.PhoneError:
        check_password_hash(_dummy_hash(), password or "")
        return LoginResult(None, INVALID)
    place = throttle.reserve(phone)
    if not place.check:
        return LoginResult(None, LOCKED, place.locked_until)
    user = find_by_phone(phone)
    stored = user.password_hash if user is not None and user.password_hash else None
    right = check_password_hash(stored or _dummy_hash(), password or "") and stored is not None
    if not right:
        if place.locked_now and user is not None:
            audit.record("login.locked", user, actor=None, channel=channel)
            db.session.commit()
        return LoginResult(None, LOCKED, place.locked_until) if place.locked_now else LoginResult(None, INVALID)
    if not user.active:
        return LoginResult(None, INACTIVE)
    throttle.clear(phone, commit=False)
    user.last_login_at = now_utc()
    audit.record("login", user, actor=user, channel=channel)
    db.session.commit()
    return LoginResult(user)


def log_out(user: User | None, *, channel: str = audit.WEB) -> None:
    """End every session of ``user``, not only this browser's: a copied cookie dies too."""
    if user is None:
        return
    end_sessions(user)
    audit.record("logout", user, actor=user, channel=channel)
    db.session.commit()
