"""The SMS gateway (Twilio's account; Kannel's sendsms and bearerbox's status page), the
operator's rules in China and the hotline's call-back number."""
from __future__ import annotations

import re
import urllib.parse
from xml.etree import ElementTree

from flask import current_app

from ruralinfo.doctor.findings import OK, PROBLEM, WARNING, Finding, check, finding
from ruralinfo.doctor.web import NoAnswer, get, mask


@check("SMS gateway")
def check_gateway() -> Finding:
    """The configured backend can be set up, and its provider answers."""
    from ruralinfo.sms import gateways

    backend = current_app.config["SMS_BACKEND"]
    try:
        gateway = gateways.current()
    except RuntimeError as err:  # a missing setting: the message names it, never a value
        return Finding("SMS gateway", PROBLEM, f"SMS_BACKEND {backend} cannot be set up: {err}.")
    if backend == "twilio":
        return _twilio(gateway)
    if backend == "kannel":
        return _kannel(current_app.config)
    return Finding("SMS gateway", OK, f"{backend}: nothing to connect to.")


def _twilio(gateway) -> Finding:
    """Fetch the account through the gateway's own client (which TWILIO_API_BASE points at a fake in tests)."""
    from requests.exceptions import RequestException
    from twilio.base.exceptions import TwilioRestException

    name = "SMS gateway"
    try:
        account = gateway.client.api.v2010.accounts(current_app.config["TWILIO_ACCOUNT_SID"]).fetch()
    except TwilioRestException as err:
        if err.status in (401, 403, 404):
            return Finding(name, PROBLEM, f"Twilio refused TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (HTTP {err.status}): "
                                          "copy both again from the Twilio console.")
        return Finding(name, PROBLEM, f"Twilio answered HTTP {err.status} error {err.code}: {err.msg}")
    except RequestException as err:
        return Finding(name, PROBLEM, f"Twilio cannot be reached ({type(err).__name__}): check this machine's "
                                      "internet connection, firewall or proxy.")
    if account.status != "active":
        return Finding(name, PROBLEM, f"the Twilio account is {account.status}: no text goes out; see the Twilio "
                                      "console (billing) or Twilio support.")
    if account.type == "Trial":
        return Finding(name, WARNING, "the Twilio account is a trial: it texts only verified numbers, with a "
                                      "trial notice; upgrade it in the Twilio console.")
    return Finding(name, OK, f"Twilio account {account.friendly_name!r} is active.")


def _kannel(cfg) -> Finding:
    """smsbox takes requests; bearerbox's status (when KANNEL_STATUS_URL is set) shows every SMSC link online."""
    issues = [_sendsms(cfg)]
    if cfg.get("KANNEL_STATUS_URL"):
        issues.append(_bearerbox(cfg["KANNEL_STATUS_URL"]))
    else:
        issues.append((WARNING, "KANNEL_STATUS_URL is not set, so the link to the operator (SMPP) cannot be "
                                "checked: set it to bearerbox's status page with its password, e.g. "
                                "http://127.0.0.1:13000/status.xml?password=…"))
    return finding("SMS gateway", issues)


def _sendsms(cfg) -> tuple[str, str]:
    """Ask sendsms with our account and no receiver: nothing is sent; 400 means the account is right."""
    url = cfg["KANNEL_SEND_URL"]
    account = urllib.parse.urlencode({"username": cfg["KANNEL_USERNAME"], "password": cfg["KANNEL_PASSWORD"]})
    try:
        status, _ = get(f"{url}{'&' if '?' in url else '?'}{account}")
    except NoAnswer as err:
        return PROBLEM, f"smsbox not reachable at {mask(url)} ({err}): start Kannel, or correct KANNEL_SEND_URL."
    if status == 403:
        return PROBLEM, ("smsbox refused KANNEL_USERNAME and KANNEL_PASSWORD (or this machine is not in the "
                         "sendsms-user's user-allow-ip): make them match kannel.conf.")
    if status == 404:
        return PROBLEM, f"{mask(url)} answers, but not as sendsms (HTTP 404): it should end in /cgi-bin/sendsms."
    return OK, "smsbox answers."


def _bearerbox(url: str) -> tuple[str, str]:
    try:
        status, body = get(url)
    except NoAnswer as err:
        return PROBLEM, (f"bearerbox's status page {mask(url)} cannot be reached ({err}): start Kannel, or "
                         "correct KANNEL_STATUS_URL (from another machine: add it to admin-allow-ip).")
    if body.strip() == "Denied":
        return PROBLEM, ("bearerbox refused the password in KANNEL_STATUS_URL: use the status-password (or "
                         "admin-password) of kannel.conf's core group.")
    parsed = parse_status(body) if status == 200 else None
    if parsed is None:
        return PROBLEM, (f"{mask(url)} does not show bearerbox's status (HTTP {status}): point KANNEL_STATUS_URL "
                         "at bearerbox's status.xml or status.txt.")
    state, links = parsed
    if state != "running":
        return PROBLEM, f"bearerbox is {state}, not running: no text goes out; restart or resume Kannel."
    if not links:
        return PROBLEM, "bearerbox has no SMSC link: add the operator's smsc group to kannel.conf."
    down = [f"{link} ({link_state})" for link, link_state in links if link_state != "online"]
    if down:
        none = " No SMSC link is online: no text can go out." if len(down) == len(links) else ""
        return PROBLEM, (f"SMSC link not online: {', '.join(down)}.{none} Check the smsc group's host, port, "
                         "username and password in kannel.conf, and ask the operator whether the account is open.")
    return OK, f"SMSC link online: {', '.join(link for link, _ in links)}."


_TXT_STATUS = re.compile(r"^Status: ([\w-]+)", re.M)
_TXT_SMSC = re.compile(r"^[ \t]+(?P<id>[^\s\[]+)\S*[ \t]+\S.*? \((?P<state>[a-z-]+)", re.M)


def parse_status(body: str) -> tuple[str, list[tuple[str, str]]] | None:
    """Bearerbox's state and each SMSC link's (id, state: online, connecting, re-connecting,
    disconnected, dead…), from its status.xml or status.txt; None when ``body`` is neither."""
    if body.lstrip().startswith("<"):
        try:
            root = ElementTree.fromstring(body)
        except ElementTree.ParseError:
            return None
        if root.tag != "gateway" or root.find("smscs") is None:
            return None
        links = [(smsc.findtext("admin-id") or smsc.findtext("id") or smsc.findtext("name") or "?",
                  (smsc.findtext("status") or "unknown").split()[0]) for smsc in root.iter("smsc")]
        return (root.findtext("status") or "").split(",")[0].strip(), links
    found = _TXT_STATUS.search(body)
    if not found or "SMSC connections:" not in body:
        return None
    section = body.split("SMSC connections:", 1)[1]
    return found[1], [(m["id"], m["state"]) for m in _TXT_SMSC.finditer(section)]


@check("operator rules")
def check_operator_rules() -> Finding | None:
    """With Kannel (an operator in China): the registered signature, the opt-out hint, a sender."""
    cfg = current_app.config
    if cfg["SMS_BACKEND"] != "kannel":
        return None
    issues = []
    if not cfg.get("SMS_SIGNATURE"):
        issues.append((PROBLEM, "SMS_SIGNATURE is empty: operators refuse texts without a registered 【signature】; "
                                "set it to the bureau's registered one."))
    if not cfg.get("SMS_OPTOUT_HINT"):
        issues.append((WARNING, "SMS_OPTOUT_HINT is empty: Chinese operators require an opt-out hint such as "
                                "拒收请回复R on notices."))
    if not cfg.get("KANNEL_FROM"):
        issues.append((WARNING, "KANNEL_FROM is empty: unless kannel.conf's sendsms-user has a default-sender, "
                                "Kannel refuses every text (\"Sender missing\"); set it to the long number or "
                                "short code."))
    return finding("operator rules", issues, "signature, opt-out hint and sender set.")


@check("hotline call-back")
def check_hotline() -> Finding | None:
    """With Twilio credentials: the expert's call-back has a number of the account to call from."""
    cfg = current_app.config
    if not (cfg.get("TWILIO_ACCOUNT_SID") and cfg.get("TWILIO_AUTH_TOKEN")):
        return None
    sender, hotline = cfg.get("TWILIO_FROM") or "", cfg.get("HOTLINE_NUMBER") or ""
    if sender.startswith("MG") and len(re.sub(r"\D", "", hotline)) < 7:
        return Finding("hotline call-back", WARNING,
                       f"TWILIO_FROM is a Messaging Service and HOTLINE_NUMBER ({hotline}) a short number: the "
                       "hotline's call-back has no number to call from; set HOTLINE_NUMBER to the Twilio voice "
                       "number (+…).")
    return Finding("hotline call-back", OK, "has a number to call from.")
