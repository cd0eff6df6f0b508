"""Kannel's calls to the app: inbound texts (``/kannel/sms``) and delivery reports
(``/kannel/dlr``).

Kannel signs nothing: every call carries ``KANNEL_SECRET`` in its query string
(compared in constant time) and, when ``KANNEL_ALLOWED_IPS`` is set, must come from
one of those addresses. Anything else is a 403 that changes nothing. With no
secret configured, nothing is accepted.

An inbound text takes the same store-first, idempotent path and the same command
registry as Twilio's (``ruralinfo.sms.inbound``), keyed on Kannel's message id
(``%I``). Kannel cannot take a reply in its answer, so the reply is queued as a text
of its own: it shows in the outbox and has a status. The answer to Kannel is an empty
200 (the sms-service has ``max-messages = 0``: Kannel sends nothing itself).

A delivery report names our own id for the text (put in the ``dlr-url`` when it was
sent, see ``gateways.kannel``) and Kannel's report type (``%d``), mapped onto the
status machine; an unknown or late report is recorded and changes nothing.
"""
from __future__ import annotations

import functools
import hashlib
import hmac
import ipaddress
import logging
import re

from flask import Blueprint, Response, abort, current_app, request

from ruralinfo.extensions import csrf, limiter
from ruralinfo.sms import inbound, services

log = logging.getLogger(__name__)
bp = Blueprint("kannel", __name__)
csrf.exempt(bp)
limiter.exempt(bp)

# Kannel's delivery report types (%d) in the words of ruralinfo.sms.status.
REPORT_TYPES = {
    "1": "delivered",    # delivered to the phone
    "2": "undelivered",  # the SMSC could not deliver it
    "4": "sent",         # buffered: queued at the SMSC
    "8": "sent",         # accepted by the SMSC
    "16": "failed",      # rejected by the SMSC
}
# The SMSC's error: in a receipt "… stat:UNDELIV err:012 …", in a refusal "NACK/0x00000045/…".
_SMPP_ERROR = re.compile(r"\berr:(\w+)|^NACK/(0x[0-9A-Fa-f]+)")


@functools.lru_cache(maxsize=8)  # read once, not on every call Kannel makes
def allowed_networks(value: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """``KANNEL_ALLOWED_IPS`` as networks; ValueError names a wrong entry."""
    networks = []
    for entry in (part.strip() for part in (value or "").split(",")):
        if entry:
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                raise ValueError(f"KANNEL_ALLOWED_IPS: {entry!r} is not an address or a network") from None
    return tuple(networks)


def _verify() -> None:
    secret = current_app.config.get("KANNEL_SECRET") or ""
    given = request.args.get("secret") or request.form.get("secret") or ""
    if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
        log.warning("rejected a Kannel call with a wrong or missing secret: %s", request.path)
        abort(403)
    networks = allowed_networks(current_app.config.get("KANNEL_ALLOWED_IPS", ""))
    if networks and not _from_allowed(request.remote_addr or "", networks):
        log.warning("rejected a Kannel call from an address not in KANNEL_ALLOWED_IPS: %s", request.path)
        abort(403)


def _from_allowed(address: str, networks) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    ip = getattr(ip, "ipv4_mapped", None) or ip  # ::ffff:10.0.0.5 on a dual-stack socket is 10.0.0.5
    return any(ip in network for network in networks)


def _value(name: str) -> str:
    return request.args.get(name) or request.form.get(name) or ""


def _text() -> str:
    """The text: ``text=%b`` in the URL, else the body Kannel posts (text/plain)."""
    if "text" in request.args or "text" in request.form:
        return _value("text")
    return request.get_data().decode(request.mimetype_params.get("charset") or "utf-8", "replace")


def message_id(sender: str, receiver: str, time: str, text: str) -> str:
    """Kannel's id for the text (``%I``); without one, an id made of what the text is,
    so that a retry of the same call is still recognised."""
    given = _value("id").strip()
    if given:
        return f"kannel-{given}"[:64]
    digest = hashlib.sha256("\x1f".join((sender, receiver, time, text)).encode()).hexdigest()
    return f"kannel-h-{digest[:48]}"


@bp.route("/kannel/sms", methods=["GET", "POST"])
def sms_inbound():
    _verify()
    sender, receiver, text = _value("from"), _value("to"), _text()
    if not sender:
        return Response("no sender", status=400, mimetype="text/plain")
    inbound.receive(provider_id=message_id(sender, receiver, _value("time"), text), from_phone=sender,
                    to=receiver, body=text, gateway="kannel", inline=False)
    return Response("", status=200, mimetype="text/plain")


@bp.route("/kannel/dlr", methods=["GET", "POST"])
def delivery_report():
    _verify()
    provider_id, kind = _value("id"), _value("status").strip()
    if provider_id:
        word = REPORT_TYPES.get(kind, f"kannel-{kind}"[:16])
        error = _SMPP_ERROR.search(_value("answer")) if kind in ("2", "16") else None
        code = (error.group(1) or error.group(2)) if error else ""
        if code.strip("0x") == "":  # err:000 is no error
            code = ""
        services.apply_status(provider_id, word, code)
    return Response("", status=200, mimetype="text/plain")
