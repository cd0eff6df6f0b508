"""Quiet hours: routine texts made at night wait for the morning; replies and codes never wait."""
from __future__ import annotations

from datetime import datetime

import pytest

from ruralinfo.sms import quiet, tasks
from ruralinfo.sms import services as sms
from ruralinfo.sms.models import NOTICE, REPLY, OutboundMessage
from ruralinfo.extensions import db


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.mark.parametrize("at,held", [
    ("2026-12-01 12:59", None),                 # 20:59 in Shanghai: before the quiet hours
    ("2026-12-01 13:00", "2026-12-02 00:00"),   # 21:00 Shanghai: quiet until 08:00 = 00:00 UTC
    ("2026-12-01 18:30", "2026-12-02 00:00"),   # 02:30 Shanghai
    ("2026-12-01 23:59", "2026-12-02 00:00"),   # 07:59 Shanghai
    ("2026-12-02 00:00", None),                 # 08:00 Shanghai
])
def test_held_until_the_end_of_the_quiet_hours(app, at, held):
    assert quiet.held_until(utc(at)) == (utc(held) if held else None)


def test_no_quiet_hours_when_the_setting_is_empty(app):
    app.config["QUIET_HOURS"] = ""
    assert quiet.held_until(utc("2026-12-01 18:30")) is None


def test_a_routine_text_at_night_waits_and_the_sweep_sends_it_in_the_morning(app, monkeypatch):
    # far ahead of the real clock, which the dispatch after commit reads: the night is still to come
    night, morning = utc("2030-06-01 18:30"), utc("2030-06-02 00:05")
    monkeypatch.setattr(quiet, "now_utc", lambda: night)
    welcome = sms.queue_sms("+8613800138000", "欢迎", kind=NOTICE, routine=True)
    reply = sms.queue_sms("+8613800138000", "收到", kind=REPLY, routine=True)  # an answer never waits
    db.session.commit()
    sms.dispatch_pending()
    db.session.expire_all()
    assert db.session.get(OutboundMessage, welcome.id).status == "queued"
    assert db.session.get(OutboundMessage, reply.id).status == "sent"
    tasks.sweep(now=night)
    assert db.session.get(OutboundMessage, welcome.id).status == "queued"
    tasks.sweep(now=morning)
    db.session.expire_all()
    assert db.session.get(OutboundMessage, welcome.id).status == "sent"
