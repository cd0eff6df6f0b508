"""The phone simulator: text as a farmer through the real signed webhook, and
see the replies and everything the outbox sent to that phone, live.

A development and training tool: it exists only with ``DEBUG`` or
``DEV_SIMULATORS=1`` (``make run`` sets it) and the ``outbox`` backend, never otherwise. Staff see every
farmer; a liaison sees their own point's farmers. Acting as a farmer — taking
their phone or texting from it — is written to the audit log, and is refused
to a liaison of a suspended point. A log-in code is shown only to whoever is
using the simulated phone it was sent to.
"""
from __future__ import annotations

import uuid

from flask import Blueprint, abort, current_app, jsonify, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select

from ruralinfo.accounts import phones, roles
from ruralinfo.accounts import services as accounts
from ruralinfo.audit import services as audit
from ruralinfo.extensions import db
from ruralinfo.liaison import rules
from ruralinfo.liaison import services as liaison
from ruralinfo.sms import labels
from ruralinfo.sms import services as sms
from ruralinfo.sms.models import OTP, InboundMessage, OutboundMessage
from ruralinfo.sms.webhooks import sign
from ruralinfo.web import guard_area

bp = Blueprint("dev", __name__)
guard_area(bp, roles.STAFF_ROLES)
HISTORY = 60
DRIVING = "dev_phone_driving"  # session key: the simulated phone this browser is using
HIDDEN_CODE = _l("Log-in code: shown only to whoever uses this phone in the simulator.")


def _scope():
    if current_user.has_role(roles.ADMIN, roles.STAFF, roles.APPROVER):
        return accounts.ALL_REGIONS
    return liaison.scope_of(current_user)


@bp.context_processor
def _layout():
    """The simulator keeps the navigation of the area its user came from."""
    if current_user.has_role(roles.ADMIN):
        layout = "admin/base.html"
    elif current_user.has_role(roles.STAFF, roles.APPROVER):
        layout = "bureau/base.html"
    elif current_user.has_role(roles.LIAISON):
        layout = "liaison/base.html"
    else:
        layout = "base.html"
    return {"layout": layout}


def _phone_or_404(raw: str) -> str:
    """A phone the current user may simulate: one of their farmers, or a number with no account."""
    try:
        phone = phones.normalize(raw, mobile=False)
    except phones.PhoneError:
        abort(404)
    owner = accounts.find_by_phone(phone)
    if owner is not None and accounts.farmer_in_scope(owner.id, _scope()) is None:
        abort(404)
    return phone


@bp.get("/phone")
def phone_index():
    search = request.args.get("q", "")
    farmers = db.session.scalars(accounts.farmers(_scope(), search=search, include_inactive=False).limit(50)).all()
    return render_template("dev/phone_index.html", farmers=farmers, search=search)


@bp.get("/phone/<path:number>")
def phone(number: str):
    phone = _phone_or_404(number)
    return render_template("dev/phone.html", phone=phone, owner=accounts.find_by_phone(phone),
                           messages=conversation(phone), driving=_driving(phone))


@bp.get("/phone/<path:number>/messages.json")
def phone_messages(number: str):
    phone = _phone_or_404(number)
    return jsonify([item | {"at": item["at"].isoformat()} for item in conversation(phone)])


@bp.post("/phone/<path:number>/drive")
def phone_drive(number: str):
    """Take the simulated phone: from now on this browser acts as its owner."""
    take_phone(_phone_or_404(number))
    return redirect(url_for(".phone", number=_phone_or_404(number)))


@bp.post("/phone/<path:number>/send")
def phone_send(number: str):
    """Post the text to our own inbound webhook, signed as Twilio signs it."""
    phone = _phone_or_404(number)
    take_phone(phone)
    sid = "SMsim" + uuid.uuid4().hex[:27]
    params = {"MessageSid": sid, "AccountSid": "ACsimulator", "From": phone,
              "To": current_app.config.get("TWILIO_FROM") or "simulator", "Body": request.form.get("body", ""),
              "NumMedia": "0"}
    url = current_app.config["PUBLIC_BASE_URL"].rstrip("/") + url_for("twilio.sms_inbound")
    response = current_app.test_client().post(url_for("twilio.sms_inbound"), data=params,
                                              headers={"X-Twilio-Signature": sign(url, params)})
    if response.status_code != 200:
        abort(502, description=str(_l("The webhook answered %(code)s.", code=response.status_code)))
    sent = db.session.scalar(select(InboundMessage.id).where(InboundMessage.provider_id == sid))
    _record("dev.phone.send", phone, {"text": sent})
    return redirect(url_for(".phone", number=phone))


def _driving(phone: str) -> bool:
    return session.get(DRIVING) == phone


def take_phone(phone: str) -> None:
    """Act as the owner of ``phone`` (refused to a suspended point's liaison); audited once per taking."""
    rules.check_may_write(current_user)
    if not _driving(phone):
        session[DRIVING] = phone
        _record("dev.phone.drive", phone)


def _record(action: str, phone: str, details: dict | None = None) -> None:
    owner = accounts.find_by_phone(phone)
    target = owner if owner is not None else ("users", None)
    audit.record(action, target, actor=current_user, channel=audit.WEB,
                 details={"phone": phone, **(details or {})})
    db.session.commit()


def conversation(phone: str) -> list[dict]:
    """What this phone sent and received, oldest first, like a phone shows it."""
    sent = db.session.scalars(select(InboundMessage).where(InboundMessage.from_phone == phone)
                              .order_by(InboundMessage.id.desc()).limit(HISTORY)).all()
    received = db.session.scalars(select(OutboundMessage).where(OutboundMessage.to == phone)
                                  .order_by(OutboundMessage.id.desc()).limit(HISTORY)).all()
    items = [{"dir": "out", "at": m.received_at, "body": m.body, "status": "", "kind": ""} for m in sent]
    shown = _driving(phone)
    items += [{"dir": "in", "at": m.created_at, "status": m.status, "kind": m.kind,
               "body": sms.framed(m.body, m.kind) if m.kind != OTP or shown else str(HIDDEN_CODE),
               "segments": m.segments, "status_label": labels.status(m.status), "kind_label": labels.kind(m.kind),
               "segments_label": ngettext("%(num)s segment", "%(num)s segments", m.segments)} for m in received]
    return sorted(items, key=lambda item: item["at"])[-HISTORY:]


def init_app(app) -> None:
    """The simulators exist only for development and training — ``DEBUG`` or
    ``DEV_SIMULATORS`` — and only with the ``outbox`` backend: a simulated farmer must
    never make the platform text real phones."""
    if (app.debug or app.config.get("DEV_SIMULATORS")) and app.config["SMS_BACKEND"] == "outbox":
        app.register_blueprint(bp, url_prefix="/dev")
