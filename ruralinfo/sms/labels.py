"""What the outbox's codes mean, in the reader's language.

Outgoing messages store stable codes for why they were sent (``reply``, ``otp``)
and how far they got (``sent``, ``delivered``); pages such as the phone simulator
show these labels. A code missing here is shown as it is.
"""
from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from ruralinfo.sms import models

KINDS = {
    models.REPLY: _l("reply"), models.OTP: _l("log-in code"), models.LETTER: _l("letter"),
    models.NOTICE: _l("notice"), models.BROADCAST: _l("broadcast"),
}
STATUSES = {
    models.QUEUED: _l("queued"), models.SENDING: _l("sending"), models.SENT: _l("sent"),
    models.DELIVERED: _l("delivered"), models.UNDELIVERED: _l("undelivered"), models.FAILED: _l("failed"),
    models.UNKNOWN: _l("unknown"),
}


def label(table: dict, code) -> str:
    found = table.get(code)
    return str(found) if found is not None else str(code)


def kind(code) -> str:
    return label(KINDS, code)


def status(code) -> str:
    return label(STATUSES, code)


def init_app(app: Flask) -> None:
    app.add_template_filter(kind, "sms_kind")
    app.add_template_filter(status, "sms_status")
