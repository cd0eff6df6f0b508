"""Configuration: defaults, then ``instance/config.py``, then the environment.

The keys are the contract in DESIGN.md. ``validate`` refuses to run a real
deployment on the development secrets.
"""
from __future__ import annotations

import os
from pathlib import Path

DEV_SECRET_KEY = "dev-secret-key-not-for-production"
DEV_IDENTITY_KEY = "dev-identity-key-not-for-production-0000"

ENV_KEYS = (
    "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "SMS_BACKEND", "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN", "TWILIO_FROM", "TWILIO_API_BASE", "PUBLIC_BASE_URL",
    "IDENTITY_KEY", "SMS_SIGNATURE", "TIMEZONE", "QUIET_HOURS", "PROXY_COUNT",
    "HOTLINE_NUMBER", "COUNTY_CODE", "SMS_SEND_TIMEOUT", "DEV_SIMULATORS", "BUREAU_NAME", "SMS_MAX_SEGMENTS",
    "LETTER_SLA_DAYS", "POST_DAYS", "MATCH_ALERTS_PER_DAY", "POST_MODERATION", "POST_BANNED_WORDS",
    "SMS_RATE", "SMS_PRICE", "SMS_CURRENCY", "BROADCAST_DAILY_CAP", "BROADCAST_APPROVAL_THRESHOLD",
    "BROADCAST_MAX_HOURS", "QUESTION_SLA_DAYS", "HOTLINE_VOICE", "HOTLINE_TIMEOUT",
    "KANNEL_SEND_URL", "KANNEL_USERNAME", "KANNEL_PASSWORD", "KANNEL_SECRET", "KANNEL_FROM",
    "KANNEL_ALLOWED_IPS", "KANNEL_STATUS_URL", "SMS_OPTOUT_HINT", "WORKER_NICE",
)
INTEGERS = ("PROXY_COUNT", "SMS_MAX_SEGMENTS", "LETTER_SLA_DAYS", "POST_DAYS", "MATCH_ALERTS_PER_DAY",
            "BROADCAST_DAILY_CAP", "BROADCAST_APPROVAL_THRESHOLD", "QUESTION_SLA_DAYS",
            "HOTLINE_TIMEOUT")
NUMBERS = ("SMS_SEND_TIMEOUT", "SMS_RATE", "BROADCAST_MAX_HOURS")  # may have a fraction
FLAGS = ("DEV_SIMULATORS",)  # "1", "true", "yes", "on" turn them on


class ConfigError(RuntimeError):
    """The configuration cannot be used; the message says which key and why."""


def defaults(instance_path: str) -> dict:
    """The embedded defaults: SQLite in ``instance/``, inline jobs, the outbox SMS backend."""
    db_file = Path(instance_path) / "ruralinfo.sqlite3"
    return {
        "SECRET_KEY": DEV_SECRET_KEY,
        "IDENTITY_KEY": DEV_IDENTITY_KEY,
        "DATABASE_URL": f"sqlite:///{db_file}",
        "REDIS_URL": "",
        "SMS_BACKEND": "outbox",
        "TWILIO_ACCOUNT_SID": "",
        "TWILIO_AUTH_TOKEN": "",
        "TWILIO_FROM": "",
        "TWILIO_API_BASE": "",
        "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
        "SMS_SIGNATURE": "【慈溪市农业农村局】",
        "TIMEZONE": "Asia/Shanghai",
        "QUIET_HOURS": "21:00-08:00",
        "PROXY_COUNT": 0,
        "HOTLINE_NUMBER": "12316",
        "HOTLINE_VOICE": "Polly.Zhiyu",  # the Mandarin <Say> voice (language cmn-CN); English callers hear Polly.Joanna
        "HOTLINE_TIMEOUT": 5,  # seconds the menu waits for a key before saying it again
        "COUNTY_CODE": "330282",
        "SMS_SEND_TIMEOUT": 10.0,
        "DEV_SIMULATORS": False,
        "BUREAU_NAME": "慈溪市农业农村局",
        "SMS_MAX_SEGMENTS": 6,
        "LETTER_SLA_DAYS": 3,
        "POST_DAYS": 30,
        "MATCH_ALERTS_PER_DAY": 3,
        "POST_MODERATION": "none",  # or "before": every post waits for the bureau or its liaison point
        "POST_BANNED_WORDS": "",  # ";"-separated: a post with one of them waits for the bureau
        "SMS_RETRY_DELAY": 30,
        "SMS_RATE": 10,  # texts a second per gateway, shared by every worker
        "SMS_PRICE": "0.045",  # per segment, in SMS_CURRENCY
        "SMS_CURRENCY": "CNY",
        "BROADCAST_DAILY_CAP": 2,  # routine notices a person a day (the excess waits a day)
        "BROADCAST_APPROVAL_THRESHOLD": 500,  # more recipients than this need a second person's approval
        "BROADCAST_MAX_HOURS": 6,  # a broadcast that would take longer to send is blocked
        "QUESTION_SLA_DAYS": 3,  # working days an expert's answer may take (hotline.workdays)
        "SMS_MAX_ATTEMPTS": 5,
        "WORKER_NICE": "idle",  # the job worker takes only CPU time the web does not want (or 0–19: nice steps)
        "SMS_OPTOUT_HINT": "",  # e.g. 拒收请回复R: added to every text an opt-out stops, counted in its segments
        "KANNEL_ALLOWED_IPS": "",  # ","-separated addresses or networks Kannel calls from; empty: any
        "KANNEL_STATUS_URL": "",  # bearerbox's status page (with its password), for `doctor`
        "PASSWORD_HASH_METHOD": "scrypt",
        "LOGIN_MAX_FAILURES": 5,
        "LOGIN_LOCK_MINUTES": 15,
        "BABEL_DEFAULT_LOCALE": "zh",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
        "LANGUAGES": ("zh", "en"),
        "WTF_I18N_ENABLED": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "MAX_CONTENT_LENGTH": 11 * 1024 * 1024,  # a spreadsheet may have 10 MB (accounts.importing)
        "RATELIMIT_HEADERS_ENABLED": True,
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
    }


def from_environment() -> dict:
    """Every contract key that is set (non-empty) in the environment."""
    found = {key: os.environ[key] for key in ENV_KEYS if os.environ.get(key)}
    for key in INTEGERS:
        if key in found:
            found[key] = int(found[key])
    for key in FLAGS:
        if key in found:
            found[key] = found[key].strip().lower() in ("1", "true", "yes", "on")
    for key in NUMBERS:
        if key in found:
            found[key] = float(found[key])
    if "WORKER_NICE" in found and found["WORKER_NICE"].strip().lower() == "idle":
        found["WORKER_NICE"] = "idle"
    elif "WORKER_NICE" in found and found["WORKER_NICE"].strip().lstrip("-").isdigit():
        found["WORKER_NICE"] = int(found["WORKER_NICE"])
    return found


def derive(config: dict) -> None:
    """Settings computed from the contract keys (engine, cookies, rate-limit storage)."""
    url = config["DATABASE_URL"]
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    config["SQLALCHEMY_DATABASE_URI"] = url
    if url.startswith("sqlite"):
        config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"connect_args": {"timeout": 30}})
    else:
        config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"pool_pre_ping": True})
    secure = config["PUBLIC_BASE_URL"].startswith("https://")
    config["SESSION_COOKIE_SECURE"] = secure
    config["REMEMBER_COOKIE_SECURE"] = secure
    config["PREFERRED_URL_SCHEME"] = "https" if secure else "http"
    config.setdefault("RATELIMIT_STORAGE_URI", config["REDIS_URL"] or "memory://")


def validate(config: dict, *, debug: bool) -> None:
    """Refuse default or weak secrets outside debug and testing, and an SMS
    backend that cannot work."""
    if config["SMS_BACKEND"] == "twilio":
        missing = [key for key in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM") if not config.get(key)]
        if missing:
            raise ConfigError(f"SMS_BACKEND is twilio but {', '.join(missing)} not set.")
        if config.get("TWILIO_API_BASE") and not config.get("TESTING"):
            raise ConfigError("TWILIO_API_BASE is for tests only: unset it to reach Twilio.")
    if config["SMS_BACKEND"] == "kannel":
        missing = [key for key in ("KANNEL_SEND_URL", "KANNEL_USERNAME", "KANNEL_PASSWORD", "KANNEL_SECRET")
                   if not config.get(key)]
        if missing:
            raise ConfigError(f"SMS_BACKEND is kannel but {', '.join(missing)} not set.")
    from ruralinfo.sms.kannel_hooks import allowed_networks

    try:
        allowed_networks(config.get("KANNEL_ALLOWED_IPS", ""))
    except ValueError as err:
        raise ConfigError(str(err)) from None
    for key in ("SMS_RATE", "BROADCAST_MAX_HOURS"):
        if float(config[key]) <= 0:
            raise ConfigError(f"{key} must be more than 0.")
    nice = config.get("WORKER_NICE")
    if nice != "idle" and not (isinstance(nice, int) and 0 <= nice <= 19):
        raise ConfigError(f"WORKER_NICE must be 'idle' or a number from 0 to 19, not {nice!r}.")
    if debug or config.get("TESTING"):
        return
    if config["SECRET_KEY"] == DEV_SECRET_KEY or len(config["SECRET_KEY"]) < 16:
        raise ConfigError("SECRET_KEY is the development default or too short: set a long random value.")
    if config["SMS_BACKEND"] == "kannel" and len(config.get("KANNEL_SECRET") or "") < 16:
        raise ConfigError("KANNEL_SECRET is shorter than 16 characters: anyone who guesses it can text in as "
                          "any farmer; set a long random value (in kannel.conf's post-url too).")
    if config["IDENTITY_KEY"] == DEV_IDENTITY_KEY or len(config["IDENTITY_KEY"]) < 32:
        raise ConfigError(
            "IDENTITY_KEY is the development default or shorter than 32 characters: "
            "set a long random value and keep it safe (it encrypts ID numbers)."
        )
    if config["SMS_BACKEND"] not in ("outbox", "twilio", "kannel"):
        raise ConfigError(f"SMS_BACKEND must be 'outbox', 'twilio' or 'kannel', not {config['SMS_BACKEND']!r}.")
