"""The public address: does it answer from here?"""
from __future__ import annotations

from flask import current_app

from ruralinfo.doctor.findings import OK, WARNING, Finding, check
from ruralinfo.doctor.web import NoAnswer, get, mask


@check("public address")
def check_public_address() -> Finding:
    """PUBLIC_BASE_URL/healthz answers (only a warning: the public address may not be reachable from here)."""
    cfg = current_app.config
    url = cfg["PUBLIC_BASE_URL"].rstrip("/") + "/healthz"
    who = {"twilio": "Twilio", "kannel": "Kannel"}.get(cfg["SMS_BACKEND"])
    need = (f"{who} must reach this address to deliver texts and delivery reports" if who
            else "people must reach this address to use the site")
    try:
        status, _ = get(url)
    except NoAnswer as err:
        return Finding("public address", WARNING,
                       f"{mask(url)} cannot be reached from this machine ({err}): {need}. Check that the web server "
                       "runs and PUBLIC_BASE_URL is its address (or try it from another machine).")
    if status == 200:
        return Finding("public address", OK, f"{mask(url)} answers.")
    return Finding("public address", WARNING, f"{mask(url)} answered HTTP {status}, not 200: {need}; the lines "
                                              "above say what may be wrong.")
