"""The configuration and the secrets."""
from __future__ import annotations

import ipaddress
import urllib.parse

from flask import current_app

from ruralinfo.doctor.findings import PROBLEM, WARNING, Finding, check, finding
from ruralinfo.doctor.web import mask

NEW_KEY = "python -c \"import secrets; print(secrets.token_urlsafe(32))\""


@check("configuration")
def check_configuration() -> Finding:
    """The start-up validation without debug's leniency, the development keys, the public
    address and the outbox backend."""
    from ruralinfo import config as settings

    cfg = current_app.config
    issues = []
    if cfg["SECRET_KEY"] == settings.DEV_SECRET_KEY:
        issues.append((PROBLEM, f"SECRET_KEY is the development default: set a long random value ({NEW_KEY})."))
    if cfg["IDENTITY_KEY"] == settings.DEV_IDENTITY_KEY:
        issues.append((PROBLEM, "IDENTITY_KEY is the development default: set a long random value before anyone "
                                "is registered, and back it up (ID numbers encrypted with one key cannot be read "
                                "with another)."))
    try:  # the keys are judged above and by the secrets check: stand-ins let validate judge the rest
        settings.validate({**cfg, "SECRET_KEY": "-" * 32, "IDENTITY_KEY": "-" * 32}, debug=False)
    except settings.ConfigError as err:
        issues.append((PROBLEM, str(err)))
    issues += _public_url_issues(cfg)
    if cfg["SMS_BACKEND"] == "outbox":
        issues.append((WARNING, "SMS_BACKEND is outbox: texts are kept on this machine, nobody receives them "
                                "(fine for a demo; set twilio or kannel to send texts)."))
    return finding("configuration", issues, f"SMS_BACKEND is {cfg['SMS_BACKEND']}.")


def _is_loopback(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    try:
        return host == "localhost" or host.endswith(".localhost") or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _public_url_issues(cfg) -> list[tuple[str, str]]:
    url = cfg["PUBLIC_BASE_URL"]
    if _is_loopback(url):
        if cfg["SMS_BACKEND"] == "kannel" and _is_loopback(cfg.get("KANNEL_SEND_URL") or ""):
            return []  # Kannel on this machine reaches the app there
        return [(WARNING, f"PUBLIC_BASE_URL is {mask(url)}, an address only this machine reaches: fine for a demo, "
                          "but Twilio or Kannel elsewhere cannot deliver texts and delivery reports to it; set it "
                          "to the public https:// address.")]
    if not url.startswith("https://"):
        return [(WARNING, f"PUBLIC_BASE_URL is {mask(url)}, not https: log-in cookies are not kept secure and "
                          "webhooks travel unencrypted; set it to the https:// address.")]
    return []


@check("secrets")
def check_secrets() -> Finding:
    """Keys long enough to be safe (their values are never shown)."""
    cfg = current_app.config
    issues = []
    if len(cfg["SECRET_KEY"]) < 16:
        issues.append((PROBLEM, f"SECRET_KEY is shorter than 16 characters: set a long random value ({NEW_KEY})."))
    if len(cfg["IDENTITY_KEY"]) < 32:
        issues.append((PROBLEM, "IDENTITY_KEY is shorter than 32 characters: set a long random value before anyone "
                                "is registered, and back it up (it encrypts ID numbers)."))
    if cfg["SMS_BACKEND"] == "kannel" and len(cfg.get("KANNEL_SECRET") or "") < 16:
        issues.append((PROBLEM, "KANNEL_SECRET is shorter than 16 characters: whoever guesses it can send the app "
                                "texts and delivery reports as if from Kannel; set a long random value, the same in "
                                "kannel.conf's sms-service post-url."))
    return finding("secrets", issues, "long enough.")
